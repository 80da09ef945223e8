// Session behaviour users of other engines keep tripping over, on a synthetic model (no ../shared).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "slm/slm.h"
#include "src/model/model.h"
#include "src/model/synthetic.h"
#include "tests/support/cli_run.h"
#include "tests/support/shared_data.h"

namespace fs = std::filesystem;

namespace {

const std::string& model_path() {
  static const std::string path = [] {
    const fs::path p = fs::temp_directory_path() / "slm-session-test.gguf";
    slm::SyntheticSpec s;
    s.architecture = "llama";
    s.context_length = 128;
    slm::write_synthetic_model(s, p);
    return p.string();
  }();
  return path;
}

slm::GenerateOptions greedy(int n) {
  slm::GenerateOptions g;
  g.max_tokens = n;
  g.sampling = slm::SamplerOptions::greedy();
  g.stop_at_end_of_generation = false;
  return g;
}

}  // namespace

TEST_CASE("a prompt longer than the context is an error, never a silent truncation") {
  auto model = slm::Model::load(model_path());
  slm::SessionOptions o;
  o.context_size = 16;
  slm::Session s(model, o);
  std::vector<int32_t> long_prompt(17, 300);
  CHECK_THROWS_AS(s.prompt(long_prompt), slm::Error);
  try {
    s.prompt(long_prompt);
  } catch (const slm::Error& e) {
    CHECK(e.kind() == slm::ErrorKind::out_of_range);
  }
  std::vector<int32_t> fits(16, 300);
  CHECK_NOTHROW(s.prompt(fits));
  CHECK(s.generate(greedy(4)).stop_reason == slm::StopReason::context_full);
}

TEST_CASE("the same greedy request gives the same tokens with a warm prefix cache as with a cold one") {
  auto model = slm::Model::load(model_path());
  const std::vector<int32_t> a = {1, 300, 301, 302, 303, 304, 305, 306};
  std::vector<int32_t> b = a;
  b.back() = 310;  // shares all but the last token with a

  slm::Session cold(model);
  cold.prompt(b);
  const auto want = cold.generate(greedy(12)).tokens;

  slm::Session warm(model);
  warm.prompt(a);
  warm.generate(greedy(5));
  warm.prompt(b);  // keeps the shared prefix, processes only what differs
  CHECK(warm.last_prompt_timings().prompt_tokens < static_cast<int32_t>(b.size()));
  CHECK(warm.generate(greedy(12)).tokens == want);

  warm.prompt(b);  // the very same context again
  CHECK(warm.generate(greedy(12)).tokens == want);
}

TEST_CASE("end-of-generation tokens stop generation and never reach the text") {
  auto model = slm::Model::load(model_path());
  slm::Session s(model);
  s.prompt(std::vector<int32_t>{1, 300});
  slm::GenerateOptions g = greedy(8);
  g.stop_at_end_of_generation = true;
  g.sampling.logit_bias = {{model.eos(), 1000.0f}};
  std::string streamed;
  const auto r = s.generate(g, [&](std::string_view piece, int32_t) {
    streamed += piece;
    return true;
  });
  CHECK(r.stop_reason == slm::StopReason::end_of_generation);
  CHECK(r.tokens.empty());
  CHECK(r.text.empty());
  CHECK(streamed.empty());
}

