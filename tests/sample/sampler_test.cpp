#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <vector>

#include "slm/error.h"
#include "src/sample/sampler.h"

using slm::Candidate;
using slm::Sampler;
using slm::SamplerOptions;

namespace {
std::vector<Candidate> cands(const std::vector<float>& logits) {
  std::vector<Candidate> c;
  for (size_t i = 0; i < logits.size(); ++i) c.push_back({static_cast<int32_t>(i), logits[i], 0});
  return c;
}
}  // namespace

TEST_CASE("greedy picks the argmax, lowest id on ties") {
  Sampler s(SamplerOptions::greedy());
  std::vector<float> l = {0.1f, 2.0f, -1.0f, 2.0f};
  CHECK(s.sample(l, {}) == 1);
  l[3] = 2.5f;
  CHECK(s.sample(l, {}) == 3);
}

TEST_CASE("logit bias can change the greedy choice and rejects ids outside the vocabulary") {
  SamplerOptions o = SamplerOptions::greedy();
  o.logit_bias = {{0, 5.0f}};
  Sampler s(o);
  std::vector<float> l = {0.0f, 1.0f, 2.0f};
  CHECK(s.sample(l, {}) == 0);
  SamplerOptions bad = SamplerOptions::greedy();
  bad.logit_bias = {{7, 1.0f}};
  Sampler sb(bad);
  CHECK_THROWS_AS(sb.sample(l, {}), slm::Error);
}

TEST_CASE("repetition penalty divides positive and multiplies negative logits of seen tokens") {
  auto c = cands({2.0f, -2.0f, 1.0f});
  std::vector<int32_t> recent = {0, 1, 1};
  Sampler::apply_penalties(c, recent, 2.0f, 0.0f, 0.0f);
  CHECK(c[0].logit == doctest::Approx(1.0f));
  CHECK(c[1].logit == doctest::Approx(-4.0f));
  CHECK(c[2].logit == doctest::Approx(1.0f));
  auto d = cands({2.0f, -2.0f, 1.0f});
  Sampler::apply_penalties(d, recent, 1.0f, 0.5f, 0.25f);  // presence once per token, frequency per count
  CHECK(d[0].logit == doctest::Approx(2.0f - 0.5f - 0.25f));
  CHECK(d[1].logit == doctest::Approx(-2.0f - 0.5f - 0.5f));
  CHECK(d[2].logit == doctest::Approx(1.0f));
}

TEST_CASE("top-k, top-p and min-p keep the right candidates") {
  auto c = cands({1.0f, 4.0f, 3.0f, 2.0f});
  Sampler::top_k(c, 2);
  REQUIRE(c.size() == 2);
  CHECK(c[0].id == 1);
  CHECK(c[1].id == 2);

  auto p = cands({std::log(0.5f), std::log(0.3f), std::log(0.15f), std::log(0.05f)});
  Sampler::softmax(p);
  CHECK(p[0].p == doctest::Approx(0.5f));
  auto q = p;
  Sampler::top_p(q, 0.75f);  // 0.5 + 0.3 reaches 0.75
  CHECK(q.size() == 2);
  auto r = p;
  Sampler::top_p(r, 0.85f);  // needs the third
  CHECK(r.size() == 3);
  auto m = p;
  Sampler::min_p(m, 0.25f);  // keep p >= 0.125
  CHECK(m.size() == 3);
  auto n = p;
  Sampler::min_p(n, 0.35f);  // keep p >= 0.175
  CHECK(n.size() == 2);
}

TEST_CASE("same seed gives the same draws; temperature sampling follows the distribution") {
  SamplerOptions o;
  o.temperature = 1.0f;
  o.top_k = 0;
  o.top_p = 1.0f;
  o.min_p = 0.0f;
  o.seed = 1234;
  std::vector<float> l = {std::log(0.6f), std::log(0.3f), std::log(0.1f)};
  Sampler a(o), b(o);
  std::map<int32_t, int> counts;
  for (int i = 0; i < 4000; ++i) {
    const int32_t x = a.sample(l, {});
    CHECK(x == b.sample(l, {}));
    ++counts[x];
  }
  CHECK(counts[0] / 4000.0 == doctest::Approx(0.6).epsilon(0.06));
  CHECK(counts[1] / 4000.0 == doctest::Approx(0.3).epsilon(0.1));
  CHECK(counts[2] / 4000.0 == doctest::Approx(0.1).epsilon(0.25));
}

TEST_CASE("nonsensical options are errors, not crashes") {
  SamplerOptions o;
  o.top_p = 0.0f;
  CHECK_THROWS_AS(Sampler{o}, slm::Error);
  o = SamplerOptions{};
  o.repeat_penalty = 0.0f;
  CHECK_THROWS_AS(Sampler{o}, slm::Error);
  o = SamplerOptions{};
  o.temperature = NAN;
  CHECK_THROWS_AS(Sampler{o}, slm::Error);
  Sampler ok(SamplerOptions::greedy());
  CHECK_THROWS_AS(ok.sample(std::vector<float>{}, {}), slm::Error);
}
