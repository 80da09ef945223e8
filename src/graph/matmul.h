// The threaded matrix products every projection of the graph goes through:
// y[t][r] = sum_k W[r][k] * x[t][k], for n tokens at once.
//
// A call takes a list of products (jobs), each with its own matrix, input and output, and runs them
// in three parallel passes: (1) every distinct input is converted once to the activation format of
// its weights (Q8_0, Q8_K, F16, ... see kernels::activation_type); (2) from kernels::kPanelMinTokens
// tokens on, where the kernel level has a panel product for the weight type, the converted inputs
// are packed into token panels; (3) the rows of all the matrices go out in one dispatch, each row
// block streamed once for all of its job's tokens. One call per step of the graph (q, k and v; gate
// and up; every chosen expert's gate and up, then every expert's down) matters at one token, where
// a product takes tens of microseconds and each dispatch wakes the pool.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/kernels.h"
#include "src/engine/thread_pool.h"
#include "src/model/weights.h"

namespace slm {

struct MatmulScratch {
  std::vector<uint8_t> act;    // converted inputs, one after another: [n][row_bytes(act_type, cols)] each
  kernels::PanelBuffer panels; // the inputs that run the panel kernels, packed into token panels
  uint64_t weight_bytes = 0;   // weight bytes streamed so far: every job adds w.bytes()
};

// One product: x is [n][w.cols] floats (row stride w.cols); y is [n][ldy] floats, columns
// [0, w.rows) written. Jobs with the same x, n and activation format share one conversion.
struct MatmulJob {
  const MatView* w = nullptr;
  const float* x = nullptr;
  int64_t n = 0;
  float* y = nullptr;
  int64_t ldy = 0;
};

void matmul_jobs(ThreadPool& pool, std::span<const MatmulJob> jobs, MatmulScratch& scratch);

// One matrix over one input.
void matmul(ThreadPool& pool, const MatView& w, const float* x, int64_t n, float* y, int64_t ldy,
            MatmulScratch& scratch);

}  // namespace slm
