// safetensors reader and Hugging Face folders: the real files in ../shared against SOURCES.md,
// then every way a file or an index can be broken, each with its own error.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "formats/gguf.h"
#include "formats/hf_folder.h"
#include "formats/safetensors.h"
#include "slm/error.h"
#include "tests/formats/safetensors_bytes.h"
#include "tests/fuzz/seed_safetensors.h"
#include "tests/support/shared_data.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using slm::Error;
using slm::ErrorKind;
using slm::HfFolder;
using slm::safetensors::SafetensorsFile;
using slm::test::StTensor;

namespace {

// ---- SOURCES.md: the tensor tables a reader must reproduce ------------------------------------

struct SourceTensor {
  std::string name, dtype;
  std::vector<uint64_t> shape;
  uint64_t begin = 0, end = 0;
};
struct SourceFile {
  std::string folder;  // relative to models/, e.g. "tiny-qwen3/tiny-qwen3-hf"
  std::string file;
  uint64_t header_bytes = 0;
  size_t n_tensors = 0;
  std::string metadata_json;
  std::vector<SourceTensor> tensors;
};
struct Sources {
  std::vector<SourceFile> files;
  std::map<std::string, uint64_t> sizes;  // "folder/file" -> bytes, from the folder's file list
};

std::vector<uint64_t> parse_numbers(const std::string& s) {
  std::vector<uint64_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoull(item));
  return out;
}

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(' ');
  const auto e = s.find_last_not_of(' ');
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The text between `before` and the next `after` following it, or nullopt.
std::optional<std::string> between(const std::string& s, std::string_view before, std::string_view after,
                                   size_t from = 0) {
  const auto b = s.find(before, from);
  if (b == std::string::npos) return std::nullopt;
  const auto e = s.find(after, b + before.size());
  if (e == std::string::npos) return std::nullopt;
  return s.substr(b + before.size(), e - b - before.size());
}

// Splits "| a | b | c |" into {"a", "b", "c"}.
std::vector<std::string> table_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line.substr(1));
  std::string cell;
  while (std::getline(ss, cell, '|')) cells.push_back(trim(cell));
  return cells;
}

// Sections "### <folder>/ (Hugging Face folder)", each with "- `file`: N bytes, ..." lines, then per
// safetensors file a line "`file`: header N bytes, K tensors, metadata {...}" and a table
// "| tensor | dtype | shape | data_offsets |" (offsets written "begin-end").
Sources parse_sources(const fs::path& md) {
  constexpr std::string_view kFolderSuffix = "/ (Hugging Face folder)";
  Sources out;
  std::ifstream in(md);
  std::string line, folder;
  SourceFile* current = nullptr;
  while (std::getline(in, line)) {
    if (line.starts_with("#")) {
      current = nullptr;
      folder = line.starts_with("### ") && line.ends_with(kFolderSuffix)
                   ? line.substr(4, line.size() - 4 - kFolderSuffix.size())
                   : "";
      continue;
    }
    if (folder.empty()) continue;
    if (line.starts_with("- `")) {
      const auto name = between(line, "- `", "`: ");
      const auto bytes = between(line, "`: ", " bytes");
      if (name && bytes) out.sizes[folder + "/" + *name] = std::stoull(*bytes);
    } else if (line.starts_with("`") && line.find(".safetensors`: header ") != std::string::npos) {
      SourceFile f;
      f.folder = folder;
      f.file = *between(line, "`", "`");
      f.header_bytes = std::stoull(*between(line, "`: header ", " bytes"));
      f.n_tensors = std::stoull(*between(line, " bytes, ", " tensors"));
      f.metadata_json = line.substr(line.find(" metadata ") + 10);
      out.files.push_back(std::move(f));
      current = &out.files.back();
    } else if (current && line.starts_with("| ")) {
      const auto cells = table_cells(line);
      if (cells.size() != 4 || cells[0] == "tensor" || cells[0].starts_with("---")) continue;
      const auto dash = cells[3].find('-');
      current->tensors.push_back({cells[0], cells[1], parse_numbers(cells[2]), std::stoull(cells[3].substr(0, dash)),
                                  std::stoull(cells[3].substr(dash + 1))});
    }
  }
  return out;
}

// ---- temporary folders ------------------------------------------------------------------------

using slm::test::TempDir;

// The error a call throws (fails the test when it throws nothing or something else).
template <class F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected slm::Error");
  return Error(ErrorKind::internal, "", "");
}

