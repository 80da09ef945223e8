// The threaded matrix product every projection of the graph goes through:
// y[t][r] = sum_k W[r][k] * x[t][k], for n tokens at once.
//
// Activations are converted once per call to the weight type's activation format (Q8_0, Q8_K,
// F16, ... see kernels::activation_type), then rows of W are split across the pool's threads;
// each row block is streamed once for all n tokens. From kernels::kPanelMinTokens tokens on, where
// the kernel level has a panel product for the weight type, the converted activations are also
// packed into token panels (in parallel, once per call) and the panel kernels run instead.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kernels/kernels.h"
#include "src/engine/thread_pool.h"
#include "src/model/weights.h"

namespace slm {

struct MatmulScratch {
  std::vector<uint8_t> act;    // converted activations [n][row_bytes(act_type, cols)]
  kernels::PanelBuffer panels; // the same, packed into token panels for prompt-sized products
  uint64_t weight_bytes = 0;   // weight bytes streamed so far: every call adds w.bytes()
};

// x: [n][w.cols] floats (row stride w.cols); y: [n][ldy] floats, columns [0, w.rows) written.
void matmul(ThreadPool& pool, const MatView& w, const float* x, int64_t n, float* y, int64_t ldy,
            MatmulScratch& scratch);

// Several matrices over the same input (q, k and v; gate and up): the activations are converted
// once and all the rows go out in one parallel dispatch, which matters at one token, where a
// product takes tens of microseconds. Matrices whose activation formats differ fall back to one
// matmul() each. At most kMaxGroup matrices.
struct MatmulOut {
  const MatView* w;
  float* y;
  int64_t ldy;
};
inline constexpr size_t kMaxGroup = 4;
void matmul_group(ThreadPool& pool, std::span<const MatmulOut> outs, const float* x, int64_t n,
                  MatmulScratch& scratch);

}  // namespace slm
