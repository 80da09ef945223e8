// AVX-512 VBMI/VNNI matmul for Q4_0 and Q8_0 weights (Q8_0 activations), four blocks (128 elements)
// per step instead of one.
//
// The per-block kernels of q8_0_family.h spend ~14 instructions on every 32-element block (decode,
// sign trick, one vpdpbusd, int->float, a scalar scale, one FMA), which makes token generation
// instruction-bound at ~10 GB/s per core. Here one step handles 4 consecutive blocks of a row:
//   - two unaligned zmm loads cover the 4 blocks (72 bytes of Q4_0, 136 of Q8_0) and one vpermt2b
//     per 64 bytes gathers the quants of all 4 blocks, dropping the fp16 scales in between;
//   - one vpermw/vpermt2w gathers the 4 scales, one vcvtph2ps widens them: lane group j (4 int32
//     lanes) belongs to block j;
//   - levels are made unsigned (Q4_0 nibbles as they are, 0..15; Q8_0 + 128), so vpdpbusd multiplies
//     them with the signed activation bytes directly; the offset comes back as a per-lane correction
//     -8 * sum(x) (or -128 * sum(x)) that is computed once per activation step and shared by all rows.
// Per row and step: ~14 instructions for 128 weights. The integer sum of each block is exact, as
// in the scalar reference; only the float accumulation order differs (per lane, then across lanes).
// Leftover blocks (cols / 32 not a multiple of 4) go through the 256-bit block kernels.
//
// Loads never pass the row: the 4-block window of a row ends exactly at its last byte.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "kernels/blocks.h"
#include "kernels/kernels.h"
#include "kernels/x86/prepared_activations.h"
#include "kernels/x86/q8_0_family.h"
#include "kernels/x86/row_streams.h"
#include "kernels/x86/simd_util.h"

namespace slm::kernels::x86 {
namespace {

using ByteIdx = std::array<uint8_t, 64>;
using WordIdx = std::array<uint16_t, 32>;

// 4 Q8_0 blocks (34 bytes each) from two 128-byte windows: `lo` takes bytes 0..15 of each block's
// quants from window [0, 128), `hi` bytes 16..31 from window [8, 136).
constexpr ByteIdx q8_lo_index() {
  ByteIdx idx{};
  for (int i = 0; i < 64; ++i) idx[i] = static_cast<uint8_t>(34 * (i / 16) + 2 + i % 16);
  return idx;
}
constexpr ByteIdx q8_hi_index() {
  ByteIdx idx{};
  for (int i = 0; i < 64; ++i) idx[i] = static_cast<uint8_t>(34 * (i / 16) + 18 + i % 16 - 8);
  return idx;
}
// Scales of 4 Q8_0 blocks: fp16 word 17 j of window [0, 128), repeated for the 4 lanes of block j.
constexpr WordIdx q8_d_index() {
  WordIdx idx{};
  for (int i = 0; i < 16; ++i) idx[i] = static_cast<uint16_t>(17 * (i / 4));
  return idx;
}
// 4 Q4_0 blocks (18 bytes each): the 16 quant bytes of block j from windows a = [0, 64) and
// b = [8, 72) (bytes past 63 are taken from b).
constexpr ByteIdx q4_index() {
  ByteIdx idx{};
  for (int i = 0; i < 64; ++i) {
    const int s = 18 * (i / 16) + 2 + i % 16;
    idx[i] = static_cast<uint8_t>(s < 64 ? s : 64 + s - 8);
  }
  return idx;
}
constexpr WordIdx q4_d_index() {
  WordIdx idx{};
  for (int i = 0; i < 16; ++i) idx[i] = static_cast<uint16_t>(9 * (i / 4));
  return idx;
}

alignas(64) constexpr ByteIdx kQ8Lo = q8_lo_index();
alignas(64) constexpr ByteIdx kQ8Hi = q8_hi_index();
alignas(64) constexpr WordIdx kQ8D = q8_d_index();
alignas(64) constexpr ByteIdx kQ4 = q4_index();
alignas(64) constexpr WordIdx kQ4D = q4_d_index();

inline __m512i load_idx(const void* p) { return _mm512_load_si512(p); }

// One 4-block step of one row or one token: quants as unsigned (weights) or signed (activations)
// bytes in two halves, and the 4 scales spread over their lanes.
struct Quad {
  __m512i lo, hi;
  __m512 d;
};

// The quants and scales of 4 Q8_0 blocks at p (136 bytes).
inline Quad load_q8_quad(const uint8_t* p) {
  const __m512i a = _mm512_loadu_si512(p), b = _mm512_loadu_si512(p + 64);
  const __m512i a8 = _mm512_loadu_si512(p + 8), c = _mm512_loadu_si512(p + 72);
  Quad q;
  q.lo = _mm512_permutex2var_epi8(a, load_idx(kQ8Lo.data()), b);
  q.hi = _mm512_permutex2var_epi8(a8, load_idx(kQ8Hi.data()), c);
  q.d = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutex2var_epi16(a, load_idx(kQ8D.data()), b)));
  return q;
}