TEST_CASE("stop strings end the text before them, and streamed pieces add up to the text") {
  auto model = slm::Model::load(model_path());
  int32_t b = -1;
  for (int32_t id = 0; id < model.info().vocab_size; ++id)
    if (model.token_text(id) == "b") b = id;
  REQUIRE(b >= 0);
  slm::Session s(model);
  s.prompt(std::vector<int32_t>{1, 300});
  slm::GenerateOptions g = greedy(10);
  g.sampling.logit_bias = {{b, 1000.0f}};
  g.stop = {"bbb"};
  std::string streamed;
  const auto r = s.generate(g, [&](std::string_view piece, int32_t) {
    streamed += piece;
    return true;
  });
  // "b", "bb" could still become the stop string, so nothing is streamed before "bbb" appears;
  // then the text ends before it: empty.
  CHECK(r.stop_reason == slm::StopReason::stop_string);
  CHECK(r.tokens.size() == 3);
  CHECK(r.text.empty());
  CHECK(streamed == r.text);
  slm::GenerateOptions late = g;
  late.stop = {"xb"};  // never appears: everything streams
  std::string all;
  const auto full = s.generate(late, [&](std::string_view piece, int32_t) {
    all += piece;
    return true;
  });
  CHECK(full.stop_reason == slm::StopReason::max_tokens);
  CHECK(full.text == std::string(10, 'b'));
  CHECK(all == full.text);

  slm::GenerateOptions h = greedy(6);
  h.sampling.logit_bias = {{b, 1000.0f}};
  int calls = 0;
  const auto stopped = s.generate(h, [&](std::string_view, int32_t) { return ++calls < 2; });
  CHECK(stopped.stop_reason == slm::StopReason::callback);
  CHECK(calls == 2);
}

TEST_CASE("streamed pieces never split a UTF-8 character and add up to the text (byte-fallback tokens)") {
  auto model = slm::Model::load(model_path());
  auto id_of = [&](const std::string& text) {
    for (int32_t id = 0; id < model.info().vocab_size; ++id)
      if (model.token_text(id) == text) return id;
    return -1;
  };
  // "\xC3\xA9" (e acute) and "\xE4\xB8\xAD" (a CJK character) exist only as <0xXX> byte tokens here.
  // Sampled nearly uniformly among those five bytes, they form whole characters and broken runs.
  const std::vector<std::string> bytes = {"<0xC3>", "<0xA9>", "<0xE4>", "<0xB8>", "<0xAD>"};
  int whole_2 = 0, whole_3 = 0;
  // 16 seeds x 96 tokens: ~23 whole CJK characters expected, so the check below cannot miss them
  // by chance on a machine whose float rounding samples other bytes.
  for (uint64_t seed = 1; seed <= 16; ++seed) {
    slm::Session s(model);
    s.prompt(std::vector<int32_t>{1, 300});
    slm::GenerateOptions g;
    g.max_tokens = 96;
    g.stop_at_end_of_generation = false;
    g.sampling.temperature = 20.0f;
    g.sampling.top_k = 0;
    g.sampling.top_p = 1.0f;
    g.sampling.min_p = 0.0f;
    g.sampling.seed = seed;
    for (const std::string& b : bytes) {
      const int32_t id = id_of(b);
      REQUIRE(id >= 0);
      g.sampling.logit_bias.push_back({id, 1000.0f});
    }
    std::vector<std::string> pieces;
    const auto r = s.generate(g, [&](std::string_view piece, int32_t) {
      pieces.emplace_back(piece);
      return true;
    });
    REQUIRE(r.tokens.size() == 96);
    std::string joined;
    std::vector<size_t> cuts;
    for (const std::string& p : pieces) {
      joined += p;
      cuts.push_back(joined.size());
    }
    CHECK(joined == r.text);
    CHECK(r.text.size() == 96);  // every byte reaches the text, broken runs included
    const std::string& t = r.text;
    for (size_t i = 0; i + 1 < t.size(); ++i) {
      const bool two = t.compare(i, 2, "\xC3\xA9") == 0;
      const bool three = t.compare(i, 3, "\xE4\xB8\xAD") == 0;
      whole_2 += two;
      whole_3 += three;
      for (size_t cut : cuts) {  // no piece ends inside a whole character
        INFO("seed ", seed, " cut at ", cut, " character at ", i);
        if (two) CHECK_FALSE(cut == i + 1);
        if (three) CHECK_FALSE((cut == i + 1 || cut == i + 2));
      }
    }
  }
  CHECK(whole_2 > 0);  // the test saw characters it could have split
  CHECK(whole_3 > 0);
}