Error parse_error(std::span<const uint8_t> bytes) {
  return error_of([&] { (void)SafetensorsFile::from_memory(bytes, "t.safetensors"); });
}
Error parse_error(const std::string& header, std::span<const uint8_t> data = {}) {
  const auto bytes = slm::test::safetensors_raw(header, data);
  return parse_error(bytes);
}

std::vector<uint8_t> zeros(size_t n) { return std::vector<uint8_t>(n, 0); }

StTensor f32_tensor(std::string name, std::vector<uint64_t> shape) {
  uint64_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<uint8_t> data(n * 4);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + name.size());
  return {std::move(name), "F32", std::move(shape), std::move(data)};
}

}  // namespace

// ---- the real files ---------------------------------------------------------------------------

TEST_CASE("every safetensors file in ../shared matches its SOURCES.md table") {
  auto md = SLM_REQUIRE_SHARED("models/SOURCES.md");
  if (!md) return;
  const Sources src = parse_sources(*md);
  REQUIRE(src.files.size() >= 4);  // stories260K, two tiny-qwen3 shards, tiny-qwen3moe

  // Every .safetensors file under models/*/*-hf has a table.
  std::set<std::string> listed, present;
  for (const auto& f : src.files) listed.insert(f.folder + "/" + f.file);
  const fs::path models = md->parent_path();
  for (const auto& family : fs::directory_iterator(models)) {
    if (!family.is_directory()) continue;
    for (const auto& dir : fs::directory_iterator(family.path()))
      if (dir.is_directory() && dir.path().filename().string().ends_with("-hf"))
        for (const auto& file : fs::directory_iterator(dir.path()))
          if (file.path().extension() == ".safetensors")
            present.insert(fs::relative(file.path(), models).generic_string());
  }
  CHECK(present == listed);

  for (const auto& sf : src.files) {
    CAPTURE(sf.folder);
    CAPTURE(sf.file);
    const fs::path path = models / sf.folder / sf.file;
    const SafetensorsFile f = SafetensorsFile::open(path);
    CHECK(f.header_size() == sf.header_bytes);
    CHECK(f.data_offset() == 8 + sf.header_bytes);
    if (auto it = src.sizes.find(sf.folder + "/" + sf.file); it != src.sizes.end()) CHECK(f.file_size() == it->second);

    const auto meta = nlohmann::ordered_json::parse(sf.metadata_json);
    REQUIRE(meta.size() == f.metadata().size());
    size_t mi = 0;
    for (const auto& [k, v] : meta.items()) {
      CHECK(f.metadata()[mi].first == k);
      CHECK(f.metadata()[mi].second == v.get<std::string>());
      ++mi;
    }

    REQUIRE(f.tensors().size() == sf.n_tensors);
    REQUIRE(sf.tensors.size() == sf.n_tensors);
    for (size_t i = 0; i < sf.n_tensors; ++i) {
      const auto& want = sf.tensors[i];
      const auto& got = f.tensors()[i];
      CAPTURE(want.name);
      CHECK(got.name == want.name);
      CHECK(slm::safetensors::dtype_name(got.dtype) == want.dtype);
      CHECK(got.shape == want.shape);
      CHECK(got.begin == want.begin);
      CHECK(got.end == want.end);
      CHECK(got.data == f.file_bytes().data() + f.data_offset() + got.begin);
      CHECK(f.find(want.name) == &got);
      CHECK(f.element_type(got) == (want.dtype == "F32" ? slm::DType::F32 : slm::DType::BF16));
    }
  }
}

