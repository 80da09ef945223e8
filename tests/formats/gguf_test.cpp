// GGUF writer -> reader round trips, typed accessors and the writer's own argument checks.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
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

namespace {

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

uint64_t tensor_bytes(DType t, std::vector<uint64_t> shape) {
  uint64_t rows = 1;
  for (size_t i = 1; i < shape.size(); ++i) rows *= shape[i];
  return *row_bytes(t, shape[0]) * rows;
}

// Runs `f` and returns the slm::Error it throws (fails the test when it throws nothing).
template <class F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected an slm::Error");
  return Error(ErrorKind::internal, "", "");
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

template <class T>
concept CanGetArray = requires(const GgufFile& f) { f.get_array<T>("k"); };
template <class T>
concept CanGet = requires(const GgufFile& f) { f.get<T>("k"); };

}  // namespace

// bool arrays live in std::vector<bool>, which cannot be viewed as a span: asking for one is a
// compile error (use get_bool_array), as is asking for a type GGUF does not have.
static_assert(CanGetArray<float> && CanGetArray<std::string_view> && CanGetArray<uint8_t>);
static_assert(!CanGetArray<bool>);
static_assert(CanGetArray<int32_t> && CanGetArray<double>);
static_assert(!CanGetArray<std::string> && !CanGet<std::string> && !CanGet<long long> && !CanGet<char>);
static_assert(CanGet<bool> && CanGet<std::string_view> && CanGet<double>);

TEST_CASE("gguf round trip: every scalar type, including edge values") {
  GgufWriter w;
  w.set_u8("v.u8", 255);
  w.set_i8("v.i8", -128);
  w.set_u16("v.u16", 65535);
  w.set_i16("v.i16", -32768);
  w.set_u32("v.u32", 4000000000u);
  w.set_i32("v.i32", -2000000000);
  w.set_u64("v.u64", std::numeric_limits<uint64_t>::max());
  w.set_i64("v.i64", std::numeric_limits<int64_t>::min());
  w.set_f32("v.f32", -0.0f);
  w.set_f32("v.f32.nan", std::numeric_limits<float>::quiet_NaN());
  w.set_f32("v.f32.denormal", std::numeric_limits<float>::denorm_min());
  w.set_f64("v.f64", 1e-300);
  w.set_bool("v.true", true);
  w.set_bool("v.false", false);
  w.set_string("v.empty", "");
  w.set_string("v.unicode", "h\xC3\xA9llo \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC");
  w.set_string("cl\xC3\xA9.\xE5\x90\x8D\xE5\x89\x8D", "unicode key");
  std::string with_nul("a\0b", 3);
  w.set_string("v.nul", with_nul);

  const auto bytes = w.write_memory();
  const auto f = GgufFile::from_memory(bytes, "scalars.gguf");
  CHECK(f.version() == 3);
  CHECK(f.metadata().size() == w.metadata_count());
  CHECK(f.tensors().empty());
  CHECK(f.get<uint8_t>("v.u8") == 255);
  CHECK(f.get<int8_t>("v.i8") == -128);
  CHECK(f.get<uint16_t>("v.u16") == 65535);
  CHECK(f.get<int16_t>("v.i16") == -32768);
  CHECK(f.get<uint32_t>("v.u32") == 4000000000u);
  CHECK(f.get<int32_t>("v.i32") == -2000000000);
  CHECK(f.get<uint64_t>("v.u64") == std::numeric_limits<uint64_t>::max());
  CHECK(f.get<int64_t>("v.i64") == std::numeric_limits<int64_t>::min());
  const float negzero = f.get<float>("v.f32");
  CHECK(negzero == 0.0f);
  CHECK(std::signbit(negzero));
  CHECK(std::isnan(f.get<float>("v.f32.nan")));
  CHECK(f.get<float>("v.f32.denormal") == std::numeric_limits<float>::denorm_min());
  CHECK(f.get<double>("v.f64") == 1e-300);
  CHECK(f.get<bool>("v.true") == true);
  CHECK(f.get<bool>("v.false") == false);
  CHECK(f.get<std::string_view>("v.empty").empty());
  CHECK(f.get<std::string_view>("v.unicode") == "h\xC3\xA9llo \xE2\x9C\x93 \xE6\x97\xA5\xE6\x9C\xAC");
  CHECK(f.get<std::string_view>("cl\xC3\xA9.\xE5\x90\x8D\xE5\x89\x8D") == "unicode key");
  CHECK(f.get<std::string_view>("v.nul") == with_nul);
  CHECK(f.find("v.u8")->type == ValueType::UINT8);
  CHECK(f.find("v.f64")->type == ValueType::FLOAT64);

  // Metadata keeps file order, and each key knows where it starts (right after the 24-byte header).
  REQUIRE(f.metadata().size() == 18);
  CHECK(f.metadata()[0].key == "v.u8");
  CHECK(f.metadata()[0].offset == 24);
  CHECK(f.metadata()[1].key == "v.i8");
  CHECK(f.metadata()[1].offset == 24 + 8 + 4 + 4 + 1);
  CHECK(f.metadata().back().key == "v.nul");
}

