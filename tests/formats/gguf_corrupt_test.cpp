// Corrupted GGUF files: each must fail with its own slm::Error (kind, a distinctive message, and
// the offset, key or tensor where it went wrong) and never crash or read out of bounds.
#include <doctest/doctest.h>

#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "slm/error.h"
#include "tests/formats/gguf_bytes.h"

using namespace slm;
using namespace slm::gguf;
using slm::test::GgufBytes;

namespace {

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();

uint32_t type_id(DType t) { return static_cast<uint32_t>(t); }

// A file with one tensor info as given, aligned data section of `data_bytes` zero bytes.
GgufBytes one_tensor(std::string_view name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset,
                     size_t data_bytes, uint32_t n_dims_field = 0) {
  auto b = GgufBytes::header(1, 0);
  b.str(name).u32(n_dims_field ? n_dims_field : static_cast<uint32_t>(dims.size()));
  for (uint64_t d : dims) b.u64(d);
  b.u32(type).u64(offset).pad_to(32).zeros(data_bytes);
  return b;
}

struct Case {
  std::string name;
  std::vector<uint8_t> bytes;
  ErrorKind kind;
  std::string detail;  // a distinctive part of Error::detail()
  std::string where;   // a part of Error::where(): "offset N", "key K", "tensor T"
};

std::vector<Case> corrupted_files() {
  using VT = ValueType;
  std::vector<Case> cases;
  auto add = [&](std::string name, const GgufBytes& b, ErrorKind kind, std::string detail,
                 std::string where) {
    cases.push_back(Case{std::move(name), b.bytes, kind, std::move(detail), std::move(where)});
  };

  add("empty file", GgufBytes{}, ErrorKind::format, "file ends inside the magic number", "t.gguf: offset 0");
  add("bad magic", GgufBytes{}.raw("GGML").u32(3).u64(0).u64(0), ErrorKind::format, "bad magic \"GGML\"",
      "offset 0");
  add("binary magic", GgufBytes{}.u32(0x00ff1b7f).u32(3).u64(0).u64(0), ErrorKind::format,
      "bad magic \"\\x7f\\x1b\\xff\\x00\"", "offset 0");
  add("version 1", GgufBytes::header(0, 0, 1), ErrorKind::unsupported, "unsupported version 1", "offset 4");
  add("version 4", GgufBytes::header(0, 0, 4), ErrorKind::unsupported, "unsupported version 4", "offset 4");
  add("version 0", GgufBytes::header(0, 0, 0), ErrorKind::format, "invalid version 0", "offset 4");
  add("big-endian version", GgufBytes::header(0, 0, 0x03000000), ErrorKind::unsupported, "big-endian",
      "offset 4");
  add("huge tensor count", GgufBytes::header(1ull << 62, 0), ErrorKind::format,
      "tensor count 4611686018427387904 cannot fit", "offset 8");
  add("max tensor count", GgufBytes::header(kU64Max, 0), ErrorKind::format, "tensor count", "offset 8");
  add("huge kv count", GgufBytes::header(0, 1ull << 60).zeros(64), ErrorKind::format,
      "metadata key count 1152921504606846976 cannot fit", "offset 16");
  add("kv count one too many", GgufBytes::header(0, 2).str("a").type(VT::UINT8).u8(1), ErrorKind::format,
      "metadata key count 2 cannot fit", "offset 16");
  add("huge key length", GgufBytes::header(0, 1).u64(kU64Max).zeros(16), ErrorKind::format,
      "a key length 18446744073709551615 exceeds", "offset 24 (metadata entry 0)");
  add("lying key length", GgufBytes::header(0, 1).u64(17).raw("general.name").type(VT::UINT8),
      ErrorKind::format, "a key length 17 exceeds the 16 bytes left", "offset 24");
  add("bad value type", GgufBytes::header(0, 1).str("general.name").u32(13).u64(0), ErrorKind::format,
      "unknown value type id 13", "offset 44 (key general.name)");
  add("value type far out", GgufBytes::header(0, 1).str("k").u32(0x80000000).u64(0), ErrorKind::format,
      "unknown value type id 2147483648", "(key k)");
  add("truncated u32 value", GgufBytes::header(0, 1).str("k").type(VT::UINT32).zeros(2), ErrorKind::format,
      "file ends inside a u32 value: 4 bytes needed, 2 left", "offset 37 (key k)");
  add("lying string length", GgufBytes::header(0, 1).str("k").type(VT::STRING).u64(100).raw("short"),
      ErrorKind::format, "a string value length 100 exceeds the 5 bytes left", "offset 37 (key k)");
  add("huge string length", GgufBytes::header(0, 1).str("k").type(VT::STRING).u64(1ull << 63).zeros(8),
      ErrorKind::format, "a string value length 9223372036854775808 exceeds", "(key k)");
  add("bool value 2", GgufBytes::header(0, 1).str("flag").type(VT::BOOL).u8(2), ErrorKind::format,
      "bool value is 2, not 0 or 1", "offset 40 (key flag)");
  add("bad array element type",
      GgufBytes::header(0, 1).str("arr").type(VT::ARRAY).u32(99).u64(0), ErrorKind::format,
      "unknown value type id 99 (the element type of an array)", "offset 39 (key arr)");
  add("huge u32 array",
      GgufBytes::header(0, 1).str("arr").type(VT::ARRAY).type(VT::UINT32).u64(1ull << 61).zeros(8),
      ErrorKind::format, "array length 2305843009213693952 of u32 elements cannot fit in the 8 bytes left",
      "offset 43 (key arr)");
  add("u32 array one element short",
      GgufBytes::header(0, 1).str("arr").type(VT::ARRAY).type(VT::UINT32).u64(3).u32(1).u32(2).u8(0),
      ErrorKind::format, "array length 3 of u32 elements cannot fit in the 9 bytes left", "offset 43");
  add("huge string array",
      GgufBytes::header(0, 1)
          .str("tokenizer.ggml.tokens")
          .type(VT::ARRAY)
          .type(VT::STRING)
          .u64(kU64Max)
          .zeros(8),
      ErrorKind::format, "array length 18446744073709551615 of string elements cannot fit",
      "(key tokenizer.ggml.tokens)");
  add("lying string inside an array",
      GgufBytes::header(0, 1).str("toks").type(VT::ARRAY).type(VT::STRING).u64(2).str("a").u64(50).raw("b"),
      ErrorKind::format, "an array string length 50 exceeds the 1 bytes left", "offset 61 (key toks)");
  add("bool array element 7",
      GgufBytes::header(0, 1).str("bits").type(VT::ARRAY).type(VT::BOOL).u64(3).u8(1).u8(0).u8(7),
      ErrorKind::format, "bool value is 7, not 0 or 1", "offset 54 (key bits)");
  add("huge array of arrays",
      GgufBytes::header(0, 1).str("n").type(VT::ARRAY).type(VT::ARRAY).u64(1ull << 40).zeros(24),
      ErrorKind::format, "array length 1099511627776 of array elements cannot fit", "(key n)");
  {
    // Nine levels of arrays of arrays; the ninth is one level deeper than allowed.
    auto b = GgufBytes::header(0, 1).str("deep").type(VT::ARRAY);
    for (int i = 0; i < 8; ++i) b.type(VT::ARRAY).u64(1);
    const size_t ninth = b.size();
    b.type(VT::UINT8).u64(0);
    add("arrays nested 9 deep", b, ErrorKind::format, "arrays nested deeper than 8 levels",
        "offset " + std::to_string(ninth) + " (key deep)");
  }
  add("duplicate key",
      GgufBytes::header(0, 2)
          .str("general.name")
          .type(VT::STRING)
          .str("a")
          .str("general.name")
          .type(VT::STRING)
          .str("b"),
      ErrorKind::format, "duplicate key (first defined at offset 24)", "offset 57 (key general.name)");
  add("alignment 3", GgufBytes::header(0, 1).str("general.alignment").type(VT::UINT32).u32(3),
      ErrorKind::format, "alignment 3 is not a non-zero power of two", "t.gguf: key general.alignment");
  add("alignment 0", GgufBytes::header(0, 1).str("general.alignment").type(VT::UINT32).u32(0),
      ErrorKind::format, "alignment 0 is not a non-zero power of two", "key general.alignment");
  add("alignment as u64", GgufBytes::header(0, 1).str("general.alignment").type(VT::UINT64).u64(32),
      ErrorKind::format, "alignment must be a u32, found u64", "key general.alignment");

  add("n_dims 0", one_tensor("w", {}, type_id(DType::F32), 0, 0), ErrorKind::format,
      "number of dimensions 0 is outside 1..4", "offset 33 (tensor w)");
  add("n_dims 5", one_tensor("w", {1, 1, 1, 1, 1}, type_id(DType::F32), 0, 4), ErrorKind::format,
      "number of dimensions 5 is outside 1..4", "offset 33 (tensor w)");
  add("n_dims huge with no room", one_tensor("w", {}, type_id(DType::F32), 0, 0, 0xffffffff),
      ErrorKind::format, "number of dimensions 4294967295", "(tensor w)");
  add("dimension 0", one_tensor("w", {4, 0}, type_id(DType::F32), 0, 0), ErrorKind::format,
      "dimension 1 is 0", "offset 45 (tensor w)");
  add("dimensions overflowing", one_tensor("w", {1ull << 32, 1ull << 32}, type_id(DType::F32), 0, 0),
      ErrorKind::format, "element count overflows: dimension 1 is 4294967296", "offset 45 (tensor w)");
  add("dimension beyond int64", one_tensor("w", {1ull << 63}, type_id(DType::I8), 0, 0), ErrorKind::format,
      "element count overflows: dimension 0", "offset 37 (tensor w)");
  add("bytes overflowing", one_tensor("w", {1ull << 61, 2}, type_id(DType::F32), 0, 0), ErrorKind::format,
      "byte size of 2 rows of 9223372036854775808 bytes overflows", "offset 53 (tensor w)");
  add("removed tensor type 4", one_tensor("w", {32}, 4, 0, 32), ErrorKind::format, "unknown tensor type id 4",
      "offset 45 (tensor w)");
  add("tensor type 1000", one_tensor("w", {32}, 1000, 0, 32), ErrorKind::format,
      "unknown tensor type id 1000", "(tensor w)");
  add("row not a multiple of the block", one_tensor("w", {33, 2}, type_id(DType::Q4_0), 0, 64),
      ErrorKind::format, "row of 33 elements is not a multiple of the Q4_0 block size 32",
      "offset 53 (tensor w)");
  add("offset not aligned", one_tensor("w", {8}, type_id(DType::F32), 4, 64), ErrorKind::format,
      "data offset 4 is not a multiple of the alignment 32", "offset 49 (tensor w)");
  add("offset past the end", one_tensor("w", {8}, type_id(DType::F32), 64, 32), ErrorKind::format,
      "32 bytes of data at byte 128 extend past the end of the file (96 bytes)", "t.gguf: tensor w");
  add("data cut short", one_tensor("w", {8}, type_id(DType::F32), 0, 31), ErrorKind::format,
      "32 bytes of data at byte 64 extend past the end of the file (95 bytes)", "tensor w");
  add("offset overflowing", one_tensor("w", {8}, type_id(DType::F32), kU64Max - 31, 32), ErrorKind::format,
      "data offset 18446744073709551584 overflows", "tensor w");
  {
    auto b = GgufBytes::header(2, 0);
    b.str("a").u32(1).u64(16).u32(type_id(DType::F32)).u64(0);   // bytes 0..64
    b.str("b").u32(1).u64(8).u32(type_id(DType::F32)).u64(32);   // bytes 32..64: inside a
    b.pad_to(32).zeros(96);
    add("overlapping tensors", b, ErrorKind::format,
        "data at offset 32 overlaps tensor a (offset 0, 64 bytes)", "tensor b");
  }
  {
    auto b = GgufBytes::header(2, 0);
    b.str("b").u32(1).u64(8).u32(type_id(DType::F32)).u64(32);
    b.str("a").u32(1).u64(16).u32(type_id(DType::F32)).u64(0);   // file order differs from data order
    b.pad_to(32).zeros(96);
    add("overlapping tensors out of order", b, ErrorKind::format, "overlaps tensor a", "tensor b");
  }
  {
    auto b = GgufBytes::header(2, 0);
    b.str("w").u32(1).u64(8).u32(type_id(DType::F32)).u64(0);
    const size_t second = b.size();
    b.str("w").u32(1).u64(8).u32(type_id(DType::F32)).u64(32);
    b.pad_to(32).zeros(64);
    add("duplicate tensor names", b, ErrorKind::format, "duplicate tensor name (first is tensor 0)",
        "offset " + std::to_string(second) + " (tensor w)");
  }
  {
    auto b = GgufBytes::header(1, 0);
    b.u64(1000).raw("w").zeros(40);
    add("lying tensor name length", b, ErrorKind::format,
        "a tensor name length 1000 exceeds the 41 bytes left", "offset 24 (tensor info 0)");
  }
  {
    // A 64-byte alignment from the metadata applies to the tensor offsets.
    auto b = GgufBytes::header(1, 1).str("general.alignment").type(VT::UINT32).u32(64);
    b.str("w").u32(1).u64(8).u32(type_id(DType::F32)).u64(32).pad_to(64).zeros(128);
    add("offset aligned to 32 but not 64", b, ErrorKind::format,
        "data offset 32 is not a multiple of the alignment 64", "(tensor w)");
  }
  return cases;
}

}  // namespace