TEST_CASE("bad options are errors") {
  auto model = slm::Model::load(model_path());
  slm::SessionOptions o;
  o.batch_size = 0;
  CHECK_THROWS_AS(slm::Session(model, o), slm::Error);
  slm::Session s(model);
  CHECK_THROWS_AS(s.generate(greedy(1)), slm::Error);  // empty context
  CHECK_THROWS_AS(s.prompt(std::vector<int32_t>{1, 999999}), slm::Error);  // token outside the vocabulary
  CHECK_THROWS_AS(slm::Model::load("/nonexistent/model.gguf"), slm::Error);
}

TEST_CASE("MoE generation reads only the active experts' weights, by counted bytes") {
  const fs::path p = fs::temp_directory_path() / "slm-session-test-moe64.gguf";
  slm::SyntheticSpec s;
  s.architecture = "qwen3moe";
  s.qk_norm = true;
  s.n_experts = 64;
  s.n_experts_used = 2;
  s.expert_ffn_dim = 32;
  s.ffn_dim = 32;
  s.context_length = 128;
  slm::write_synthetic_model(s, p);
  auto model = slm::Model::load(p.string());
  const auto info = model.info();
  slm::Session session(model);
  session.prompt(std::vector<int32_t>{1, 300, 301});
  const uint64_t before = session.weight_bytes_read();
  const auto r = session.generate(greedy(16));
  REQUIRE(r.tokens.size() == 16);
  const double per_token = static_cast<double>(session.weight_bytes_read() - before) / 16.0;
  // Every matrix but the embedding table (one row of it is read) and 2 of 64 experts per layer.
  CHECK(per_token <= static_cast<double>(info.bytes_per_token));
  CHECK(per_token < 0.25 * static_cast<double>(info.weight_bytes));  // far below all experts
  uint64_t routed = 0;
  for (const auto& layer : session.expert_counts())
    for (uint64_t c : layer) routed += c;
  CHECK(routed == static_cast<uint64_t>(info.n_layers) * 2 * (3 + 16));  // top-2 for every processed token
}

TEST_CASE("huge-page loading gives the very same model, and a clear error for HF folders") {
  auto mapped = slm::Model::load(model_path());
  auto copied = slm::Model::load(model_path(), {.huge_pages = true});
  const std::vector<int32_t> prompt = {1, 300, 301, 302};
  slm::Session a(mapped), b(copied);
  a.prompt(prompt);
  b.prompt(prompt);
  const auto la = a.logits(), lb = b.logits();
  CHECK(std::equal(la.begin(), la.end(), lb.begin(), lb.end()));  // the same bytes: bit-identical
  CHECK(a.generate(greedy(8)).tokens == b.generate(greedy(8)).tokens);
  if (auto hf = SLM_REQUIRE_SHARED("models/stories260K/stories260K-hf")) {
    try {
      (void)slm::Model::load(hf->string(), {.huge_pages = true});
      FAIL("no error");
    } catch (const slm::Error& e) {
      CHECK(e.kind() == slm::ErrorKind::unsupported);
    }
  }
}

