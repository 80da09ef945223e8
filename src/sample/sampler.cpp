#include "src/sample/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

#include "kernels/kernels.h"
#include "slm/error.h"

namespace slm {
namespace {

// Descending by logit (a lambda, not a function: the sorts inline it).
constexpr auto by_logit = [](const Candidate& a, const Candidate& b) { return a.logit > b.logit; };

// softmax's numerators in place: e_i = exp(e_i - max) through the kernels' exp_f32 (std::exp's
// bits, in vectors: over a whole vocabulary a scalar std::exp per token took most of a
// millisecond), or, where some e_i are +inf (a logit bias of +inf forces a token), 1 for those and
// 0 for the rest, so they share the mass as the limit of a large finite bias would. Returns their
// sum, in order (every softmax here sums in the same order, so p has the same bits on every path);
// 0 when every e_i is -inf: nothing can be drawn. No e_i may be NaN.
double softmax_numerators(std::span<float> e) {
  float mx = -INFINITY;
  for (const float v : e) mx = v > mx ? v : mx;
  if (!(mx > -INFINITY)) return 0.0;
  if (std::isinf(mx)) {
    for (auto& v : e) v = v == mx ? 1.0f : 0.0f;
  } else {
    for (auto& v : e) v -= mx;
    kernels::active().exp_f32(e.data(), e.data(), static_cast<int64_t>(e.size()));
  }
  double sum = 0;
  for (const float v : e) sum += v;
  return sum;
}

// p = softmax(logit) in the candidates' current order, without sorting them (sample() has made
// sure some logit is above -inf).
void probabilities(std::vector<Candidate>& c) {
  thread_local std::vector<float> e;
  e.resize(c.size());
  for (size_t i = 0; i < c.size(); ++i) e[i] = c[i].logit;
  const double sum = softmax_numerators(e);
  for (size_t i = 0; i < c.size(); ++i) c[i].p = static_cast<float>(e[i] / sum);
}

// On candidates sorted by logit with p filled: how many top-p (the smallest prefix with mass >= p)
// and min-p (those with p_i >= p_max * min_p) keep, or 0 where the rule cuts nothing in c.
size_t top_p_keep(std::span<const Candidate> c, float p) {
  if (p >= 1.0f) return 0;
  double cum = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    cum += c[i].p;
    if (cum >= p) return i + 1;
  }
  return 0;
}

size_t min_p_keep(std::span<const Candidate> c, float p) {
  if (p <= 0.0f || c.empty()) return 0;
  const float threshold = c[0].p * p;
  for (size_t i = 1; i < c.size(); ++i)
    if (c[i].p < threshold) return i;
  return 0;
}

// The smaller of two keep counts, 0 meaning "no cut".
size_t tighter(size_t a, size_t b) { return a == 0 ? b : b == 0 ? a : std::min(a, b); }

}  // namespace

Sampler::Sampler(SamplerOptions opts) : opts_(std::move(opts)), rng_(opts_.seed) {
  auto bad = [](const char* field, const std::string& what) {
    throw Error(ErrorKind::invalid_argument, std::string("sampler option ") + field, what);
  };
  if (std::isnan(opts_.temperature)) bad("temperature", "is NaN");
  if (!(opts_.top_p > 0.0f)) bad("top_p", "must be in (0, 1]");
  if (std::isnan(opts_.min_p) || opts_.min_p > 1.0f) bad("min_p", "must be in [0, 1]");
  if (!(opts_.repeat_penalty > 0.0f)) bad("repeat_penalty", "must be positive");
  if (std::isnan(opts_.presence_penalty) || std::isnan(opts_.frequency_penalty)) bad("penalty", "is NaN");
  for (const auto& [id, b] : opts_.logit_bias)
    if (std::isnan(b)) bad("logit_bias", "the value for token id " + std::to_string(id) + " is NaN");
}

void Sampler::apply_bias(std::span<float> logits, std::span<const std::pair<int32_t, float>> bias) {
  for (const auto& [id, b] : bias) {
    if (id < 0 || static_cast<size_t>(id) >= logits.size())
      throw Error(ErrorKind::invalid_argument, "sampler option logit_bias",
                  "token id " + std::to_string(id) + " outside the vocabulary");
    logits[static_cast<size_t>(id)] += b;
  }
}

void Sampler::apply_penalties(std::span<float> logits, std::span<const int32_t> recent, float repeat,
                              float presence, float frequency) {
  if (recent.empty() || (repeat == 1.0f && presence == 0.0f && frequency == 0.0f)) return;
  std::unordered_map<int32_t, int> counts;
  for (int32_t t : recent) ++counts[t];
  for (const auto& [id, n] : counts) {
    if (id < 0 || static_cast<size_t>(id) >= logits.size()) continue;
    float& l = logits[static_cast<size_t>(id)];
    l = l > 0 ? l / repeat : l * repeat;
    l -= static_cast<float>(n) * frequency + presence;
  }
}