TEST_CASE("gguf round trip: arrays of every element type, empty arrays, nested arrays") {
  const std::vector<uint8_t> u8s{0, 1, 255};
  const std::vector<int8_t> i8s{-128, 0, 127};
  const std::vector<uint16_t> u16s{1, 65535};
  const std::vector<int16_t> i16s{-32768, 32767};
  const std::vector<uint32_t> u32s{7, 4294967295u};
  const std::vector<int32_t> i32s{-1, 2, -3};
  const std::vector<uint64_t> u64s{1ull << 63};
  const std::vector<int64_t> i64s{-(1ll << 62), 5};
  const std::vector<float> f32s{1.5f, -2.25f, 1e30f};
  const std::vector<double> f64s{3.141592653589793, -1e-200};
  const bool bools[] = {true, false, true, true};
  const std::vector<std::string> strings{"", "x", "\xE2\x96\x81the", std::string(1000, 'z')};

  GgufWriter w;
  w.set_array_u8("a.u8", u8s);
  w.set_array_i8("a.i8", i8s);
  w.set_array_u16("a.u16", u16s);
  w.set_array_i16("a.i16", i16s);
  w.set_array_u32("a.u32", u32s);
  w.set_array_i32("a.i32", i32s);
  w.set_array_u64("a.u64", u64s);
  w.set_array_i64("a.i64", i64s);
  w.set_array_f32("a.f32", f32s);
  w.set_array_f64("a.f64", f64s);
  w.set_array_bool("a.bool", bools);
  w.set_array_string("a.string", strings);
  w.set_array_f32("a.empty.f32", std::span<const float>{});
  w.set_array_string("a.empty.string", std::span<const std::string>{});
  w.set("a.empty.arrays", EncodedValue::array_of_arrays({}));
  // [[1, 2, 3], ["p", "q"], [], [[true], [0.5]]]
  const std::vector<EncodedValue> inner_inner{EncodedValue::bool_array(std::span<const bool>(bools, 1)),
                                              EncodedValue::array<double>(std::span(f64s).first(0)),
                                              EncodedValue::array<float>(std::span(f32s).first(1))};
  const std::vector<std::string_view> pq{"p", "q"};
  const std::vector<EncodedValue> inner{EncodedValue::array<int32_t>(std::vector<int32_t>{1, 2, 3}),
                                        EncodedValue::array<std::string_view>(pq),
                                        EncodedValue::array<uint8_t>(std::span<const uint8_t>{}),
                                        EncodedValue::array_of_arrays(inner_inner)};
  w.set("a.nested", EncodedValue::array_of_arrays(inner));

  const auto bytes = w.write_memory();
  const auto f = GgufFile::from_memory(bytes, "arrays.gguf");
  auto same = [](auto span, const auto& vec) {
    return span.size() == vec.size() && std::equal(span.begin(), span.end(), vec.begin());
  };
  CHECK(same(f.get_array<uint8_t>("a.u8"), u8s));
  CHECK(same(f.get_array<int8_t>("a.i8"), i8s));
  CHECK(same(f.get_array<uint16_t>("a.u16"), u16s));
  CHECK(same(f.get_array<int16_t>("a.i16"), i16s));
  CHECK(same(f.get_array<uint32_t>("a.u32"), u32s));
  CHECK(same(f.get_array<int32_t>("a.i32"), i32s));
  CHECK(same(f.get_array<uint64_t>("a.u64"), u64s));
  CHECK(same(f.get_array<int64_t>("a.i64"), i64s));
  CHECK(same(f.get_array<float>("a.f32"), f32s));
  CHECK(same(f.get_array<double>("a.f64"), f64s));
  CHECK(f.get_bool_array("a.bool") == std::vector<bool>{true, false, true, true});
  const auto strs = f.get_array<std::string_view>("a.string");
  REQUIRE(strs.size() == strings.size());
  for (size_t i = 0; i < strings.size(); ++i) CHECK(strs[i] == strings[i]);
  CHECK(f.get_array<float>("a.empty.f32").empty());
  CHECK(f.get_array<std::string_view>("a.empty.string").empty());
  REQUIRE(f.find("a.empty.arrays")->array() != nullptr);
  CHECK(f.find("a.empty.arrays")->array()->elem_type == ValueType::ARRAY);
  CHECK(f.find("a.empty.arrays")->array()->size() == 0);

  const Array* nested = f.find("a.nested")->array();
  REQUIRE(nested != nullptr);
  CHECK(nested->elem_type == ValueType::ARRAY);
  const auto& outer = std::get<std::vector<Value>>(nested->items);
  REQUIRE(outer.size() == 4);
  REQUIRE(outer[0].array() != nullptr);
  CHECK(outer[0].array()->elem_type == ValueType::INT32);
  CHECK(std::get<std::vector<int32_t>>(outer[0].array()->items) == std::vector<int32_t>{1, 2, 3});
  CHECK(std::get<std::vector<std::string_view>>(outer[1].array()->items) ==
        std::vector<std::string_view>{"p", "q"});
  CHECK(outer[2].array()->elem_type == ValueType::UINT8);
  CHECK(outer[2].array()->size() == 0);
  const auto& deepest = std::get<std::vector<Value>>(outer[3].array()->items);
  REQUIRE(deepest.size() == 3);
  CHECK(std::get<std::vector<bool>>(deepest[0].array()->items) == std::vector<bool>{true});
  CHECK(deepest[1].array()->elem_type == ValueType::FLOAT64);
  CHECK(deepest[1].array()->size() == 0);
  CHECK(std::get<std::vector<float>>(deepest[2].array()->items) == std::vector<float>{1.5f});
}

