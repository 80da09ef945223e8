// GGUF reader: a memory-mapped, fully validated view of a GGUF v2/v3 file.
//
// Everything the reader returns has been checked against the file: string and array lengths,
// tensor extents, alignment, type ids, dimension products (all size arithmetic overflow-checked).
// Failures throw slm::Error naming the file, the byte offset or key, and what was wrong.
// Strings and tensor data point into the mapping: a GgufFile must outlive what it hands out.
//
// Layout (all little-endian):
//   "GGUF" u32 version, u64 tensor_count, u64 kv_count,
//   kv_count x { string key, u32 value_type, value },
//   tensor_count x { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset },
//   padding to general.alignment, tensor data (each tensor at data_offset + offset).
// A string is u64 length + bytes (no terminator); an array is u32 element type, u64 count, elements
// (elements of an array of arrays are again u32 element type, u64 count, elements).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "formats/mapped_file.h"
#include <vector>

#include "formats/mapped_file.h"
#include "kernels/types.h"

namespace slm::gguf {

inline constexpr uint32_t kDefaultAlignment = 32;  // bytes, when general.alignment is absent
inline constexpr uint32_t kMaxDims = 4;            // ggml's GGML_MAX_DIMS
inline constexpr uint32_t kMaxArrayDepth = 8;      // arrays of arrays, nested at most this deep

// Metadata value types, by their GGUF ids.
enum class ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
// "u8", "i32", "f32", "bool", "string", "array", ...
std::string_view value_type_name(ValueType t) noexcept;
// Bytes of one element of a fixed-size type (0 for STRING and ARRAY).
size_t value_type_size(ValueType t) noexcept;

struct Value;
// An array value: element type plus the decoded elements. Numeric arrays are decoded into
// aligned owned storage (file bytes may be unaligned); strings stay views into the mapping.
struct Array {
  ValueType elem_type = ValueType::UINT8;
  std::variant<std::vector<uint8_t>, std::vector<int8_t>, std::vector<uint16_t>, std::vector<int16_t>,
               std::vector<uint32_t>, std::vector<int32_t>, std::vector<float>, std::vector<bool>,
               std::vector<std::string_view>, std::vector<Value>, std::vector<uint64_t>,
               std::vector<int64_t>, std::vector<double>>
      items;
  size_t size() const noexcept;
};

struct Value {
  ValueType type = ValueType::UINT8;
  std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string_view,
               std::shared_ptr<const Array>, uint64_t, int64_t, double>
      data;

  // The array, or nullptr when this is not an ARRAY value.
  const Array* array() const noexcept;
};

struct KeyValue {
  std::string_view key;
  Value value;
  uint64_t offset = 0;  // byte offset of the key in the file, for error messages
};

struct TensorInfo {
  std::string_view name;
  std::vector<uint64_t> shape;  // ne0 first (ne0 is the contiguous dimension), 1..4 entries, each >= 1
  DType type = DType::F32;
  uint64_t offset = 0;          // relative to the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping; valid for n_bytes

  uint64_t rows() const noexcept;  // product of shape[1..]
  std::span<const uint8_t> bytes() const noexcept { return {data, static_cast<size_t>(n_bytes)}; }
};

// C++ types that get<T> reads: one per scalar ValueType.
template <class T>
concept MetadataScalar =
    std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t> || std::is_same_v<T, uint16_t> ||
    std::is_same_v<T, int16_t> || std::is_same_v<T, uint32_t> || std::is_same_v<T, int32_t> ||
    std::is_same_v<T, uint64_t> || std::is_same_v<T, int64_t> || std::is_same_v<T, float> ||
    std::is_same_v<T, double> || std::is_same_v<T, bool> || std::is_same_v<T, std::string_view>;
// Element types get_array<T> can return a span of. bool is not one of them: bool arrays are held
// as std::vector<bool>, which has no contiguous storage; read them with get_bool_array().
template <class T>
concept MetadataArrayElement = MetadataScalar<T> && !std::is_same_v<T, bool>;

class GgufFile {
 public:
  // Maps and validates the file (MapMode::huge_pages: reads it into huge-page memory, see
  // formats/mapped_file.h). Throws slm::Error(io | format | unsupported).
  static GgufFile open(const std::filesystem::path& path, MapMode mode = MapMode::file);
  // Validates bytes already in memory (tests, fuzzing). The bytes must outlive the GgufFile;
  // `name` stands for the file name in error messages.
  static GgufFile from_memory(std::span<const uint8_t> bytes, std::string name);

  GgufFile(GgufFile&&) noexcept;
  GgufFile& operator=(GgufFile&&) noexcept;
  ~GgufFile();

  const std::string& name() const noexcept;
  uint32_t version() const noexcept;
  uint64_t alignment() const noexcept;    // general.alignment, default 32
  uint64_t data_offset() const noexcept;  // absolute offset of the tensor data section
  uint64_t file_size() const noexcept;
  // The whole file (the mapping, or the bytes given to from_memory).
  std::span<const uint8_t> file_bytes() const noexcept;

  std::span<const KeyValue> metadata() const noexcept;  // in file order
  const Value* find(std::string_view key) const noexcept;
  bool has(std::string_view key) const noexcept { return find(key) != nullptr; }

  // Typed access. T is one of the scalar C++ types matching a ValueType (uint8_t ... double, bool,
  // std::string_view). Conversions:
  //  - integer keys are converted between integer widths and signedness when the value fits
  //    (a u64 holding 4096 reads as uint32_t; a negative i32 read as uint32_t is an error);
  //  - get<float> reads f32, and f64 rounded to the nearest float when it lies within float's range
  //    (hyperparameters such as rope bases and norm epsilons lose nothing that matters);
  //    get<double> reads f64 and f32 (exactly);
  //  - integers never read as floats, nor bools as integers, nor the other way round.
  // Throws slm::Error(format) naming the key (and its actual type) when it is missing, of another
  // type, or out of T's range. get_optional returns nullopt only when the key is missing.
  template <MetadataScalar T> T get(std::string_view key) const;
  template <MetadataScalar T> std::optional<T> get_optional(std::string_view key) const;
  // Arrays: a span over the decoded elements (T matching the element type exactly, e.g. float,
  // int32_t, std::string_view). Throws when missing or of another element type.
  template <MetadataArrayElement T> std::span<const T> get_array(std::string_view key) const;
  // A bool array, copied (std::vector<bool> cannot be viewed as a span).
  std::vector<bool> get_bool_array(std::string_view key) const;

  std::span<const TensorInfo> tensors() const noexcept;  // in file order
  const TensorInfo* find_tensor(std::string_view name) const noexcept;

  // MapMode::huge_pages: the tensor bytes (a private copy) may be rewritten in place between
  // unseal() and seal(); unseal() returns false (write nothing) for a file mapping or from_memory.
  bool unseal() noexcept;
  void seal() noexcept;

 private:
  struct Impl;
  explicit GgufFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace slm::gguf
