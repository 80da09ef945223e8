// GGUF reader: parses and validates the header, metadata and tensor table of a GGUF v2/v3 file.
//
// The file is untrusted: every count and length is checked against the bytes that are left before
// anything is allocated for it, and all offset arithmetic is overflow-checked, so a hostile header
// fails fast with an slm::Error instead of allocating, reading out of bounds or wrapping around.
#include "formats/gguf.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <utility>

#include "formats/gguf_types.h"
#include "slm/error.h"

namespace slm::gguf {

static_assert(std::endian::native == std::endian::little,
              "the GGUF reader copies little-endian fields as they are: add byte swapping for this host");

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t kMinVersion = 2;
constexpr uint32_t kMaxVersion = 3;
// Smallest encodings, used to bound counts by the bytes left before allocating for them.
constexpr uint64_t kMinKeyValueBytes = 8 + 4 + 1;         // empty key, type id, a u8/i8/bool value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // empty name, n_dims, one dim, type, offset
constexpr uint64_t kMinArrayElementBytes = 4 + 8;         // an element of an array of arrays
constexpr size_t kMessageStringLimit = 80;                // bytes of a file string quoted in a message

// Quotes a string from the file for an error message: control and non-ASCII bytes escaped, long
// strings cut, so a hostile key cannot garble a terminal or flood a log.
std::string printable(std::string_view s) {
  std::string out;
  const size_t n = std::min(s.size(), kMessageStringLimit);
  out.reserve(n + 8);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (s.size() > n) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

bool is_valid_value_type(uint32_t id) { return id <= static_cast<uint32_t>(ValueType::FLOAT64); }

// A bounds-checked cursor over the file bytes. The context names the key or tensor being parsed, so
// errors say "offset 1234 (key general.name)"; it is formatted only when an error is thrown, so
// reading a 150k-string vocabulary allocates nothing per string.
class Reader {
 public:
  Reader(std::span<const uint8_t> bytes, const std::string& file) : bytes_(bytes), file_(file) {}

  uint64_t pos() const noexcept { return pos_; }
  uint64_t remaining() const noexcept { return bytes_.size() - pos_; }
  const uint8_t* here() const noexcept { return bytes_.data() + pos_; }
  // "metadata entry 3", before its key is known
  void set_context(std::string_view kind, uint64_t index) { context_ = Context{kind, {}, index, false}; }
  // "key general.name", "tensor blk.0.attn_q.weight"
  void set_context(std::string_view kind, std::string_view name) { context_ = Context{kind, name, 0, true}; }
  void clear_context() { context_ = Context{}; }

  [[noreturn]] void fail(uint64_t at, std::string detail, ErrorKind kind = ErrorKind::format) const {
    std::string where = fmt::format("{}: offset {}", file_, at);
    if (!context_.kind.empty()) {
      if (context_.named) where += fmt::format(" ({} {})", context_.kind, printable(context_.name));
      else where += fmt::format(" ({} {})", context_.kind, context_.index);
    }
    throw Error(kind, std::move(where), std::move(detail));
  }

  void need(uint64_t n, std::string_view what) const {
    if (remaining() < n)
      fail(pos_, fmt::format("file ends inside {}: {} bytes needed, {} left", what, n, remaining()));
  }

  template <class T>
  T read(std::string_view what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, here(), sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  void copy_out(void* dst, uint64_t n) {
    if (n == 0) return;
    need(n, "array data");
    std::memcpy(dst, here(), static_cast<size_t>(n));
    pos_ += n;
  }

  std::string_view read_string(std::string_view what) {
    const uint64_t at = pos_;
    if (remaining() < sizeof(uint64_t))
      fail(pos_,
           fmt::format("file ends inside the length of {}: 8 bytes needed, {} left", what, remaining()));
    uint64_t len;
    std::memcpy(&len, here(), sizeof len);
    pos_ += sizeof len;
    if (len > remaining())
      fail(at, fmt::format("{} length {} exceeds the {} bytes left in the file", what, len, remaining()));
    std::string_view s(reinterpret_cast<const char*>(here()), static_cast<size_t>(len));
    pos_ += len;
    return s;
  }

  ValueType read_value_type(std::string_view what) {
    const uint64_t at = pos_;
    const auto id = read<uint32_t>(what);
    if (!is_valid_value_type(id)) fail(at, fmt::format("unknown value type id {} ({})", id, what));
    return static_cast<ValueType>(id);
  }

 private:
  std::span<const uint8_t> bytes_;
  const std::string& file_;
  uint64_t pos_ = 0;
  struct Context {
    std::string_view kind;  // empty: no context
    std::string_view name;
    uint64_t index = 0;
    bool named = false;
  } context_;
};

template <class T>
Value make_value(ValueType type, T v) {
  Value out;
  out.type = type;
  out.data.emplace<T>(v);
  return out;
}

bool read_bool(Reader& r) {
  const uint64_t at = r.pos();
  const auto b = r.read<uint8_t>("a bool value");
  if (b > 1) r.fail(at, fmt::format("bool value is {}, not 0 or 1", b));
  return b == 1;
}

template <class T>
void decode_fixed_array(Reader& r, uint64_t count, Array& out) {
  // count * sizeof(T) cannot overflow: the caller bounded count by the bytes left.
  std::vector<T> items(static_cast<size_t>(count));
  r.copy_out(items.data(), count * sizeof(T));
  out.items = std::move(items);
}

std::shared_ptr<const Array> parse_array(Reader& r, uint32_t depth);

Value parse_value(Reader& r, ValueType type, uint32_t depth) {
  switch (type) {
    case ValueType::UINT8: return make_value(type, r.read<uint8_t>("a u8 value"));
    case ValueType::INT8: return make_value(type, r.read<int8_t>("an i8 value"));
    case ValueType::UINT16: return make_value(type, r.read<uint16_t>("a u16 value"));
    case ValueType::INT16: return make_value(type, r.read<int16_t>("an i16 value"));
    case ValueType::UINT32: return make_value(type, r.read<uint32_t>("a u32 value"));
    case ValueType::INT32: return make_value(type, r.read<int32_t>("an i32 value"));
    case ValueType::FLOAT32: return make_value(type, r.read<float>("an f32 value"));
    case ValueType::BOOL: return make_value(type, read_bool(r));
    case ValueType::STRING: return make_value(type, r.read_string("a string value"));
    case ValueType::ARRAY: return make_value(type, parse_array(r, depth + 1));
    case ValueType::UINT64: return make_value(type, r.read<uint64_t>("a u64 value"));
    case ValueType::INT64: return make_value(type, r.read<int64_t>("an i64 value"));
    case ValueType::FLOAT64: return make_value(type, r.read<double>("an f64 value"));
  }
  r.fail(r.pos(), "internal: unhandled value type", ErrorKind::internal);
}

// Smallest encoding of one array element: bounds an array length by the bytes left.
uint64_t min_element_bytes(ValueType elem) {
  if (elem == ValueType::STRING) return 8;  // the length of an empty string
  if (elem == ValueType::ARRAY) return kMinArrayElementBytes;
  return value_type_size(elem);
}

// depth: 1 for an array that is a key's value, 2 for an element of it, ...
std::shared_ptr<const Array> parse_array(Reader& r, uint32_t depth) {
  const uint64_t at = r.pos();
  if (depth > kMaxArrayDepth) r.fail(at, fmt::format("arrays nested deeper than {} levels", kMaxArrayDepth));
  auto array = std::make_shared<Array>();
  array->elem_type = r.read_value_type("the element type of an array");
  const uint64_t count_at = r.pos();
  const auto count = r.read<uint64_t>("an array length");

  if (count > r.remaining() / min_element_bytes(array->elem_type))
    r.fail(count_at, fmt::format("array length {} of {} elements cannot fit in the {} bytes left", count,
                                 value_type_name(array->elem_type), r.remaining()));

  switch (array->elem_type) {
    case ValueType::UINT8: decode_fixed_array<uint8_t>(r, count, *array); break;
    case ValueType::INT8: decode_fixed_array<int8_t>(r, count, *array); break;
    case ValueType::UINT16: decode_fixed_array<uint16_t>(r, count, *array); break;
    case ValueType::INT16: decode_fixed_array<int16_t>(r, count, *array); break;
    case ValueType::UINT32: decode_fixed_array<uint32_t>(r, count, *array); break;
    case ValueType::INT32: decode_fixed_array<int32_t>(r, count, *array); break;
    case ValueType::FLOAT32: decode_fixed_array<float>(r, count, *array); break;
    case ValueType::UINT64: decode_fixed_array<uint64_t>(r, count, *array); break;
    case ValueType::INT64: decode_fixed_array<int64_t>(r, count, *array); break;
    case ValueType::FLOAT64: decode_fixed_array<double>(r, count, *array); break;
    case ValueType::BOOL: {
      std::vector<bool> items;
      items.reserve(static_cast<size_t>(count));
      for (uint64_t i = 0; i < count; ++i) items.push_back(read_bool(r));
      array->items = std::move(items);
      break;
    }
    case ValueType::STRING: {
      // One vector of views for the whole array: a 150k-token vocabulary costs one allocation.
      std::vector<std::string_view> items;
      items.reserve(static_cast<size_t>(count));
      for (uint64_t i = 0; i < count; ++i) items.push_back(r.read_string("an array string"));
      array->items = std::move(items);
      break;
    }
    case ValueType::ARRAY: {
      std::vector<Value> items;
      items.reserve(static_cast<size_t>(count));
      for (uint64_t i = 0; i < count; ++i)
        items.push_back(make_value(ValueType::ARRAY, parse_array(r, depth + 1)));
      array->items = std::move(items);
      break;
    }
  }
  return array;
}

}  // namespace

std::string_view value_type_name(ValueType t) noexcept {
  switch (t) {
    case ValueType::UINT8: return "u8";
    case ValueType::INT8: return "i8";
    case ValueType::UINT16: return "u16";
    case ValueType::INT16: return "i16";
    case ValueType::UINT32: return "u32";
    case ValueType::INT32: return "i32";
    case ValueType::FLOAT32: return "f32";
    case ValueType::BOOL: return "bool";
    case ValueType::STRING: return "string";
    case ValueType::ARRAY: return "array";
    case ValueType::UINT64: return "u64";
    case ValueType::INT64: return "i64";
    case ValueType::FLOAT64: return "f64";
  }
  return "unknown";
}

size_t value_type_size(ValueType t) noexcept {
  switch (t) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::BOOL: return 1;
    case ValueType::UINT16:
    case ValueType::INT16: return 2;
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::FLOAT32: return 4;
    case ValueType::UINT64:
    case ValueType::INT64:
    case ValueType::FLOAT64: return 8;
    case ValueType::STRING:
    case ValueType::ARRAY: return 0;
  }
  return 0;
}

size_t Array::size() const noexcept {
  return std::visit([](const auto& v) { return v.size(); }, items);
}

const Array* Value::array() const noexcept {
  if (const auto* p = std::get_if<std::shared_ptr<const Array>>(&data)) return p->get();
  return nullptr;
}

uint64_t TensorInfo::rows() const noexcept {
  uint64_t r = 1;
  for (size_t i = 1; i < shape.size(); ++i) r *= shape[i];
  return r;
}

// ---- the file ----------------------------------------------------------------------------------

struct GgufFile::Impl {
  MappedFile mapping;  // empty for from_memory
  std::span<const uint8_t> bytes;
  std::string name;
  uint32_t version = 0;
  uint64_t alignment = kDefaultAlignment;
  uint64_t data_offset = 0;
  std::vector<KeyValue> metadata;
  std::unordered_map<std::string_view, size_t> metadata_index;
  std::vector<TensorInfo> tensors;
  std::unordered_map<std::string_view, size_t> tensor_index;

