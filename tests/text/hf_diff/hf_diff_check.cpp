// Differential test, slm side: reads what generate.js wrote (text, Hugging Face's ids and decoded
// text per tokenizer folder), encodes each text with Tokenizer::from_hf(folder) and compares.
// Hugging Face matches added tokens in any input, so the texts are encoded with parse_special.
//
// Usage: hf_diff_check FILE.jsonl. Prints the count compared per folder and the first mismatches;
// exit 0 when everything matches, 1 otherwise.
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "src/text/tokenizer.h"
#include "tests/support/printable.h"

namespace {

using slm::test::escaped;
using slm::test::joined;

struct Tally {
  size_t texts = 0, ids_match = 0, decode_match = 0, shown = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FILE.jsonl\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", argv[1]);
    return 1;
  }
  std::map<std::string, slm::Tokenizer> tokenizers;
  std::map<std::string, Tally> tallies;
  bool ok = true;
  size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    try {
      const auto j = nlohmann::json::parse(line);
      const std::string folder = j.at("folder").get<std::string>();
      auto it = tokenizers.find(folder);
      if (it == tokenizers.end()) it = tokenizers.emplace(folder, slm::Tokenizer::from_hf(folder)).first;
      const slm::Tokenizer& tok = it->second;
      const std::string text = j.at("text").get<std::string>();
      const auto expected = j.at("ids").get<std::vector<int32_t>>();
      const std::string hf_decoded = j.at("decoded").get<std::string>();

      Tally& t = tallies[folder];
      ++t.texts;
      const auto got = tok.encode(text, {.add_bos = false, .add_eos = false, .parse_special = true});
      const std::string decoded = tok.decode(expected, /*show_special=*/true);
      const bool ids_ok = got == expected, decode_ok = decoded == hf_decoded;
      t.ids_match += ids_ok;
      t.decode_match += decode_ok;
      if ((!ids_ok || !decode_ok) && t.shown++ < 8) {
        std::printf("MISMATCH %s line %zu: '%s'\n", folder.c_str(), line_no, escaped(text).c_str());
        if (!ids_ok)
          std::printf("  hf ids:  %s\n  slm ids: %s\n", joined(expected).c_str(), joined(got).c_str());
        if (!decode_ok)
          std::printf("  hf decode:  '%s'\n  slm decode: '%s'\n", escaped(hf_decoded).c_str(),
                      escaped(decoded).c_str());
      }
      ok = ok && ids_ok && decode_ok;
    } catch (const std::exception& e) {
      std::printf("FAIL line %zu: %s\n", line_no, e.what());
      ok = false;
    }
  }
  size_t total = 0;
  for (const auto& [folder, t] : tallies) {
    std::printf("%s %s: %zu texts, ids equal for %zu, decoded text equal for %zu\n",
                t.ids_match == t.texts && t.decode_match == t.texts ? "ok  " : "FAIL", folder.c_str(),
                t.texts, t.ids_match, t.decode_match);
    total += t.texts;
  }
  if (total == 0) {
    std::printf("FAIL: no texts in %s\n", argv[1]);
    return 1;
  }
  std::printf("%zu texts compared against Hugging Face tokenizers: %s\n", total,
              ok ? "all equal" : "MISMATCHES");
  return ok ? 0 : 1;
}
