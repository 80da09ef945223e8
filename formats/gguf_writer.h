// GGUF writer: builds a GGUF v3 file (metadata of every type, tensors) that GgufFile reads back
// exactly. Used by tests, the quantize tool and tiny-model generators.
//
//   GgufWriter w;
//   w.set_string("general.architecture", "llama");
//   w.set_u32("llama.block_count", 4);
//   w.set_array_f32("tokenizer.ggml.scores", scores);
//   w.add_tensor("blk.0.attn_q.weight", DType::Q8_0, {256, 256}, bytes);
//   w.write_file("model.gguf");
//
// Tensors are laid out in the order they were added, each at an offset aligned to the alignment
// (general.alignment, 32 unless set_alignment() changed it) and padded with zeros to the next one.
// Caller mistakes (a bad shape, bytes that do not match the geometry, a duplicate tensor name)
// throw slm::Error(invalid_argument) at the call that made them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "formats/gguf.h"
#include "kernels/types.h"

namespace slm::gguf {

// One metadata value, already encoded as GGUF stores it. Built by the named makers; arrays of
// arrays (which GGUF allows, each inner array with its own element type) by array_of_arrays.
class EncodedValue {
 public:
  static EncodedValue u8(uint8_t v);
  static EncodedValue i8(int8_t v);
  static EncodedValue u16(uint16_t v);
  static EncodedValue i16(int16_t v);
  static EncodedValue u32(uint32_t v);
  static EncodedValue i32(int32_t v);
  static EncodedValue u64(uint64_t v);
  static EncodedValue i64(int64_t v);
  static EncodedValue f32(float v);
  static EncodedValue f64(double v);
  static EncodedValue boolean(bool v);
  static EncodedValue string(std::string_view v);

  // Arrays of numbers or strings; T is one of uint8_t ... double, std::string_view.
  template <MetadataArrayElement T>
  static EncodedValue array(std::span<const T> items);
  static EncodedValue string_array(std::span<const std::string> items);
  static EncodedValue bool_array(std::span<const bool> items);
  // An array whose elements are arrays (each made by the array makers above or by this one).
  // Throws slm::Error(invalid_argument) when an element is not an array.
  static EncodedValue array_of_arrays(std::span<const EncodedValue> arrays);

  ValueType type() const noexcept { return type_; }
  // The bytes GGUF writes after the value's type id (for an array: element type, count, elements).
  std::span<const uint8_t> payload() const noexcept { return payload_; }

 private:
  EncodedValue(ValueType type, std::vector<uint8_t> payload) : type_(type), payload_(std::move(payload)) {}
  ValueType type_;
  std::vector<uint8_t> payload_;
};

class GgufWriter {
 public:
  // Sets a key; a key that is already set keeps its position and takes the new value.
  void set(std::string_view key, EncodedValue value);
  void set_u8(std::string_view key, uint8_t v) { set(key, EncodedValue::u8(v)); }
  void set_i8(std::string_view key, int8_t v) { set(key, EncodedValue::i8(v)); }
  void set_u16(std::string_view key, uint16_t v) { set(key, EncodedValue::u16(v)); }
  void set_i16(std::string_view key, int16_t v) { set(key, EncodedValue::i16(v)); }
  void set_u32(std::string_view key, uint32_t v) { set(key, EncodedValue::u32(v)); }
  void set_i32(std::string_view key, int32_t v) { set(key, EncodedValue::i32(v)); }
  void set_u64(std::string_view key, uint64_t v) { set(key, EncodedValue::u64(v)); }
  void set_i64(std::string_view key, int64_t v) { set(key, EncodedValue::i64(v)); }
  void set_f32(std::string_view key, float v) { set(key, EncodedValue::f32(v)); }
  void set_f64(std::string_view key, double v) { set(key, EncodedValue::f64(v)); }
  void set_bool(std::string_view key, bool v) { set(key, EncodedValue::boolean(v)); }
  void set_string(std::string_view key, std::string_view v) { set(key, EncodedValue::string(v)); }

  void set_array_u8(std::string_view key, std::span<const uint8_t> v) { set(key, EncodedValue::array(v)); }
  void set_array_i8(std::string_view key, std::span<const int8_t> v) { set(key, EncodedValue::array(v)); }
  void set_array_u16(std::string_view key, std::span<const uint16_t> v) { set(key, EncodedValue::array(v)); }
  void set_array_i16(std::string_view key, std::span<const int16_t> v) { set(key, EncodedValue::array(v)); }
  void set_array_u32(std::string_view key, std::span<const uint32_t> v) { set(key, EncodedValue::array(v)); }
  void set_array_i32(std::string_view key, std::span<const int32_t> v) { set(key, EncodedValue::array(v)); }
  void set_array_u64(std::string_view key, std::span<const uint64_t> v) { set(key, EncodedValue::array(v)); }
  void set_array_i64(std::string_view key, std::span<const int64_t> v) { set(key, EncodedValue::array(v)); }
  void set_array_f32(std::string_view key, std::span<const float> v) { set(key, EncodedValue::array(v)); }
  void set_array_f64(std::string_view key, std::span<const double> v) { set(key, EncodedValue::array(v)); }
  void set_array_bool(std::string_view key, std::span<const bool> v) {
    set(key, EncodedValue::bool_array(v));
  }
  void set_array_string(std::string_view key, std::span<const std::string> v) {
    set(key, EncodedValue::string_array(v));
  }
  void set_array_string(std::string_view key, std::span<const std::string_view> v) {
    set(key, EncodedValue::array(v));
  }

  // Sets general.alignment (a non-zero power of two, bytes). Throws slm::Error(invalid_argument).
  void set_alignment(uint32_t alignment);
  // The alignment write_* will use: general.alignment when set, else 32.
  uint32_t alignment() const;

  // Adds a tensor; shape is ne0 first (1..4 dimensions, each >= 1) and `data` must hold exactly the
  // bytes that shape and type need. add_tensor copies the bytes; add_tensor_view keeps a view, and
  // the bytes must stay alive and unchanged until the last write_* call.
  void add_tensor(std::string_view name, DType type, std::vector<uint64_t> shape,
                  std::span<const uint8_t> data);
  void add_tensor_view(std::string_view name, DType type, std::vector<uint64_t> shape,
                       std::span<const uint8_t> data);

  size_t metadata_count() const noexcept { return metadata_.size(); }
  size_t tensor_count() const noexcept { return tensors_.size(); }

  std::vector<uint8_t> write_memory() const;
  // Writes to `path` through a temporary file beside it, renamed into place when complete, so a
  // failed write never leaves a truncated model. Throws slm::Error(io).
  void write_file(const std::filesystem::path& path) const;

 private:
  struct Entry {
    std::string key;
    EncodedValue value;
  };
  struct Tensor {
    std::string name;
    DType type;
    std::vector<uint64_t> shape;
    std::vector<uint8_t> owned;  // empty for views
    std::span<const uint8_t> data;
  };
  Tensor& add_tensor_entry(std::string_view name, DType type, std::vector<uint64_t> shape,
                           std::span<const uint8_t> data);
  // The header up to and including the padding before the data section.
  std::vector<uint8_t> encode_header() const;
  template <class Sink>
  void write_to(Sink& sink) const;

  std::vector<Entry> metadata_;
  std::vector<Tensor> tensors_;
  std::unordered_set<std::string> tensor_names_;  // for the duplicate check
};

}  // namespace slm::gguf
