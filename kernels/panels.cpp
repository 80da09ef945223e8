// Token-panel helpers that are not kernels: the aligned buffer and the one-thread packer of tests and
// benchmarks (the graph packs in parallel, src/graph/matmul.cpp).
#include "kernels/kernels.h"

namespace slm::kernels {

uint8_t* PanelBuffer::data() noexcept {
  auto addr = reinterpret_cast<uintptr_t>(bytes.data());
  return bytes.data() + ((64 - addr % 64) % 64);
}

void pack_all_panels(const KernelTable& k, DType act, const uint8_t* x, size_t x_row_bytes, int64_t cols,
                     int64_t n_tokens, PanelBuffer& out) {
  const size_t per_panel = panel_bytes(cols);
  const int64_t panels = panel_count(n_tokens);
  out.bytes.resize(per_panel * static_cast<size_t>(panels) + 64);
  for (int64_t p = 0; p < panels; ++p)
    k.pack_panel(act, x, x_row_bytes, cols, n_tokens, p, out.data() + per_panel * static_cast<size_t>(p));
}

}  // namespace slm::kernels
