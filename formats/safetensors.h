// safetensors reader: a memory-mapped, fully validated view of one .safetensors file.
//
// Layout: u64 little-endian N, N bytes of JSON header, then the data buffer (to the end of file).
// Header: {"__metadata__": {str: str}, "<tensor>": {"dtype": "F32", "shape": [d0, d1, ...],
// "data_offsets": [begin, end]}, ...}, offsets relative to the data buffer.
//
// Validated as the format's reference implementation does, and a little more: N within the file
// and at most kMaxHeaderBytes; well-formed JSON (no repeated keys, bounded nesting); every field
// present with the right type; known dtype; shape entries non-negative integers whose product (and
// byte size) fits in 64 bits; end - begin equal to that byte size; and the tensors, sorted by
// offset, tiling the data buffer exactly (no overlap, no gap, nothing left over).
// Every failure: slm::Error(format, "<file>: header field <tensor>.<field>" or "<file>: offset N",
// what was wrong).
//
// Tensor bytes point into the mapping (a SafetensorsFile must outlive them) and are not aligned for
// their element type in general: the header length decides where the buffer starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kernels/types.h"

namespace slm::safetensors {

inline constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference implementation's cap

// Element types safetensors defines. slm computes with F32, F16 and BF16; the others are read and
// reported as unsupported by name when a caller asks for a tensor's DType.
enum class Dtype : uint8_t {
  BOOL, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64,
  C64, F4, F6_E2M3, F6_E3M2,
};
std::string_view dtype_name(Dtype t) noexcept;            // as the header spells it: "BF16"
uint32_t dtype_bits(Dtype t) noexcept;                    // bits per element (F4: 4)
std::optional<Dtype> dtype_from_name(std::string_view s) noexcept;  // exact, case-sensitive

struct Tensor {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<uint64_t> shape;  // outermost first, as safetensors writes it; [] is a scalar
  uint64_t n_elements = 0;      // product of shape (1 for a scalar)
  uint64_t begin = 0;           // data_offsets, relative to the data buffer
  uint64_t end = 0;
  const uint8_t* data = nullptr;  // into the mapping: data buffer + begin

  uint64_t n_bytes() const noexcept { return end - begin; }
  std::span<const uint8_t> bytes() const noexcept { return {data, static_cast<size_t>(end - begin)}; }
};

class SafetensorsFile {
 public:
  // Maps and validates the file. Throws slm::Error(io | format).
  static SafetensorsFile open(const std::filesystem::path& path);
  // Validates bytes already in memory (tests, fuzzing). The bytes must outlive the result; `name`
  // stands for the file name in error messages.
  static SafetensorsFile from_memory(std::span<const uint8_t> bytes, std::string name);

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  const std::string& name() const noexcept;  // the path as given, or from_memory's name
  uint64_t file_size() const noexcept;
  uint64_t header_size() const noexcept;     // N
  uint64_t data_offset() const noexcept;     // 8 + N: where the data buffer starts in the file
  std::span<const uint8_t> file_bytes() const noexcept;  // the whole file (mapping or from_memory bytes)

  std::span<const Tensor> tensors() const noexcept;  // in header order
  const Tensor* find(std::string_view tensor_name) const noexcept;

  // "__metadata__" as (key, value) pairs in header order; empty when absent.
  std::span<const std::pair<std::string, std::string>> metadata() const noexcept;
  const std::string* find_metadata(std::string_view key) const noexcept;

  // The slm element type of a tensor: F32, F16 or BF16. Any other dtype throws
  // slm::Error(unsupported, "<file>: tensor <name>", "dtype F64 is not supported ...").
  DType element_type(const Tensor& t) const;

 private:
  struct Impl;
  explicit SafetensorsFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace slm::safetensors