TEST_CASE("SLM_REPACK=1: Q4_0 matrices of a huge-page copy in 4-row groups give the very same model") {
  // Every matrix with rows in groups of 4 and columns in 128s; an output matrix of its own, so it is
  // repacked too, while the embedding table (read row by row) stays as it is. A dense model and a
  // mixture of experts (each expert's matrix is repacked on its own).
  for (const std::string arch : {"llama", "qwen3moe"}) {
    INFO(arch);
    const fs::path p = fs::temp_directory_path() / ("slm-session-test-q4_0-" + arch + ".gguf");
    slm::SyntheticSpec s;
    s.architecture = arch;
    s.d_model = 128;
    s.ffn_dim = 256;
    if (arch == "qwen3moe") {
      s.qk_norm = true;
      s.n_experts = 4;
      s.n_experts_used = 2;
      s.expert_ffn_dim = 128;
    }
    s.matrix_type = slm::DType::Q4_0;
    s.embedding_type = slm::DType::Q4_0;
    s.tied_embeddings = false;
    slm::write_synthetic_model(s, p);
    auto mapped = slm::Model::load(p.string());
    ::setenv("SLM_REPACK", "1", 1);
    auto copied = slm::Model::load(p.string(), {.huge_pages = true});
    ::unsetenv("SLM_REPACK");
    const auto& w = copied.internal().weights();
    const slm::DType want = slm::kernels::active().load_layout ? slm::DType::Q4_0_R4 : slm::DType::Q4_0;
    MESSAGE("kernel level " << std::string(slm::kernels::active().isa) << ": matrices "
                            << slm::dtype_name(w.layers[0].wq.type));
    CHECK(w.layers[0].wq.type == want);
    if (arch == "qwen3moe") {
      CHECK(w.layers[1].exp_down.experts[3].type == want);
    } else {
      CHECK(w.layers[1].w_down.type == want);
    }
    CHECK(w.output.type == want);
    CHECK(w.token_embd.type == slm::DType::Q4_0);
    CHECK(mapped.internal().weights().layers[0].wq.type == slm::DType::Q4_0);
    // 12 prompt tokens (token panels on AVX-512), then one token at a time
    const std::vector<int32_t> prompt = {1, 300, 301, 302, 303, 304, 305, 306, 307, 308, 309, 310};
    slm::Session a(mapped), b(copied);
    a.prompt(prompt);
    b.prompt(prompt);
    const auto la = a.logits(), lb = b.logits();
    CHECK(std::equal(la.begin(), la.end(), lb.begin(), lb.end()));
    CHECK(a.generate(greedy(8)).tokens == b.generate(greedy(8)).tokens);
    const auto ga = a.logits(), gb = b.logits();
    CHECK(std::equal(ga.begin(), ga.end(), gb.begin(), gb.end()));
  }
}

TEST_CASE("F32 attention: logits close to the default arithmetic's; the trained model writes its text") {
  // SessionOptions::f32_attention keeps scores, softmax and the V sums in F32 instead of llama.cpp's
  // F16 steps: a different rounding, so close logits, not equal ones.
  auto model = slm::Model::load(model_path());
  std::vector<int32_t> prompt = {1};
  for (int32_t i = 0; i < 60; ++i) prompt.push_back(3 + (i * 37) % 250);
  slm::SessionOptions f32;
  f32.f32_attention = true;
  slm::Session a(model), b(model, f32);
  a.prompt(prompt);
  b.prompt(prompt);
  const auto la = a.logits(), lb = b.logits();
  REQUIRE(la.size() == lb.size());
  float range = 0, diff = 0;
  for (size_t i = 0; i < la.size(); ++i) {
    range = std::max(range, std::abs(la[i]));
    diff = std::max(diff, std::abs(la[i] - lb[i]));
  }
  CHECK(range > 0.0f);
  CHECK(diff <= 0.02f * range);
  if (auto path = SLM_REQUIRE_SHARED("models/stories260K/stories260K-f32.gguf")) {
    auto stories = slm::Model::load(path->string());
    slm::Session s(stories, f32);
    s.prompt(stories.tokenize("Once upon a time"));
    slm::GenerateOptions g = greedy(40);
    const std::string text = s.generate(g).text;
    CHECK(text.rfind(", there was a little girl named Lily. She loved to play outside in the park.", 0) == 0);
  }
}

