#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "formats/ollama.h"
#include "slm/error.h"

namespace fs = std::filesystem;

TEST_CASE("ollama names parse with defaults and reject path tricks") {
  auto n = slm::ollama::parse_name("qwen3:4b");
  REQUIRE(n);
  CHECK(n->registry == "registry.ollama.ai");
  CHECK(n->ns == "library");
  CHECK(n->model == "qwen3");
  CHECK(n->tag == "4b");
  auto m = slm::ollama::parse_name("me/llama3.2");
  REQUIRE(m);
  CHECK(m->ns == "me");
  CHECK(m->tag == "latest");
  CHECK_FALSE(slm::ollama::parse_name("../x:1"));
  CHECK_FALSE(slm::ollama::parse_name("a/b/c/d"));
  CHECK_FALSE(slm::ollama::parse_name(""));
}

TEST_CASE("a store's manifest resolves to its model blob") {
  const fs::path root = fs::temp_directory_path() / "slm-ollama-test";
  fs::remove_all(root);
  const std::string hex(64, 'a');
  fs::create_directories(root / "manifests/registry.ollama.ai/library/tiny");
  fs::create_directories(root / "blobs");
  std::ofstream(root / "manifests/registry.ollama.ai/library/tiny/1b")
      << R"({"layers":[{"mediaType":"application/vnd.ollama.image.license","digest":"sha256:)" << std::string(64, 'b')
      << R"("},{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:)" << hex << R"("}]})";
  std::ofstream(root / ("blobs/sha256-" + hex)) << "GGUF";
  auto p = slm::ollama::resolve(*slm::ollama::parse_name("tiny:1b"), {root});
  REQUIRE(p);
  CHECK(p->filename() == "sha256-" + hex);
  CHECK_FALSE(slm::ollama::resolve(*slm::ollama::parse_name("tiny:2b"), {root}));

  std::ofstream(root / "manifests/registry.ollama.ai/library/tiny/bad") << R"({"layers":[{"mediaType":"application/vnd.ollama.image.model","digest":"md5:1"}]})";
  CHECK_THROWS_AS(slm::ollama::resolve(*slm::ollama::parse_name("tiny:bad"), {root}), slm::Error);
  fs::remove_all(root);
}