void Sampler::top_k(std::vector<Candidate>& c, int32_t k) {
  if (k <= 0 || static_cast<size_t>(k) >= c.size()) {
    std::sort(c.begin(), c.end(), by_logit);
    return;
  }
  std::partial_sort(c.begin(), c.begin() + k, c.end(), by_logit);
  c.resize(static_cast<size_t>(k));
}

void Sampler::softmax(std::vector<Candidate>& c) {
  std::sort(c.begin(), c.end(), by_logit);
  probabilities(c);
}

void Sampler::top_p(std::vector<Candidate>& c, float p) {
  if (const size_t keep = top_p_keep(c, p)) c.resize(keep);
}

void Sampler::min_p(std::vector<Candidate>& c, float p) {
  if (const size_t keep = min_p_keep(c, p)) c.resize(keep);
}

void Sampler::truncate(std::vector<Candidate>& c, int32_t k, float top_p, float min_p) {
  const bool cuts = top_p < 1.0f || min_p > 0.0f;
  const bool all = k <= 0 || static_cast<size_t>(k) >= c.size();
  if (all && !cuts) {  // nothing is cut: no order is needed either
    probabilities(c);
    return;
  }
  if (!all) {  // top-k sorts only k candidates; the rest applies to those
    Sampler::top_k(c, k);
    softmax(c);
    Sampler::top_p(c, top_p);
    Sampler::min_p(c, min_p);
    return;
  }
  probabilities(c);  // over every candidate, in vocabulary order
  // Sort a prefix; cut it where top-p's mass or min-p's threshold is reached, else sort a longer one.
  for (size_t m = std::min<size_t>(c.size(), 64);; m = std::min(c.size(), m * 8)) {
    std::partial_sort(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(m), c.end(), by_logit);
    const std::span<const Candidate> prefix(c.data(), m);
    const size_t keep = tighter(top_p_keep(prefix, top_p), min_p_keep(prefix, min_p));
    if (keep > 0 || m == c.size()) {
      c.resize(keep > 0 ? keep : m);
      return;
    }
  }
}

void Sampler::truncate_row(std::span<const float> logits, float top_p, float min_p,
                           std::vector<Candidate>& out) {
  // softmax's numerators for the whole row (NaN as -inf) and their sum, as truncate's are.
  thread_local std::vector<float> e;
  e.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) e[i] = std::isnan(logits[i]) ? -INFINITY : logits[i];
  const double sum = softmax_numerators(e);
  out.clear();
  if (sum == 0.0) return;  // every logit -inf: no candidate
  // The best m candidates with their p; cut where top-p's mass or min-p's threshold is reached,
  // else take a longer prefix.
  for (size_t m = std::min<size_t>(logits.size(), 64);; m = std::min(logits.size(), m * 8)) {
    select_top_k(logits, static_cast<int32_t>(m), out);
    for (auto& c : out) c.p = static_cast<float>(e[static_cast<size_t>(c.id)] / sum);
    const size_t keep = tighter(top_p_keep(out, top_p), min_p_keep(out, min_p));
    if (keep > 0 || m == logits.size()) {
      out.resize(keep > 0 ? keep : m);
      return;
    }
  }
}