TEST_CASE("every Hugging Face folder in ../shared opens, sharded ones through their index") {
  auto md = SLM_REQUIRE_SHARED("models/SOURCES.md");
  if (!md) return;
  const Sources src = parse_sources(*md);
  std::map<std::string, size_t> tensors_per_folder;
  for (const auto& f : src.files) tensors_per_folder[f.folder] += f.n_tensors;
  REQUIRE(tensors_per_folder.size() >= 3);

  for (const auto& [folder, count] : tensors_per_folder) {
    CAPTURE(folder);
    const fs::path dir = md->parent_path() / folder;
    const HfFolder hf = HfFolder::open(dir);
    CHECK(hf.tensors().size() == count);
    CHECK(hf.config_path() == dir / "config.json");
    REQUIRE(hf.tokenizer_path());
    CHECK(hf.tokenizer_path()->filename() == "tokenizer.json");
    const bool has_index = fs::exists(dir / "model.safetensors.index.json");
    CHECK(hf.sharded() == has_index);
    for (const auto& e : hf.tensors()) CHECK(hf.find(e.tensor->name) == &e);
    CHECK(hf.find("no.such.tensor") == nullptr);
    if (has_index) {
      // Each tensor sits in the shard the index names.
      std::ifstream in(dir / "model.safetensors.index.json");
      const auto index = nlohmann::json::parse(in);
      REQUIRE(index["weight_map"].size() == count);
      for (const auto& [name, shard] : index["weight_map"].items()) {
        const auto* e = hf.find(name);
        REQUIRE(e);
        CHECK(fs::path(e->file->name()).filename() == shard.get<std::string>());
      }
      CHECK(hf.shards().size() == 2);
      REQUIRE(hf.index_metadata().size() == 1);
      CHECK(hf.index_metadata()[0].first == "total_size");
      CHECK(hf.index_metadata()[0].second == std::to_string(index["metadata"]["total_size"].get<uint64_t>()));
    } else {
      CHECK(hf.shards().size() == 1);
      CHECK(hf.index_metadata().empty());
    }
  }
}

TEST_CASE("stories260K's safetensors hold exactly the bytes of its F32 GGUF") {
  // The folder was converted "without changing any weight"; tensors that need no rotary
  // permutation must be byte-identical, which checks every span the reader computes.
  auto dir = SLM_REQUIRE_SHARED("models/stories260K/stories260K-hf");
  auto gg = SLM_REQUIRE_SHARED("models/stories260K/stories260K-f32.gguf");
  if (!dir || !gg) return;
  const HfFolder hf = HfFolder::open(*dir);
  const auto gguf = slm::gguf::GgufFile::open(*gg);
  std::vector<std::pair<std::string, std::string>> same = {{"model.embed_tokens.weight", "token_embd.weight"},
                                                           {"model.norm.weight", "output_norm.weight"}};
  for (int l = 0; l < 5; ++l) {
    const std::string h = "model.layers." + std::to_string(l) + ".", g = "blk." + std::to_string(l) + ".";
    same.push_back({h + "input_layernorm.weight", g + "attn_norm.weight"});
    same.push_back({h + "post_attention_layernorm.weight", g + "ffn_norm.weight"});
    same.push_back({h + "self_attn.v_proj.weight", g + "attn_v.weight"});
    same.push_back({h + "self_attn.o_proj.weight", g + "attn_output.weight"});
    same.push_back({h + "mlp.gate_proj.weight", g + "ffn_gate.weight"});
    same.push_back({h + "mlp.up_proj.weight", g + "ffn_up.weight"});
    same.push_back({h + "mlp.down_proj.weight", g + "ffn_down.weight"});
  }
  for (const auto& [hname, gname] : same) {
    CAPTURE(hname);
    const auto* e = hf.find(hname);
    const auto* t = gguf.find_tensor(gname);
    REQUIRE(e);
    REQUIRE(t);
    // safetensors shapes are outermost first, GGUF's ne0 first: the same dims reversed.
    CHECK(std::equal(e->tensor->shape.begin(), e->tensor->shape.end(), t->shape.rbegin(), t->shape.rend()));
    REQUIRE(e->tensor->n_bytes() == t->n_bytes);
    CHECK(std::memcmp(e->tensor->data, t->data, t->n_bytes) == 0);
  }
}

// ---- valid files, edge cases --------------------------------------------------------------------