TEST_CASE("gguf round trip: tensors of several types and shapes at the default and other alignments") {
  struct Spec {
    const char* name;
    DType type;
    std::vector<uint64_t> shape;
  };
  const std::vector<Spec> specs{
      {"f32.matrix", DType::F32, {4, 3}},
      {"f16.vector", DType::F16, {7}},
      {"q8_0", DType::Q8_0, {64, 2}},
      {"q4_k.3d", DType::Q4_K, {256, 1, 2}},
      {"iq2_xxs.unsupported", DType::IQ2_XXS, {256}},
      {"i32.4d", DType::I32, {3, 1, 1, 2}},
      {"bf16", DType::BF16, {5, 5}},
      {"\xE5\xBC\xA0\xE9\x87\x8F", DType::Q6_K, {512, 3}},
  };
  for (uint32_t alignment : {1u, 8u, 32u, 64u, 4096u}) {
    CAPTURE(alignment);
    GgufWriter w;
    w.set_string("general.architecture", "test");
    if (alignment != kDefaultAlignment) w.set_alignment(alignment);
    std::vector<std::vector<uint8_t>> datas;
    for (size_t i = 0; i < specs.size(); ++i) {
      datas.push_back(
          random_bytes(tensor_bytes(specs[i].type, specs[i].shape), static_cast<uint32_t>(i + 1)));
      w.add_tensor(specs[i].name, specs[i].type, specs[i].shape, datas.back());
    }
    const auto bytes = w.write_memory();
    const auto f = GgufFile::from_memory(bytes, "tensors.gguf");
    CHECK(f.alignment() == alignment);
    CHECK(f.data_offset() % alignment == 0);
    CHECK(f.file_size() == bytes.size());
    CHECK(f.file_bytes().data() == bytes.data());
    REQUIRE(f.tensors().size() == specs.size());
    uint64_t previous_end = 0;
    for (size_t i = 0; i < specs.size(); ++i) {
      const TensorInfo& t = f.tensors()[i];
      CAPTURE(t.name);
      CHECK(t.name == specs[i].name);
      CHECK(t.type == specs[i].type);
      CHECK(t.shape == specs[i].shape);
      CHECK(t.offset % alignment == 0);
      CHECK(t.offset >= previous_end);
      previous_end = t.offset + t.n_bytes;
      CHECK(t.n_bytes == datas[i].size());
      uint64_t n = 1;
      for (uint64_t d : specs[i].shape) n *= d;
      CHECK(t.n_elements == n);
      CHECK(t.rows() == n / specs[i].shape[0]);
      CHECK(t.data == bytes.data() + f.data_offset() + t.offset);
      CHECK(std::equal(t.bytes().begin(), t.bytes().end(), datas[i].begin(), datas[i].end()));
      CHECK(f.find_tensor(specs[i].name) == &t);
    }
    CHECK(f.find_tensor("absent") == nullptr);
  }
}