  void parse();
  void parse_metadata(Reader& r, uint64_t count);
  void read_alignment();
  void parse_tensor_infos(Reader& r, uint64_t count);
  void place_tensors();
};

void GgufFile::Impl::parse() {
  Reader r(bytes, name);

  const auto magic = r.read<uint32_t>("the magic number");
  if (magic != kMagic) {
    const std::string_view got(reinterpret_cast<const char*>(bytes.data()), 4);
    r.fail(0, fmt::format("bad magic \"{}\": not a GGUF file (expected \"GGUF\")", printable(got)));
  }

  const uint64_t version_at = r.pos();
  version = r.read<uint32_t>("the version");
  if (version == 0) r.fail(version_at, "invalid version 0");
  if ((version & 0xFFFF) == 0)
    r.fail(version_at,
           fmt::format("unsupported version field 0x{:08x}: a big-endian GGUF file? slm reads little-endian "
                       "GGUF only",
                       version),
           ErrorKind::unsupported);
  if (version < kMinVersion || version > kMaxVersion)
    r.fail(version_at,
           fmt::format("unsupported version {}: slm reads GGUF v{} and v{}{}", version, kMinVersion,
                       kMaxVersion, version == 1 ? " (v1 is obsolete: convert the file again)" : ""),
           ErrorKind::unsupported);

  const uint64_t tensor_count_at = r.pos();
  const auto tensor_count = r.read<uint64_t>("the tensor count");
  const uint64_t kv_count_at = r.pos();
  const auto kv_count = r.read<uint64_t>("the metadata key count");
  // Bound both counts by what the rest of the file could hold, before reserving anything.
  if (tensor_count > r.remaining() / kMinTensorInfoBytes)
    r.fail(tensor_count_at, fmt::format("tensor count {} cannot fit in the {} bytes after the header",
                                        tensor_count, r.remaining()));
  const uint64_t left_for_metadata = r.remaining() - tensor_count * kMinTensorInfoBytes;
  if (kv_count > left_for_metadata / kMinKeyValueBytes)
    r.fail(kv_count_at, fmt::format("metadata key count {} cannot fit in the {} bytes after the header",
                                    kv_count, r.remaining()));

  parse_metadata(r, kv_count);
  read_alignment();
  parse_tensor_infos(r, tensor_count);

  // The data section starts at the first aligned offset after the tensor infos; a file with no
  // tensors may end before it.
  data_offset = (r.pos() + alignment - 1) / alignment * alignment;
  place_tensors();
}

void GgufFile::Impl::parse_metadata(Reader& r, uint64_t count) {
  metadata.reserve(static_cast<size_t>(count));
  metadata_index.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t key_at = r.pos();
    r.set_context("metadata entry", i);
    const std::string_view key = r.read_string("a key");
    r.set_context("key", key);
    if (auto it = metadata_index.find(key); it != metadata_index.end())
      r.fail(key_at, fmt::format("duplicate key (first defined at offset {})", metadata[it->second].offset));
    const ValueType type = r.read_value_type("the value type");
    Value value = parse_value(r, type, 0);
    metadata_index.emplace(key, metadata.size());
    metadata.push_back(KeyValue{key, std::move(value), key_at});
  }
  r.clear_context();
}