TEST_CASE("gguf corrupted files: each fails with its own error") {
  for (const Case& c : corrupted_files()) {
    CAPTURE(c.name);
    const Error e = slm::test::parse_error(c.bytes);
    const std::string what = e.what();
    CAPTURE(what);
    CHECK(e.kind() == c.kind);
    CHECK(e.detail().find(c.detail) != std::string::npos);
    CHECK(e.where().find(c.where) != std::string::npos);
    CHECK(e.where().rfind("t.gguf: ", 0) == 0);
  }
}

TEST_CASE("gguf corrupted files: the hand-made prefixes are otherwise valid") {
  // Guards the table above: the same layouts with sane values parse.
  auto b = one_tensor("w", {8, 2}, type_id(DType::F32), 0, 64);
  const auto f = GgufFile::from_memory(b.bytes, "t.gguf");
  REQUIRE(f.tensors().size() == 1);
  CHECK(f.tensors()[0].n_bytes == 64);
  CHECK(f.data_offset() == 96);  // 65 header bytes, rounded up to 32

  auto nested = GgufBytes::header(0, 1).str("deep").type(ValueType::ARRAY);
  for (int i = 0; i < 7; ++i) nested.type(ValueType::ARRAY).u64(1);
  nested.type(ValueType::UINT8).u64(1).u8(42);
  const auto g = GgufFile::from_memory(nested.bytes, "t.gguf");
  const Value* v = g.find("deep");
  for (int depth = 1; depth < 8; ++depth) {
    REQUIRE(v->array() != nullptr);
    v = &std::get<std::vector<Value>>(v->array()->items).at(0);
  }
  CHECK(std::get<std::vector<uint8_t>>(v->array()->items) == std::vector<uint8_t>{42});
}