TEST_CASE("slm run --f32-attention generates what the Session API gives with f32_attention") {
  if (!slm::test::have_slm_cli()) return;
  const auto r = slm::test::run_slm("run " + slm::test::sh_quote(model_path()) +
                                    " -p 'abc' -n 12 --temp 0 -t 1 -q --ignore-eos --f32-attention");
  INFO("stderr: ", r.err);
  REQUIRE(r.status == 0);
  auto model = slm::Model::load(model_path());
  slm::SessionOptions o;
  o.n_threads = 1;
  o.f32_attention = true;
  slm::Session s(model, o);
  s.prompt(model.tokenize("abc"));
  const std::string want = s.generate(greedy(12)).text;
  REQUIRE(!want.empty());
  CHECK(r.out.starts_with(want));
}

TEST_CASE(
    "slm run's --logit-bias, --presence-penalty and --frequency-penalty sample as the Session API does") {
  if (!slm::test::have_slm_cli()) return;
  auto model = slm::Model::load(model_path());
  const auto api = [&](const slm::SamplerOptions& so) {
    slm::SessionOptions o;
    o.n_threads = 1;
    slm::Session s(model, o);
    s.prompt(model.tokenize("abc"));
    slm::GenerateOptions g = greedy(12);
    g.sampling = so;
    return s.generate(g);
  };
  const auto cli = [&](const std::string& flags) {
    const auto r = slm::test::run_slm("run " + slm::test::sh_quote(model_path()) +
                                      " -p 'abc' -n 12 --temp 0 -t 1 -q --ignore-eos " + flags);
    INFO("stderr: ", r.err);
    REQUIRE(r.status == 0);
    return r.out;
  };
  const slm::GenerateResult plain = api(slm::SamplerOptions::greedy());
  REQUIRE(plain.tokens.size() == 12);

  // Each penalty over the last 16 tokens: a different text (the plain one repeats tokens), the same
  // through the command as through the API.
  for (const bool presence : {true, false}) {
    slm::SamplerOptions pen = slm::SamplerOptions::greedy();
    (presence ? pen.presence_penalty : pen.frequency_penalty) = 1.5f;
    pen.penalty_last_n = 16;
    const std::string want_pen = api(pen).text;
    CHECK(want_pen != plain.text);
    CHECK(
        cli(std::string(presence ? "--presence-penalty" : "--frequency-penalty") + " 1.5 --repeat-last-n 16")
            .starts_with(want_pen));
  }

  // Ban the plain text's first token and push another one up.
  const int32_t banned = plain.tokens[0];
  const int32_t pushed = banned == 3 ? 4 : 3;
  slm::SamplerOptions bias = slm::SamplerOptions::greedy();
  bias.logit_bias = {{banned, -INFINITY}, {pushed, 2.5f}};
  const slm::GenerateResult want_bias = api(bias);
  CHECK(std::find(want_bias.tokens.begin(), want_bias.tokens.end(), banned) == want_bias.tokens.end());
  CHECK(cli("--logit-bias " + std::to_string(banned) + "-inf --logit-bias " + std::to_string(pushed) + "+2.5")
            .starts_with(want_bias.text));
}

TEST_CASE("a malformed --logit-bias, or one outside the vocabulary, is a clear error") {
  if (!slm::test::have_slm_cli()) return;
  for (const std::string v : {"abc", "12", "+3", "5--1", "5+nan", "5+", "x+1"}) {
    const auto r = slm::test::run_slm("run " + slm::test::sh_quote(model_path()) +
                                      " -p 'abc' -n 2 -q --logit-bias " + slm::test::sh_quote(v));
    INFO(v, " -> ", r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find("--logit-bias: '" + v + "' is not TOKEN_ID+BIAS") != std::string::npos);
  }
  const auto r = slm::test::run_slm("run " + slm::test::sh_quote(model_path()) +
                                    " -p 'abc' -n 2 -q --logit-bias 1000000+1");
  CHECK(r.status == 1);
  CHECK(r.err.find("token id 1000000 outside the vocabulary") != std::string::npos);
}
