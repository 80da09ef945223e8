#include "src/sample/sampler.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "slm/error.h"

using slm::Candidate;
using slm::Sampler;
using slm::SamplerOptions;

namespace {
std::vector<Candidate> cands(const std::vector<float>& logits) {
  std::vector<Candidate> c;
  for (size_t i = 0; i < logits.size(); ++i) c.push_back({static_cast<int32_t>(i), logits[i], 0});
  return c;
}
// Temperature sampling with nothing cut (no top-k, top-p or min-p).
SamplerOptions whole_vocabulary(float temperature, uint64_t seed) {
  SamplerOptions o;
  o.temperature = temperature;
  o.top_k = 0;
  o.top_p = 1.0f;
  o.min_p = 0.0f;
  o.seed = seed;
  return o;
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

TEST_CASE("a logit bias of +inf forces a token, -inf bans one, under every sampling mode") {
  const std::vector<float> l = {0.5f, 3.0f, 1.0f, 2.5f, -1.0f};
  SamplerOptions t;  // temperature sampling with the default truncation chain
  t.temperature = 1.5f;
  t.min_p = 0.0f;
  for (const bool greedy : {true, false}) {
    SamplerOptions o = greedy ? SamplerOptions::greedy() : t;
    o.logit_bias = {{4, INFINITY}};
    for (uint64_t seed = 0; seed < 50; ++seed) {
      o.seed = seed;
      Sampler s(o);
      CHECK(s.sample(l, {}) == 4);
    }
    // Two forced tokens share the draws; nothing else is drawn.
    o.logit_bias = {{4, INFINITY}, {0, INFINITY}};
    std::map<int32_t, int> seen;
    for (uint64_t seed = 0; seed < 200; ++seed) {
      o.seed = seed;
      Sampler s(o);
      ++seen[s.sample(l, {})];
    }
    CHECK(seen.size() == (greedy ? 1u : 2u));
    CHECK(seen.count(greedy ? 0 : 4) == 1);  // greedy: the lower id of the tie
    // A ban: the argmax (id 1) is never drawn.
    o.logit_bias = {{1, -INFINITY}};
    for (uint64_t seed = 0; seed < 200; ++seed) {
      o.seed = seed;
      Sampler s(o);
      const int32_t x = s.sample(l, {});
      CHECK(x != 1);
      if (greedy) CHECK(x == 3);
    }
  }
}

TEST_CASE("banning every token, or a NaN bias, is a clear error") {
  const std::vector<float> l = {0.5f, 3.0f, 1.0f};
  for (const bool greedy : {true, false}) {
    SamplerOptions o = greedy ? SamplerOptions::greedy() : SamplerOptions{};
    o.logit_bias = {{0, -INFINITY}, {1, -INFINITY}, {2, -INFINITY}};
    Sampler s(o);
    CHECK_THROWS_WITH_AS(s.sample(l, {}), doctest::Contains("nothing can be sampled"), slm::Error);
    o.logit_bias = {{1, NAN}};
    CHECK_THROWS_WITH_AS(Sampler{o}, doctest::Contains("logit_bias"), slm::Error);
  }
}

TEST_CASE("NaN logits are never drawn; all NaN is a clear error") {
  const float nan = NAN;
  std::vector<float> l = {nan, 1.0f, nan, 0.5f, nan, nan, 2.0f, nan};
  for (int i = 0; i < 64; ++i) l.push_back(i % 3 == 0 ? nan : 0.01f * static_cast<float>(i));
  for (const bool greedy : {true, false}) {
    SamplerOptions o = greedy ? SamplerOptions::greedy() : SamplerOptions{};
    o.top_k = 0;
    o.min_p = 0.0f;
    o.top_p = 0.99f;
    for (uint64_t seed = 0; seed < 100; ++seed) {
      o.seed = seed;
      Sampler s(o);
      const int32_t x = s.sample(l, {});
      CHECK(!std::isnan(l[static_cast<size_t>(x)]));
      if (greedy) CHECK(x == 6);
    }
    Sampler s(o);
    CHECK_THROWS_WITH_AS(s.sample(std::vector<float>(5, nan), {}),
                         doctest::Contains("nothing can be sampled"), slm::Error);
  }
}

TEST_CASE("top-k and argmax straight from the row keep what the candidate stages keep") {
  std::mt19937 rng(7);
  for (const size_t n : {1u, 2u, 7u, 40u, 41u, 1000u, 32003u}) {
    for (const int spread : {3, 1000000}) {  // few distinct values (many ties) or nearly all distinct
      std::uniform_int_distribution<int> v(-spread, spread);
      std::vector<float> row(n);
      for (auto& x : row) x = static_cast<float>(v(rng)) * 0.25f;
      if (n > 3) row[n / 2] = -INFINITY;
      for (size_t i = 40; i < n; i += 11) row[i] = NAN;  // some start a block of 8 (they count as -inf)
      // argmax: the first maximum in id order
      std::vector<float> no_nan = row;
      for (auto& x : no_nan)
        if (std::isnan(x)) x = -INFINITY;
      const auto first_max = std::max_element(no_nan.begin(), no_nan.end());  // the first of equals
      CHECK(Sampler::argmax(row) == first_max - no_nan.begin());
      for (const int32_t k : {1, 5, 40}) {
        if (static_cast<size_t>(k) >= n) continue;
        std::vector<Candidate> got;
        Sampler::select_top_k(row, k, got);
        auto want = cands(row);
        for (auto& c : want)
          if (std::isnan(c.logit)) c.logit = -INFINITY;
        std::stable_sort(want.begin(), want.end(),
                         [](const Candidate& a, const Candidate& b) { return a.logit > b.logit; });
        want.resize(static_cast<size_t>(k));  // stable: lower ids first among equals
        REQUIRE(got.size() == want.size());
        for (size_t i = 0; i < got.size(); ++i) {
          CHECK(got[i].id == want[i].id);
          CHECK(got[i].logit == want[i].logit);
        }
      }
    }
  }
  CHECK(Sampler::argmax(std::vector<float>(4, -INFINITY)) == -1);
}

TEST_CASE("softmax gives std::exp's probabilities bit for bit, over a whole vocabulary too") {
  std::mt19937 rng(11);
  std::normal_distribution<float> nd(0.0f, 8.0f);
  for (const size_t n : {1u, 3u, 17u, 100u, 32000u}) {
    std::vector<float> l(n);
    for (auto& x : l) x = nd(rng);
    if (n > 10) {
      l[3] = -INFINITY;     // a banned token
      l[5] = l[0] - 95.0f;  // far below the maximum: exp's special path
    }
    auto got = cands(l);
    Sampler::softmax(got);
    auto want = cands(l);
    std::sort(want.begin(), want.end(),
              [](const Candidate& a, const Candidate& b) { return a.logit > b.logit; });
    const float mx = want[0].logit;
    double sum = 0;
    for (auto& c : want) {
      c.p = std::exp(c.logit - mx);
      sum += c.p;
    }
    for (auto& c : want) c.p = static_cast<float>(c.p / sum);
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < n; ++i) {
      CHECK(got[i].logit == want[i].logit);
      CHECK(got[i].p == want[i].p);
    }
  }
}

TEST_CASE("truncate_row keeps what truncate keeps, with the same p, from the row") {
  std::mt19937 rng(5);
  for (const size_t n : {1u, 5u, 64u, 65u, 700u, 32000u}) {
    for (const float spread : {0.5f, 4.0f, 30.0f}) {  // flat (top-p needs long prefixes) to peaked
      std::normal_distribution<float> nd(0.0f, spread);
      std::vector<float> row(n);
      std::set<float> seen;  // distinct values, so the order has no ties (truncate's sort is unstable)
      for (auto& x : row) {
        do x = nd(rng);
        while (!seen.insert(x).second);
      }
      if (n > 10) row[7] = -INFINITY;
      for (const auto& [tp, mp] :
           {std::pair{0.95f, 0.05f}, std::pair{0.5f, 0.0f}, std::pair{1.0f, 0.2f}, std::pair{0.999f, 0.0f}}) {
        auto want = cands(row);
        Sampler::truncate(want, 0, tp, mp);
        std::vector<Candidate> got;
        Sampler::truncate_row(row, tp, mp, got);
        INFO("n ", n, " spread ", spread, " top_p ", tp, " min_p ", mp);
        REQUIRE(got.size() == want.size());
        for (size_t i = 0; i < got.size(); ++i) {
          CHECK(got[i].id == want[i].id);
          CHECK(got[i].p == want[i].p);
        }
      }
    }
  }
}

TEST_CASE("temperature sampling over the whole vocabulary draws what softmax and a uniform draw give") {
  // The reference: the candidates' arithmetic (logit / T, std::exp(x - max), a double sum in id
  // order, p as float, the first id whose running sum passes the draw), the Sampler's RNG.
  std::mt19937 gen(3);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  std::vector<float> l(5000);
  for (auto& x : l) x = nd(gen);
  l[10] = -INFINITY;
  l[11] = NAN;
  const SamplerOptions o = whole_vocabulary(0.7f, 99);
  Sampler s(o);
  std::mt19937_64 rng(o.seed);
  for (int t = 0; t < 200; ++t) {
    std::vector<float> x(l.size());
    float mx = -INFINITY;
    for (size_t i = 0; i < l.size(); ++i) {
      x[i] = std::isnan(l[i]) ? -INFINITY : l[i] / o.temperature;
      mx = std::max(mx, x[i]);
    }
    double sum = 0;
    for (auto& v : x) {
      v = std::exp(v - mx);
      sum += v;
    }
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const double r = u(rng);
    double cum = 0;
    int32_t want = -1;
    for (size_t i = 0; i < x.size() && want < 0; ++i) {
      const float p = static_cast<float>(x[i] / sum);
      if (p <= 0.0f) continue;
      cum += p;
      if (r < cum) want = static_cast<int32_t>(i);
    }
    REQUIRE(want >= 0);
    CHECK(s.sample(l, {}) == want);
  }
}

TEST_CASE("repetition penalty divides positive and multiplies negative logits of seen tokens") {
  std::vector<float> c = {2.0f, -2.0f, 1.0f};
  std::vector<int32_t> recent = {0, 1, 1};
  Sampler::apply_penalties(c, recent, 2.0f, 0.0f, 0.0f);
  CHECK(c[0] == doctest::Approx(1.0f));
  CHECK(c[1] == doctest::Approx(-4.0f));
  CHECK(c[2] == doctest::Approx(1.0f));
  std::vector<float> d = {2.0f, -2.0f, 1.0f};
  Sampler::apply_penalties(d, recent, 1.0f, 0.5f, 0.25f);  // presence once per token, frequency per count
  CHECK(d[0] == doctest::Approx(2.0f - 0.5f - 0.25f));
  CHECK(d[1] == doctest::Approx(-2.0f - 0.5f - 0.5f));
  CHECK(d[2] == doctest::Approx(1.0f));
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

TEST_CASE("truncate keeps what top-k, softmax, top-p and min-p keep, in the same order") {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (size_t n : {size_t{1}, size_t{2}, size_t{63}, size_t{65}, size_t{5000}, size_t{150000}}) {
    std::vector<float> logits(n);
    for (float& l : logits) l = normal(rng);
    struct Opt {
      int32_t k;
      float top_p, min_p;
    };
    // without top-k, the prefix grows past 64 and 512 before top-p 0.999 is reached on 150000 candidates
    for (const Opt o : {Opt{0, 0.95f, 0.05f}, Opt{0, 0.5f, 0.0f}, Opt{0, 1.0f, 0.2f}, Opt{0, 0.999f, 0.0f},
                        Opt{-1, 0.9f, 0.01f}, Opt{40, 0.95f, 0.05f}, Opt{0, 1.0f, 0.0f}}) {
      INFO("n " << n << " k " << o.k << " top_p " << o.top_p << " min_p " << o.min_p);
      auto want = cands(logits);
      Sampler::top_k(want, o.k);
      Sampler::softmax(want);
      Sampler::top_p(want, o.top_p);
      Sampler::min_p(want, o.min_p);
      auto got = cands(logits);
      Sampler::truncate(got, o.k, o.top_p, o.min_p);
      REQUIRE(got.size() == want.size());
      if (o.top_p >= 1.0f && o.min_p <= 0.0f)  // nothing cut: vocabulary order, compared sorted
        std::sort(got.begin(), got.end(),
                  [](const Candidate& a, const Candidate& b) { return a.logit > b.logit; });
      std::vector<int32_t> got_ids, want_ids;
      for (size_t i = 0; i < got.size(); ++i) {
        REQUIRE(got[i].logit == want[i].logit);  // equal logits may come in either order
        REQUIRE(got[i].p == doctest::Approx(want[i].p).epsilon(1e-5));
        got_ids.push_back(got[i].id);
        want_ids.push_back(want[i].id);
      }
      std::sort(got_ids.begin(), got_ids.end());
      std::sort(want_ids.begin(), want_ids.end());
      CHECK(got_ids == want_ids);
    }
  }
}

TEST_CASE("same seed gives the same draws; temperature sampling follows the distribution") {
  const SamplerOptions o = whole_vocabulary(1.0f, 1234);
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
