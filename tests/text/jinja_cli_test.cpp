// `slm template`, run as a user runs it: exact stdout bytes, exit status, and the template's own
// message on stderr when it calls raise_exception. The binary's path comes from the build
// (SLM_CLI_BINARY); without it the test is skipped.
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <sys/wait.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/gguf_writer.h"
#include "tests/support/cli_run.h"
#include "tests/support/shared_data.h"

namespace {

using Run = slm::test::CliRun;
using slm::test::sh_quote;

slm::test::CliRun run_template(const std::string& args) { return slm::test::run_slm("template " + args); }
bool have_cli() { return slm::test::have_slm_cli(); }

}  // namespace

TEST_CASE("slm template renders a template file over a context file, byte for byte") {
  if (!have_cli()) return;
  const slm::test::TempDir dir("jinja-cli");
  dir.write("t.jinja",
            "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
            "{% if add_generation_prompt %}[assistant]{% endif %}{{ strftime_now('%Y-%m-%d') }}");
  dir.write(
      "ctx.json",
      R"J({"messages": [{"role": "user", "content": "Ünïcödé\ttab"}], "bos_token": "<s>", "add_generation_prompt": true})J");
  const Run r = run_template("--template " + sh_quote((dir / "t.jinja").string()) + " --context " +
                             sh_quote((dir / "ctx.json").string()) + " --now 2026-07-26T09:30:00");
  CHECK(r.status == 0);
  CHECK(r.out == "<s>[user] Ünïcödé\ttab\n[assistant]2026-07-26");  // no newline added
  CHECK(r.err.empty());
}

TEST_CASE("slm template reproduces a conformance case and reports raise_exception") {
  if (!have_cli()) return;
  auto cases_path = SLM_REQUIRE_SHARED("templates/cases.jsonl");
  if (!cases_path) return;
  const slm::test::TempDir dir("jinja-cli");
  std::ifstream in(*cases_path);
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    const auto c = nlohmann::ordered_json::parse(line);
    const bool wanted = (c.at("template") == "meta-llama-Llama-3.2-3B-Instruct.jinja" && c.at("case") == "tool-call-and-result") ||
                        (c.at("template") == "google-gemma-2-2b-it.jinja" && c.at("case") == "system-user");
    if (!wanted) continue;
    nlohmann::ordered_json context = nlohmann::ordered_json::object();
    for (const auto& [key, value] : c.items())
      if (key != "template" && key != "case" && key != "now" && key != "text" && key != "error") context[key] = value;
    dir.write("case.json", context.dump());
    const Run r = run_template("--template " + sh_quote((cases_path->parent_path() / c.at("template").get<std::string>()).string()) +
                               " --context " + sh_quote((dir / "case.json").string()) + " --now " +
                               sh_quote(c.at("now").get<std::string>()));
    if (c.contains("error")) {
      CHECK(r.status == 1);
      CHECK(r.out.empty());
      CHECK(r.err == c.at("error").get<std::string>() + "\n");
    } else {
      CHECK(r.status == 0);
      CHECK(r.out == c.at("text").get<std::string>());
    }
    ++checked;
  }
  CHECK(checked == 2);
}

TEST_CASE("slm template: syntax errors and bad arguments exit 1 with a message") {
  if (!have_cli()) return;
  const slm::test::TempDir dir("jinja-cli");
  dir.write("bad.jinja", "line 1\n{% for x in %}");
  dir.write("ctx.json", R"J({"messages": []})J");
  const Run r = run_template("--template " + sh_quote((dir / "bad.jinja").string()) + " --context " +
                             sh_quote((dir / "ctx.json").string()));
  CHECK(r.status == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find("template line 2, column") != std::string::npos);

  const Run bad_time = run_template("--template " + sh_quote((dir / "bad.jinja").string()) + " --context " +
                                    sh_quote((dir / "ctx.json").string()) + " --now tomorrow");
  CHECK(bad_time.status == 1);
  CHECK(bad_time.err.find("tomorrow") != std::string::npos);
}

TEST_CASE("slm template MODEL reads a GGUF's tokenizer.chat_template and its bos/eos tokens") {
  if (!have_cli()) return;
  const slm::test::TempDir dir("jinja-cli");
  slm::gguf::GgufWriter writer;
  writer.set_string("general.architecture", "llama");
  writer.set_string("tokenizer.chat_template",
                    "{{ bos_token }}{% for m in messages %}{{ m.content }}{{ eos_token }}{% endfor %}");
  const std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  writer.set_array_string("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
  writer.set_u32("tokenizer.ggml.bos_token_id", 1);
  writer.set_u32("tokenizer.ggml.eos_token_id", 2);
  writer.write_file(dir / "model.gguf");
  dir.write("ctx.json",
            R"J({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]})J");

  const Run r = run_template(sh_quote((dir / "model.gguf").string()) + " --context " + sh_quote((dir / "ctx.json").string()));
  CHECK(r.status == 0);
  CHECK(r.out == "<s>a</s>b</s>");

  // Tokens in the context file win over the model's.
  dir.write("ctx2.json",
            R"J({"messages": [{"role": "user", "content": "a"}], "bos_token": "[B]", "eos_token": "[E]"})J");
  const Run r2 = run_template(sh_quote((dir / "model.gguf").string()) + " --context " + sh_quote((dir / "ctx2.json").string()));
  CHECK(r2.status == 0);
  CHECK(r2.out == "[B]a[E]");

  // A model without a template says so.
  slm::gguf::GgufWriter bare;
  bare.set_string("general.architecture", "llama");
  bare.write_file(dir / "bare.gguf");
  const Run r3 = run_template(sh_quote((dir / "bare.gguf").string()) + " --context " + sh_quote((dir / "ctx.json").string()));
  CHECK(r3.status == 1);
  CHECK(r3.err.find("no tokenizer.chat_template") != std::string::npos);
}
