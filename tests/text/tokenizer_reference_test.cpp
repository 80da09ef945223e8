// Token ids against llama.cpp's reference outputs (../shared/reference/*.jsonl): for each prompt,
// encode(prompt, add_bos as the model says, parse_special) must give exactly `tokens`. References
// whose `model` is a Hugging Face folder check the tokenizer.json path against the same ids.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "src/text/unicode.h"
#include "tests/text/tokenizer_test_util.h"

namespace fs = std::filesystem;

TEST_CASE("reference prompts tokenize to llama.cpp's ids, GGUF and Hugging Face vocabularies") {
  auto dir = SLM_REQUIRE_SHARED("reference");
  if (!dir) return;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(*dir))
    if (e.path().extension() == ".jsonl") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  REQUIRE(!files.empty());

  int checked = 0, from_hf = 0;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    int line_no = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      if (line.empty()) continue;
      // Some generated `expect` texts end inside a UTF-8 character; only prompt and tokens matter.
      const auto j = nlohmann::json::parse(slm::text::utf8_sanitize(line));
      const std::string model = j.at("model").get<std::string>();
      const auto tok = slm::test::shared_tokenizer("models/" + model);
      if (!tok) continue;
      const std::string prompt = j.at("prompt").get<std::string>();
      const auto expected = j.at("tokens").get<std::vector<int32_t>>();
      const auto got = tok->encode(prompt, {.add_bos = tok->add_bos(), .parse_special = true});
      INFO(file.filename().string(), " line ", line_no, " prompt '", slm::test::escape_text(prompt), "'");
      INFO("expected ", slm::test::ids_text(expected));
      INFO("got      ", slm::test::ids_text(got));
      CHECK(got == expected);
      ++checked;
      if (!model.ends_with(".gguf")) ++from_hf;
    }
  }
  MESSAGE(checked << " reference prompts checked (" << from_hf << " through tokenizer.json)");
  CHECK(checked > 50);
  CHECK(from_hf > 0);
}
