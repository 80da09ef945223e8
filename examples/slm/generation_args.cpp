#include "examples/slm/generation_args.h"

#include <random>

namespace slm::cli {

void GenerationArgs::add_to(CLI::App* sub) {
  sub->add_option("--temp", temp, "Temperature; 0 is greedy (default 0.8)")->check(CLI::NonNegativeNumber);
  sub->add_option("--seed", seed, "Sampling seed (default: random)");
  sub->add_option("--top-k", top_k, "Top-k, 0 off (default 40)");
  sub->add_option("--top-p", top_p, "Top-p, 1 off (default 0.95)")->check(CLI::Range(0.0, 1.0));
  sub->add_option("--min-p", min_p, "Min-p, 0 off (default 0.05)")->check(CLI::Range(0.0, 1.0));
  sub->add_option("--repeat-penalty", repeat_penalty, "Repetition penalty, 1 off (default 1)")->check(CLI::PositiveNumber);
  sub->add_option("--repeat-last-n", repeat_last_n, "Tokens the penalty looks back at (default 64)");
  sub->add_option("-t,--threads", threads, "Threads (default: all cores)")->check(CLI::NonNegativeNumber);
  sub->add_option("-c,--ctx", ctx, "Context size (default: model's, at most 4096)")->check(CLI::NonNegativeNumber);
  sub->add_flag("--hugepages", huge_pages,
                "Read the weights into 2 MiB huge pages instead of using the file mapping (faster generation; copies the file)");
  sub->add_flag("--f32-attention", f32_attention,
                "Attention arithmetic in F32 throughout instead of llama.cpp's F16 flash-attention steps "
                "(slightly more accurate, and faster after long contexts; not llama.cpp's bits)");
}

SamplerOptions GenerationArgs::sampling() const {
  SamplerOptions s;
  s.temperature = temp;
  s.top_k = top_k;
  s.top_p = top_p;
  s.min_p = min_p;
  s.repeat_penalty = repeat_penalty;
  s.penalty_last_n = repeat_last_n;
  s.seed = seed >= 0 ? static_cast<uint64_t>(seed) : std::random_device{}();
  return s;
}

SessionOptions GenerationArgs::session() const {
  SessionOptions so;
  so.context_size = ctx;
  so.n_threads = threads;
  so.f32_attention = f32_attention;
  return so;
}

}  // namespace slm::cli