// Activation step: the quad plus -offset * (sum of x per lane), the correction for unsigned levels.
struct XQuad {
  Quad q;
  __m512i neg_corr;
};

template <int kOffsetShift>  // offset = 1 << kOffsetShift (8 for Q4_0, 128 for Q8_0)
inline XQuad load_x_quad(const uint8_t* p) {
  XQuad x;
  x.q = load_q8_quad(p);
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i s = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, x.q.lo);
  s = _mm512_dpbusd_epi32(s, ones, x.q.hi);
  x.neg_corr = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(s, kOffsetShift));
  return x;
}

// Where a row's 4-block steps are: row r's step q at row(a, r) + q * kStep. Row-major for the file
// types; Q4_0_R4 (kernels.h) keeps the 4 rows of a group side by side in each step.
struct RowMajorSteps {
  static constexpr bool kRows4 = false;
  static const uint8_t* row(const MatmulArgs& a, int64_t r) {
    return a.w + static_cast<size_t>(r) * a.w_row_bytes;
  }
  // How far a row's steps run on contiguously (where prefetch_row_streams wraps to the next tile).
  static size_t stream_bytes(const MatmulArgs& a) { return a.w_row_bytes; }
};

struct Q4_0Quad : RowMajorSteps {
  static constexpr int kOffsetShift = 3;
  static constexpr size_t kBytes = 4 * sizeof(block_q4_0);
  static constexpr size_t kStep = kBytes;
  using Block = Q4_0Kernel;
  static Quad load(const uint8_t* p) {
    const __m512i a = _mm512_loadu_si512(p), b = _mm512_loadu_si512(p + 8);
    const __m512i q = _mm512_permutex2var_epi8(a, load_idx(kQ4.data()), b);
    const __m512i m = _mm512_set1_epi8(0x0F);
    Quad w;
    w.lo = _mm512_and_si512(q, m);                         // elements 0..15 of each block
    w.hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), m);   // elements 16..31
    w.d = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(load_idx(kQ4D.data()), a)));
    return w;
  }
};

struct Q8_0Quad : RowMajorSteps {
  static constexpr int kOffsetShift = 7;
  static constexpr size_t kBytes = 4 * sizeof(block_q8_0);
  static constexpr size_t kStep = kBytes;
  using Block = Q8_0Kernel;
  static Quad load(const uint8_t* p) {
    Quad w = load_q8_quad(p);
    const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
    w.lo = _mm512_xor_si512(w.lo, flip);  // w + 128, unsigned
    w.hi = _mm512_xor_si512(w.hi, flip);
    return w;
  }
};

// Q4_0_R4: Q4_0's steps, 4 rows interleaved (kernels.h). Rows are read in place (no stream wraps:
// a group's rows continue into the next group's).
struct Q4_0R4Quad : Q4_0Quad {
  static constexpr bool kRows4 = true;
  static constexpr size_t kStep = kR4StepBytes;
  static const uint8_t* row(const MatmulArgs& a, int64_t r) { return r4_row_step(a.w, a.w_row_bytes, r, 0); }
  static size_t stream_bytes(const MatmulArgs&) { return SIZE_MAX / 2; }
};

inline __m512 quad_dot(const Quad& w, const XQuad& x, __m512 acc) {
  __m512i s = _mm512_dpbusd_epi32(x.neg_corr, w.lo, x.q.lo);
  s = _mm512_dpbusd_epi32(s, w.hi, x.q.hi);
  return _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(w.d, x.q.d), acc);
}