int32_t Sampler::argmax(std::span<const float> logits) {
  // Ties go to the lowest id, as llama.cpp's greedy sampler does: the first maximum in id order.
  // NaN compares false, so it is never the maximum. The maximum first (eight running maxima, so the loop is
  // not one long dependency chain), then its first position.
  float m[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
  const size_t n = logits.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (size_t j = 0; j < 8; ++j) m[j] = logits[i + j] > m[j] ? logits[i + j] : m[j];
  for (; i < n; ++i) m[0] = logits[i] > m[0] ? logits[i] : m[0];
  const float best = *std::max_element(m, m + 8);
  if (!(best > -INFINITY)) return -1;
  return static_cast<int32_t>(std::find(logits.begin(), logits.end(), best) - logits.begin());
}

void Sampler::select_top_k(std::span<const float> logits, int32_t k, std::vector<Candidate>& out) {
  // A heap of the best k so far. `better` (a larger logit, or the lower id of equal ones) is the
  // heap's "less than", so its top is the worst of them; a later id never displaces an equal
  // logit, so among equals the lower ids stay.
  const auto better = [](const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  };
  out.clear();
  const size_t kk = std::min(static_cast<size_t>(std::max(k, 0)), logits.size());
  if (kk == 0) return;
  for (size_t i = 0; i < kk; ++i) {
    out.push_back({static_cast<int32_t>(i), std::isnan(logits[i]) ? -INFINITY : logits[i], 0.0f});
    std::push_heap(out.begin(), out.end(), better);
  }
  // The rest by blocks of 8: a block whose largest logit does not beat the heap's worst is skipped
  // whole. NaN compares false, so it never enters, but a block's maximum that starts as NaN hides
  // the rest: such a block is looked at element by element.
  float worst = out.front().logit;
  const auto offer = [&](size_t i) {
    if (!(logits[i] > worst)) return;
    std::pop_heap(out.begin(), out.end(), better);
    out.back() = {static_cast<int32_t>(i), logits[i], 0.0f};
    std::push_heap(out.begin(), out.end(), better);
    worst = out.front().logit;
  };
  size_t i = kk;
  for (; i + 8 <= logits.size(); i += 8) {
    float m = logits[i];
    for (size_t j = 1; j < 8; ++j) m = logits[i + j] > m ? logits[i + j] : m;
    if (m > worst || std::isnan(m))
      for (size_t j = 0; j < 8; ++j) offer(i + j);
  }
  for (; i < logits.size(); ++i) offer(i);
  std::sort_heap(out.begin(), out.end(), better);  // ascending in `better`: best first
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  if (logits.empty()) throw Error(ErrorKind::invalid_argument, "sampler", "empty logits");
  // Bias and penalties change a copy of the row; without them the row is read as it is. A NaN
  // logit (a model whose weights overflow, or hold NaN) counts as -inf: never drawn (argmax and
  // select_top_k compare it out), and it cannot break the sorts' ordering.
  std::span<const int32_t> recent = history;
  if (opts_.penalty_last_n >= 0 && recent.size() > static_cast<size_t>(opts_.penalty_last_n))
    recent = recent.subspan(recent.size() - static_cast<size_t>(opts_.penalty_last_n));
  const bool penalties = !recent.empty() && (opts_.repeat_penalty != 1.0f || opts_.presence_penalty != 0.0f ||
                                             opts_.frequency_penalty != 0.0f);
  std::span<const float> row = logits;
  if (penalties || !opts_.logit_bias.empty()) {
    row_.assign(logits.begin(), logits.end());
    apply_bias(row_, opts_.logit_bias);
    apply_penalties(row_, recent, opts_.repeat_penalty, opts_.presence_penalty, opts_.frequency_penalty);
    row = row_;
  }
  // A bias of -inf bans a token; with every token banned (or every logit NaN) there is nothing to
  // sample.
  const auto nothing = [] {
    return Error(
        ErrorKind::invalid_argument, "sampler option logit_bias",
        "no token has a logit above -inf after the logit biases and penalties: nothing can be sampled");
  };

  if (opts_.temperature <= 0.0f) {
    const int32_t id = argmax(row);
    if (id < 0) throw nothing();
    return id;
  }

  const int32_t k = opts_.top_k;
  if (k > 0 && static_cast<size_t>(k) < row.size()) {
    // Top-k first, straight from the row: the rest of the chain sees only k candidates.
    select_top_k(row, k, cand_);
    if (!(cand_.front().logit > -INFINITY)) throw nothing();
    probabilities(cand_);
    Sampler::top_p(cand_, opts_.top_p);
    Sampler::min_p(cand_, opts_.min_p);
  } else if (opts_.top_p < 1.0f || opts_.min_p > 0.0f) {
    // Top-p or min-p over the whole vocabulary: probabilities from the row, candidates for the
    // best only.
    truncate_row(row, opts_.top_p, opts_.min_p, cand_);
    if (cand_.empty()) throw nothing();
  } else {
    // Nothing is cut: every token can be drawn, by its softmax at the temperature, straight from
    // the row (the candidates path's arithmetic, without a candidate per token).
    e_.resize(row.size());
    for (size_t i = 0; i < row.size(); ++i)
      e_[i] = std::isnan(row[i]) ? -INFINITY : row[i] / opts_.temperature;
    const int64_t i = draw_softmax(e_);
    if (i < 0) throw nothing();
    return static_cast<int32_t>(i);
  }
  // Temperature last, over the survivors.
  e_.resize(cand_.size());
  for (size_t i = 0; i < cand_.size(); ++i) e_[i] = cand_[i].logit / opts_.temperature;
  return cand_[static_cast<size_t>(draw_softmax(e_))].id;
}

int64_t Sampler::draw_softmax(std::vector<float>& x) {
  // probabilities()'s arithmetic, then the first i where the running sum of p passes a uniform draw
  // (rounding: the last with p > 0).
  const double sum = softmax_numerators(x);
  if (sum == 0.0) return -1;
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double r = u(rng_);
  double cum = 0;
  int64_t last = -1;
  for (size_t i = 0; i < x.size(); ++i) {
    const float p = static_cast<float>(x[i] / sum);
    if (p <= 0.0f) continue;
    cum += p;
    last = static_cast<int64_t>(i);
    if (r < cum) return last;
  }
  return last;
}

}  // namespace slm