namespace {

std::vector<uint8_t> small_valid_file() {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 2);
  w.set_bool("flag", true);
  w.set_array_string("tokenizer.ggml.tokens", std::vector<std::string>{"<unk>", "a", "bc"});
  w.set_array_f32("tokenizer.ggml.scores", std::vector<float>{0, -1, -2});
  const std::vector<EncodedValue> inner{EncodedValue::array<int32_t>(std::vector<int32_t>{1, 2})};
  w.set("nested", EncodedValue::array_of_arrays(inner));
  w.add_tensor("token_embd.weight", DType::Q8_0, {32, 3}, std::vector<uint8_t>(3 * 34, 7));
  w.add_tensor("output_norm.weight", DType::F32, {32}, std::vector<uint8_t>(128, 1));
  return w.write_memory();
}

}  // namespace

TEST_CASE("gguf truncated at every offset: always an error, never a crash") {
  const auto full = small_valid_file();
  REQUIRE_NOTHROW((void)GgufFile::from_memory(full, "t.gguf"));
  const auto f = GgufFile::from_memory(full, "t.gguf");
  const uint64_t data_end = f.tensors().back().offset + f.tensors().back().n_bytes + f.data_offset();
  size_t failures = 0;
  for (size_t cut = 0; cut < data_end; ++cut) {
    CAPTURE(cut);
    // A copy of exactly `cut` bytes, so ASan sees any read past the cut.
    const std::vector<uint8_t> part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
    try {
      (void)GgufFile::from_memory(part, "t.gguf");
      FAIL("a truncated file parsed");
    } catch (const Error& e) {
      ++failures;
      CHECK(e.kind() == ErrorKind::format);
      const bool names_place = e.where().find("offset ") != std::string::npos ||
                               e.where().find("tensor ") != std::string::npos;
      CHECK(names_place);
    }
  }
  CHECK(failures == data_end);
  // Trailing padding after the last tensor is not needed.
  const std::vector<uint8_t> unpadded(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(data_end));
  CHECK_NOTHROW((void)GgufFile::from_memory(unpadded, "t.gguf"));
}

TEST_CASE("gguf with random byte flips: parses or throws slm::Error, nothing else") {
  const auto full = small_valid_file();
  std::mt19937 rng(1234);
  size_t parsed = 0, rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    auto bytes = full;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    try {
      const auto f = GgufFile::from_memory(bytes, "t.gguf");
      // Whatever parsed must describe bytes inside the buffer.
      for (const TensorInfo& t : f.tensors()) {
        CHECK(t.data >= bytes.data());
        CHECK(t.data + t.n_bytes <= bytes.data() + bytes.size());
      }
      ++parsed;
    } catch (const Error&) {
      ++rejected;
    }
  }
  CHECK(parsed + rejected == 3000);
  CHECK(rejected > 0);
}
