// Every real GGUF file under ../shared opens, and reports the header facts and tensor table that
// ../shared/models/SOURCES.md lists for it (parsed here, so the expectations live in one place).
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "slm/error.h"
#include "tests/support/shared_data.h"

using namespace slm;
using namespace slm::gguf;

namespace {

struct ListedTensor {
  std::string name, type, shape;
  uint64_t offset = 0;
};

struct ListedFile {
  std::string path;  // relative to models/
  bool has_facts = false;
  uint64_t size = 0, version = 0, n_kv = 0, n_tensors = 0, data_offset = 0;
  std::string architecture;
  std::vector<ListedTensor> tensors;
};

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t`");
  const auto e = s.find_last_not_of(" \t`");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, const std::string& sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + sep.size())
    parts.push_back(s.substr(start, at - start));
  parts.push_back(s.substr(start));
  return parts;
}

// The number in `part` between `prefix` and `suffix` ("data at byte 768" with prefix "data at byte ").
bool number_between(const std::string& part, std::string_view prefix, std::string_view suffix,
                    uint64_t& out) {
  if (!part.starts_with(prefix) || !part.ends_with(suffix) || part.size() <= prefix.size() + suffix.size())
    return false;
  const std::string digits = part.substr(prefix.size(), part.size() - prefix.size() - suffix.size());
  if (digits.find_first_not_of("0123456789") != std::string::npos) return false;
  out = std::stoull(digits);
  return true;
}

// "sha256 `...`, N bytes, GGUF vV, architecture `A`, K metadata keys, T tensors, data at byte D"
bool parse_facts(const std::string& line, ListedFile& f) {
  if (!line.starts_with("sha256 `")) return false;
  const auto p = split(line, ", ");
  if (p.size() != 7 || !p[3].starts_with("architecture ")) return false;
  f.architecture = trim(p[3].substr(13));
  return number_between(p[1], "", " bytes", f.size) && number_between(p[2], "GGUF v", "", f.version) &&
         number_between(p[4], "", " metadata keys", f.n_kv) &&
         number_between(p[5], "", " tensors", f.n_tensors) &&
         number_between(p[6], "data at byte ", "", f.data_offset);
}

// The GGUF sections of SOURCES.md: "### dir/file.gguf", a facts line and a table
// "| tensor | type | shape (ne0, ne1, ...) | offset in data |".
std::vector<ListedFile> parse_sources(const std::string& text) {
  std::vector<ListedFile> files;
  ListedFile* current = nullptr;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("#", 0) == 0) {
      current = nullptr;
      if (line.rfind("### ", 0) == 0) {
        const std::string title = trim(line.substr(4));
        if (title.size() > 5 && title.ends_with(".gguf")) {
          current = &files.emplace_back();
          current->path = title;
        }
      }
      continue;
    }
    if (!current) continue;
    if (line.starts_with("sha256 `")) {
      current->has_facts = parse_facts(line, *current);
    } else if (line.rfind("| ", 0) == 0 && line.rfind("| tensor ", 0) != 0) {
      std::vector<std::string> cells;
      std::stringstream row(line.substr(1));
      std::string cell;
      while (std::getline(row, cell, '|')) cells.push_back(trim(cell));
      if (cells.size() >= 4 && !cells[3].empty())
        current->tensors.push_back(ListedTensor{cells[0], cells[1], cells[2], std::stoull(cells[3])});
    }
  }
  return files;
}

std::string shape_text(const std::vector<uint64_t>& shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s;
}

std::vector<std::string> gguf_files_under(const std::filesystem::path& root) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().extension() == ".gguf")
      out.push_back(std::filesystem::relative(e.path(), root).generic_string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("gguf real models: header facts and tensor tables equal SOURCES.md") {
  const auto sources = SLM_REQUIRE_SHARED("models/SOURCES.md");
  if (!sources) return;
  const auto models = sources->parent_path();
  const auto listed = parse_sources(slm::test::read_text_file(*sources));

  // Every .gguf in the folder is listed, and every listed one exists, so nothing is skipped quietly.
  std::vector<std::string> listed_paths;
  for (const auto& f : listed) listed_paths.push_back(f.path);
  std::sort(listed_paths.begin(), listed_paths.end());
  CHECK(listed_paths == gguf_files_under(models));
  REQUIRE(!listed.empty());

  for (const ListedFile& want : listed) {
    CAPTURE(want.path);
    REQUIRE(want.has_facts);
    const auto f = GgufFile::open(models / want.path);
    CHECK(f.file_size() == want.size);
    CHECK(f.version() == want.version);
    CHECK(f.metadata().size() == want.n_kv);
    CHECK(f.tensors().size() == want.n_tensors);
    CHECK(f.data_offset() == want.data_offset);
    CHECK(f.get<std::string_view>("general.architecture") == want.architecture);

    REQUIRE(want.tensors.size() == want.n_tensors);
    REQUIRE(f.tensors().size() == want.tensors.size());
    for (size_t i = 0; i < want.tensors.size(); ++i) {
      const TensorInfo& got = f.tensors()[i];
      const ListedTensor& row = want.tensors[i];
      CAPTURE(row.name);
      CHECK(got.name == row.name);
      CHECK(dtype_name(got.type) == row.type);
      CHECK(shape_text(got.shape) == row.shape);
      CHECK(got.offset == row.offset);
      CHECK(got.data + got.n_bytes <= f.file_bytes().data() + f.file_size());
    }
  }
}

TEST_CASE("gguf vocabulary files: no tensors, and the token counts the tokenizer README states") {
  const auto readme = SLM_REQUIRE_SHARED("tokenizer/README.md");
  if (!readme) return;
  const auto dir = readme->parent_path();
  // "| ggml-vocab-gpt-2.gguf | byte-level BPE, gpt2 pre-tokenizer, 50,257 tokens | ... |"
  std::map<std::string, uint64_t> expected;
  std::istringstream in(slm::test::read_text_file(*readme));
  for (std::string line; std::getline(in, line);) {
    const auto cells = split(line, " | ");
    if (cells.size() < 2 || !cells[0].starts_with("| ") || !cells[0].ends_with(".gguf")) continue;
    const size_t tokens_at = cells[1].find(" tokens");
    if (tokens_at == std::string::npos) continue;
    size_t start = tokens_at;
    while (start > 0 &&
           (std::isdigit(static_cast<unsigned char>(cells[1][start - 1])) || cells[1][start - 1] == ','))
      --start;
    std::string digits = cells[1].substr(start, tokens_at - start);
    digits.erase(std::remove(digits.begin(), digits.end(), ','), digits.end());
    if (!digits.empty()) expected[cells[0].substr(2)] = std::stoull(digits);
  }
  REQUIRE(!expected.empty());
  const auto files = gguf_files_under(dir);
  REQUIRE(!files.empty());
  for (const auto& name : files) {
    CAPTURE(name);
    const auto f = GgufFile::open(dir / name);
    CHECK(f.version() >= 2);
    CHECK(f.tensors().empty());
    const auto tokens = f.get_array<std::string_view>("tokenizer.ggml.tokens");
    REQUIRE(expected.count(name) == 1);
    CHECK(tokens.size() == expected[name]);
    if (f.has("tokenizer.ggml.scores"))
      CHECK(f.get_array<float>("tokenizer.ggml.scores").size() == tokens.size());
    if (f.has("tokenizer.ggml.token_type"))
      CHECK(f.get_array<int32_t>("tokenizer.ggml.token_type").size() == tokens.size());
    CHECK(!f.get<std::string_view>("tokenizer.ggml.model").empty());
  }
}
