#include "examples/slm/generation_args.h"

#include <charconv>
#include <cmath>
#include <random>
#include <string>
#include <string_view>
#include <utility>

namespace slm::cli {

std::pair<int32_t, float> parse_logit_bias(std::string_view v) {
  const auto bad = [&] {
    return Error(ErrorKind::invalid_argument, "--logit-bias",
                 "'" + std::string(v) + "' is not TOKEN_ID+BIAS or TOKEN_ID-BIAS (e.g. 15043+1.5, 2-inf)");
  };
  const size_t sign = v.find_first_of("+-");
  if (sign == 0 || sign == std::string_view::npos || sign + 1 == v.size()) throw bad();
  int32_t id = 0;
  const auto [id_end, id_ec] = std::from_chars(v.data(), v.data() + sign, id);
  if (id_ec != std::errc() || id_end != v.data() + sign) throw bad();
  // BIAS: digits or "inf" after the one sign (from_chars would take a second '-'); NaN is no bias,
  // and a value beyond float's range an error
  float bias = 0.0f;
  const char* b = v.data() + sign + 1;
  const auto [b_end, b_ec] = std::from_chars(b, v.data() + v.size(), bias);
  if (*b == '-' || b_ec != std::errc() || b_end != v.data() + v.size() || std::isnan(bias)) throw bad();
  return {id, v[sign] == '-' ? -bias : bias};
}

void GenerationArgs::add_to(CLI::App* sub) {
  sub->add_option("--temp", temp, "Temperature; 0 is greedy (default 0.8)")->check(CLI::NonNegativeNumber);
  sub->add_option("--seed", seed, "Sampling seed (default: random)");
  sub->add_option("--top-k", top_k, "Top-k, 0 off (default 40)");
  sub->add_option("--top-p", top_p, "Top-p, 1 off (default 0.95)")->check(CLI::Range(0.0, 1.0));
  sub->add_option("--min-p", min_p, "Min-p, 0 off (default 0.05)")->check(CLI::Range(0.0, 1.0));
  sub->add_option("--repeat-penalty", repeat_penalty, "Repetition penalty, 1 off (default 1)")->check(CLI::PositiveNumber);
  sub->add_option(
      "--presence-penalty", presence_penalty,
      "Subtracted once from the logit of every token among the last --repeat-last-n (default 0, off)");
  sub->add_option("--frequency-penalty", frequency_penalty,
                  "Subtracted from a token's logit once per time it occurs among the last --repeat-last-n "
                  "(default 0, off)");
  sub->add_option("--repeat-last-n", repeat_last_n, "Tokens the penalties look back at; -1 all (default 64)")
      ->check(CLI::Range(-1, 1 << 30));
  sub->add_option(
      "--logit-bias", logit_bias,
      "TOKEN_ID+BIAS or TOKEN_ID-BIAS: add BIAS to that token's logit before sampling; -inf bans it "
      "(15043+1.5, 2-inf); repeatable");
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
  s.presence_penalty = presence_penalty;
  s.frequency_penalty = frequency_penalty;
  s.penalty_last_n = repeat_last_n;
  for (const std::string& v : logit_bias) s.logit_bias.push_back(parse_logit_bias(v));
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
