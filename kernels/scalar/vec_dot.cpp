// Scalar dot products of a weight row with an activation row, one per weight type, as ggml's
// generic (non-SIMD) vec_dot_* compute them: exact integer sums inside a block, then float
// accumulation across blocks in ggml's order and association (e.g. sumi * dx * dy is not
// sumi * (dx * dy) in the last bit). Float types accumulate in double, as ggml_vec_dot_f16 does.
// The scalar matmul is rows x tokens of these.
#include <cassert>
#include <cstring>

#include "kernels/blocks.h"
#include "kernels/fp16.h"
#include "kernels/scalar/scalar.h"
#include "kernels/scalar/strict_fp.h"

namespace slm::kernels::scalar {
namespace {

// Weight rows of float types may sit at any byte offset (safetensors data, padded rows): load
// elements through memcpy, never through a misaligned pointer.
float load_f32(const void* p, int64_t i) {
  float v;
  std::memcpy(&v, static_cast<const char*>(p) + i * 4, 4);
  return v;
}
uint16_t load_u16(const void* p, int64_t i) {
  uint16_t v;
  std::memcpy(&v, static_cast<const char*>(p) + i * 2, 2);
  return v;
}

float vec_dot_f32(const void* vw, const void* vx, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(load_f32(vw, i) * load_f32(vx, i));
  return static_cast<float>(sum);
}

float vec_dot_f16(const void* vw, const void* vx, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(fp16_to_f32(load_u16(vw, i)) * fp16_to_f32(load_u16(vx, i)));
  return static_cast<float>(sum);
}

float vec_dot_bf16(const void* vw, const void* vx, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(bf16_to_f32(load_u16(vw, i)) * bf16_to_f32(load_u16(vx, i)));
  return static_cast<float>(sum);
}

// One Q4_0 block's term of the row sum (vec_dot_q4_0_q8_0, and Q4_0_R4's matmul below).
float q4_0_block_term(const block_q4_0& w, const block_q8_0& x) {
  int sumi0 = 0, sumi1 = 0;
  for (int j = 0; j < QK8_0 / 2; ++j) {
    sumi0 += ((w.qs[j] & 0x0F) - 8) * x.qs[j];
    sumi1 += ((w.qs[j] >> 4) - 8) * x.qs[j + QK8_0 / 2];
  }
  return static_cast<float>(sumi0 + sumi1) * fp16_to_f32(w.d) * fp16_to_f32(x.d);
}

float vec_dot_q4_0_q8_0(const void* vw, const void* vx, int64_t n) {
  assert(n % QK8_0 == 0);
  const auto* w = static_cast<const block_q4_0*>(vw);
  const auto* x = static_cast<const block_q8_0*>(vx);
  float sumf = 0;
  for (int64_t ib = 0; ib < n / QK8_0; ++ib) sumf += q4_0_block_term(w[ib], x[ib]);
  return sumf;
}

float vec_dot_q4_1_q8_1(const void* vw, const void* vx, int64_t n) {
  assert(n % QK8_1 == 0);
  const auto* w = static_cast<const block_q4_1*>(vw);
  const auto* x = static_cast<const block_q8_1*>(vx);
  float sumf = 0;
  for (int64_t ib = 0; ib < n / QK8_1; ++ib) {
    int sumi0 = 0, sumi1 = 0;
    for (int j = 0; j < QK8_1 / 2; ++j) {
      sumi0 += (w[ib].qs[j] & 0x0F) * x[ib].qs[j];
      sumi1 += (w[ib].qs[j] >> 4) * x[ib].qs[j + QK8_1 / 2];
    }
    // d_w q_w + m_w against d_x q_x: the min term needs only sum(q_x) * d_x, precomputed as s
    sumf += (fp16_to_f32(w[ib].d) * fp16_to_f32(x[ib].d)) * static_cast<float>(sumi0 + sumi1) +
            fp16_to_f32(w[ib].m) * fp16_to_f32(x[ib].s);
  }
  return sumf;
}

float vec_dot_q5_0_q8_0(const void* vw, const void* vx, int64_t n) {
  assert(n % QK8_0 == 0);
  const auto* w = static_cast<const block_q5_0*>(vw);
  const auto* x = static_cast<const block_q8_0*>(vx);
  float sumf = 0;
  for (int64_t ib = 0; ib < n / QK8_0; ++ib) {
    uint32_t qh;
    std::memcpy(&qh, w[ib].qh, sizeof(qh));
    int sumi0 = 0, sumi1 = 0;
    for (int j = 0; j < QK8_0 / 2; ++j) {
      const int xh0 = static_cast<int>(((qh >> j) << 4) & 0x10);
      const int xh1 = static_cast<int>((qh >> (j + 12)) & 0x10);
      sumi0 += (((w[ib].qs[j] & 0x0F) | xh0) - 16) * x[ib].qs[j];
      sumi1 += (((w[ib].qs[j] >> 4) | xh1) - 16) * x[ib].qs[j + QK8_0 / 2];
    }
    sumf += (fp16_to_f32(w[ib].d) * fp16_to_f32(x[ib].d)) * static_cast<float>(sumi0 + sumi1);
  }
  return sumf;
}

float vec_dot_q5_1_q8_1(const void* vw, const void* vx, int64_t n) {
  assert(n % QK8_1 == 0);
  const auto* w = static_cast<const block_q5_1*>(vw);
  const auto* x = static_cast<const block_q8_1*>(vx);
  float sumf = 0;
  for (int64_t ib = 0; ib < n / QK8_1; ++ib) {
    uint32_t qh;
    std::memcpy(&qh, w[ib].qh, sizeof(qh));
    int sumi0 = 0, sumi1 = 0;
    for (int j = 0; j < QK8_1 / 2; ++j) {
      const int xh0 = static_cast<int>(((qh >> j) << 4) & 0x10);
      const int xh1 = static_cast<int>((qh >> (j + 12)) & 0x10);
      sumi0 += ((w[ib].qs[j] & 0x0F) | xh0) * x[ib].qs[j];
      sumi1 += ((w[ib].qs[j] >> 4) | xh1) * x[ib].qs[j + QK8_1 / 2];
    }
    sumf += (fp16_to_f32(w[ib].d) * fp16_to_f32(x[ib].d)) * static_cast<float>(sumi0 + sumi1) +
            fp16_to_f32(w[ib].m) * fp16_to_f32(x[ib].s);
  }
  return sumf;
}

float vec_dot_q8_0_q8_0(const void* vw, const void* vx, int64_t n) {
  assert(n % QK8_0 == 0);
  const auto* w = static_cast<const block_q8_0*>(vw);
  const auto* x = static_cast<const block_q8_0*>(vx);
  float sumf = 0;
  for (int64_t ib = 0; ib < n / QK8_0; ++ib) {
    int sumi = 0;
    for (int j = 0; j < QK8_0; ++j) sumi += w[ib].qs[j] * x[ib].qs[j];
    sumf += static_cast<float>(sumi) * (fp16_to_f32(w[ib].d) * fp16_to_f32(x[ib].d));
  }
  return sumf;
}

float vec_dot_iq4_nl_q8_0(const void* vw, const void* vx, int64_t n) {
  assert(n % QK4_NL == 0);
  const auto* w = static_cast<const block_iq4_nl*>(vw);
  const auto* x = static_cast<const block_q8_0*>(vx);
  float sumf = 0;
  for (int64_t ib = 0; ib < n / QK4_NL; ++ib) {
    const float d = fp16_to_f32(x[ib].d) * fp16_to_f32(w[ib].d);
    int sumi1 = 0, sumi2 = 0;
    for (int j = 0; j < QK4_NL / 2; ++j) {
      sumi1 += x[ib].qs[j] * kvalues_iq4nl[w[ib].qs[j] & 0xF];
      sumi2 += x[ib].qs[j + QK4_NL / 2] * kvalues_iq4nl[w[ib].qs[j] >> 4];
    }
    sumf += d * static_cast<float>(sumi1 + sumi2);
  }
  return sumf;
}

float vec_dot_q2_K_q8_K(const void* vw, const void* vx, int64_t n) {
  assert(n % kQK_K == 0);
  const auto* w = static_cast<const block_q2_K*>(vw);
  const auto* x = static_cast<const block_q8_K*>(vx);
  float sumf = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* q2 = w[i].qs;
    const int8_t* q8 = x[i].qs;
    const uint8_t* sc = w[i].scales;
    int summs = 0;  // the mins' share: sum over sub-blocks of min level * sum(q8)
    for (int j = 0; j < 16; ++j) summs += x[i].bsums[j] * (sc[j] >> 4);
    const float dall = x[i].d * fp16_to_f32(w[i].d);
    const float dmin = x[i].d * fp16_to_f32(w[i].dmin);
    int isum = 0, is = 0;
    for (int k = 0; k < kQK_K / 128; ++k) {
      for (int shift = 0; shift < 8; shift += 2) {
        int d = sc[is++] & 0xF;
        int isuml = 0;
        for (int l = 0; l < 16; ++l) isuml += q8[l] * ((q2[l] >> shift) & 3);
        isum += d * isuml;
        d = sc[is++] & 0xF;
        isuml = 0;
        for (int l = 16; l < 32; ++l) isuml += q8[l] * ((q2[l] >> shift) & 3);
        isum += d * isuml;
        q8 += 32;
      }
      q2 += 32;
    }
    sumf += dall * static_cast<float>(isum) - dmin * static_cast<float>(summs);
  }
  return sumf;
}

// Q3_K..Q6_K: ggml's generic code accumulates the block's integer products in 8 lanes (aux32) and
// the scaled lanes across blocks in 8 float sums added at the end. Kept, for the same last bit.
float vec_dot_q3_K_q8_K(const void* vw, const void* vx, int64_t n) {
  assert(n % kQK_K == 0);
  const auto* w = static_cast<const block_q3_K*>(vw);
  const auto* x = static_cast<const block_q8_K*>(vx);
  int8_t aux8[kQK_K];
  float sums[8] = {};
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* q3 = w[i].qs;
    const uint8_t* hm = w[i].hmask;
    int8_t* a = aux8;
    uint8_t m = 1;
    for (int j = 0; j < kQK_K; j += 128, q3 += 32) {
      for (int shift = 0; shift < 8; shift += 2, a += 32, m = static_cast<uint8_t>(m << 1)) {
        for (int l = 0; l < 32; ++l) a[l] = static_cast<int8_t>(((q3[l] >> shift) & 3) - (hm[l] & m ? 0 : 4));
      }
    }
    int8_t scales[16];
    unpack_q3_K_scales(w[i].scales, scales);
    int32_t aux32[8] = {};
    const int8_t* q8 = x[i].qs;
    a = aux8;
    for (int j = 0; j < kQK_K / 16; ++j) {
      for (int half = 0; half < 2; ++half, q8 += 8, a += 8) {
        for (int l = 0; l < 8; ++l) aux32[l] += scales[j] * (q8[l] * a[l]);
      }
    }
    const float d = fp16_to_f32(w[i].d) * x[i].d;
    for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(aux32[l]);
  }
  float sumf = 0;
  for (int l = 0; l < 8; ++l) sumf += sums[l];
  return sumf;
}

