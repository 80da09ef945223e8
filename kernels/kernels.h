// The kernel layer's API: one table of function pointers per instruction set, chosen once at start-up,
// plus the scalar reference that every table is tested against.
//
// Kernels know nothing of models or threads: raw pointers, sizes, strides and a row range. They do
// not allocate and do not throw. Preconditions (sizes multiples of the block size, supported types)
// are the caller's to check; kernels assert them in debug builds only.
//
// Matrix multiplication follows ggml: weights stay in their file format; activations are first
// quantized (once per step) to activation_type(wtype) with quantize_act, then every output is a
// vec_dot of one weight row with one activation row: integer sums inside blocks, float across blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/types.h"

namespace slm::kernels {

// Table slots indexed by DType id (the largest id, slm's own Q4_0_R4, is 40).
inline constexpr size_t kDTypeSlots = 41;
constexpr size_t slot(DType t) noexcept { return static_cast<size_t>(t); }

// The format activations are converted to before a matmul with weights of type `weight`, as ggml
// pairs them (vec_dot_type): F32->F32, F16->F16, BF16->BF16, Q4_0/Q5_0/Q8_0/IQ4_NL->Q8_0,
// Q4_1/Q5_1->Q8_1, Q2_K..Q6_K->Q8_K. Returns `weight` itself for types without kernels (callers check
// has_matmul first).
DType activation_type(DType weight) noexcept;

struct MatmulArgs {
  DType wtype;          // weight type
  const uint8_t* w;     // [rows][w_row_bytes]: row r starts at w + r * w_row_bytes
  size_t w_row_bytes;   // >= row_bytes(wtype, cols); rows may be padded
  int64_t rows;         // output features
  int64_t cols;         // K, the shared dimension: a multiple of block_size(wtype)
  const uint8_t* x;     // [n_tokens][x_row_bytes], already in activation_type(wtype)
  size_t x_row_bytes;   // >= row_bytes(activation_type(wtype), cols)
  int64_t n_tokens;
  float* y;             // y[t * ldy + r]: one row of `rows` outputs per token
  int64_t ldy;          // >= rows
  const uint8_t* xp = nullptr;  // the same activations packed into token panels (matmul_panels only)
};

// Computes y[t][r] for r in [row_begin, row_end) and every token t. Callers split rows (and/or
// tokens, by offsetting x and y) across threads; ranges of different calls may not overlap in y.
using MatmulFn = void (*)(const MatmulArgs& args, int64_t row_begin, int64_t row_end);
// Converts n floats (a multiple of the format's block size) to one row of a block format.
using QuantizeRowFn = void (*)(const float* x, void* out, int64_t n);

// ---- row groups (generation) ---------------------------------------------------------------------
// Generation streams each weight row once, 16 (Q4_0) or 8 (K-quants) rows side by side. Where the
// rows are short (1152 bytes: Q4_0 or Q4_K at K = 2048) those streams end after 18 cache lines; the
// AVX-512 tiles then take their rows strided: a group of NR x s rows is read as s tiles, tile i
// holding rows i, i + s, i + 2s, ..., so each stream runs on through s consecutive rows. Measured on
// Zen 5 from DRAM (bench/RESULTS.md, session 11): a stream spacing s x row bytes of 18 KiB read
// fastest (Q4_0 K = 2048, s = 16: +11-13% alone; K = 4096, s = 8: +9%), while other spacings (s = 10
// or 12 at K = 3072, Q8_0 at s = 2-8) read slower than s = 1, so only that spacing takes strides.
// In the model (1B, 2 threads) the products at K = 2048 gained 2-10%.
inline constexpr size_t kStreamSpacingBytes = 18432;
inline constexpr int64_t matvec_row_stride(DType type, size_t row_bytes) noexcept {
  if ((type != DType::Q4_0 && type != DType::Q4_K) || row_bytes == 0 || kStreamSpacingBytes % row_bytes != 0) return 1;
  const int64_t s = static_cast<int64_t>(kStreamSpacingBytes / row_bytes);
  return s >= 8 && s <= 16 ? s : 1;
}
// The rows a one-token chunk should be a multiple of, so the kernel sees whole groups (what the
// avx512 table's matvec_row_group answers; levels that do not stride leave it unset).
inline constexpr int64_t matvec_row_group(DType type, size_t row_bytes) noexcept {
  if (type == DType::Q4_0_R4) return 256;  // 16 tiles of 4 groups 16 groups apart (see Q4_0_R4 below)
  const int64_t s = matvec_row_stride(type, row_bytes);
  return s > 1 ? (type == DType::Q4_0 ? 16 : 8) * s : 16;
}

// ---- repacked layouts (generation) ----------------------------------------------------------------
// Q4_0_R4: a Q4_0 matrix (rows a multiple of 4, cols a multiple of 128) with each group of 4
// consecutive rows rearranged in place, 4-block step by step: step q of group g is the 4 rows'
// blocks [4q, 4q + 4) side by side (4 x 72 bytes), so
//   row r's blocks [4q, 4q + 4) = data + (r / 4) * 4 * row_bytes + q * 288 + (r % 4) * 72.
// The group still occupies the bytes of its 4 rows, so a slice of rows starting at a multiple of 4
// keeps working as `data + r * row_bytes`. A 16-row generation tile then reads 4 streams of 288
// bytes a step (4 groups) instead of 16 of 72. Only levels with kernels for it ask for it
// (KernelTable::load_layout); loaders that own writable weights (huge-page copies) repack, others
// keep the file's layout. Opt-in for now (SLM_REPACK=1, src/model/load_gguf.cpp): in a harness on
// the Zen 5 machine the pattern read 8-10% faster (bench/RESULTS.md, session 15); end to end it has
// only been measured on an Intel Xeon, where it made no difference beyond noise (session 16).
inline constexpr int64_t kR4Rows = 4;
inline constexpr size_t kR4StepBytes = 4 * 4 * 18;  // 4 rows x 4 Q4_0 blocks
// Whether a matrix of `type` with these dimensions can take the Q4_0_R4 layout.
inline constexpr bool can_repack_r4(DType type, int64_t rows, int64_t cols) noexcept {
  return type == DType::Q4_0 && rows > 0 && rows % kR4Rows == 0 && cols > 0 && cols % 128 == 0;
}
// In place, rows x row_bytes at data (row_bytes = the row's Q4_0 bytes, can_repack_r4 holds):
// Q4_0 -> Q4_0_R4, and back. `scratch` holds 4 * row_bytes bytes.
void repack_q4_0_r4(uint8_t* data, int64_t rows, size_t row_bytes, uint8_t* scratch) noexcept;
void unpack_q4_0_r4(uint8_t* data, int64_t rows, size_t row_bytes, uint8_t* scratch) noexcept;
// Row r's blocks [4q, 4q + 4) in a Q4_0_R4 matrix.
inline const uint8_t* r4_row_step(const uint8_t* data, size_t row_bytes, int64_t r, int64_t q) noexcept {
  return data + static_cast<size_t>(r / kR4Rows) * kR4Rows * row_bytes +
         static_cast<size_t>(q) * kR4StepBytes + static_cast<size_t>(r % kR4Rows) * (kR4StepBytes / kR4Rows);
}

// ---- token panels (prompt processing) ------------------------------------------------------------
// Products over many tokens run faster when the activations are rearranged once per call so that a
// vector register holds 4 consecutive columns of kPanelTokens tokens: the weights are then decoded
// once per row and chunk and each 4-byte group meets 16 tokens in one instruction.
//
// A panel packs tokens [16 p, 16 p + 16) of Q8_0, Q8_1 or Q8_K activation rows. For every 32-column
// block b it holds, at b * kPanelBlockBytes:
//   512 bytes  byte (g * 16 + t) * 4 + i = x[t][32 b + 4 g + i] (signed), g < 8, t < 16, i < 4
//   16 floats  da[t]: the activation scale of token t for this block (Q8_0's d, Q8_K's super-block d)
//   16 floats  das[t] = da[t] * sum of the block's 32 quants of token t (Q8_1: the block's own s)
//   16 int32   the sum of the block's 32 quants of token t
//   16 int32   the sum of its first 16 quants
// Tokens past n_tokens are padding: every field 0.
inline constexpr int64_t kPanelTokens = 16;
inline constexpr size_t kPanelDa = 512, kPanelDas = 576, kPanelSum = 640, kPanelSumLo = 704;
inline constexpr size_t kPanelBlockBytes = 768;
// The fewest tokens for which callers use matmul_panels (below it, padding would cost too much),
// unless a level's table says otherwise (KernelTable::panel_min_tokens). Measured at 2048 x 2048,
// 2 threads, AVX-512: at 8 tokens panels beat the prompt tiles by 6-10% for Q4_0 and Q4_K and trail
// them by ~20% for Q6_K; from 16 tokens on they are ahead for every type.
inline constexpr int64_t kPanelMinTokens = 8;
// AVX-512 takes 8 tokens (8 sequences decoding together) as one generation group, the weights
// streaming once (bench_decode, 1B, 8 streams, ms per step: Q4_0 58.8-59.5 with panels, 44.8-45.7
// as one group; Q4_K_M 60.6-61.0 -> 42.8-44.2); from 9 tokens the panels.
inline constexpr int64_t kAvx512PanelMinTokens = 9;
inline constexpr size_t panel_bytes(int64_t cols) noexcept {
  return static_cast<size_t>(cols / 32) * kPanelBlockBytes;
}
inline constexpr int64_t panel_count(int64_t n_tokens) noexcept {
  return (n_tokens + kPanelTokens - 1) / kPanelTokens;
}
// Packs panel `panel` of x (n_tokens rows of `act`: Q8_0, Q8_1 or Q8_K; `cols` columns) into
// out[0, panel_bytes(cols)). 64-byte aligned out.
using PackPanelFn = void (*)(DType act, const uint8_t* x, size_t x_row_bytes, int64_t cols, int64_t n_tokens,
                             int64_t panel, uint8_t* out);

struct KernelTable {
  const char* isa;  // "scalar", "avx2", "avx512", "neon"