void GgufFile::Impl::read_alignment() {
  const auto it = metadata_index.find("general.alignment");
  if (it == metadata_index.end()) return;
  const KeyValue& kv = metadata[it->second];
  const std::string where = fmt::format("{}: key general.alignment", name);
  if (kv.value.type != ValueType::UINT32)
    throw Error(ErrorKind::format, where,
                fmt::format("alignment must be a u32, found {}", value_type_name(kv.value.type)));
  const uint32_t a = std::get<uint32_t>(kv.value.data);
  if (a == 0 || !std::has_single_bit(a))
    throw Error(ErrorKind::format, where, fmt::format("alignment {} is not a non-zero power of two", a));
  alignment = a;
}

void GgufFile::Impl::parse_tensor_infos(Reader& r, uint64_t count) {
  tensors.reserve(static_cast<size_t>(count));
  tensor_index.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t info_at = r.pos();
    r.set_context("tensor info", i);
    TensorInfo t;
    t.name = r.read_string("a tensor name");
    r.set_context("tensor", t.name);
    if (auto it = tensor_index.find(t.name); it != tensor_index.end())
      r.fail(info_at, fmt::format("duplicate tensor name (first is tensor {})", it->second));

    const uint64_t n_dims_at = r.pos();
    const auto n_dims = r.read<uint32_t>("the number of dimensions");
    if (n_dims == 0 || n_dims > kMaxDims)
      r.fail(n_dims_at, fmt::format("number of dimensions {} is outside 1..{}", n_dims, kMaxDims));
    t.shape.resize(n_dims);
    // ggml holds element counts in int64_t: keep every dimension and the product within it.
    constexpr uint64_t kMaxElements = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t dim_at = r.pos();
      const auto ne = r.read<uint64_t>("a dimension");
      if (ne == 0) r.fail(dim_at, fmt::format("dimension {} is 0: a tensor must have elements", d));
      if (ne > kMaxElements / n_elements)
        r.fail(dim_at, fmt::format("element count overflows: dimension {} is {} after {} elements", d, ne,
                                   n_elements));
      n_elements *= ne;
      t.shape[d] = ne;
    }
    t.n_elements = n_elements;

    const uint64_t type_at = r.pos();
    const auto type_id = r.read<uint32_t>("the tensor type");
    const auto traits = dtype_traits(type_id);
    if (!traits) r.fail(type_at, fmt::format("unknown tensor type id {}", type_id));
    t.type = traits->type;
    const auto row = row_bytes(t.type, t.shape[0]);
    if (!row)
      r.fail(type_at, fmt::format("row of {} elements is not a multiple of the {} block size {}", t.shape[0],
                                  traits->name, traits->block_size));
    const uint64_t rows = n_elements / t.shape[0];
    if (*row != 0 && rows > std::numeric_limits<uint64_t>::max() / *row)
      r.fail(type_at, fmt::format("byte size of {} rows of {} bytes overflows", rows, *row));
    t.n_bytes = *row * rows;

    const uint64_t offset_at = r.pos();
    t.offset = r.read<uint64_t>("the tensor data offset");
    if (t.offset % alignment != 0)
      r.fail(offset_at,
             fmt::format("data offset {} is not a multiple of the alignment {}", t.offset, alignment));

    tensor_index.emplace(t.name, tensors.size());
    tensors.push_back(std::move(t));
  }
  r.clear_context();
}