TEST_CASE("a valid file keeps header order, metadata, shapes and data spans") {
  std::vector<StTensor> ts = {f32_tensor("b.weight", {2, 3}),
                              {"a.bias", "BF16", {3}, {1, 2, 3, 4, 5, 6}},
                              {"scalar", "F16", {}, {0x00, 0x3c}},
                              {"empty", "F32", {0, 5}, {}},
                              {"ints", "I64", {1}, zeros(8)}};
  const auto bytes = slm::test::safetensors_file(ts, {{"format", "pt"}, {"note", "x"}});
  const auto f = SafetensorsFile::from_memory(bytes, "ok.safetensors");
  CHECK(f.name() == "ok.safetensors");
  CHECK(f.file_size() == bytes.size());
  CHECK(f.header_size() % 8 == 0);  // the builder pads with spaces, which JSON allows after the value
  REQUIRE(f.tensors().size() == ts.size());
  uint64_t offset = 0;
  for (size_t i = 0; i < ts.size(); ++i) {
    const auto& t = f.tensors()[i];
    CHECK(t.name == ts[i].name);
    CHECK(slm::safetensors::dtype_name(t.dtype) == ts[i].dtype);
    CHECK(t.shape == ts[i].shape);
    CHECK(t.begin == offset);
    CHECK(t.n_bytes() == ts[i].data.size());
    CHECK(std::equal(t.bytes().begin(), t.bytes().end(), ts[i].data.begin(), ts[i].data.end()));
    offset += ts[i].data.size();
  }
  CHECK(f.find("scalar")->n_elements == 1);
  CHECK(f.find("empty")->n_elements == 0);
  CHECK(f.find("missing") == nullptr);
  REQUIRE(f.metadata().size() == 2);
  CHECK(f.metadata()[0] == std::pair<std::string, std::string>{"format", "pt"});
  REQUIRE(f.find_metadata("note"));
  CHECK(*f.find_metadata("note") == "x");
  CHECK(f.find_metadata("absent") == nullptr);

  CHECK(f.element_type(*f.find("b.weight")) == slm::DType::F32);
  CHECK(f.element_type(*f.find("a.bias")) == slm::DType::BF16);
  CHECK(f.element_type(*f.find("scalar")) == slm::DType::F16);
  // Recognised but not computed with: reported by name when asked for.
  const Error e = error_of([&] { (void)f.element_type(*f.find("ints")); });
  CHECK(e.kind() == ErrorKind::unsupported);
  CHECK(e.where() == "ok.safetensors: tensor ints");
  CHECK(e.detail().find("I64") != std::string::npos);
}

TEST_CASE("an empty header with no data is a valid file; tensor order in the header is free") {
  const auto empty = slm::test::safetensors_raw("{}", {});
  CHECK(SafetensorsFile::from_memory(empty, "e").tensors().empty());
  // Offsets need not follow header order; only the sorted layout must tile the buffer.
  const std::string h = R"({"second":{"dtype":"U8","shape":[2],"data_offsets":[2,4]},)"
                        R"("first":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})";
  const std::vector<uint8_t> data = {1, 2, 3, 4};
  const auto bytes = slm::test::safetensors_raw(h, data);
  const auto f = SafetensorsFile::from_memory(bytes, "o");
  REQUIRE(f.tensors().size() == 2);
  CHECK(f.tensors()[0].name == "second");
  CHECK(f.tensors()[0].bytes()[0] == 3);
  CHECK(f.find("first")->bytes()[1] == 2);
}

TEST_CASE("every dtype name of the format is recognised") {
  for (std::string_view n : {"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16", "U16", "F16", "BF16", "I32",
                             "U32", "F32", "F64", "I64", "U64", "C64", "F4", "F6_E2M3", "F6_E3M2"}) {
    const auto d = slm::safetensors::dtype_from_name(n);
    REQUIRE(d);
    CHECK(slm::safetensors::dtype_name(*d) == n);
  }
  CHECK_FALSE(slm::safetensors::dtype_from_name("f32"));  // names are case-sensitive in the format
  CHECK(slm::safetensors::dtype_bits(slm::safetensors::Dtype::F4) == 4);
  CHECK(slm::safetensors::dtype_bits(slm::safetensors::Dtype::BF16) == 16);
}

// ---- broken files: each with its own error --------------------------------------------------------

TEST_CASE("truncated files and impossible header lengths") {
  SUBCASE("shorter than the length field") {
    const std::vector<uint8_t> five = {1, 0, 0, 0, 0};
    const Error e = parse_error(five);
    CHECK(e.kind() == ErrorKind::format);
    CHECK(e.where() == "t.safetensors: offset 0");
    CHECK(e.detail().find("too short") != std::string::npos);
  }
  SUBCASE("header length past the end") {
    auto bytes = slm::test::safetensors_file({f32_tensor("w", {2})});
    bytes[0] = static_cast<uint8_t>(bytes.size());  // N = whole file: 8 bytes too many
    bytes[1] = 0;
    const Error e = parse_error(bytes);
    CHECK(e.where() == "t.safetensors: offset 0");
    CHECK(e.detail().find("runs past the end of the file") != std::string::npos);
  }
  SUBCASE("header length above the cap") {
    std::vector<uint8_t> bytes = {0, 0, 0, 0, 1, 0, 0, 0, '{', '}'};  // N = 2^32
    const Error e = parse_error(bytes);
    CHECK(e.detail().find("exceeds the limit of 100000000") != std::string::npos);
  }
  SUBCASE("data cut short") {
    auto bytes = slm::test::safetensors_file({f32_tensor("a", {2}), f32_tensor("b", {4})});
    bytes.resize(bytes.size() - 3);
    const Error e = parse_error(bytes);
    CHECK(e.where() == "t.safetensors: header field b.data_offsets");
    CHECK(e.detail().find("past the end of the data buffer") != std::string::npos);
  }
}