// The 8 6-bit scales and 8 6-bit mins of a Q4_K / Q5_K super-block.
void unpack_scales_mins_k4(const uint8_t* packed, uint8_t* scales, uint8_t* mins) {
  for (int j = 0; j < 8; ++j) get_scale_min_k4(j, packed, &scales[j], &mins[j]);
}

// Shared tail of Q4_K and Q5_K: a holds the 256 unsigned levels of one super-block.
void accumulate_k4_block(const int8_t* a, const block_q8_K& x, const uint8_t* packed_scales, float d_w,
                         float dmin_w, float* sums, float* sumf) {
  uint8_t scales[8], mins[8];
  unpack_scales_mins_k4(packed_scales, scales, mins);
  int sumi = 0;
  for (int j = 0; j < kQK_K / 16; ++j) sumi += x.bsums[j] * mins[j / 2];
  int32_t aux32[8] = {};
  const int8_t* q8 = x.qs;
  for (int j = 0; j < kQK_K / 32; ++j) {
    const int32_t scale = scales[j];
    for (int quarter = 0; quarter < 4; ++quarter, q8 += 8, a += 8) {
      for (int l = 0; l < 8; ++l) aux32[l] += scale * (q8[l] * a[l]);
    }
  }
  const float d = d_w * x.d;
  for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(aux32[l]);
  const float dmin = dmin_w * x.d;
  *sumf -= dmin * static_cast<float>(sumi);
}