  MatmulFn matmul[kDTypeSlots];           // by weight type; nullptr = unsupported
  QuantizeRowFn quantize_act[kDTypeSlots];  // by activation type (F32 is a copy, F16/BF16 convert)
  // The panel path: the same product as matmul[], reading args.xp (every panel of args.x packed by
  // pack_panel). nullptr where the level has none; pack_panel is set whenever any matmul_panels is.
  MatmulFn matmul_panels[kDTypeSlots];
  PackPanelFn pack_panel;
  // Callers use matmul_panels from this many tokens on (kPanelMinTokens, or kAvx512PanelMinTokens).
  int64_t panel_min_tokens;
  // The rows a one-token chunk of matmul[] should be a multiple of (matvec_row_group), where the
  // level reads rows in strided groups; nullptr: 16.
  int64_t (*matvec_row_group)(DType type, size_t row_bytes);
  // The layout this level reads a matrix of `type` fastest in (Q4_0 -> Q4_0_R4 where it has those
  // kernels), for loaders that can rearrange the weights; nullptr, or `type` itself: as it is.
  DType (*load_layout)(DType type, int64_t rows, int64_t cols);

  // y[i] = x[i] / sqrt(mean(x^2) + eps) * (w[i] + w_offset); w_offset is 1 for Gemma-style norms.
  void (*rmsnorm)(const float* x, const float* w, float* y, int64_t n, float eps, float w_offset);
  // In place: x[i] = exp(x[i] - max) / sum_j exp(x[j] - max). n >= 1.
  void (*softmax)(float* x, int64_t n);
  // out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)). out may alias gate or up.
  void (*silu_mul)(const float* gate, const float* up, float* out, int64_t n);
  // out[i] = gelu_tanh(gate[i]) * up[i], gelu_tanh(g) = 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3))).
  void (*gelu_tanh_mul)(const float* gate, const float* up, float* out, int64_t n);
  // Rotary embedding of one token in place. x: [n_heads][head_dim]; the first rope_dim (even,
  // <= head_dim) dims of each head rotate by angle i (i < rope_dim / 2), given as cos[i], sin[i]:
  // pairs (2i, 2i+1) when !neox (GPT-J / llama.cpp "normal"), (i, i + rope_dim/2) when neox.
  void (*rope)(float* x, int64_t n_heads, int64_t head_dim, int64_t rope_dim, const float* cos,
               const float* sin, bool neox);
  // y[i] = std::exp(x[i]) with glibc's bits (x86 computes glibc's expf algorithm in vectors; the
  // online softmax of attention calls it once per query and cache row). y may alias x.
  void (*exp_f32)(const float* x, float* y, int64_t n);
  // Attention over an F16 KV cache: sum_i a[i] * b[i] (a in fp16 bits).
  float (*dot_f16_f32)(const uint16_t* a, const float* b, int64_t n);
  // y[i] += alpha * x[i] (x in fp16 bits).
  void (*axpy_f16_f32)(float alpha, const uint16_t* x, float* y, int64_t n);
  // y[i] = fp16(x[i]), round to nearest even.
  void (*f32_to_f16_row)(const float* x, uint16_t* y, int64_t n);
  // y[i] = float(x[i]) (x in fp16 bits): exact; NaNs keep their payload with the quiet bit set.
  void (*f16_to_f32_row)(const uint16_t* x, float* y, int64_t n);
  // The F16 accumulator of llama.cpp's flash attention (ggml_vec_mad_f16, ggml_vec_scale_f16), every
  // result rounded to F16 (nearest even), so bit-exact at every level:
  //   mad_f16:   acc[i] = fp16(fma(float(v[i]), s, float(acc[i])))
  //   scale_f16: acc[i] = fp16(float(acc[i]) * s)
  void (*mad_f16)(uint16_t* acc, const uint16_t* v, float s, int64_t n);
  void (*scale_f16)(uint16_t* acc, float s, int64_t n);
  // The same steps over n cache rows at once (row i at base + i * stride), bit-identical to calling
  // the single-row kernels of the same table row by row, without a call and a memory round trip per
  // row. A level that provides dot_f16_f32 provides dot_f16_rows too (tests/kernels checks the pair):
  //   dot_f16_rows:  out[i] = dot_f16_f32(k + i * stride, q, hd)
  //   mad_f16_rows:  for i in order: if ms[i] != 1, scale_f16(acc, ms[i], hd);
  //                                  then mad_f16(acc, v + i * stride, vs[i], hd)
  void (*dot_f16_rows)(const uint16_t* k, size_t stride, const float* q, int64_t hd, int64_t n, float* out);
  void (*mad_f16_rows)(uint16_t* acc, const uint16_t* v, size_t stride, const float* ms, const float* vs, int64_t n,
                       int64_t hd);
  // The factors of llama.cpp's online softmax for one query over n scores (the ms, vs that
  // mad_f16_rows takes), with m the running maximum (in: before the first score; *m_out: after the
  // last; m_out may point at m's source). For i in order, sc = score[i] * scale:
  //   sc > m: ms[i] = exp(m - sc), vs[i] = 1, m = sc;   otherwise: ms[i] = 1, vs[i] = exp(sc - m)
  // with std::exp's bits (exp_f32). The running sum of the caller is s = s * ms[i] + vs[i].
  void (*softmax_factors)(const float* score, int64_t n, float scale, float m, float* m_out, float* ms, float* vs);
  // Several queries' scores over the same n rows, bit-identical to, for j < nq,
  //   dot_f16_rows(k, stride, q[j], hd, n, out[j])
  // but the rows are converted from F16 once for all of them.
  void (*dot_f16_rows_multi)(const uint16_t* k, size_t stride, const float* const* q, int64_t nq, int64_t hd,
                             int64_t n, float* const* out);
  // Several queries over the same n rows (the query heads of a GQA group, the tokens of a prompt),
  // each with its own accumulator and factors; bit-identical to, for j < nq in turn,
  //   mad_f16_rows(acc[j], v, stride, ms[j], vs[j], n, hd)
  // but each row is loaded once for all of them, and their rounding chains overlap.
  void (*mad_f16_rows_multi)(uint16_t* const* acc, const float* const* ms, const float* const* vs, int64_t nq,
                             const uint16_t* v, size_t stride, int64_t n, int64_t hd);
  // The F32 attention's weighted sum of V for several queries over the same n rows (row i at
  // v + i * stride): bit-identical to, for i in order and each j < nq,
  //   axpy_f16_f32(p[j][i], v + i * stride, acc[j], hd)
  // of the same table, but each row is converted once for all the queries. A level that provides
  // axpy_f16_f32 provides this too (tests/kernels checks the pair).
  void (*axpy_f16_rows_multi)(float* const* acc, const float* const* p, int64_t nq, const uint16_t* v,
                              size_t stride, int64_t n, int64_t hd);
};

// ---- dispatch ------------------------------------------------------------------------------------

// The table for this process, chosen on first use: the best ISA this CPU and build support, or the
// level named by the environment variable SLM_ISA (scalar|avx2|avx512|neon) when that is available.
// An unknown or unavailable SLM_ISA prints one warning on stderr and the best level is used.
// Entries an ISA does not provide are taken from the level below it, down to scalar.
const KernelTable& active();
// The table of one ISA, for tests and benchmarks comparing levels; nullptr when the name is unknown,
// not compiled in, or not runnable on this CPU. table_for("scalar") never returns nullptr.
const KernelTable* table_for(std::string_view isa);
// The levels this build can run on this CPU, lowest first ("scalar" always, best last).
std::vector<std::string_view> available_isas();

// What the CPU (and the OS, for the wide register state) supports.
struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false;                     // with OS AVX state (XCR0)
  bool avx512f = false, avx512bw = false, avx512vl = false,         // with OS opmask/ZMM state
      avx512vbmi = false, avx512vnni = false, avx512bf16 = false;
  bool neon = false, dotprod = false, fp16 = false;                 // aarch64
};
CpuFeatures cpu_features();

