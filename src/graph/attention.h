// Attention of one query head over one sequence's F16 KV cache.
//
// Two numerical modes, the same mathematics:
//  - f16_accumulate (default): llama.cpp's CPU flash-attention arithmetic, step for step: q is
//    rounded to F16 like the cache, scores are folded in one pass with an online softmax, and the
//    weighted sum of V is kept in F16. With it, slm reproduces llama.cpp's logits on the reference
//    files to the last few bits (tests/conformance), instead of drifting by the int8 rounding
//    noise that any difference upstream of an activation quantization turns into.
//  - f32: scores, softmax and the V sum all in F32 (slightly more accurate, not llama.cpp's bits).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "src/kv/kv_cache.h"

namespace slm {

enum class AttentionPrecision { f16_accumulate, f32 };

struct AttentionArgs {
  const float* q;        // [head_dim] query of this head
  KvSeqView kv;          // the sequence's cache for this layer
  int32_t kv_head;       // the KV head this query head reads (its size: kv.head_dim)
  int32_t first_pos;     // attend to positions [first_pos, last_pos]
  int32_t last_pos;
  float scale;           // multiplier of q.k
  float softcap;         // 0: off; else scores become softcap * tanh(s / softcap)
  float* out;            // [head_dim]
};

// Buffers reused across calls by one thread.
struct AttentionScratch {
  std::vector<float> f;
  std::vector<uint16_t> h;
  std::vector<std::pair<int32_t, int32_t>> range;  // per query: its rows of the current cache block
  std::vector<size_t> idx;                         // the queries that take the same rows of a block
  // the queries of one block step that take the same rows: q (F16-rounded, then m and s), scores,
  // V sums, softmax factors
  std::vector<float*> q, score, ms, vs;
  std::vector<uint16_t*> acc;
  // F32 mode: where each query's scores start in f; the queries of one block step: q, their sums
  // (the outputs), their softmax weights
  std::vector<size_t> score_at;
  std::vector<const float*> cq, cp;
  std::vector<float*> out;
};

void attend(const AttentionArgs& a, AttentionPrecision precision, AttentionScratch& scratch);

// Several queries that read the same KV head of one sequence: the query heads of a GQA group, for
// one or more tokens. They walk the cache together, block by block, each taking the part of the
// block inside its own [first_pos, last_pos], so a block's K and V rows are read from memory once
// for all of them and reused from L1. Every query's arithmetic is exactly attend()'s, in the same
// order (the same runs, the same kernel calls), so the results are bit-identical.
struct AttentionQuery {
  const float* q;   // [head_dim]
  float* out;       // [head_dim]
  int32_t first_pos;
  int32_t last_pos;
};

struct AttentionGroupArgs {
  KvSeqView kv;
  int32_t kv_head;  // its size: kv.head_dim
  float scale;
  float softcap;
  const AttentionQuery* queries;
  size_t n_queries;
};

void attend_group(const AttentionGroupArgs& a, AttentionPrecision precision, AttentionScratch& scratch);

}  // namespace slm
