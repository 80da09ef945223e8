// GGUF reader: a memory-mapped, fully validated view of a GGUF v2/v3 file.
//
// Everything the reader returns has been checked against the file: string and array lengths,
// tensor extents, alignment, type ids, dimension products (all size arithmetic overflow-checked).
// Failures throw slm::Error naming the file, the byte offset or key, and what was wrong.
// Strings and tensor data point into the mapping: a GgufFile must outlive what it hands out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "formats/mapped_file.h"
#include "kernels/types.h"

namespace slm::gguf {

// Metadata value types, by their GGUF ids.
enum class ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6,
  BOOL = 7, STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
std::string_view value_type_name(ValueType t) noexcept;

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
};

struct KeyValue {
  std::string_view key;
  Value value;
  uint64_t offset = 0;  // byte offset of the key in the file, for error messages
};

struct TensorInfo {
  std::string_view name;
  std::vector<uint64_t> shape;  // ne0 first (ne0 is the contiguous dimension)
  DType type = DType::F32;
  uint64_t offset = 0;          // relative to the start of the data section
  uint64_t n_elements = 0;
  uint64_t n_bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping; valid for n_bytes

  uint64_t rows() const noexcept;  // product of shape[1..]
  std::span<const uint8_t> bytes() const noexcept { return {data, static_cast<size_t>(n_bytes)}; }
};

class GgufFile {
 public:
  // Maps and validates the file. Throws slm::Error(io | format | unsupported).
  static GgufFile open(const std::filesystem::path& path);
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

  std::span<const KeyValue> metadata() const noexcept;  // in file order
  const Value* find(std::string_view key) const noexcept;
  bool has(std::string_view key) const noexcept { return find(key) != nullptr; }

  // Typed access. T is one of the scalar C++ types matching a ValueType (uint8_t ... double, bool,
  // std::string_view); integer keys are converted between integer widths when the value fits.
  // Throws slm::Error(format) naming the key when it is missing or of another type.
  template <class T> T get(std::string_view key) const;
  template <class T> std::optional<T> get_optional(std::string_view key) const;
  // Arrays: a span over the decoded elements (T matching the element type exactly, e.g. float,
  // int32_t, std::string_view). Throws when missing or of another element type.
  template <class T> std::span<const T> get_array(std::string_view key) const;

  std::span<const TensorInfo> tensors() const noexcept;  // in file order
  const TensorInfo* find_tensor(std::string_view name) const noexcept;

 private:
  struct Impl;
  explicit GgufFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace slm::gguf