void GgufFile::Impl::place_tensors() {
  const uint64_t size = bytes.size();
  for (TensorInfo& t : tensors) {
    const auto where = [&] { return fmt::format("{}: tensor {}", name, printable(t.name)); };
    if (t.offset > std::numeric_limits<uint64_t>::max() - data_offset)
      throw Error(ErrorKind::format, where(), fmt::format("data offset {} overflows", t.offset));
    const uint64_t start = data_offset + t.offset;
    if (start > size || t.n_bytes > size - start)
      throw Error(ErrorKind::format, where(),
                  fmt::format("{} bytes of data at byte {} extend past the end of the file ({} bytes)",
                              t.n_bytes, start, size));
    t.data = bytes.data() + start;
  }

  // Overlap: sorted by offset, each tensor must end before the next begins.
  std::vector<size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return tensors[a].offset < tensors[b].offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    const TensorInfo& prev = tensors[order[i - 1]];
    const TensorInfo& cur = tensors[order[i]];
    if (prev.offset + prev.n_bytes > cur.offset)
      throw Error(ErrorKind::format, fmt::format("{}: tensor {}", name, printable(cur.name)),
                  fmt::format("data at offset {} overlaps tensor {} (offset {}, {} bytes)", cur.offset,
                              printable(prev.name), prev.offset, prev.n_bytes));
  }
}

