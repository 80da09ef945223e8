// GGUF writer: encodes metadata and the tensor table exactly as the reader (formats/gguf.cpp)
// parses them, and lays tensor data out at aligned offsets.
#include "formats/gguf_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <system_error>

#include "formats/gguf_types.h"
#include "slm/error.h"

namespace slm::gguf {

static_assert(std::endian::native == std::endian::little,
              "the GGUF writer stores fields in host order: add byte swapping for this host");

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" as a little-endian u32
constexpr uint32_t kVersion = 3;

// Appends raw bytes. (resize + memcpy rather than insert: GCC 12 reports a false
// -Wstringop-overflow for small range inserts into vectors.)
void put_bytes(std::vector<uint8_t>& out, const void* src, size_t n) {
  if (n == 0) return;
  const size_t at = out.size();
  out.resize(at + n);
  std::memcpy(out.data() + at, src, n);
}

template <class T>
void put(std::vector<uint8_t>& out, T v) {
  put_bytes(out, &v, sizeof(T));
}

void put_string(std::vector<uint8_t>& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  put_bytes(out, s.data(), s.size());
}

void put_array_head(std::vector<uint8_t>& out, ValueType elem, uint64_t count) {
  put<uint32_t>(out, static_cast<uint32_t>(elem));
  put<uint64_t>(out, count);
}

uint64_t align_up(uint64_t n, uint64_t alignment) { return (n + alignment - 1) / alignment * alignment; }

[[noreturn]] void bad_tensor(std::string_view name, std::string detail) {
  throw Error(ErrorKind::invalid_argument, fmt::format("gguf writer: tensor {}", name), std::move(detail));
}

// Writes into a growing byte vector.
struct MemorySink {
  std::vector<uint8_t>& out;
  void write(std::span<const uint8_t> bytes) { put_bytes(out, bytes.data(), bytes.size()); }
  void zeros(uint64_t n) { out.insert(out.end(), static_cast<size_t>(n), uint8_t{0}); }
};

// Writes to a file, turning stream failures into slm::Error(io).
struct FileSink {
  std::ofstream& out;
  const std::filesystem::path& path;
  void check() const {
    if (!out)
      throw Error(ErrorKind::io, path.string(), fmt::format("write failed: {}", std::strerror(errno)));
  }
  void write(std::span<const uint8_t> bytes) {
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    check();
  }
  void zeros(uint64_t n) {
    static constexpr char kZeros[64] = {};
    while (n > 0) {
      const auto chunk = static_cast<std::streamsize>(std::min<uint64_t>(n, sizeof(kZeros)));
      out.write(kZeros, chunk);
      n -= static_cast<uint64_t>(chunk);
    }
    check();
  }
};

}  // namespace

// ---- values ------------------------------------------------------------------------------------

#define SLM_GGUF_SCALAR_MAKER(fn, T, TYPE)       \
  EncodedValue EncodedValue::fn(T v) {           \
    std::vector<uint8_t> p;                      \
    put<T>(p, v);                                \
    return EncodedValue(ValueType::TYPE, std::move(p)); \
  }
SLM_GGUF_SCALAR_MAKER(u8, uint8_t, UINT8)
SLM_GGUF_SCALAR_MAKER(i8, int8_t, INT8)
SLM_GGUF_SCALAR_MAKER(u16, uint16_t, UINT16)
SLM_GGUF_SCALAR_MAKER(i16, int16_t, INT16)
SLM_GGUF_SCALAR_MAKER(u32, uint32_t, UINT32)
SLM_GGUF_SCALAR_MAKER(i32, int32_t, INT32)
SLM_GGUF_SCALAR_MAKER(u64, uint64_t, UINT64)
SLM_GGUF_SCALAR_MAKER(i64, int64_t, INT64)
SLM_GGUF_SCALAR_MAKER(f32, float, FLOAT32)
SLM_GGUF_SCALAR_MAKER(f64, double, FLOAT64)
#undef SLM_GGUF_SCALAR_MAKER

