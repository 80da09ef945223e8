// Sampler: turns a row of logits into the next token through a chain of stages.
//
// Stages run in a fixed, conventional order over a candidate list (llama.cpp's default order):
// logit bias -> penalties (repetition, presence, frequency over the last `penalty_last_n`
// tokens) -> top-k -> top-p -> min-p -> temperature -> draw. temperature <= 0 is greedy (argmax
// after bias and penalties). The RNG is seeded: the same seed and inputs give the same tokens.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "slm/sampling.h"

namespace slm {

struct Candidate {
  int32_t id;
  float logit;
  float p;
};

class Sampler {
 public:
  explicit Sampler(SamplerOptions opts);

  // Picks the next token. `history`: the tokens so far (prompt and generated), for the penalties.
  // Throws slm::Error(invalid_argument) for options that make no sense (negative temperature is
  // treated as greedy; top_p outside (0, 1], NaN values, bias ids outside the vocabulary).
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

  void reseed(uint64_t seed) { rng_.seed(seed); }
  const SamplerOptions& options() const noexcept { return opts_; }

  // The stages, exposed for tests and for custom chains. The first two change a row of logits
  // (indexed by token id) in place; the others work on candidates `c` in place.
  static void apply_bias(std::span<float> logits, std::span<const std::pair<int32_t, float>> bias);
  static void apply_penalties(std::span<float> logits, std::span<const int32_t> recent, float repeat,
                              float presence, float frequency);
  static void top_k(std::vector<Candidate>& c, int32_t k);  // sorts by logit, keeps k
  static void softmax(std::vector<Candidate>& c);           // fills p, sorted descending
  // Both need softmax. top_p keeps the smallest prefix with mass >= p; min_p keeps p_i >= p * p_max.
  static void top_p(std::vector<Candidate>& c, float p);
  static void min_p(std::vector<Candidate>& c, float p);
  static int32_t argmax(std::span<const float> logits);  // lowest id on ties; -1 when all are -inf
  // The k candidates with the largest logits (k < logits.size()), sorted by logit descending, lower
  // ids first on ties: one pass over the row, without a candidate per token.
  static void select_top_k(std::span<const float> logits, int32_t k, std::vector<Candidate>& out);
  // top_k, softmax, top_p and min_p in one step, with the same survivors, order and p as the four in
  // a row (p summed in another order: equal up to float rounding), except that when nothing is cut
  // the candidates stay in vocabulary order. Without top-k, only as long a prefix as top-p and min-p
  // need is sorted, instead of the whole vocabulary per token.
  static void truncate(std::vector<Candidate>& c, int32_t k, float top_p, float min_p);
  // truncate without top-k, with a cut (top_p < 1 or min_p > 0), from the row of logits: the same
  // survivors, p (bit for bit) and order as truncate(all the row's candidates, 0, top_p, min_p),
  // lower ids first among equal logits; only the candidates the cut looks at are made. `out` is
  // empty when every logit is -inf (or NaN).
  static void truncate_row(std::span<const float> logits, float top_p, float min_p,
                           std::vector<Candidate>& out);

 private:
  SamplerOptions opts_;
  std::mt19937_64 rng_;
  // Draws an index of x (logits over the temperature; overwritten) by softmax(x); -1 when every
  // x is -inf.
  int64_t draw_softmax(std::vector<float>& x);

  std::vector<float> row_;  // a copy of the logits that bias and penalties change
  std::vector<float> e_;    // logits over the temperature, then their exp
  std::vector<Candidate> cand_;
};

}  // namespace slm