GgufFile::GgufFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

GgufFile GgufFile::open(const std::filesystem::path& path, MapMode mode) {
  auto impl = std::make_unique<Impl>();
  impl->mapping = MappedFile::open(path, mode);
  impl->bytes = impl->mapping.bytes();
  impl->name = path.string();
  impl->parse();
  return GgufFile(std::move(impl));
}

GgufFile GgufFile::from_memory(std::span<const uint8_t> bytes, std::string name) {
  auto impl = std::make_unique<Impl>();
  impl->bytes = bytes;
  impl->name = std::move(name);
  impl->parse();
  return GgufFile(std::move(impl));
}

const std::string& GgufFile::name() const noexcept { return impl_->name; }
uint32_t GgufFile::version() const noexcept { return impl_->version; }
uint64_t GgufFile::alignment() const noexcept { return impl_->alignment; }
uint64_t GgufFile::data_offset() const noexcept { return impl_->data_offset; }
uint64_t GgufFile::file_size() const noexcept { return impl_->bytes.size(); }
std::span<const uint8_t> GgufFile::file_bytes() const noexcept { return impl_->bytes; }
bool GgufFile::unseal() noexcept { return impl_->mapping.unseal(); }
void GgufFile::seal() noexcept { impl_->mapping.seal(); }
std::span<const KeyValue> GgufFile::metadata() const noexcept { return impl_->metadata; }
std::span<const TensorInfo> GgufFile::tensors() const noexcept { return impl_->tensors; }

