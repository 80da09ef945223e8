#include "src/graph/matmul.h"

#include <algorithm>

#include "kernels/kernels.h"

namespace slm {

namespace {

// Activations in the format of `type`, converted once into scratch.act; returns the row size.
size_t convert_activations(ThreadPool& pool, DType type, int64_t cols, const float* x, int64_t n,
                           MatmulScratch& scratch) {
  const auto& k = kernels::active();
  const DType act = kernels::activation_type(type);
  const size_t act_row = static_cast<size_t>(*row_bytes(act, static_cast<uint64_t>(cols)));
  if (scratch.act.size() < act_row * static_cast<size_t>(n)) scratch.act.resize(act_row * static_cast<size_t>(n));
  const auto quantize = k.quantize_act[kernels::slot(act)];
  pool.parallel_for(n, std::max<int64_t>(1, n / (pool.size() * 4)), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) quantize(x + t * cols, scratch.act.data() + act_row * static_cast<size_t>(t), cols);
  });
  return act_row;
}

// The converted activations packed into token panels, one task per panel.
void pack_panels(ThreadPool& pool, DType act, int64_t cols, size_t act_row, int64_t n, MatmulScratch& scratch) {
  const auto& k = kernels::active();
  const size_t per_panel = kernels::panel_bytes(cols);
  const int64_t count = kernels::panel_count(n);
  const size_t need = per_panel * static_cast<size_t>(count) + 64;
  if (scratch.panels.bytes.size() < need) scratch.panels.bytes.resize(need);
  uint8_t* out = scratch.panels.data();
  pool.parallel_for(count, 1, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p)
      k.pack_panel(act, scratch.act.data(), act_row, cols, n, p, out + per_panel * static_cast<size_t>(p));
  });
}

kernels::MatmulArgs args_for(const MatView& w, const MatmulScratch& scratch, size_t act_row, int64_t n, float* y,
                             int64_t ldy) {
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
  return a;
}

// Enough chunks per thread to even out the tail, few enough to keep each chunk's rows streaming;
// a multiple of 16 rows so blocked kernels see whole tiles.
int64_t row_grain(const ThreadPool& pool, int64_t rows) {
  const int64_t grain = rows / (pool.size() * 8);
  return std::max<int64_t>(16, (grain + 15) / 16 * 16);
}

}  // namespace

void matmul(ThreadPool& pool, const MatView& w, const float* x, int64_t n, float* y, int64_t ldy,
            MatmulScratch& scratch) {
  const MatmulOut one[] = {{&w, y, ldy}};
  matmul_group(pool, one, x, n, scratch);
}

void matmul_group(ThreadPool& pool, std::span<const MatmulOut> outs, const float* x, int64_t n,
                  MatmulScratch& scratch) {
  if (outs.empty()) return;
  const MatView& first = *outs[0].w;
  bool shared = outs.size() <= kMaxGroup;
  for (const MatmulOut& o : outs)
    shared = shared && o.w->cols == first.cols &&
             kernels::activation_type(o.w->type) == kernels::activation_type(first.type);
  if (!shared) {
    for (size_t i = 0; i < outs.size(); ++i) matmul_group(pool, outs.subspan(i, 1), x, n, scratch);
    return;
  }
  const size_t act_row = convert_activations(pool, first.type, first.cols, x, n, scratch);
  const kernels::KernelTable& k = kernels::active();
  kernels::MatmulArgs args[kMaxGroup];
  kernels::MatmulFn fns[kMaxGroup];
  int64_t begin[kMaxGroup + 1];
  begin[0] = 0;
  bool panels = false;
  for (size_t i = 0; i < outs.size(); ++i) {
    const size_t s = kernels::slot(outs[i].w->type);
    scratch.weight_bytes += outs[i].w->bytes();
    args[i] = args_for(*outs[i].w, scratch, act_row, n, outs[i].y, outs[i].ldy);
    fns[i] = k.matmul[s];
    if (n >= kernels::kPanelMinTokens && k.matmul_panels[s]) {
      fns[i] = k.matmul_panels[s];
      panels = true;
    }
    begin[i + 1] = begin[i] + outs[i].w->rows;
  }
  if (panels) pack_panels(pool, kernels::activation_type(first.type), first.cols, act_row, n, scratch);
  for (size_t i = 0; i < outs.size(); ++i) args[i].xp = panels ? scratch.panels.data() : nullptr;
  const size_t count = outs.size();
  const int64_t total = begin[count];
  // One dispatch over the rows of all the matrices, end to end; a chunk may span two of them.
  pool.parallel_for(total, row_grain(pool, total), [&](int64_t r0, int64_t r1) {
    for (size_t i = 0; i < count; ++i) {
      const int64_t lo = std::max(r0, begin[i]), hi = std::min(r1, begin[i + 1]);
      if (lo < hi) fns[i](args[i], lo - begin[i], hi - begin[i]);
    }
  });
}

}  // namespace slm