float vec_dot_q4_K_q8_K(const void* vw, const void* vx, int64_t n) {
  assert(n % kQK_K == 0);
  const auto* w = static_cast<const block_q4_K*>(vw);
  const auto* x = static_cast<const block_q8_K*>(vx);
  int8_t aux8[kQK_K];
  float sums[8] = {};
  float sumf = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* q4 = w[i].qs;
    int8_t* a = aux8;
    for (int j = 0; j < kQK_K / 64; ++j, q4 += 32) {
      for (int l = 0; l < 32; ++l) *a++ = static_cast<int8_t>(q4[l] & 0xF);
      for (int l = 0; l < 32; ++l) *a++ = static_cast<int8_t>(q4[l] >> 4);
    }
    accumulate_k4_block(aux8, x[i], w[i].scales, fp16_to_f32(w[i].d), fp16_to_f32(w[i].dmin), sums, &sumf);
  }
  for (int l = 0; l < 8; ++l) sumf += sums[l];
  return sumf;
}

float vec_dot_q5_K_q8_K(const void* vw, const void* vx, int64_t n) {
  assert(n % kQK_K == 0);
  const auto* w = static_cast<const block_q5_K*>(vw);
  const auto* x = static_cast<const block_q8_K*>(vx);
  int8_t aux8[kQK_K];
  float sums[8] = {};
  float sumf = 0;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* q4 = w[i].qs;
    const uint8_t* hm = w[i].qh;
    int8_t* a = aux8;
    uint8_t m = 1;
    for (int j = 0; j < kQK_K / 64; ++j, q4 += 32) {
      for (int l = 0; l < 32; ++l) *a++ = static_cast<int8_t>((q4[l] & 0xF) + (hm[l] & m ? 16 : 0));
      m = static_cast<uint8_t>(m << 1);
      for (int l = 0; l < 32; ++l) *a++ = static_cast<int8_t>((q4[l] >> 4) + (hm[l] & m ? 16 : 0));
      m = static_cast<uint8_t>(m << 1);
    }
    accumulate_k4_block(aux8, x[i], w[i].scales, fp16_to_f32(w[i].d), fp16_to_f32(w[i].dmin), sums, &sumf);
  }
  for (int l = 0; l < 8; ++l) sumf += sums[l];
  return sumf;
}