const Value* GgufFile::find(std::string_view key) const noexcept {
  const auto it = impl_->metadata_index.find(key);
  return it == impl_->metadata_index.end() ? nullptr : &impl_->metadata[it->second].value;
}

const TensorInfo* GgufFile::find_tensor(std::string_view name) const noexcept {
  const auto it = impl_->tensor_index.find(name);
  return it == impl_->tensor_index.end() ? nullptr : &impl_->tensors[it->second];
}

// ---- typed access ------------------------------------------------------------------------------

namespace {

// "a u32", "an f32", "an array of string", for messages about a value's type.
std::string with_article(std::string_view type_name) {
  const bool vowel_sound =
      !type_name.empty() && (type_name[0] == 'i' || type_name[0] == 'f' || type_name[0] == 'a');
  return fmt::format("{} {}", vowel_sound ? "an" : "a", type_name);
}

std::string describe_type(const Value& v) {
  if (const Array* a = v.array()) return fmt::format("an array of {}", value_type_name(a->elem_type));
  return with_article(value_type_name(v.type));
}

bool is_integer_type(ValueType t) {
  switch (t) {
    case ValueType::UINT8:
    case ValueType::INT8:
    case ValueType::UINT16:
    case ValueType::INT16:
    case ValueType::UINT32:
    case ValueType::INT32:
    case ValueType::UINT64:
    case ValueType::INT64: return true;
    default: return false;
  }
}

[[noreturn]] void throw_key_error(const std::string& file, std::string_view key, std::string detail) {
  throw Error(ErrorKind::format, fmt::format("{}: key {}", file, printable(key)), std::move(detail));
}

template <class T>
T convert(const Value& v, const std::string& file, std::string_view key) {
  constexpr ValueType wanted = value_type_of<T>();
  const auto mismatch = [&]() {
    throw_key_error(file, key,
                    fmt::format("is {}, not {}", describe_type(v), with_article(value_type_name(wanted))));
  };
  if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string_view>) {
    if (v.type != wanted) mismatch();
    return std::get<T>(v.data);
  } else if constexpr (std::is_integral_v<T>) {
    if (!is_integer_type(v.type)) mismatch();
    return std::visit(
        [&](const auto& x) -> T {
          using X = std::decay_t<decltype(x)>;
          if constexpr (std::is_integral_v<X> && !std::is_same_v<X, bool>) {
            if (!std::in_range<T>(x))
              throw_key_error(file, key,
                              fmt::format("value {} ({}) does not fit in {}", x, value_type_name(v.type),
                                          value_type_name(wanted)));
            return static_cast<T>(x);
          } else {
            throw Error(ErrorKind::internal, "gguf", "integer value type holds a non-integer");
          }
        },
        v.data);
  } else if constexpr (std::is_same_v<T, double>) {
    if (v.type == ValueType::FLOAT64) return std::get<double>(v.data);
    if (v.type == ValueType::FLOAT32) return static_cast<double>(std::get<float>(v.data));
    mismatch();
  } else {
    static_assert(std::is_same_v<T, float>);
    if (v.type == ValueType::FLOAT32) return std::get<float>(v.data);
    if (v.type != ValueType::FLOAT64) mismatch();
    const double d = std::get<double>(v.data);
    if (std::isfinite(d) && std::abs(d) > static_cast<double>(std::numeric_limits<float>::max()))
      throw_key_error(file, key, fmt::format("f64 value {} is beyond the range of f32", d));
    return static_cast<float>(d);
  }
  throw Error(ErrorKind::internal, "gguf", "unreachable conversion");
}

}  // namespace