TEST_CASE("gguf writer: add_tensor_view borrows, write_file writes the same bytes as write_memory") {
  const auto data = random_bytes(34 * 4, 9);
  GgufWriter w;
  w.set_u32("llama.block_count", 4);
  w.add_tensor_view("w", DType::Q8_0, {32, 4}, data);
  const auto memory = w.write_memory();

  const auto dir = std::filesystem::temp_directory_path() / "slm_gguf_writer_test";
  std::filesystem::create_directories(dir);
  const auto path = dir / "w.gguf";
  w.write_file(path);
  CHECK_FALSE(std::filesystem::exists(dir / "w.gguf.tmp"));
  {
    auto f = GgufFile::open(path);
    CHECK(f.name() == path.string());
    CHECK(f.file_size() == memory.size());
    CHECK(std::equal(f.file_bytes().begin(), f.file_bytes().end(), memory.begin(), memory.end()));
    // A moved-from file hands its views over intact.
    GgufFile moved = std::move(f);
    REQUIRE(moved.find_tensor("w") != nullptr);
    CHECK(std::equal(moved.find_tensor("w")->bytes().begin(), moved.find_tensor("w")->bytes().end(),
                     data.begin()));
    CHECK(moved.get<uint32_t>("llama.block_count") == 4);
  }
  std::filesystem::remove_all(dir);

  const auto err = error_of([&] { w.write_file(dir / "missing-folder" / "x.gguf"); });
  CHECK(err.kind() == ErrorKind::io);
  const auto open_err = error_of([&] { (void)GgufFile::open(dir / "nope.gguf"); });
  CHECK(open_err.kind() == ErrorKind::io);
}

TEST_CASE("gguf writer: set replaces a key in place; a file with no tensors and no keys is valid") {
  GgufWriter w;
  w.set_u32("a", 1);
  w.set_string("b", "x");
  w.set_f32("a", 2.5f);
  CHECK(w.metadata_count() == 2);
  const auto bytes = w.write_memory();
  const auto f = GgufFile::from_memory(bytes, "t.gguf");
  REQUIRE(f.metadata().size() == 2);
  CHECK(f.metadata()[0].key == "a");
  CHECK(f.get<float>("a") == 2.5f);

  const auto empty = GgufWriter().write_memory();
  const auto e = GgufFile::from_memory(empty, "empty.gguf");
  CHECK(e.metadata().empty());
  CHECK(e.tensors().empty());
  CHECK(e.data_offset() == 32);
}

