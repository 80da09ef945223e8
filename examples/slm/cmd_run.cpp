// slm run MODEL -p PROMPT: generate a continuation. Only the continuation goes to stdout;
// statistics go to stderr.
#include <cstdio>
#include <iostream>

#include "examples/slm/command.h"
#include "examples/slm/generation_args.h"
#include "examples/slm/model_arg.h"
#include "slm/slm.h"

namespace {

struct RunArgs {
  std::string model;
  std::string prompt;
  std::string prompt_file;
  int32_t n_predict = 128;
  int32_t batch = 256;
  bool special = false;
  bool no_bos = false;
  bool ignore_eos = false;
  bool quiet = false;
  std::vector<std::string> stop;
  slm::cli::GenerationArgs gen;
};

int run(const RunArgs& a) {
  slm::Model model = slm::Model::load(slm::cli::resolve_model(a.model), a.gen.load());
  std::string prompt = a.prompt;
  if (!a.prompt_file.empty()) prompt = slm::cli::read_file(a.prompt_file);
  slm::TokenizeOptions t;
  t.add_bos = !a.no_bos;
  t.parse_special = a.special;
  const std::vector<int32_t> tokens = model.tokenize(prompt, t);

  slm::SessionOptions so = a.gen.session();
  so.batch_size = a.batch;
  slm::Session session(model, so);
  session.prompt(tokens);

  slm::GenerateOptions g;
  g.max_tokens = a.n_predict;
  g.stop = a.stop;
  g.stop_at_end_of_generation = !a.ignore_eos;
  g.sampling = a.gen.sampling();
  const slm::GenerateResult r = session.generate(g, [](std::string_view piece, int32_t) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  std::fputc('\n', stdout);
  if (!a.quiet) {
    const auto& tm = r.timings;
    std::fprintf(stderr, "\nslm: prompt %d tokens in %.3f s (%.1f tok/s), generated %d tokens in %.3f s (%.1f tok/s)\n",
                 tm.prompt_tokens, tm.prompt_seconds, tm.prompt_seconds > 0 ? tm.prompt_tokens / tm.prompt_seconds : 0.0,
                 tm.generated_tokens, tm.generate_seconds,
                 tm.generate_seconds > 0 ? tm.generated_tokens / tm.generate_seconds : 0.0);
  }
  return 0;
}

}  // namespace

SLM_COMMAND(run) {
  auto* sub = app.add_subcommand("run", "Generate a continuation of a prompt");
  auto a = std::make_shared<RunArgs>();
  sub->add_option("MODEL", a->model, "GGUF file, or a model name of a local Ollama store (qwen3:4b)")->required();
  auto* p = sub->add_option("-p,--prompt", a->prompt, "Prompt text");
  auto* f = sub->add_option("-f,--file", a->prompt_file, "Read the prompt from a file");
  p->excludes(f);
  sub->add_option("-n,--n-predict", a->n_predict, "Tokens to generate (default 128)")->check(CLI::NonNegativeNumber);
  a->gen.add_to(sub);
  sub->add_option("--stop", a->stop, "Stop string (repeatable)");
  sub->add_option("-b,--batch", a->batch, "Prompt tokens per forward pass (default 256)")->check(CLI::PositiveNumber);
  sub->add_flag("--special", a->special, "Parse special-token text in the prompt (default: plain text)");
  sub->add_flag("--no-bos", a->no_bos, "Do not add BOS");
  sub->add_flag("--ignore-eos", a->ignore_eos, "Keep generating past end-of-generation tokens");
  sub->add_flag("-q,--quiet", a->quiet, "No statistics on stderr");
  return {sub, [a] { return run(*a); }};
}