float vec_dot_q6_K_q8_K(const void* vw, const void* vx, int64_t n) {
  assert(n % kQK_K == 0);
  const auto* w = static_cast<const block_q6_K*>(vw);
  const auto* x = static_cast<const block_q8_K*>(vx);
  int8_t aux8[kQK_K];
  float sums[8] = {};
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* q4 = w[i].ql;
    const uint8_t* qh = w[i].qh;
    int8_t* a = aux8;
    for (int j = 0; j < kQK_K; j += 128, a += 128, q4 += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        a[l + 0] = static_cast<int8_t>(((q4[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        a[l + 32] = static_cast<int8_t>(((q4[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        a[l + 64] = static_cast<int8_t>(((q4[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        a[l + 96] = static_cast<int8_t>(((q4[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    int32_t aux32[8] = {};
    const int8_t* q8 = x[i].qs;
    a = aux8;
    for (int j = 0; j < kQK_K / 16; ++j) {
      const int scale = w[i].scales[j];
      for (int half = 0; half < 2; ++half, q8 += 8, a += 8) {
        for (int l = 0; l < 8; ++l) aux32[l] += scale * (q8[l] * a[l]);
      }
    }
    const float d = fp16_to_f32(w[i].d) * x[i].d;
    for (int l = 0; l < 8; ++l) sums[l] += d * static_cast<float>(aux32[l]);
  }
  float sumf = 0;
  for (int l = 0; l < 8; ++l) sumf += sums[l];
  return sumf;
}

// Rows outside, tokens inside: one weight row (a few KiB) stays in L1 while every token uses it.
template <VecDotFn dot>
void matmul_rows(const MatmulArgs& a, int64_t row_begin, int64_t row_end) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const uint8_t* w_row = a.w + static_cast<size_t>(r) * a.w_row_bytes;
    for (int64_t t = 0; t < a.n_tokens; ++t) {
      a.y[t * a.ldy + r] = dot(w_row, a.x + static_cast<size_t>(t) * a.x_row_bytes, a.cols);
    }
  }
}

// Q4_0_R4 (kernels.h): the blocks of row r in the order and with the terms of vec_dot_q4_0_q8_0,
// read where the repacked layout keeps them, so the same bits.
void matmul_rows_q4_0_r4(const MatmulArgs& a, int64_t row_begin, int64_t row_end) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    for (int64_t t = 0; t < a.n_tokens; ++t) {
      const auto* x = reinterpret_cast<const block_q8_0*>(a.x + static_cast<size_t>(t) * a.x_row_bytes);
      float sumf = 0;
      for (int64_t ib = 0; ib < a.cols / QK8_0; ++ib)
        sumf += q4_0_block_term(
            reinterpret_cast<const block_q4_0*>(r4_row_step(a.w, a.w_row_bytes, r, ib / 4))[ib % 4], x[ib]);
      a.y[t * a.ldy + r] = sumf;
    }
  }
}

}  // namespace

VecDotFn vec_dot_fn(DType wtype) noexcept {
  switch (wtype) {
    case DType::F32: return vec_dot_f32;
    case DType::F16: return vec_dot_f16;
    case DType::BF16: return vec_dot_bf16;
    case DType::Q4_0: return vec_dot_q4_0_q8_0;
    case DType::Q4_1: return vec_dot_q4_1_q8_1;
    case DType::Q5_0: return vec_dot_q5_0_q8_0;
    case DType::Q5_1: return vec_dot_q5_1_q8_1;
    case DType::Q8_0: return vec_dot_q8_0_q8_0;
    case DType::Q2_K: return vec_dot_q2_K_q8_K;
    case DType::Q3_K: return vec_dot_q3_K_q8_K;
    case DType::Q4_K: return vec_dot_q4_K_q8_K;
    case DType::Q5_K: return vec_dot_q5_K_q8_K;
    case DType::Q6_K: return vec_dot_q6_K_q8_K;
    case DType::IQ4_NL: return vec_dot_iq4_nl_q8_0;
    default: return nullptr;
  }
}

MatmulFn matmul_fn(DType wtype) noexcept {
  switch (wtype) {
    case DType::F32: return matmul_rows<vec_dot_f32>;
    case DType::F16: return matmul_rows<vec_dot_f16>;
    case DType::BF16: return matmul_rows<vec_dot_bf16>;
    case DType::Q4_0: return matmul_rows<vec_dot_q4_0_q8_0>;
    case DType::Q4_1: return matmul_rows<vec_dot_q4_1_q8_1>;
    case DType::Q5_0: return matmul_rows<vec_dot_q5_0_q8_0>;
    case DType::Q5_1: return matmul_rows<vec_dot_q5_1_q8_1>;
    case DType::Q8_0: return matmul_rows<vec_dot_q8_0_q8_0>;
    case DType::Q2_K: return matmul_rows<vec_dot_q2_K_q8_K>;
    case DType::Q3_K: return matmul_rows<vec_dot_q3_K_q8_K>;
    case DType::Q4_K: return matmul_rows<vec_dot_q4_K_q8_K>;
    case DType::Q5_K: return matmul_rows<vec_dot_q5_K_q8_K>;
    case DType::Q6_K: return matmul_rows<vec_dot_q6_K_q8_K>;
    case DType::IQ4_NL: return matmul_rows<vec_dot_iq4_nl_q8_0>;
    case DType::Q4_0_R4:
      return matmul_rows_q4_0_r4;
    default: return nullptr;
  }
}

}  // namespace slm::kernels::scalar