// The blocks past the last whole 4-block step (cols / 32 not a multiple of 4), one by one with the
// 256-bit block kernel.
template <class K>
inline float leftover_blocks(const MatmulArgs& a, const uint8_t* w_row, const uint8_t* x_row) {
  const auto* wb = reinterpret_cast<const typename K::Block::WBlock*>(w_row);
  const auto* xb = reinterpret_cast<const block_q8_0*>(x_row);
  const int64_t nb = a.cols / 32;
  __m256 tail = _mm256_setzero_ps();
  for (int64_t b = nb / 4 * 4; b < nb; ++b) K::Block::accumulate(K::Block::load(wb[b]), xb[b], tail);
  return hsum(tail);
}

// Generation streams each weight row once. The rows of a tile are read side by side (16 streams in
// flight) and each step prefetches 4 steps ahead along the rows' streams (row_streams.h; measured at
// 4096 x 14336, 2 threads: 4 rows, no prefetch ~27 GB/s; 16 rows + prefetch ~42-44 of a ~50 GB/s
// probe).
constexpr int kMatvecPrefetchSteps = 4;

// Matrix-vector, NR rows side by side for NT tokens (t0 .. t0 + NT - 1): 4-block steps, then the
// leftover blocks. Each weight step is decoded once for the NT tokens, and each (row, token) sum
// takes exactly the steps of the one-token tile, so a few tokens together (several sequences
// decoding at once) give the bits each gets alone while the weights stream from memory once. The
// tokens' activation steps come prepared (xq[t * nq + q], matvec_rows below) and are read as memory
// operands: prepared inside the tile, 4 tokens' steps took the registers the accumulators needed
// (alternated from DRAM, 2 threads, Q4_0 K = 2048: 4 rows x 4 tokens with in-tile steps 16.4 GB/s,
// 8 rows x 4 tokens prepared 26.2; 2 tokens 8 rows 36.8 -> 40.0). One pointer per row: RowStreams
// made these tiles faster in cache but 15-25% slower from DRAM, unlike the one-token tile.
template <class K, int NR, int NT>
inline void matvec_tile(const MatmulArgs& a, int64_t r0, int64_t t0, const XQuad* xq, int64_t nq) {
  const uint8_t* w[NR];
  __m512 acc[NT][NR];
  for (int r = 0; r < NR; ++r) {
    w[r] = K::row(a, r0 + r);
    for (int t = 0; t < NT; ++t) acc[t][r] = _mm512_setzero_ps();
  }
  constexpr size_t kPrefetchDist = kMatvecPrefetchSteps * K::kStep;
  for (int64_t q = 0; q < nq; ++q) {
    prefetch_row_streams<NR>(w, K::stream_bytes(a), static_cast<size_t>(q) * K::kStep, K::kBytes,
                             kPrefetchDist);
    for (int r = 0; r < NR; ++r) {
      const Quad wq = K::load(w[r] + static_cast<size_t>(q) * K::kStep);
      for (int t = 0; t < NT; ++t) acc[t][r] = quad_dot(wq, xq[t * nq + q], acc[t][r]);
    }
  }
  for (int t = 0; t < NT; ++t) {
    const uint8_t* x = a.x + static_cast<size_t>(t0 + t) * a.x_row_bytes;
    for (int r = 0; r < NR; ++r)
      a.y[(t0 + t) * a.ldy + r0 + r] = _mm512_reduce_add_ps(acc[t][r]) + leftover_blocks<K>(a, w[r], x);
  }
}

