// `slm tokenize`, run as a user runs it. The binary's path comes from the build
// (SLM_CLI_BINARY, see tests/support/cli_run.h); without it the test is skipped.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/cli_run.h"
#include "tests/support/shared_data.h"

namespace {

using slm::test::sh_quote;

// stdout and stderr together.
slm::test::CliRun run(const std::string& args) {
  auto r = slm::test::run_slm("tokenize " + args);
  r.out += r.err;
  return r;
}

bool have_cli() { return slm::test::have_slm_cli(); }

}  // namespace

TEST_CASE("slm tokenize prints ids as JSON, with --bos and --special") {
  if (!have_cli()) return;
  auto vocab = SLM_REQUIRE_SHARED("tokenizer/ggml-vocab-llama-spm.gguf");
  if (!vocab) return;
  const std::string model = sh_quote(vocab->string());

  auto r = run(model + " -p 'Hello world' --json");
  CHECK(r.status == 0);
  CHECK(r.out == "[15043, 3186]\n");

  r = run(model + " -p 'Hello world' --bos --json");
  CHECK(r.status == 0);
  CHECK(r.out == "[1, 15043, 3186]\n");

  r = run(model + " -p '</s>' --special --json");
  CHECK(r.out == "[2]\n");
  r = run(model + " -p '</s>' --json");  // plain text without --special
  CHECK(r.status == 0);
  CHECK(r.out != "[2]\n");
  CHECK(r.out.find(" 2,") == std::string::npos);

  r = run(model + " -p '' --json");
  CHECK(r.out == "[]\n");
}

TEST_CASE("slm tokenize lists id and escaped piece per line") {
  if (!have_cli()) return;
  auto vocab = SLM_REQUIRE_SHARED("tokenizer/ggml-vocab-llama-spm.gguf");
  if (!vocab) return;
  const auto r =
      run(sh_quote(vocab->string()) + " -p " + sh_quote("Hello\n\"x\" \xF0\x9F\xA6\x99") + " --bos");
  CHECK(r.status == 0);
  // BOS shown by name; a newline byte token and quotes escaped; the llama emoji comes as four
  // byte tokens, each half a character, written \xHH.
  CHECK(r.out.starts_with("1\t\"<s>\"\n15043\t\" Hello\"\n13\t\"\\n\"\n"));
  CHECK(r.out.find("\\\"") != std::string::npos);
  CHECK(r.out.find("\t\"\\xF0\"\n") != std::string::npos);
}

TEST_CASE("slm tokenize reads Hugging Face folders and files") {
  if (!have_cli()) return;
  auto folder = SLM_REQUIRE_SHARED("models/tiny-qwen3/tiny-qwen3-hf");
  if (!folder) return;
  auto r = run(sh_quote(folder->string()) + " -p 'Hello world' --json");
  CHECK(r.status == 0);
  CHECK(r.out == "[15496, 995]\n");

  const auto text_file = std::filesystem::temp_directory_path() / "slm-tokenize-cli-test.txt";
  std::ofstream(text_file) << "Once upon a time";
  r = run(sh_quote(folder->string()) + " -f " + sh_quote(text_file.string()) + " --json");
  std::filesystem::remove(text_file);
  CHECK(r.status == 0);
  CHECK(r.out == "[7454, 2402, 257, 640]\n");
}

TEST_CASE("slm tokenize fails cleanly on bad arguments") {
  if (!have_cli()) return;
  auto r = run("/no/such/model.gguf -p hi");
  CHECK(r.status == 1);
  CHECK(r.out.find("slm: error:") != std::string::npos);

  auto vocab = SLM_REQUIRE_SHARED("tokenizer/ggml-vocab-llama-spm.gguf");
  if (!vocab) return;
  r = run(sh_quote(vocab->string()));  // neither -p nor -f
  CHECK(r.status != 0);
  r = run(sh_quote(vocab->string()) + " -p a -f b");
  CHECK(r.status != 0);
  auto qwen = SLM_REQUIRE_SHARED("models/tiny-qwen3/tiny-qwen3-hf");
  if (!qwen) return;
  r = run(sh_quote(qwen->string()) + " -p a --bos");  // no BOS in this vocabulary
  CHECK(r.status == 1);
  CHECK(r.out.find("BOS") != std::string::npos);
}