TEST_CASE("gguf accessors: integer width conversion, float widening, and errors naming key and type") {
  GgufWriter w;
  w.set_u64("ctx", 4096);
  w.set_i32("neg", -5);
  w.set_u32("big", 70000);
  w.set_i64("i64.small", -3);
  w.set_f64("f64", 0.1);
  w.set_f64("f64.huge", 1e300);
  w.set_f32("f32", 0.25f);
  w.set_string("name", "tiny");
  w.set_bool("flag", true);
  w.set_array_f32("scores", std::vector<float>{1.0f});
  const auto bytes = w.write_memory();
  const auto f = GgufFile::from_memory(bytes, "acc.gguf");

  CHECK(f.get<uint32_t>("ctx") == 4096);
  CHECK(f.get<int16_t>("ctx") == 4096);
  CHECK(f.get<int64_t>("neg") == -5);
  CHECK(f.get<int8_t>("i64.small") == -3);
  CHECK(f.get<float>("f64") == 0.1f);
  CHECK(f.get<double>("f32") == 0.25);
  CHECK(f.get_optional<uint32_t>("absent") == std::nullopt);
  CHECK(f.get_optional<uint32_t>("ctx") == 4096u);
  CHECK(f.has("flag"));
  CHECK_FALSE(f.has("absent"));

  auto e = error_of([&] { (void)f.get<uint32_t>("neg"); });
  CHECK(e.kind() == ErrorKind::format);
  CHECK(e.where() == "acc.gguf: key neg");
  CHECK(contains(e.detail(), "value -5 (i32) does not fit in u32"));

  e = error_of([&] { (void)f.get<uint16_t>("big"); });
  CHECK(contains(e.detail(), "70000"));

  e = error_of([&] { (void)f.get<uint32_t>("missing.key"); });
  CHECK(e.kind() == ErrorKind::format);
  CHECK(e.where() == "acc.gguf: key missing.key");
  CHECK(contains(e.detail(), "missing"));

  e = error_of([&] { (void)f.get<uint32_t>("name"); });
  CHECK(e.where() == "acc.gguf: key name");
  CHECK(contains(e.detail(), "is a string, not a u32"));

  e = error_of([&] { (void)f.get<std::string_view>("ctx"); });
  CHECK(contains(e.detail(), "is a u64, not a string"));

  e = error_of([&] { (void)f.get<uint32_t>("flag"); });  // bools are not integers
  CHECK(contains(e.detail(), "is a bool"));

  e = error_of([&] { (void)f.get<float>("ctx"); });  // integers are not floats
  CHECK(contains(e.detail(), "is a u64, not an f32"));

  e = error_of([&] { (void)f.get<float>("f64.huge"); });
  CHECK(contains(e.detail(), "beyond the range of f32"));

  e = error_of([&] { (void)f.get<uint32_t>("scores"); });
  CHECK(contains(e.detail(), "is an array of f32"));

  e = error_of([&] { (void)f.get_optional<std::string_view>("ctx"); });  // present but wrong: an error
  CHECK(e.kind() == ErrorKind::format);

  e = error_of([&] { (void)f.get_array<int32_t>("scores"); });
  CHECK(e.where() == "acc.gguf: key scores");
  CHECK(contains(e.detail(), "is an array of f32, not an array of i32"));

  e = error_of([&] { (void)f.get_array<float>("name"); });
  CHECK(contains(e.detail(), "is a string, not an array of f32"));

  e = error_of([&] { (void)f.get_array<float>("nope"); });
  CHECK(contains(e.detail(), "missing"));

  e = error_of([&] { (void)f.get_bool_array("scores"); });
  CHECK(contains(e.detail(), "not an array of bool"));
}