// One token (generation): NR rows side by side, addressed through RowStreams (row_streams.h), which
// keeps 16 rows in six registers. Same steps and bits as matvec_tile with NT = 1. The rows are
// r0 + k * stride (k < NR), and the tile read after this one starts next_tile_rows rows later
// (matvec_row_stride in kernels.h).
template <class K, int NR>
inline void matvec_tile_one(const MatmulArgs& a, int64_t r0, int64_t t0, int64_t stride = 1, int64_t next_tile_rows = NR) {
  const int64_t nq = a.cols / 128;
  RowStreams<NR> w(a.w + static_cast<size_t>(r0) * a.w_row_bytes, a.w_row_bytes, stride, next_tile_rows);
  const uint8_t* x = a.x + static_cast<size_t>(t0) * a.x_row_bytes;
  // The leftover blocks first, into memory, and the accumulators only ever indexed by constants
  // (unroll): GCC then keeps all 16 in registers; with a run-time index after the loop it also
  // stored each one to the stack every step (bench/RESULTS.md, session 15). Same sum: steps + tail.
  float tail[NR] = {};
  if (a.cols % 128 != 0)
    for (int r = 0; r < NR; ++r) tail[r] = leftover_blocks<K>(a, w.row_at(r), x);
  __m512 acc[NR];
  unroll<NR>([&](auto r) { acc[r] = _mm512_setzero_ps(); });
  for (int64_t q = 0; q < nq; ++q) {
    w.prefetch(K::kBytes, kMatvecPrefetchSteps * K::kBytes);
    const XQuad xq = load_x_quad<K::kOffsetShift>(x + static_cast<size_t>(q) * 4 * sizeof(block_q8_0));
    unroll<NR>([&](auto r) { acc[r] = quad_dot(K::load(w.template row<r>()), xq, acc[r]); });
    w.advance(K::kBytes);
  }
  unroll<NR>([&](auto r) { a.y[t0 * a.ldy + r0 + r * stride] = _mm512_reduce_add_ps(acc[r]) + tail[r]; });
}

// One token, Q4_0_R4: NG groups of 4 rows side by side, groups g0 + k * s (k < NG), so NG streams
// of 288-byte steps. Each row takes the steps and bits of matvec_tile_one. The group stream runs on
// into group g0 + k * s + 1, which the driver reads next, so the prefetch simply runs ahead.
template <int NG>
inline void matvec_r4_tile(const MatmulArgs& a, int64_t g0, int64_t s, int64_t t0) {
  using K = Q4_0R4Quad;
  constexpr size_t kPiece = K::kBytes;  // one row's 4 blocks
  const int64_t nq = a.cols / 128;
  const size_t group_bytes = static_cast<size_t>(kR4Rows) * a.w_row_bytes;
  uintptr_t base = reinterpret_cast<uintptr_t>(a.w) + static_cast<uintptr_t>(g0) * group_bytes;
  const uintptr_t rs = static_cast<uintptr_t>(s) * group_bytes, rs3 = 3 * rs;
  const auto group = [&](auto k) __attribute__((always_inline)) {
    if constexpr (k == 0)
      return uintptr_t{0};
    else if constexpr (k == 1)
      return rs;
    else if constexpr (k == 2)
      return 2 * rs;
    else
      return rs3;
  };
  const uint8_t* x = a.x + static_cast<size_t>(t0) * a.x_row_bytes;
  __m512 acc[4 * NG];
  unroll<4 * NG>([&](auto i) { acc[i] = _mm512_setzero_ps(); });
  for (int64_t q = 0; q < nq; ++q) {
    unroll<NG>([&](auto k) __attribute__((always_inline)) {
      prefetch_step(base + group(k) + kMatvecPrefetchSteps * K::kStep, K::kStep);
    });
    const XQuad xq = load_x_quad<K::kOffsetShift>(x + static_cast<size_t>(q) * 4 * sizeof(block_q8_0));
    unroll<4 * NG>([&](auto i) {
      const auto* p = reinterpret_cast<const uint8_t*>(base + group(std::integral_constant<int, i / 4>{}) +
                                                       (i % 4) * kPiece);
      acc[i] = quad_dot(K::load(p), xq, acc[i]);
    });
    base += K::kStep;
    asm("" : "+r"(base));
  }
  // + 0.0f: matvec_tile_one adds its (here empty) leftover sum, which turns a -0 into +0
  unroll<4 * NG>([&](auto i) {
    a.y[t0 * a.ldy + kR4Rows * (g0 + (i / 4) * s) + i % 4] = _mm512_reduce_add_ps(acc[i]) + 0.0f;
  });
}

// One row of a Q4_0_R4 matrix (a range that does not start or end on a group).
inline void matvec_r4_row(const MatmulArgs& a, int64_t r, int64_t t0) {
  using K = Q4_0R4Quad;
  const uint8_t* x = a.x + static_cast<size_t>(t0) * a.x_row_bytes;
  __m512 acc = _mm512_setzero_ps();
  for (int64_t q = 0; q < a.cols / 128; ++q)
    acc = quad_dot(K::load(r4_row_step(a.w, a.w_row_bytes, r, q)),
                   load_x_quad<K::kOffsetShift>(x + static_cast<size_t>(q) * 4 * sizeof(block_q8_0)), acc);
  a.y[t0 * a.ldy + r] = _mm512_reduce_add_ps(acc) + 0.0f;  // as matvec_r4_tile
}

