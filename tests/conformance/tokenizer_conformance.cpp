// Tokenizer conformance: every NAME.gguf in DIR that has NAME.gguf.inp and NAME.gguf.out beside it
// (llama.cpp's models/ggml-vocab-*.gguf test vectors). The .inp texts are separated by lines
// "__ggml_vocab_test__"; each .out line holds the ids of one text, space-separated. Texts are
// encoded as llama.cpp's test-tokenizer-0 does: no BOS/EOS, special-token texts as plain text.
//
// Usage: tokenizer_conformance DIR. Exit 0 when every text matches, 1 on any mismatch or load
// failure, 77 (skipped) when DIR does not exist.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "slm/error.h"
#include "src/text/tokenizer.h"
#include "tests/support/printable.h"

namespace fs = std::filesystem;

namespace {

using slm::test::escaped;
using slm::test::joined;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Split exactly as test-tokenizer-0 does: on "\n__ggml_vocab_test__\n"; text after the last
// separator is one more test only when non-empty.
std::vector<std::string> split_texts(const std::string& raw) {
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  size_t pos = 0;
  while (pos < raw.size()) {
    const size_t next = raw.find(sep, pos);
    if (next == std::string::npos) {
      texts.push_back(raw.substr(pos));
      break;
    }
    texts.push_back(raw.substr(pos, next - pos));
    pos = next + sep.size();
  }
  return texts;
}

std::vector<std::vector<int32_t>> read_ids(const fs::path& p) {
  std::vector<std::vector<int32_t>> all;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) {
    std::istringstream ss(line);
    std::vector<int32_t> ids;
    for (long long id; ss >> id;) ids.push_back(static_cast<int32_t>(id));
    all.push_back(std::move(ids));
  }
  return all;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    std::printf("skipped: %s does not exist\n", dir.string().c_str());
    return 77;
  }
  std::vector<fs::path> vocabs;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".gguf" && fs::exists(entry.path().string() + ".inp") &&
        fs::exists(entry.path().string() + ".out"))
      vocabs.push_back(entry.path());
  std::sort(vocabs.begin(), vocabs.end());
  if (vocabs.empty()) {
    std::printf("FAIL: no NAME.gguf with .inp and .out in %s\n", dir.string().c_str());
    return 1;
  }

  bool ok = true;
  size_t total = 0, matched = 0;
  for (const fs::path& path : vocabs) {
    const std::string name = path.filename().string();
    const auto texts = split_texts(read_all(path.string() + ".inp"));
    const auto expected = read_ids(path.string() + ".out");
    if (texts.size() != expected.size()) {
      std::printf("FAIL %s: %zu texts but %zu lines of ids\n", name.c_str(), texts.size(), expected.size());
      ok = false;
      continue;
    }
    try {
      const auto file = slm::gguf::GgufFile::open(path);
      const auto tok = slm::Tokenizer::from_gguf(file);
      size_t good = 0, shown = 0;
      for (size_t i = 0; i < texts.size(); ++i) {
        const auto got = tok.encode(texts[i], {.add_bos = false, .add_eos = false, .parse_special = false});
        if (got == expected[i]) {
          ++good;
          continue;
        }
        if (shown++ < 5)
          std::printf("  %s text %zu '%s'\n    expected: %s\n    got:      %s\n", name.c_str(), i,
                      escaped(texts[i]).c_str(), joined(expected[i]).c_str(), joined(got).c_str());
      }
      std::printf("%s %s: %zu/%zu texts match\n", good == texts.size() ? "ok  " : "FAIL", name.c_str(), good,
                  texts.size());
      ok = ok && good == texts.size();
      total += texts.size();
      matched += good;
    } catch (const std::exception& e) {
      std::printf("FAIL %s: %s\n", name.c_str(), e.what());
      ok = false;
    }
  }
  std::printf("%zu vocabularies, %zu/%zu texts match\n", vocabs.size(), matched, total);
  return ok ? 0 : 1;
}
