// slm bench MODEL: prompt-processing and generation speed, beside this machine's read bandwidth
// measured in the same run (llama-bench's pp/tg tests, comparable side by side).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <vector>

#include "examples/slm/command.h"
#include "examples/slm/model_arg.h"
#include "slm/slm.h"
#include "src/engine/bandwidth.h"
#include "src/engine/page_stats.h"
#include "src/model/synthetic.h"

#include <filesystem>

namespace {

struct BenchArgs {
  std::string model;
  int32_t threads = 0;
  int32_t pp = 128;
  int32_t tg = 32;
  int32_t reps = 3;
  int32_t depth = 0;  // tokens already in the cache before each test (llama-bench's -d)
  bool json = false;
  bool f32_attention = false;
  std::string synthetic;  // TYPE[:SHAPE], see slm::peers_synthetic_model()
  bool huge_pages = false;
};

struct Stat {
  double mean = 0, sd = 0, best = 0;  // best: the fastest repetition, the least disturbed on a shared machine
};

Stat stat(const std::vector<double>& v) {
  Stat s;
  if (v.empty()) return s;
  for (double x : v) s.mean += x;
  s.best = *std::max_element(v.begin(), v.end());
  s.mean /= static_cast<double>(v.size());
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(s.sd / static_cast<double>(v.size() - 1)) : 0;
  return s;
}

int bench(const BenchArgs& a) {
  if (a.model.empty() == a.synthetic.empty())
    throw slm::Error(slm::ErrorKind::invalid_argument, "slm bench", "give either MODEL or --synthetic TYPE");
  slm::Model model = slm::Model::load(a.synthetic.empty() ? slm::cli::resolve_model(a.model) : slm::peers_synthetic_model(a.synthetic).string(),
                                      {.huge_pages = a.huge_pages});
  const slm::ModelInfo info = model.info();
  const int threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const slm::BandwidthResult probe_before = slm::probe_read_bandwidth(threads, size_t{1} << 30, 3);

  std::mt19937 rng(42);
  std::uniform_int_distribution<int32_t> tok(0, info.vocab_size - 1);
  slm::SessionOptions so;
  so.n_threads = threads;
  so.context_size = std::max(a.depth + a.pp + a.tg + 1, 64);
  so.batch_size = std::max({a.pp, std::min(a.depth, 256), 1});
  so.f32_attention = a.f32_attention;
  slm::Session session(model, so);
  // The depth: a fixed random prefix processed once (untimed); each test keeps it in the cache and
  // processes only its own tokens after it, as a follow-up request with a cached prefix does.
  std::vector<int32_t> prefix(static_cast<size_t>(a.depth));
  for (auto& t : prefix) t = tok(rng);
  double depth_seconds = 0;
  if (a.depth > 0) {
    session.prompt(prefix);
    depth_seconds = session.last_prompt_timings().prompt_seconds;
  }

  std::vector<double> pp_rates, tg_rates;
  uint64_t tg_bytes = 0, tg_passes = 0;  // counted weight bytes of the generation passes
  for (int r = 0; r < a.reps + 1; ++r) {  // the first round warms caches and page mappings
    // pp new tokens after the prefix; with -p 0 none (the prefix's last token is recomputed for its
    // logits), or one when there is no prefix either
    const int32_t fresh = a.pp > 0 ? a.pp : (a.depth == 0 ? 1 : 0);
    std::vector<int32_t> prompt = prefix;
    for (int32_t i = 0; i < fresh; ++i) prompt.push_back(tok(rng));
    session.truncate(a.depth);  // drops the last test's tokens, keeps the prefix
    session.prompt(prompt);
    const auto pt = session.last_prompt_timings();
    slm::GenerateOptions g;
    g.max_tokens = a.tg;
    g.sampling = slm::SamplerOptions::greedy();
    g.stop_at_end_of_generation = false;
    const uint64_t bytes_before = session.weight_bytes_read();
    const auto res = session.generate(g);
    if (r == 0) continue;
    tg_bytes += session.weight_bytes_read() - bytes_before;
    tg_passes += static_cast<uint64_t>(res.timings.generated_tokens);
    if (a.pp > 0) pp_rates.push_back(pt.prompt_tokens / pt.prompt_seconds);
    // Each generated token is sampled, then run through the model (its K/V enter the cache): one
    // forward pass per token, as llama-bench's tgN counts N decodes.
    const int32_t passes = res.timings.generated_tokens;
    if (a.tg > 0 && res.timings.generate_seconds > 0) tg_rates.push_back(passes / res.timings.generate_seconds);
  }
  const slm::BandwidthResult probe_after = slm::probe_read_bandwidth(threads, size_t{1} << 30, 3);
  const slm::BandwidthResult& probe =
      probe_after.gb_per_s > probe_before.gb_per_s ? probe_after : probe_before;
  const double bw = probe.gb_per_s;
  const Stat pp = stat(pp_rates), tg = stat(tg_rates);
  const std::string at =
      (a.depth > 0 ? " @ d" + std::to_string(a.depth) : "") + (a.f32_attention ? " (f32 attention)" : "");
  const double tg_gbs = tg.mean * static_cast<double>(info.bytes_per_token) / 1e9;

  std::printf("| model | size | params | threads | test | t/s |\n|---|---|---|---|---|---|\n");
  const double mib = static_cast<double>(info.weight_bytes) / (1024.0 * 1024.0);
  if (a.pp > 0)
    std::printf("| %s | %.1f MiB | %.2f M | %d | pp%d%s | %.1f ± %.1f |\n", info.architecture.c_str(), mib,
                static_cast<double>(info.n_params) / 1e6, threads, a.pp, at.c_str(), pp.mean, pp.sd);
  if (a.tg > 0)
    std::printf("| %s | %.1f MiB | %.2f M | %d | tg%d%s | %.1f ± %.1f |\n", info.architecture.c_str(), mib,
                static_cast<double>(info.n_params) / 1e6, threads, a.tg, at.c_str(), tg.mean, tg.sd);
  if (a.depth > 0) {
    std::printf("the %d-token prefix took %.0f ms once (%.1f tok/s)", a.depth, depth_seconds * 1e3,
                depth_seconds > 0 ? a.depth / depth_seconds : 0.0);
    if (a.pp > 0)
      std::printf("; after it, %d new prompt tokens take %.1f ms (best %.1f ms)", a.pp, a.pp / pp.mean * 1e3,
                  a.pp / pp.best * 1e3);
    std::printf("\n");
  }
  const double counted = tg_passes ? static_cast<double>(tg_bytes) / static_cast<double>(tg_passes) : 0.0;
  // The probe's figure is its best repetition, so the generation's best repetition is the like
  // comparison; the mean (over all repetitions, disturbed ones too) is shown beside it.
  const double tg_best_gbs = tg.best * static_cast<double>(info.bytes_per_token) / 1e9;
  if (a.tg > 0)
    std::printf("generation reads %.2f GB/s of weights (best repetition %.2f); machine read bandwidth %.2f GB/s "
                "(mean %.0f%%, best %.0f%%)\n",
                tg_gbs, tg_best_gbs, bw, bw > 0 ? 100.0 * tg_gbs / bw : 0.0, bw > 0 ? 100.0 * tg_best_gbs / bw : 0.0);
  else
    std::printf("machine read bandwidth %.2f GB/s\n", bw);
  if (a.tg > 0)
    std::printf("weight bytes per generated token: %.1f MB counted by the matrix products, %.1f MB expected "
                "(active experts only; %.1f MB of weights in all)\n",
                counted / 1e6, static_cast<double>(info.bytes_per_token) / 1e6, static_cast<double>(info.weight_bytes) / 1e6);
  std::printf("read bandwidth, best of 3 repetitions per pattern:");
  for (const slm::ReadPattern& rp : probe.patterns)
    std::printf(" %s %.2f GB/s%s", rp.name, rp.gb_per_s, &rp == &probe.patterns.back() ? "\n" : ";");
  const slm::PageStats pages = slm::weight_page_stats(model.internal());
  if (pages.available && pages.resident > 0)
    std::printf("weights on 2 MiB pages: %.0f%% of %.1f MB resident%s\n", 100.0 * static_cast<double>(pages.huge) / static_cast<double>(pages.resident),
                static_cast<double>(pages.resident) / 1e6,
                pages.huge >= pages.resident * 9 / 10 ? ""
                : a.huge_pages ? " (the rest on 4 KiB pages: transparent huge pages were not granted)"
                               : " (the page cache holds the rest of the file in 4 KiB pages; --hugepages copies the "
                                 "weights onto huge pages)");
  if (a.json) {
    nlohmann::json j = {{"model", info.path}, {"architecture", info.architecture}, {"threads", threads},
                        {"model_bytes", info.weight_bytes}, {"bytes_per_token", info.bytes_per_token},
                        {"pp_tokens", a.pp}, {"pp_tok_s", pp.mean}, {"pp_tok_s_sd", pp.sd}, {"pp_tok_s_best", pp.best},
                        {"tg_tokens", a.tg}, {"tg_tok_s", tg.mean}, {"tg_tok_s_sd", tg.sd}, {"tg_tok_s_best", tg.best},
                        {"tg_gbs", tg_gbs}, {"read_bw_gbs", bw}, {"reps", a.reps}, {"depth", a.depth}, {"depth_seconds", depth_seconds},
                        {"tg_counted_bytes_per_token", counted}, {"f32_attention", a.f32_attention},
                        {"weights_resident_bytes", pages.resident}, {"weights_huge_page_bytes", pages.huge}};
    for (const slm::ReadPattern& rp : probe.patterns) j["read_bw_patterns"][rp.name] = rp.gb_per_s;
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}

}  // namespace

SLM_COMMAND(bench) {
  auto* sub = app.add_subcommand("bench", "Measure prompt processing and generation speed");
  auto a = std::make_shared<BenchArgs>();
  sub->add_option("MODEL", a->model, "GGUF file or Ollama model name");
  sub->add_option("--synthetic", a->synthetic,
                  "Instead of MODEL: a random-weight model TYPE[:SHAPE] of PEERS.md's shapes; TYPE q4_0, "
                  "q4_k_m, q8_0 or f16; SHAPE llama1b (default), moe32, dense32, moe64 or dense64. "
                  "Written once to the temporary directory");
  sub->add_option("-t,--threads", a->threads, "Threads (default: all cores)")->check(CLI::NonNegativeNumber);
  sub->add_option("-p,--prompt-tokens", a->pp, "Prompt tokens (default 128)")->check(CLI::NonNegativeNumber);
  sub->add_option("-n,--gen-tokens", a->tg, "Generated tokens (default 32)")->check(CLI::NonNegativeNumber);
  sub->add_option("-d,--depth", a->depth,
                  "Tokens already in the context before each test (default 0): a prefix processed once, "
                  "untimed, and kept in the cache, as llama-bench -d")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("-r,--reps", a->reps, "Repetitions (default 3)")->check(CLI::PositiveNumber);
  sub->add_flag("--json", a->json, "End with one JSON line of the results");
  sub->add_flag("--hugepages", a->huge_pages, "Read the weights into 2 MiB huge pages instead of using the file mapping (faster generation; copies the file)");
  sub->add_flag("--f32-attention", a->f32_attention,
                "Attention arithmetic in F32 throughout instead of llama.cpp's F16 flash-attention steps "
                "(slightly more accurate, and faster after long contexts; not llama.cpp's bits)");
  return {sub, [a] { return bench(*a); }};
}