TEST_CASE("malformed JSON headers") {
  SUBCASE("syntax error, with its file offset") {
    const std::string h = R"({"w": {"dtype": "F32",, "shape": [1]}})";
    const Error e = parse_error(h);
    CHECK(e.kind() == ErrorKind::format);
    // 8 bytes of length, then the second ',' at index 21 of the header
    CHECK(e.where() == "t.safetensors: offset " + std::to_string(8 + h.find(",,") + 1));
    CHECK(e.detail().find("malformed JSON") != std::string::npos);
  }
  SUBCASE("not an object") {
    const Error e = parse_error("[1, 2]");
    CHECK(e.where() == "t.safetensors: offset 8");
    CHECK(e.detail().find("not a JSON object") != std::string::npos);
  }
  SUBCASE("invalid UTF-8 in a name") {
    const Error e = parse_error("{\"w\xff\": {}}");
    CHECK(e.detail().find("malformed JSON") != std::string::npos);
  }
  SUBCASE("garbage after the object") {
    const Error e = parse_error(R"({} x)");
    CHECK(e.detail().find("malformed JSON") != std::string::npos);
  }
  SUBCASE("nesting bomb") {
    const std::string h = R"({"w": {"dtype": "F32", "extra": )" + std::string(100, '[') + std::string(100, ']') + "}}";
    const Error e = parse_error(h);
    CHECK(e.where().starts_with("t.safetensors: header field w.extra"));
    CHECK(e.detail().find("nested deeper") != std::string::npos);
  }
  SUBCASE("duplicate tensor names") {
    const Error e = parse_error(R"({"w": {"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                R"( "w": {"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                std::vector<uint8_t>{1, 2});
    CHECK(e.where() == "t.safetensors: header field w");
    CHECK(e.detail().find("duplicate key") != std::string::npos);
  }
  SUBCASE("duplicate field within a tensor") {
    const Error e = parse_error(R"({"w": {"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}})",
                                std::vector<uint8_t>{1});
    CHECK(e.where() == "t.safetensors: header field w.dtype");
    CHECK(e.detail().find("duplicate key") != std::string::npos);
  }
}

TEST_CASE("missing fields and wrong JSON types name the field") {
  struct Case {
    std::string header, where, detail;
  };
  const std::vector<Case> cases = {
      {R"({"w": {"shape":[1],"data_offsets":[0,4]}})", "w.dtype", "missing"},
      {R"({"w": {"dtype":"F32","data_offsets":[0,4]}})", "w.shape", "missing"},
      {R"({"w": {"dtype":"F32","shape":[1]}})", "w.data_offsets", "missing"},
      {R"({"w": [1, 2]})", "w", "expected an object"},
      {R"({"w": {"dtype":32,"shape":[1],"data_offsets":[0,4]}})", "w.dtype", "expected a string, got number"},
      {R"({"w": {"dtype":"F32","shape":"1","data_offsets":[0,4]}})", "w.shape", "expected an array"},
      {R"({"w": {"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "w.shape[0]", "non-negative integer, got -1"},
      {R"({"w": {"dtype":"F32","shape":[1, 1.5],"data_offsets":[0,4]}})", "w.shape[1]", "non-negative integer"},
      {R"({"w": {"dtype":"F32","shape":[1],"data_offsets":[0]}})", "w.data_offsets", "expected [begin, end]"},
      {R"({"w": {"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}})", "w.data_offsets", "expected [begin, end]"},
      {R"({"w": {"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", "w.data_offsets", "expected [begin, end]"},
      {R"({"__metadata__": {"format": 1}})", "__metadata__.format", "expected a string, got number"},
      {R"({"__metadata__": ["pt"]})", "__metadata__", "expected an object of string values"},
  };
  const auto data = zeros(4);
  for (const auto& c : cases) {
    CAPTURE(c.header);
    const Error e = parse_error(c.header, data);
    CHECK(e.kind() == ErrorKind::format);
    CHECK(e.where() == "t.safetensors: header field " + c.where);
    CHECK(e.detail().find(c.detail) != std::string::npos);
  }
}

