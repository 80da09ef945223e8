#include "formats/safetensors.h"

#include <algorithm>
#include <array>
#include <unordered_map>

#include "formats/mapped_file.h"
#include "formats/untrusted_json.h"
#include "slm/error.h"

namespace slm::safetensors {
namespace {

using Json = nlohmann::ordered_json;

struct DtypeInfo {
  Dtype type;
  std::string_view name;
  uint32_t bits;
};

constexpr std::array kDtypes = {
    DtypeInfo{Dtype::BOOL, "BOOL", 8},       DtypeInfo{Dtype::U8, "U8", 8},
    DtypeInfo{Dtype::I8, "I8", 8},           DtypeInfo{Dtype::F8_E5M2, "F8_E5M2", 8},
    DtypeInfo{Dtype::F8_E4M3, "F8_E4M3", 8}, DtypeInfo{Dtype::F8_E8M0, "F8_E8M0", 8},
    DtypeInfo{Dtype::I16, "I16", 16},        DtypeInfo{Dtype::U16, "U16", 16},
    DtypeInfo{Dtype::F16, "F16", 16},        DtypeInfo{Dtype::BF16, "BF16", 16},
    DtypeInfo{Dtype::I32, "I32", 32},        DtypeInfo{Dtype::U32, "U32", 32},
    DtypeInfo{Dtype::F32, "F32", 32},        DtypeInfo{Dtype::F64, "F64", 64},
    DtypeInfo{Dtype::I64, "I64", 64},        DtypeInfo{Dtype::U64, "U64", 64},
    DtypeInfo{Dtype::C64, "C64", 64},        DtypeInfo{Dtype::F4, "F4", 4},
    DtypeInfo{Dtype::F6_E2M3, "F6_E2M3", 6}, DtypeInfo{Dtype::F6_E3M2, "F6_E3M2", 6},
};

const DtypeInfo& info(Dtype t) noexcept {
  for (const auto& d : kDtypes)
    if (d.type == t) return d;
  return kDtypes[0];  // unreachable for valid enumerators
}

std::string shape_string(const std::vector<uint64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

std::string_view dtype_name(Dtype t) noexcept { return info(t).name; }
uint32_t dtype_bits(Dtype t) noexcept { return info(t).bits; }

std::optional<Dtype> dtype_from_name(std::string_view s) noexcept {
  for (const auto& d : kDtypes)
    if (d.name == s) return d.type;
  return std::nullopt;
}

struct SafetensorsFile::Impl {
  std::string name;
  MappedFile mapping;               // empty for from_memory
  std::span<const uint8_t> bytes;   // the whole file
  uint64_t header_size = 0;
  std::vector<Tensor> tensors;      // header order
  std::unordered_map<std::string_view, size_t> by_name;  // views into tensors[i].name (Impl never moves)
  std::vector<std::pair<std::string, std::string>> metadata;

  std::string field(std::string_view tensor, std::string_view f) const {
    return name + ": header field " + std::string(tensor) + (f.empty() ? "" : ".") + std::string(f);
  }
  std::string at_offset(uint64_t offset) const { return name + ": offset " + std::to_string(offset); }

  void parse();
  void parse_metadata(const Json& m);
  Tensor parse_tensor(const std::string& tensor_name, const Json& entry) const;
  void check_tiling(uint64_t data_size) const;
};

void SafetensorsFile::Impl::parse() {
  const uint64_t size = bytes.size();
  if (size < 8)
    throw Error(ErrorKind::format, at_offset(0),
                "file is " + std::to_string(size) + " bytes, too short for the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[static_cast<size_t>(i)];
  if (n > kMaxHeaderBytes)
    throw Error(ErrorKind::format, at_offset(0),
                "header length " + std::to_string(n) + " exceeds the limit of " + std::to_string(kMaxHeaderBytes) +
                    " bytes");
  if (n > size - 8)
    throw Error(ErrorKind::format, at_offset(0),
                "header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) +
                    " bytes)");
  header_size = n;
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + 8, static_cast<size_t>(n));
  if (text.empty() || text.front() != '{')
    throw Error(ErrorKind::format, at_offset(8), "header is not a JSON object (does not start with '{')");

  // Legitimate headers nest 3 deep (root, tensor entry, shape); 16 leaves room for extra fields.
  const Json root = parse_untrusted_json(text, {.file = name, .base_offset = 8, .field_word = "header field", .max_depth = 16});
  if (!root.is_object()) throw Error(ErrorKind::format, at_offset(8), "header is not a JSON object");

  tensors.reserve(root.size());
  for (const auto& [key, value] : root.items()) {
    if (key == "__metadata__") {
      parse_metadata(value);
      continue;
    }
    tensors.push_back(parse_tensor(key, value));
  }
  const uint64_t data_size = size - 8 - n;
  check_tiling(data_size);

  const uint8_t* buffer = bytes.data() + 8 + n;
  by_name.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    tensors[i].data = buffer + tensors[i].begin;
    by_name.emplace(tensors[i].name, i);  // names are unique: the JSON checker rejects repeated keys
  }
}

void SafetensorsFile::Impl::parse_metadata(const Json& m) {
  if (!m.is_object())
    throw Error(ErrorKind::format, field("__metadata__", ""),
                "expected an object of string values, got " + std::string(json_type_name(m)));
  for (const auto& [k, v] : m.items()) {
    if (!v.is_string())
      throw Error(ErrorKind::format, field("__metadata__", k),
                  "expected a string, got " + std::string(json_type_name(v)));
    metadata.emplace_back(k, v.get<std::string>());
  }
}

Tensor SafetensorsFile::Impl::parse_tensor(const std::string& tname, const Json& e) const {
  if (!e.is_object())
    throw Error(ErrorKind::format, field(tname, ""),
                "expected an object with dtype, shape and data_offsets, got " + std::string(json_type_name(e)));
  for (const char* required : {"dtype", "shape", "data_offsets"})
    if (!e.contains(required)) throw Error(ErrorKind::format, field(tname, required), "missing");

  Tensor t;
  t.name = tname;

  const Json& dt = e.at("dtype");
  if (!dt.is_string())
    throw Error(ErrorKind::format, field(tname, "dtype"), "expected a string, got " + std::string(json_type_name(dt)));
  const auto dtype = dtype_from_name(dt.get_ref<const std::string&>());
  if (!dtype)
    throw Error(ErrorKind::format, field(tname, "dtype"), "unknown dtype \"" + dt.get<std::string>() + "\"");
  t.dtype = *dtype;

  const Json& sh = e.at("shape");
  if (!sh.is_array())
    throw Error(ErrorKind::format, field(tname, "shape"),
                "expected an array of non-negative integers, got " + std::string(json_type_name(sh)));
  t.n_elements = 1;
  bool overflow = false;
  for (size_t i = 0; i < sh.size(); ++i) {
    const Json& d = sh[i];
    if (!d.is_number_unsigned())  // nlohmann stores non-negative integers as unsigned
      throw Error(ErrorKind::format, field(tname, "shape[" + std::to_string(i) + "]"),
                  "expected a non-negative integer, got " + (d.is_number() ? d.dump() : std::string(json_type_name(d))));
    const uint64_t v = d.get<uint64_t>();
    t.shape.push_back(v);
    if (v != 0 && t.n_elements > UINT64_MAX / v) overflow = true;
    else t.n_elements *= v;
  }
  // A zero dimension makes the product 0 whatever the others are; only overflow of a nonzero product counts.
  if (overflow && std::find(t.shape.begin(), t.shape.end(), 0) == t.shape.end())
    throw Error(ErrorKind::format, field(tname, "shape"),
                "element count of shape " + shape_string(t.shape) + " overflows 64 bits");
  if (overflow) t.n_elements = 0;

  const Json& off = e.at("data_offsets");
  if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
    throw Error(ErrorKind::format, field(tname, "data_offsets"),
                "expected [begin, end], two non-negative integers, got " + off.dump());
  t.begin = off[0].get<uint64_t>();
  t.end = off[1].get<uint64_t>();
  if (t.begin > t.end)
    throw Error(ErrorKind::format, field(tname, "data_offsets"),
                "begin " + std::to_string(t.begin) + " is after end " + std::to_string(t.end));

  const uint32_t bits = dtype_bits(t.dtype);
  if (t.n_elements > UINT64_MAX / bits)
    throw Error(ErrorKind::format, field(tname, "shape"),
                "byte size of shape " + shape_string(t.shape) + " of " + std::string(dtype_name(t.dtype)) +
                    " overflows 64 bits");
  const uint64_t total_bits = t.n_elements * bits;
  if (total_bits % 8 != 0)
    throw Error(ErrorKind::format, field(tname, "shape"),
                std::to_string(t.n_elements) + " elements of " + std::to_string(bits) + "-bit " +
                    std::string(dtype_name(t.dtype)) + " do not fill whole bytes");
  if (t.end - t.begin != total_bits / 8)
    throw Error(ErrorKind::format, field(tname, "data_offsets"),
                "spans " + std::to_string(t.end - t.begin) + " bytes but " + std::string(dtype_name(t.dtype)) + " " +
                    shape_string(t.shape) + " needs " + std::to_string(total_bits / 8));
  const uint64_t data_size = bytes.size() - 8 - header_size;
  if (t.end > data_size)
    throw Error(ErrorKind::format, field(tname, "data_offsets"),
                "end " + std::to_string(t.end) + " is past the end of the data buffer (" + std::to_string(data_size) +
                    " bytes)");
  return t;
}

// The format's rule: sorted by offset, tensors cover [0, data_size) exactly once.
void SafetensorsFile::Impl::check_tiling(uint64_t data_size) const {
  std::vector<const Tensor*> order;
  order.reserve(tensors.size());
  for (const Tensor& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const Tensor* a, const Tensor* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t covered = 0;  // end of the tiled prefix
  const Tensor* prev = nullptr;
  for (const Tensor* t : order) {
    if (t->begin < covered)
      throw Error(ErrorKind::format, field(t->name, "data_offsets"),
                  "[" + std::to_string(t->begin) + ", " + std::to_string(t->end) + ") overlaps tensor " + prev->name +
                      " [" + std::to_string(prev->begin) + ", " + std::to_string(prev->end) + ")");
    if (t->begin > covered)
      throw Error(ErrorKind::format, field(t->name, "data_offsets"),
                  "starts at " + std::to_string(t->begin) + ", leaving a gap of " +
                      std::to_string(t->begin - covered) + " bytes " +
                      (prev ? "after tensor " + prev->name : std::string("at the start of the data buffer")));
    covered = t->end;
    prev = t;
  }
  if (covered != data_size)
    throw Error(ErrorKind::format, at_offset(8 + header_size + covered),
                std::to_string(data_size - covered) + " bytes at the end of the data buffer belong to no tensor");
}

SafetensorsFile::SafetensorsFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;
SafetensorsFile::~SafetensorsFile() = default;

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  auto impl = std::make_unique<Impl>();
  impl->name = path.string();
  impl->mapping = MappedFile::open(path);
  impl->bytes = impl->mapping.bytes();
  impl->parse();
  return SafetensorsFile(std::move(impl));
}

SafetensorsFile SafetensorsFile::from_memory(std::span<const uint8_t> bytes, std::string name) {
  auto impl = std::make_unique<Impl>();
  impl->name = std::move(name);
  impl->bytes = bytes;
  impl->parse();
  return SafetensorsFile(std::move(impl));
}

const std::string& SafetensorsFile::name() const noexcept { return impl_->name; }
uint64_t SafetensorsFile::file_size() const noexcept { return impl_->bytes.size(); }
uint64_t SafetensorsFile::header_size() const noexcept { return impl_->header_size; }
uint64_t SafetensorsFile::data_offset() const noexcept { return 8 + impl_->header_size; }
std::span<const uint8_t> SafetensorsFile::file_bytes() const noexcept { return impl_->bytes; }
std::span<const Tensor> SafetensorsFile::tensors() const noexcept { return impl_->tensors; }

const Tensor* SafetensorsFile::find(std::string_view tensor_name) const noexcept {
  const auto it = impl_->by_name.find(tensor_name);
  return it == impl_->by_name.end() ? nullptr : &impl_->tensors[it->second];
}

std::span<const std::pair<std::string, std::string>> SafetensorsFile::metadata() const noexcept {
  return impl_->metadata;
}

const std::string* SafetensorsFile::find_metadata(std::string_view key) const noexcept {
  for (const auto& [k, v] : impl_->metadata)
    if (k == key) return &v;
  return nullptr;
}

DType SafetensorsFile::element_type(const Tensor& t) const {
  switch (t.dtype) {
    case Dtype::F32: return DType::F32;
    case Dtype::F16: return DType::F16;
    case Dtype::BF16: return DType::BF16;
    default:
      throw Error(ErrorKind::unsupported, impl_->name + ": tensor " + t.name,
                  "dtype " + std::string(dtype_name(t.dtype)) + " is not supported (slm reads F32, F16 and BF16)");
  }
}

}  // namespace slm::safetensors