TEST_CASE("gguf writer: caller mistakes are invalid_argument errors") {
  GgufWriter w;
  const std::vector<uint8_t> q8(34);
  w.add_tensor("ok", DType::Q8_0, {32}, q8);

  auto e = error_of([&] { w.add_tensor("ok", DType::Q8_0, {32}, q8); });
  CHECK(e.kind() == ErrorKind::invalid_argument);
  CHECK(contains(e.where(), "tensor ok"));
  CHECK(contains(e.detail(), "added twice"));

  e = error_of([&] { w.add_tensor("short", DType::Q8_0, {64}, q8); });
  CHECK(contains(e.detail(), "34 bytes given, the shape and type need 68"));

  e = error_of([&] { w.add_tensor("ragged", DType::Q8_0, {33}, q8); });
  CHECK(contains(e.detail(), "not a multiple of the Q8_0 block size 32"));

  e = error_of([&] { w.add_tensor("scalar", DType::F32, {}, q8); });
  CHECK(contains(e.detail(), "0 dimensions"));

  e = error_of([&] { w.add_tensor("five", DType::I8, {34, 1, 1, 1, 1}, q8); });
  CHECK(contains(e.detail(), "5 dimensions"));

  e = error_of([&] { w.add_tensor("zero", DType::I8, {34, 0}, q8); });
  CHECK(contains(e.detail(), "dimension 1 is 0"));

  e = error_of([&] { w.add_tensor("huge", DType::F32, {1ull << 40, 1ull << 40}, q8); });
  CHECK(contains(e.detail(), "overflows"));

  e = error_of([&] { w.set_alignment(48); });
  CHECK(e.kind() == ErrorKind::invalid_argument);
  e = error_of([&] { w.set_alignment(0); });
  CHECK(contains(e.detail(), "power of two"));

  w.set_u64("general.alignment", 64);  // the wrong type is caught when writing
  e = error_of([&] { (void)w.write_memory(); });
  CHECK(contains(e.detail(), "must be a u32"));

  const std::vector<EncodedValue> not_arrays{EncodedValue::u32(1)};
  e = error_of([&] { (void)EncodedValue::array_of_arrays(not_arrays); });
  CHECK(contains(e.detail(), "element 0 of an array of arrays is a u32"));
}

TEST_CASE("gguf reader: a 150k-entry vocabulary reads back exactly") {
  constexpr size_t kVocab = 150000;
  std::vector<std::string> tokens(kVocab);
  std::vector<float> scores(kVocab);
  std::vector<int32_t> types(kVocab);
  for (size_t i = 0; i < kVocab; ++i) {
    tokens[i] = "tok" + std::to_string(i);
    scores[i] = -static_cast<float>(i);
    types[i] = static_cast<int32_t>(i % 6);
  }
  GgufWriter w;
  w.set_array_string("tokenizer.ggml.tokens", tokens);
  w.set_array_f32("tokenizer.ggml.scores", scores);
  w.set_array_i32("tokenizer.ggml.token_type", types);
  const auto bytes = w.write_memory();
  const auto f = GgufFile::from_memory(bytes, "vocab.gguf");
  const auto t = f.get_array<std::string_view>("tokenizer.ggml.tokens");
  const auto s = f.get_array<float>("tokenizer.ggml.scores");
  const auto y = f.get_array<int32_t>("tokenizer.ggml.token_type");
  REQUIRE(t.size() == kVocab);
  REQUIRE(s.size() == kVocab);
  REQUIRE(y.size() == kVocab);
  size_t mismatches = 0;
  for (size_t i = 0; i < kVocab; ++i)
    mismatches += (t[i] != tokens[i]) + (s[i] != scores[i]) + (y[i] != types[i]);
  CHECK(mismatches == 0);
  // Strings are views into the file bytes, not copies.
  CHECK(reinterpret_cast<const uint8_t*>(t[0].data()) >= bytes.data());
  CHECK(reinterpret_cast<const uint8_t*>(t[kVocab - 1].data()) < bytes.data() + bytes.size());
}
