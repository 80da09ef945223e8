// slm run MODEL -p PROMPT: generate a continuation. Only the continuation goes to stdout;
// statistics go to stderr.
#include <cstdio>
#include <iostream>
#include <random>

#include "examples/slm/command.h"
#include "examples/slm/model_arg.h"
#include "slm/slm.h"

namespace {

struct RunArgs {
  std::string model;
  std::string prompt;
  std::string prompt_file;
  int32_t n_predict = 128;
  float temp = 0.8f;
  int64_t seed = -1;
  int32_t top_k = 40;
  float top_p = 0.95f;
  float min_p = 0.05f;
  float repeat_penalty = 1.0f;
  int32_t repeat_last_n = 64;
  int32_t threads = 0;
  int32_t ctx = 0;
  int32_t batch = 256;
  bool special = false;
  bool no_bos = false;
  bool ignore_eos = false;
  bool quiet = false;
  bool huge_pages = false;
  std::vector<std::string> stop;
};

int run(const RunArgs& a) {
  slm::Model model = slm::Model::load(slm::cli::resolve_model(a.model), {.huge_pages = a.huge_pages});
  std::string prompt = a.prompt;
  if (!a.prompt_file.empty()) prompt = slm::cli::read_file(a.prompt_file);
  slm::TokenizeOptions t;
  t.add_bos = !a.no_bos;
  t.parse_special = a.special;
  const std::vector<int32_t> tokens = model.tokenize(prompt, t);

  slm::SessionOptions so;
  so.context_size = a.ctx;
  so.n_threads = a.threads;
  so.batch_size = a.batch;
  slm::Session session(model, so);
  session.prompt(tokens);

  slm::GenerateOptions g;
  g.max_tokens = a.n_predict;
  g.stop = a.stop;
  g.stop_at_end_of_generation = !a.ignore_eos;
  g.sampling.temperature = a.temp;
  g.sampling.top_k = a.top_k;
  g.sampling.top_p = a.top_p;
  g.sampling.min_p = a.min_p;
  g.sampling.repeat_penalty = a.repeat_penalty;
  g.sampling.penalty_last_n = a.repeat_last_n;
  g.sampling.seed = a.seed >= 0 ? static_cast<uint64_t>(a.seed) : std::random_device{}();
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
  sub->add_option("--temp", a->temp, "Temperature; 0 is greedy (default 0.8)")->check(CLI::NonNegativeNumber);
  sub->add_option("--seed", a->seed, "Sampling seed (default: random)");
  sub->add_option("--top-k", a->top_k, "Top-k, 0 off (default 40)");
  sub->add_option("--top-p", a->top_p, "Top-p, 1 off (default 0.95)")->check(CLI::Range(0.0, 1.0));
  sub->add_option("--min-p", a->min_p, "Min-p, 0 off (default 0.05)")->check(CLI::Range(0.0, 1.0));
  sub->add_option("--repeat-penalty", a->repeat_penalty, "Repetition penalty, 1 off (default 1)")->check(CLI::PositiveNumber);
  sub->add_option("--repeat-last-n", a->repeat_last_n, "Tokens the penalty looks back at (default 64)");
  sub->add_option("--stop", a->stop, "Stop string (repeatable)");
  sub->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::NonNegativeNumber);
  sub->add_option("-c,--ctx", a->ctx, "Context size (default: model's, at most 4096)")->check(CLI::NonNegativeNumber);
  sub->add_option("-b,--batch", a->batch, "Prompt tokens per forward pass (default 256)")->check(CLI::PositiveNumber);
  sub->add_flag("--special", a->special, "Parse special-token text in the prompt (default: plain text)");
  sub->add_flag("--no-bos", a->no_bos, "Do not add BOS");
  sub->add_flag("--ignore-eos", a->ignore_eos, "Keep generating past end-of-generation tokens");
  sub->add_flag("-q,--quiet", a->quiet, "No statistics on stderr");
  sub->add_flag("--hugepages", a->huge_pages, "Read the weights into 2 MiB huge pages instead of using the file mapping (faster generation; copies the file)");
  return {sub, [a] { return run(*a); }};
}