template <MetadataScalar T>
std::optional<T> GgufFile::get_optional(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return std::nullopt;
  return convert<T>(*v, impl_->name, key);
}

template <MetadataScalar T>
T GgufFile::get(std::string_view key) const {
  const Value* v = find(key);
  if (!v)
    throw_key_error(impl_->name, key,
                    fmt::format("missing (expected {})", with_article(value_type_name(value_type_of<T>()))));
  return convert<T>(*v, impl_->name, key);
}

namespace {

const Array& require_array(const Value* v, ValueType elem, const std::string& file, std::string_view key) {
  if (!v) throw_key_error(file, key, fmt::format("missing (expected an array of {})", value_type_name(elem)));
  const Array* a = v->array();
  if (!a || a->elem_type != elem)
    throw_key_error(file, key,
                    fmt::format("is {}, not an array of {}", describe_type(*v), value_type_name(elem)));
  return *a;
}

}  // namespace

template <MetadataArrayElement T>
std::span<const T> GgufFile::get_array(std::string_view key) const {
  const Array& a = require_array(find(key), value_type_of<T>(), impl_->name, key);
  return std::get<std::vector<T>>(a.items);
}

std::vector<bool> GgufFile::get_bool_array(std::string_view key) const {
  const Array& a = require_array(find(key), ValueType::BOOL, impl_->name, key);
  return std::get<std::vector<bool>>(a.items);
}

#define SLM_GGUF_INSTANTIATE_SCALAR(T)                                     \
  template T GgufFile::get<T>(std::string_view) const;                     \
  template std::optional<T> GgufFile::get_optional<T>(std::string_view) const;
#define SLM_GGUF_INSTANTIATE_ARRAY(T) \
  template std::span<const T> GgufFile::get_array<T>(std::string_view) const;

SLM_GGUF_FOR_EACH_ARRAY_ELEMENT(SLM_GGUF_INSTANTIATE_SCALAR)
SLM_GGUF_INSTANTIATE_SCALAR(bool)
SLM_GGUF_FOR_EACH_ARRAY_ELEMENT(SLM_GGUF_INSTANTIATE_ARRAY)

#undef SLM_GGUF_INSTANTIATE_SCALAR
#undef SLM_GGUF_INSTANTIATE_ARRAY

}  // namespace slm::gguf
