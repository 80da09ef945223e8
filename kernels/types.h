// Tensor element types, by their GGUF/ggml ids, and their block geometry.
//
// A tensor row of n elements of type t occupies n / block_size(t) blocks of block_bytes(t) bytes;
// n must be a multiple of block_size(t). This table is the one place these numbers live.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace slm {

enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  // 4 and 5 were Q4_2 and Q4_3, removed from ggml long ago.
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  // 31..33 were the Q4_0_4_4 / Q4_0_4_8 / Q4_0_8_8 repacked layouts, removed from GGUF.
  TQ1_0 = 34,
  TQ2_0 = 35,
  // 36..38 were IQ4_NL_4_4 / _4_8 / _8_8, removed.
  MXFP4 = 39,
  // slm's own layouts, never read from or written to a file (dtype_traits and dtype_from_name do
  // not know them): weights rearranged at load for a kernel level (kernels.h, "repacked layouts").
  Q4_0_R4 = 40,  // Q4_0 blocks, 4 rows interleaved per 4-block step
};

struct DTypeTraits {
  DType type;
  std::string_view name;  // as ggml names it: "Q4_K", "BF16", ...
  uint32_t block_size;    // elements per block (1 for plain types)
  uint32_t block_bytes;   // bytes per block
  bool supported;         // slm has kernels for it (false: recognised, reported as unsupported)
  bool internal = false;  // an slm layout, not a file type
};

// Traits of a type id read from a file; nullopt for ids that no ggml version defines.
std::optional<DTypeTraits> dtype_traits(uint32_t id) noexcept;
// Traits of a known type (never fails).
const DTypeTraits& traits(DType t) noexcept;

inline std::string_view dtype_name(DType t) noexcept { return traits(t).name; }
inline uint32_t block_size(DType t) noexcept { return traits(t).block_size; }
inline uint32_t block_bytes(DType t) noexcept { return traits(t).block_bytes; }

// Bytes of a row of n elements; nullopt when n is not a multiple of the block size.
std::optional<uint64_t> row_bytes(DType t, uint64_t n) noexcept;

// Parses a ggml type name ("q4_k", "Q8_0", "f16"; case-insensitive).
std::optional<DType> dtype_from_name(std::string_view name) noexcept;

constexpr uint32_t QK_K = 256;  // super-block size of the K-quants

}  // namespace slm
