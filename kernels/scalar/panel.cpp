// The token-panel layout of kernels.h, written plainly: the reference the SIMD packers are tested
// against, and the packer of levels without a faster one.
#include <algorithm>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/fp16.h"
#include "kernels/kernels.h"
#include "kernels/scalar/scalar.h"

namespace slm::kernels::scalar {

void pack_panel(DType act, const uint8_t* x, size_t x_row_bytes, int64_t cols, int64_t n_tokens,
                int64_t panel, uint8_t* out) {
  const int64_t t0 = panel * kPanelTokens;
  const int64_t nt = std::min<int64_t>(kPanelTokens, n_tokens - t0);
  const int64_t nb = cols / 32;
  std::memset(out, 0, panel_bytes(cols));
  for (int64_t t = 0; t < nt; ++t) {
    const uint8_t* row = x + static_cast<size_t>(t0 + t) * x_row_bytes;
    for (int64_t b = 0; b < nb; ++b) {
      const int8_t* q;
      float d, das = 0.0f;
      bool own_s = false;
      if (act == DType::Q8_0) {
        const auto& blk = reinterpret_cast<const block_q8_0*>(row)[b];
        q = blk.qs;
        d = fp16_to_f32(blk.d);
      } else if (act == DType::Q8_1) {
        const auto& blk = reinterpret_cast<const block_q8_1*>(row)[b];
        q = blk.qs;
        d = fp16_to_f32(blk.d);
        das = fp16_to_f32(blk.s);
        own_s = true;
      } else {  // Q8_K: 8 blocks of 32 per super-block, one scale
        const auto& blk = reinterpret_cast<const block_q8_K*>(row)[b / 8];
        q = blk.qs + (b % 8) * 32;
        d = blk.d;
      }
      uint8_t* dst = out + static_cast<size_t>(b) * kPanelBlockBytes;
      int32_t sum = 0, sum_lo = 0;
      for (int i = 0; i < 32; ++i) {
        dst[(i / 4 * kPanelTokens + t) * 4 + i % 4] = static_cast<uint8_t>(q[i]);
        sum += q[i];
        if (i == 15) sum_lo = sum;
      }
      if (!own_s) das = d * static_cast<float>(sum);
      std::memcpy(dst + kPanelDa + 4 * t, &d, 4);
      std::memcpy(dst + kPanelDas + 4 * t, &das, 4);
      std::memcpy(dst + kPanelSum + 4 * t, &sum, 4);
      std::memcpy(dst + kPanelSumLo + 4 * t, &sum_lo, 4);
    }
  }
}

}  // namespace slm::kernels::scalar