// The choice active() makes, as a pure function so it can be tested: `requested` is SLM_ISA's value
// (nullptr or empty when unset), `available` what this machine runs (lowest first, non-empty).
// `warning` is empty unless the request could not be honoured.
struct IsaChoice {
  std::string_view isa;
  std::string warning;
};
IsaChoice choose_isa(const char* requested, std::span<const std::string_view> available);

// Packs every panel of x into out (resized, 64-byte aligned start), one thread: tests and benchmarks.
// The graph packs panels in parallel. Requires k.pack_panel.
struct PanelBuffer {
  std::vector<uint8_t> bytes;
  uint8_t* data() noexcept;  // 64-byte aligned
};
void pack_all_panels(const KernelTable& k, DType act, const uint8_t* x, size_t x_row_bytes, int64_t cols,
                     int64_t n_tokens, PanelBuffer& out);

// ---- scalar reference ----------------------------------------------------------------------------
// Bit-exact with ggml's reference C code. n is a multiple of the type's block size.

// True for F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K .. Q8_K, IQ4_NL.
bool can_dequantize(DType t) noexcept;
// True for F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K .. Q8_K (not IQ4_NL).
bool can_quantize(DType t) noexcept;
// True for the weight types with a vec_dot / matmul (those can_dequantize accepts, minus Q8_1, Q8_K).
bool has_matmul(DType wtype) noexcept;

// Decodes n elements; returns false (writing nothing) when !can_dequantize(t).
bool dequantize_row(DType t, const void* src, float* dst, int64_t n) noexcept;
// Encodes n floats as ggml's quantize_row_*_ref does; false (writing nothing) when !can_quantize(t).
bool quantize_row(DType t, const float* src, void* dst, int64_t n) noexcept;
// Dot product of a weight row (wtype) with an activation row in activation_type(wtype), computed as
// ggml's generic vec_dot does; NaN when !has_matmul(wtype).
float vec_dot(DType wtype, const void* w, const void* x, int64_t n) noexcept;

}  // namespace slm::kernels