EncodedValue EncodedValue::boolean(bool v) {
  return EncodedValue(ValueType::BOOL, {static_cast<uint8_t>(v ? 1 : 0)});
}

EncodedValue EncodedValue::string(std::string_view v) {
  std::vector<uint8_t> p;
  put_string(p, v);
  return EncodedValue(ValueType::STRING, std::move(p));
}

template <MetadataArrayElement T>
EncodedValue EncodedValue::array(std::span<const T> items) {
  std::vector<uint8_t> p;
  constexpr ValueType elem = value_type_of<T>();
  if constexpr (std::is_same_v<T, std::string_view>) {
    size_t bytes = 12;
    for (std::string_view s : items) bytes += 8 + s.size();
    p.reserve(bytes);
    put_array_head(p, elem, items.size());
    for (std::string_view s : items) put_string(p, s);
  } else {
    p.reserve(12 + items.size_bytes());
    put_array_head(p, elem, items.size());
    put_bytes(p, items.data(), items.size_bytes());
  }
  return EncodedValue(ValueType::ARRAY, std::move(p));
}

EncodedValue EncodedValue::string_array(std::span<const std::string> items) {
  std::vector<std::string_view> views(items.begin(), items.end());
  return array<std::string_view>(views);
}

EncodedValue EncodedValue::bool_array(std::span<const bool> items) {
  std::vector<uint8_t> p;
  p.reserve(12 + items.size());
  put_array_head(p, ValueType::BOOL, items.size());
  for (bool b : items) p.push_back(b ? 1 : 0);
  return EncodedValue(ValueType::ARRAY, std::move(p));
}

EncodedValue EncodedValue::array_of_arrays(std::span<const EncodedValue> arrays) {
  std::vector<uint8_t> p;
  put_array_head(p, ValueType::ARRAY, arrays.size());
  for (size_t i = 0; i < arrays.size(); ++i) {
    if (arrays[i].type() != ValueType::ARRAY)
      throw Error(
          ErrorKind::invalid_argument, "gguf writer",
          fmt::format("element {} of an array of arrays is a {}", i, value_type_name(arrays[i].type())));
    // An element of an array of arrays is written without its own type id: element type, count, items.
    const auto inner = arrays[i].payload();
    put_bytes(p, inner.data(), inner.size());
  }
  return EncodedValue(ValueType::ARRAY, std::move(p));
}

#define SLM_GGUF_INSTANTIATE_ARRAY(T) template EncodedValue EncodedValue::array<T>(std::span<const T>);
SLM_GGUF_FOR_EACH_ARRAY_ELEMENT(SLM_GGUF_INSTANTIATE_ARRAY)
#undef SLM_GGUF_INSTANTIATE_ARRAY

// ---- the writer --------------------------------------------------------------------------------

void GgufWriter::set(std::string_view key, EncodedValue value) {
  for (Entry& e : metadata_) {
    if (e.key == key) {
      e.value = std::move(value);
      return;
    }
  }
  metadata_.push_back(Entry{std::string(key), std::move(value)});
}

void GgufWriter::set_alignment(uint32_t alignment) {
  if (alignment == 0 || !std::has_single_bit(alignment))
    throw Error(ErrorKind::invalid_argument, "gguf writer: general.alignment",
                fmt::format("alignment {} is not a non-zero power of two", alignment));
  set_u32("general.alignment", alignment);
}

uint32_t GgufWriter::alignment() const {
  for (const Entry& e : metadata_) {
    if (e.key != "general.alignment") continue;
    if (e.value.type() != ValueType::UINT32)
      throw Error(ErrorKind::invalid_argument, "gguf writer: general.alignment",
                  fmt::format("must be a u32, not a {}", value_type_name(e.value.type())));
    uint32_t a;
    std::memcpy(&a, e.value.payload().data(), sizeof a);
    if (a == 0 || !std::has_single_bit(a))
      throw Error(ErrorKind::invalid_argument, "gguf writer: general.alignment",
                  fmt::format("alignment {} is not a non-zero power of two", a));
    return a;
  }
  return kDefaultAlignment;
}

