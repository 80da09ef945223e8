#include "src/graph/matmul.h"

#include <algorithm>

#include "kernels/kernels.h"

namespace slm {

void matmul(ThreadPool& pool, const MatView& w, const float* x, int64_t n, float* y, int64_t ldy,
            MatmulScratch& scratch) {
  const auto& k = kernels::active();
  scratch.weight_bytes += w.bytes();
  const DType act = kernels::activation_type(w.type);
  const size_t act_row = static_cast<size_t>(*row_bytes(act, static_cast<uint64_t>(w.cols)));
  if (scratch.act.size() < act_row * static_cast<size_t>(n)) scratch.act.resize(act_row * static_cast<size_t>(n));
  const auto quantize = k.quantize_act[kernels::slot(act)];
  pool.parallel_for(n, std::max<int64_t>(1, n / (pool.size() * 4)), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) quantize(x + t * w.cols, scratch.act.data() + act_row * static_cast<size_t>(t), w.cols);
  });

  kernels::MatmulArgs a;
  a.wtype = w.type;
  a.w = w.data;
  a.w_row_bytes = w.row_bytes;
  a.rows = w.rows;
  a.cols = w.cols;
  a.x = scratch.act.data();
  a.x_row_bytes = act_row;
  a.n_tokens = n;
  a.y = y;
  a.ldy = ldy;
  const auto fn = k.matmul[kernels::slot(w.type)];
  // Enough chunks per thread to even out the tail, few enough to keep each chunk's rows streaming;
  // a multiple of 16 rows so blocked kernels see whole tiles.
  int64_t grain = w.rows / (pool.size() * 8);
  grain = std::max<int64_t>(16, (grain + 15) / 16 * 16);
  pool.parallel_for(w.rows, grain, [&](int64_t r0, int64_t r1) { fn(a, r0, r1); });
}

}  // namespace slm