// One token over rows [row_begin, row_end) of a Q4_0_R4 matrix: super-groups of 16 s rows as s
// tiles of 4 groups s apart (tile i: groups i, i + s, i + 2s, i + 3s), s = 64 where the range
// allows (streams 64 groups apart read fastest in the harness: bench/RESULTS.md, session 15), then
// smaller; then single groups, then single rows.
inline void matvec_r4_rows(const MatmulArgs& a, int64_t row_begin, int64_t row_end, int64_t t0) {
  int64_t r = row_begin;
  for (; r < row_end && r % kR4Rows != 0; ++r) matvec_r4_row(a, r, t0);
  for (int64_t s = 64; s >= 1; s /= 2)
    for (; r + 16 * s <= row_end; r += 16 * s)
      for (int64_t i = 0; i < s; ++i) matvec_r4_tile<4>(a, r / kR4Rows + i, s, t0);
  for (; r + kR4Rows <= row_end; r += kR4Rows) matvec_r4_tile<1>(a, r / kR4Rows, 1, t0);
  for (; r < row_end; ++r) matvec_r4_row(a, r, t0);
}

// Rows [row_begin, row_end) for NT tokens from t0: tiles of NR rows, then single rows.
template <class K, int NR, int NT>
inline void matvec_rows(const MatmulArgs& a, int64_t row_begin, int64_t row_end, int64_t t0) {
  int64_t r = row_begin;
  if constexpr (NT == 1 && K::kRows4) {
    matvec_r4_rows(a, row_begin, row_end, t0);
  } else if constexpr (NT == 1) {
    // Groups of NR x s rows as s strided tiles, each row stream running on through s rows.
    const auto tile = [&](int64_t first, int64_t s, int64_t next) {
      matvec_tile_one<K, NR>(a, first, t0, s, next);
    };
    r = strided_groups<NR>(r, row_end, matvec_row_stride(a.wtype, a.w_row_bytes), tile);
    for (; r + NR <= row_end; r += NR) matvec_tile_one<K, NR>(a, r, t0);
    for (; r < row_end; ++r) matvec_tile_one<K, 1>(a, r, t0);
  } else {
    // The NT tokens' activation steps, prepared once per call (prepared_activations.h).
    const int64_t nq = a.cols / 128;
    const XQuad* xq = prepare_activations<XQuad>(NT, nq, [&](int t, int64_t q) {
      const uint8_t* x = a.x + static_cast<size_t>(t0 + t) * a.x_row_bytes;
      return load_x_quad<K::kOffsetShift>(x + static_cast<size_t>(q) * 4 * sizeof(block_q8_0));
    });
    for (; r + NR <= row_end; r += NR) matvec_tile<K, NR, NT>(a, r, t0, xq, nq);
    for (; r < row_end; ++r) matvec_tile<K, 1, NT>(a, r, t0, xq, nq);
  }
}

// Prompt processing (several tokens). The activation side of a step (12 instructions per token and
// 4 blocks) is prepared once per token and chunk of columns into a stack buffer, not once per row
// tile; the tile then reads it as memory operands. Tiles of MR rows x MT tokens.
constexpr int kPrepTokens = 4;
constexpr int64_t kChunkQuads = 48;  // 6144 columns: 4 tokens x 48 x 256 B = 48 KiB of stack

template <class K, int NR, int NT>
inline void prepped_tile(const MatmulArgs& a, int64_t r0, int64_t t0, const XQuad (*xbuf)[kChunkQuads], int64_t q0,
                         int64_t qn, bool first, bool last) {
  const uint8_t* w[NR];
  for (int r = 0; r < NR; ++r) w[r] = K::row(a, r0 + r);
  __m512 acc[NR][NT];
  for (int r = 0; r < NR; ++r)
    for (int t = 0; t < NT; ++t) acc[r][t] = _mm512_setzero_ps();
  for (int64_t q = 0; q < qn; ++q) {
    for (int r = 0; r < NR; ++r) {
      const Quad wq = K::load(w[r] + static_cast<size_t>(q0 + q) * K::kStep);
      for (int t = 0; t < NT; ++t) acc[r][t] = quad_dot(wq, xbuf[t][q], acc[r][t]);
    }
  }
  for (int r = 0; r < NR; ++r) {
    for (int t = 0; t < NT; ++t) {
      float v = _mm512_reduce_add_ps(acc[r][t]);
      if (last) v += leftover_blocks<K>(a, w[r], a.x + static_cast<size_t>(t0 + t) * a.x_row_bytes);
      float& y = a.y[(t0 + t) * a.ldy + r0 + r];
      y = first ? v : y + v;
    }
  }
}