TEST_CASE("dtype, shape and offset rules") {
  SUBCASE("unknown dtype") {
    const Error e = parse_error(R"({"w": {"dtype":"F128","shape":[1],"data_offsets":[0,16]}})", zeros(16));
    CHECK(e.where() == "t.safetensors: header field w.dtype");
    CHECK(e.detail() == "unknown dtype \"F128\"");
  }
  SUBCASE("element count overflows") {
    const Error e =
        parse_error(R"({"w": {"dtype":"U8","shape":[4294967296, 4294967296, 2],"data_offsets":[0,0]}})");
    CHECK(e.where() == "t.safetensors: header field w.shape");
    CHECK(e.detail().find("overflows 64 bits") != std::string::npos);
  }
  SUBCASE("byte size overflows") {
    const Error e = parse_error(R"({"w": {"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})");
    CHECK(e.where() == "t.safetensors: header field w.shape");
    CHECK(e.detail().find("byte size") != std::string::npos);
  }
  SUBCASE("a zero dimension makes any shape empty") {
    const auto bytes = slm::test::safetensors_raw(
        R"({"w": {"dtype":"F32","shape":[4294967296, 4294967296, 0],"data_offsets":[0,0]}})", {});
    CHECK(SafetensorsFile::from_memory(bytes, "z").tensors()[0].n_elements == 0);
  }
  SUBCASE("sub-byte elements must fill whole bytes") {
    const Error e = parse_error(R"({"w": {"dtype":"F4","shape":[3],"data_offsets":[0,2]}})", zeros(2));
    CHECK(e.where() == "t.safetensors: header field w.shape");
    CHECK(e.detail().find("do not fill whole bytes") != std::string::npos);
  }
  SUBCASE("size mismatch") {
    const Error e = parse_error(R"({"w": {"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", zeros(8));
    CHECK(e.where() == "t.safetensors: header field w.data_offsets");
    CHECK(e.detail() == "spans 8 bytes but F32 [3] needs 12");
  }
  SUBCASE("begin after end") {
    const Error e = parse_error(R"({"w": {"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", zeros(4));
    CHECK(e.where() == "t.safetensors: header field w.data_offsets");
    CHECK(e.detail() == "begin 4 is after end 0");
  }
  SUBCASE("offsets past the end") {
    const Error e = parse_error(R"({"w": {"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", zeros(8));
    CHECK(e.where() == "t.safetensors: header field w.data_offsets");
    CHECK(e.detail() == "end 16 is past the end of the data buffer (8 bytes)");
  }
  SUBCASE("overlapping tensors") {
    const Error e = parse_error(R"({"a": {"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                R"("b": {"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                zeros(12));
    CHECK(e.where() == "t.safetensors: header field b.data_offsets");
    CHECK(e.detail() == "[4, 12) overlaps tensor a [0, 8)");
  }
  SUBCASE("two tensors on the same bytes") {
    const Error e = parse_error(R"({"a": {"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                R"("b": {"dtype":"U8","shape":[4],"data_offsets":[0,4]}})",
                                zeros(4));
    CHECK(e.detail().find("overlaps tensor") != std::string::npos);
  }
  SUBCASE("gap between tensors") {
    const Error e = parse_error(R"({"a": {"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                R"("b": {"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                                zeros(12));
    CHECK(e.where() == "t.safetensors: header field b.data_offsets");
    CHECK(e.detail() == "starts at 8, leaving a gap of 4 bytes after tensor a");
  }
  SUBCASE("gap at the start") {
    const Error e = parse_error(R"({"a": {"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", zeros(8));
    CHECK(e.detail() == "starts at 4, leaving a gap of 4 bytes at the start of the data buffer");
  }
  SUBCASE("bytes after the last tensor") {
    const std::string h = R"({"a": {"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
    const auto bytes = slm::test::safetensors_raw(h, zeros(6));
    const Error e = parse_error(bytes);
    const uint64_t n = bytes.size() - 8 - 6;
    CHECK(e.where() == "t.safetensors: offset " + std::to_string(8 + n + 4));
    CHECK(e.detail() == "2 bytes at the end of the data buffer belong to no tensor");
  }
}

TEST_CASE("open() maps a file and reports a missing one as io") {
  TempDir tmp;
  const auto bytes = slm::test::safetensors_file({f32_tensor("w", {4, 2})});
  tmp.write("m.safetensors", bytes);
  const auto f = SafetensorsFile::open(tmp.path / "m.safetensors");
  CHECK(f.name() == (tmp.path / "m.safetensors").string());
  CHECK(f.find("w")->shape == std::vector<uint64_t>{4, 2});
  const Error e = error_of([&] { (void)SafetensorsFile::open(tmp.path / "nope.safetensors"); });
  CHECK(e.kind() == ErrorKind::io);
  tmp.write("bad.safetensors", std::string_view("\x03\0\0\0\0\0\0\0{}", 10));
  const Error b = error_of([&] { (void)SafetensorsFile::open(tmp.path / "bad.safetensors"); });
  CHECK(b.where() == (tmp.path / "bad.safetensors").string() + ": offset 0");
}

// ---- folders ----------------------------------------------------------------------------------

namespace {

const std::string kConfig = R"({"architectures": ["LlamaForCausalLM"]})";

// Two shards: a.safetensors holds x and y, b.safetensors holds z.
void write_two_shards(const TempDir& d) {
  d.write("config.json", kConfig);
  d.write("a.safetensors", slm::test::safetensors_file({f32_tensor("x", {2}), f32_tensor("y", {3})}));
  d.write("b.safetensors", slm::test::safetensors_file({f32_tensor("z", {1})}));
}

Error folder_error(const TempDir& d, const std::string& index) {
  d.write("model.safetensors.index.json", index);
  return error_of([&] { (void)HfFolder::open(d.path); });
}

std::string index_where(const TempDir& d) { return (d.path / "model.safetensors.index.json").string(); }

}  // namespace

TEST_CASE("a folder with a single model.safetensors") {
  TempDir d;
  d.write("config.json", kConfig);
  d.write("model.safetensors", slm::test::safetensors_file({f32_tensor("x", {2}), f32_tensor("y", {3})}));
  const HfFolder hf = HfFolder::open(d.path);
  CHECK_FALSE(hf.sharded());
  REQUIRE(hf.tensors().size() == 2);
  CHECK(hf.tensors()[0].tensor->name == "x");
  CHECK(hf.find("y")->file == &hf.shards()[0]);
  CHECK_FALSE(hf.tokenizer_path());
  d.write("tokenizer.json", "{}");
  CHECK(HfFolder::open(d.path).tokenizer_path() == d.path / "tokenizer.json");
}

TEST_CASE("a sharded folder: each shard opened once, each tensor where the index says") {
  TempDir d;
  write_two_shards(d);
  d.write("model.safetensors.index.json",
          R"({"metadata": {"total_size": 24, "note": "n"}, "weight_map": {"z": "b.safetensors", "x": "a.safetensors", "y": "a.safetensors"}})");
  const HfFolder hf = HfFolder::open(d.path);
  CHECK(hf.sharded());
  REQUIRE(hf.shards().size() == 2);
  CHECK(fs::path(hf.shards()[0].name()).filename() == "b.safetensors");  // order of first mention
  REQUIRE(hf.tensors().size() == 3);
  CHECK(fs::path(hf.find("x")->file->name()).filename() == "a.safetensors");
  CHECK(hf.find("z")->tensor->shape == std::vector<uint64_t>{1});
  REQUIRE(hf.index_metadata().size() == 2);
  CHECK(hf.index_metadata()[0] == std::pair<std::string, std::string>{"total_size", "24"});
  CHECK(hf.index_metadata()[1] == std::pair<std::string, std::string>{"note", "n"});
}

TEST_CASE("a broken index is rejected with the field it breaks") {
  TempDir d;
  write_two_shards(d);
  SUBCASE("a missing shard") {
    const Error e = folder_error(d, R"({"weight_map": {"x": "a.safetensors", "y": "a.safetensors", "z": "c.safetensors"}})");
    CHECK(e.kind() == ErrorKind::io);
    CHECK(e.where() == index_where(d) + ": field weight_map.z");
    CHECK(e.detail().find("c.safetensors does not exist") != std::string::npos);
  }
  for (const std::string escape : {"../a.safetensors", "/etc/passwd", "sub/a.safetensors", "..", ".", "", "a\\\\b"}) {
    CAPTURE(escape);
    const Error e = folder_error(d, R"({"weight_map": {"x": ")" + escape + R"("}})");
    CHECK(e.kind() == ErrorKind::format);
    CHECK(e.where() == index_where(d) + ": field weight_map.x");
    CHECK(e.detail().find("not a plain file name") != std::string::npos);
  }
  SUBCASE("a tensor not in the shard named") {
    const Error e = folder_error(d, R"({"weight_map": {"x": "a.safetensors", "y": "a.safetensors", "z": "a.safetensors"}})");
    CHECK(e.where() == index_where(d) + ": field weight_map.z");
    CHECK(e.detail() == "tensor not found in shard a.safetensors");
  }
  SUBCASE("a shard tensor the index does not list") {
    const Error e = folder_error(d, R"({"weight_map": {"x": "a.safetensors", "z": "b.safetensors"}})");
    CHECK(e.where() == index_where(d) + ": field weight_map");
    CHECK(e.detail() == "tensor y of shard a.safetensors is not listed");
  }
  SUBCASE("a tensor in two shards") {
    d.write("b.safetensors", slm::test::safetensors_file({f32_tensor("z", {1}), f32_tensor("y", {3})}));
    const Error e = folder_error(d, R"({"weight_map": {"x": "a.safetensors", "y": "a.safetensors", "z": "b.safetensors"}})");
    CHECK(e.where() == index_where(d) + ": field weight_map.y");
    CHECK(e.detail().find("also in shard b.safetensors") != std::string::npos);
  }
  SUBCASE("a tensor listed twice") {
    const Error e = folder_error(d, R"({"weight_map": {"x": "a.safetensors", "x": "b.safetensors"}})");
    CHECK(e.where() == index_where(d) + ": field weight_map.x");
    CHECK(e.detail().find("duplicate key") != std::string::npos);
  }
  SUBCASE("no weight_map, or not an object, or a non-string shard") {
    CHECK(folder_error(d, R"({"metadata": {}})").where() == index_where(d) + ": field weight_map");
    CHECK(folder_error(d, R"({"weight_map": ["a.safetensors"]})").detail().find("expected an object") !=
          std::string::npos);
    CHECK(folder_error(d, R"({"weight_map": {}})").detail() == "lists no tensors");
    const Error e = folder_error(d, R"({"weight_map": {"x": 1}})");
    CHECK(e.where() == index_where(d) + ": field weight_map.x");
    CHECK(e.detail().find("expected a shard file name") != std::string::npos);
  }
  SUBCASE("malformed index JSON") {
    const Error e = folder_error(d, R"({"weight_map": {"x": "a.safetensors",}})");
    CHECK(e.where().starts_with(index_where(d) + ": offset "));
  }
  SUBCASE("a broken shard reports its own file") {
    d.write("a.safetensors", std::string_view("\xff\xff\0\0\0\0\0\0", 8));
    const Error e = folder_error(d, R"({"weight_map": {"x": "a.safetensors"}})");
    CHECK(e.where() == (d.path / "a.safetensors").string() + ": offset 0");
  }
}

TEST_CASE("a folder without config.json or without weights") {
  TempDir d;
  CHECK(error_of([&] { (void)HfFolder::open(d.path / "missing"); }).kind() == ErrorKind::io);
  const Error no_config = error_of([&] { (void)HfFolder::open(d.path); });
  CHECK(no_config.kind() == ErrorKind::io);
  CHECK(no_config.where() == (d.path / "config.json").string());
  d.write("config.json", kConfig);
  const Error no_weights = error_of([&] { (void)HfFolder::open(d.path); });
  CHECK(no_weights.kind() == ErrorKind::io);
  CHECK(no_weights.detail().find("neither model.safetensors nor") != std::string::npos);
}

TEST_CASE("plain file names") {
  CHECK(slm::is_plain_file_name("model-00001-of-00002.safetensors"));
  CHECK(slm::is_plain_file_name("..x"));
  CHECK_FALSE(slm::is_plain_file_name("../x"));
  CHECK_FALSE(slm::is_plain_file_name("/x"));
  CHECK_FALSE(slm::is_plain_file_name(".."));
  CHECK_FALSE(slm::is_plain_file_name(std::string_view("a\0b", 3)));
}

TEST_CASE("the fuzz seeds are valid files") {
  TempDir d;
  const int n = slm::test::write_safetensors_seeds(d.path / "seeds");
  CHECK(n == 4);
  int opened = 0;
  for (const auto& e : fs::directory_iterator(d.path / "seeds")) {
    CAPTURE(e.path().string());
    const auto f = SafetensorsFile::open(e.path());
    if (e.path().filename() == "every_dtype.safetensors") CHECK(f.tensors().size() == 20);
    ++opened;
  }
  CHECK(opened == n);
}