GgufWriter::Tensor& GgufWriter::add_tensor_entry(std::string_view name, DType type,
                                                 std::vector<uint64_t> shape, std::span<const uint8_t> data) {
  if (tensor_names_.count(std::string(name)) != 0) bad_tensor(name, "added twice");
  if (shape.empty() || shape.size() > kMaxDims)
    bad_tensor(name, fmt::format("{} dimensions; GGUF holds 1..{}", shape.size(), kMaxDims));
  uint64_t rows = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) bad_tensor(name, fmt::format("dimension {} is 0", d));
    if (d > 0) {
      if (shape[d] > std::numeric_limits<uint64_t>::max() / rows) bad_tensor(name, "element count overflows");
      rows *= shape[d];
    }
  }
  const auto row = row_bytes(type, shape[0]);
  if (!row)
    bad_tensor(name, fmt::format("row of {} elements is not a multiple of the {} block size {}", shape[0],
                                 dtype_name(type), block_size(type)));
  if (rows > std::numeric_limits<uint64_t>::max() / *row) bad_tensor(name, "byte size overflows");
  if (data.size() != *row * rows)
    bad_tensor(name, fmt::format("{} bytes given, the shape and type need {}", data.size(), *row * rows));
  tensors_.push_back(Tensor{std::string(name), type, std::move(shape), {}, data});
  tensor_names_.insert(tensors_.back().name);
  return tensors_.back();
}

void GgufWriter::add_tensor(std::string_view name, DType type, std::vector<uint64_t> shape,
                            std::span<const uint8_t> data) {
  Tensor& t = add_tensor_entry(name, type, std::move(shape), data);
  t.owned.assign(data.begin(), data.end());
  t.data = t.owned;  // a moved vector keeps its buffer, so this view survives growth of tensors_
}

void GgufWriter::add_tensor_view(std::string_view name, DType type, std::vector<uint64_t> shape,
                                 std::span<const uint8_t> data) {
  add_tensor_entry(name, type, std::move(shape), data);
}

std::vector<uint8_t> GgufWriter::encode_header() const {
  const uint64_t align = alignment();
  std::vector<uint8_t> h;
  put<uint32_t>(h, kMagic);
  put<uint32_t>(h, kVersion);
  put<uint64_t>(h, tensors_.size());
  put<uint64_t>(h, metadata_.size());
  for (const Entry& e : metadata_) {
    put_string(h, e.key);
    put<uint32_t>(h, static_cast<uint32_t>(e.value.type()));
    const auto p = e.value.payload();
    put_bytes(h, p.data(), p.size());
  }
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    put_string(h, t.name);
    put<uint32_t>(h, static_cast<uint32_t>(t.shape.size()));
    for (uint64_t ne : t.shape) put<uint64_t>(h, ne);
    put<uint32_t>(h, static_cast<uint32_t>(t.type));
    put<uint64_t>(h, offset);
    offset = align_up(offset + t.data.size(), align);
  }
  h.resize(static_cast<size_t>(align_up(h.size(), align)), 0);
  return h;
}

template <class Sink>
void GgufWriter::write_to(Sink& sink) const {
  const uint64_t align = alignment();
  sink.write(encode_header());
  for (const Tensor& t : tensors_) {
    sink.write(t.data);
    sink.zeros(align_up(t.data.size(), align) - t.data.size());
  }
}

std::vector<uint8_t> GgufWriter::write_memory() const {
  std::vector<uint8_t> out;
  MemorySink sink{out};
  write_to(sink);
  return out;
}

void GgufWriter::write_file(const std::filesystem::path& path) const {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw Error(ErrorKind::io, tmp.string(), fmt::format("cannot create: {}", std::strerror(errno)));
    FileSink sink{out, tmp};
    try {
      write_to(sink);
      out.close();
      sink.check();
    } catch (...) {
      out.close();
      std::error_code ignored;
      std::filesystem::remove(tmp, ignored);
      throw;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw Error(ErrorKind::io, path.string(),
                fmt::format("cannot rename {} into place: {}", tmp.string(), ec.message()));
  }
}

}  // namespace slm::gguf
