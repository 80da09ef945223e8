// attend_group (src/graph/attention.cpp): queries that share a KV head walking the cache together
// give exactly what attend() gives each of them alone, in both precisions, for ranges that start
// and end inside cache blocks, sliding windows, a single row and a whole sequence.
#include "src/graph/attention.h"

#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "kernels/fp16.h"
#include "kernels/kernels.h"
#include "src/kv/kv_cache.h"

using namespace slm;

namespace {

// One layer's cache of kv_heads heads of head_dim in 32-position blocks, with random K and V rows
// at positions [0, positions) of sequence `seq`. Sequence 0 takes 40 positions first, so a later
// sequence's block ids differ from its positions.
std::unique_ptr<KvCache> random_cache(int32_t head_dim, int32_t kv_heads, int32_t positions, int32_t seq,
                                      uint32_t seed) {
  KvCacheOptions o;
  o.n_layers = 1;
  o.n_kv_heads = kv_heads;
  o.head_dim = head_dim;
  o.block_size = 32;
  o.max_positions = 256;
  o.max_sequences = seq + 1;
  auto kv = std::make_unique<KvCache>(o);
  if (seq > 0) kv->reserve(0, 40);
  kv->reserve(seq, positions);
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  const KvSeqView view = kv->view(0, seq);
  for (int32_t p = 0; p < positions; ++p)
    for (int32_t h = 0; h < kv_heads; ++h)
      for (int32_t i = 0; i < head_dim; ++i) {
        view.k(p, h)[i] = kernels::f32_to_fp16(dist(rng));
        view.v(p, h)[i] = kernels::f32_to_fp16(dist(rng));
      }
  return kv;
}

}  // namespace

TEST_CASE("attend_group equals attend per query, bit for bit") {
  constexpr int32_t kHeadDim = 72;  // not a multiple of 16: the kernels' tails run too
  constexpr int32_t kKvHeads = 2;
  constexpr int32_t kPositions = 150;
  const auto kv = random_cache(kHeadDim, kKvHeads, kPositions, 1, 11);  // sequence 1: block ids differ from positions
  const KvSeqView view = kv->view(0, 1);
  std::mt19937 rng(12);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  // ranges: whole, mid-block start and end, one row, a window, the same range twice, block edges
  const std::pair<int32_t, int32_t> ranges[] = {{0, 149}, {5, 77}, {40, 40}, {100, 131}, {0, 149}, {32, 63}, {31, 32}};
  const size_t nq = std::size(ranges);
  std::vector<float> q(nq * kHeadDim);
  for (auto& x : q) x = 2.0f * dist(rng);
  for (AttentionPrecision precision : {AttentionPrecision::f16_accumulate, AttentionPrecision::f32}) {
    for (float softcap : {0.0f, 5.0f}) {
      for (int32_t kv_head = 0; kv_head < kKvHeads; ++kv_head) {
        std::vector<float> together(nq * kHeadDim, -1.0f), alone(nq * kHeadDim, -2.0f);
        std::vector<AttentionQuery> queries;
        for (size_t j = 0; j < nq; ++j)
          queries.push_back({&q[j * kHeadDim], &together[j * kHeadDim], ranges[j].first, ranges[j].second});
        AttentionScratch scratch;
        AttentionGroupArgs g{view, kv_head, 0.125f, softcap, queries.data(), queries.size()};
        attend_group(g, precision, scratch);
        for (size_t j = 0; j < nq; ++j) {
          AttentionArgs a{&q[j * kHeadDim], view, kv_head, ranges[j].first, ranges[j].second,
                          0.125f, softcap, &alone[j * kHeadDim]};
          attend(a, precision, scratch);
        }
        CAPTURE(kv_head);
        CAPTURE(softcap);
        CHECK(together == alone);
      }
    }
  }
}

TEST_CASE("F32 attention: each query's scores, softmax and V sum, as the single-row kernels give them") {
  // The grouped walk (two passes in cache-block steps, queries with the same rows in one kernel
  // call) against a plain per-query loop over the active kernels: q.k row by row, scale, softcap,
  // softmax, then out += p * v row by row in order. Bit for bit.
  constexpr int32_t kHeadDim = 64;
  constexpr int32_t kKvHeads = 2;
  constexpr int32_t kPositions = 200;
  const auto kv = random_cache(kHeadDim, kKvHeads, kPositions, 0, 5);
  const KvSeqView view = kv->view(0, 0);
  std::mt19937 rng(6);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  // a GQA group of 4 heads over one token, then a prompt's causal ranges (8 tokens x 4 heads)
  std::vector<std::pair<int32_t, int32_t>> ranges(4, {0, 199});
  for (int32_t t = 0; t < 8; ++t)
    for (int h = 0; h < 4; ++h) ranges.push_back({0, 150 + t});
  ranges.push_back({37, 37});
  ranges.push_back({70, 130});
  const size_t nq = ranges.size();
  std::vector<float> q(nq * kHeadDim);
  for (auto& x : q) x = 1.5f * dist(rng);
  const auto& K = kernels::active();
  for (float softcap : {0.0f, 4.0f}) {
    for (int32_t kv_head = 0; kv_head < kKvHeads; ++kv_head) {
      std::vector<float> got(nq * kHeadDim, -1.0f), want(nq * kHeadDim, 0.0f);
      std::vector<AttentionQuery> queries;
      for (size_t j = 0; j < nq; ++j)
        queries.push_back({&q[j * kHeadDim], &got[j * kHeadDim], ranges[j].first, ranges[j].second});
      AttentionScratch scratch;
      attend_group(AttentionGroupArgs{view, kv_head, 0.125f, softcap, queries.data(), nq},
                   AttentionPrecision::f32, scratch);
      for (size_t j = 0; j < nq; ++j) {
        const auto [first, last] = ranges[j];
        std::vector<float> p;
        for (int32_t pos = first; pos <= last; ++pos) {
          float sc = K.dot_f16_f32(view.k(pos, kv_head), &q[j * kHeadDim], kHeadDim) * 0.125f;
          if (softcap > 0.0f) sc = softcap * std::tanh(sc / softcap);
          p.push_back(sc);
        }
        K.softmax(p.data(), static_cast<int64_t>(p.size()));
        for (int32_t pos = first; pos <= last; ++pos)
          K.axpy_f16_f32(p[static_cast<size_t>(pos - first)], view.v(pos, kv_head), &want[j * kHeadDim],
                         kHeadDim);
      }
      CAPTURE(kv_head);
      CAPTURE(softcap);
      CHECK(got == want);
    }
  }
}