template <class K, int NT>
inline void prepped_rows(const MatmulArgs& a, int64_t row_begin, int64_t row_end, int64_t t0,
                         const XQuad (*xbuf)[kChunkQuads], int64_t q0, int64_t qn, bool first, bool last) {
  constexpr int MR = 4;
  int64_t r = row_begin;
  for (; r + MR <= row_end; r += MR) prepped_tile<K, MR, NT>(a, r, t0, xbuf, q0, qn, first, last);
  for (; r < row_end; ++r) prepped_tile<K, 1, NT>(a, r, t0, xbuf, q0, qn, first, last);
}

template <class K>
void matmul_quad_tokens(const MatmulArgs& a, int64_t row_begin, int64_t row_end) {
  alignas(64) XQuad xbuf[kPrepTokens][kChunkQuads];
  const int64_t nq = a.cols / 128;
  for (int64_t t0 = 0; t0 < a.n_tokens; t0 += kPrepTokens) {
    const int nt = static_cast<int>(std::min<int64_t>(kPrepTokens, a.n_tokens - t0));
    int64_t q0 = 0;
    do {  // chunks of columns; one pass with qn = 0 when there are only leftover blocks
      const int64_t qn = std::min(kChunkQuads, nq - q0);
      for (int t = 0; t < nt; ++t) {
        const uint8_t* x = a.x + static_cast<size_t>(t0 + t) * a.x_row_bytes;
        for (int64_t q = 0; q < qn; ++q)
          xbuf[t][q] = load_x_quad<K::kOffsetShift>(x + static_cast<size_t>(q0 + q) * 4 * sizeof(block_q8_0));
      }
      const bool first = q0 == 0, last = q0 + qn >= nq;
      switch (nt) {
        case 4: prepped_rows<K, 4>(a, row_begin, row_end, t0, xbuf, q0, qn, first, last); break;
        case 3: prepped_rows<K, 3>(a, row_begin, row_end, t0, xbuf, q0, qn, first, last); break;
        case 2: prepped_rows<K, 2>(a, row_begin, row_end, t0, xbuf, q0, qn, first, last); break;
        default: prepped_rows<K, 1>(a, row_begin, row_end, t0, xbuf, q0, qn, first, last); break;
      }
      q0 += qn;
    } while (q0 < nq);
  }
}

// The MatmulFn: one token in 16-row tiles streaming from memory (a multiple of 16 rows is what the
// graph's row split hands out). A few tokens (below kAvx512PanelMinTokens, where the graph does not
// use the panels: several sequences decoding together): the same kind of tiles over groups of 8, 6,
// 4 and 2 tokens, the weights streaming once per group, each result with the one-token bits (6
// tokens in one group instead of 4 + 2, alternated from DRAM: Q4_0 +11-15%, Q8_0 +18%; 8 tokens in
// 8-row tiles: bench_decode 1B Q4_0 8 streams 59 ms per step with panels, 45 as one group; 4-row
// tiles 58-60). More tokens through the prepared-activation path.
template <class K>
void matmul_quad(const MatmulArgs& a, int64_t row_begin, int64_t row_end) {
  if (a.n_tokens >= kAvx512PanelMinTokens) {
    matmul_quad_tokens<K>(a, row_begin, row_end);
    return;
  }
  int64_t t = 0;
  for (; t + 8 <= a.n_tokens; t += 8) matvec_rows<K, 8, 8>(a, row_begin, row_end, t);
  for (; t + 6 <= a.n_tokens; t += 6) matvec_rows<K, 8, 6>(a, row_begin, row_end, t);
  for (; t + 4 <= a.n_tokens; t += 4) matvec_rows<K, 8, 4>(a, row_begin, row_end, t);
  for (; t + 2 <= a.n_tokens; t += 2) matvec_rows<K, 8, 2>(a, row_begin, row_end, t);
  if (t < a.n_tokens) matvec_rows<K, 16, 1>(a, row_begin, row_end, t);
}

}  // namespace
}  // namespace slm::kernels::x86
