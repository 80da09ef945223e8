#include "src/graph/forward.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "kernels/kernels.h"
#include "slm/error.h"

namespace slm {
namespace {

// Passes of up to this many tokens (generation, a few sequences decoding together) run inside a
// ThreadPool::SpinScope: their products take tens of microseconds, so a wake-up per call counts.
constexpr int64_t kSpinMaxTokens = 8;

float softcap(float x, float cap) { return cap > 0.0f ? cap * std::tanh(x / cap) : x; }

void add_bias(float* y, int64_t n, int64_t ld, const VecView& b) {
  if (!b) return;
  for (int64_t t = 0; t < n; ++t)
    for (int64_t i = 0; i < b.n; ++i) y[t * ld + i] += b.data[i];
}

void resize(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
}

// fn(t0, t1) over tokens [0, n): on the pool once the step touches enough floats (about per_token
// per token) to outweigh a dispatch; inline otherwise (one token of generation).
template <class F>
void for_tokens(ThreadPool& pool, int64_t n, int64_t per_token, F&& fn) {
  constexpr int64_t kParallelFloats = 16384;
  if (n < 2 || n * per_token < kParallelFloats) {
    fn(int64_t{0}, n);
    return;
  }
  pool.parallel_for(n, std::max<int64_t>(1, n / (pool.size() * 4)), fn);
}

// g = act(g) * u over `rows` rows of `width` (SwiGLU, or GeGLU with gelu), on the pool for
// prompt-sized batches.
void gated_activation(ThreadPool& pool, bool gelu, float* g, const float* u, int64_t rows, int64_t width) {
  const auto& K = kernels::active();
  for_tokens(pool, rows, width, [&](int64_t r0, int64_t r1) {
    if (gelu)
      K.gelu_tanh_mul(g + r0 * width, u + r0 * width, g + r0 * width, (r1 - r0) * width);
    else
      K.silu_mul(g + r0 * width, u + r0 * width, g + r0 * width, (r1 - r0) * width);
  });
}

}  // namespace

namespace {

// Angular frequency of each rotary pair, as ggml's rope cache computes it: base^(-2i/rope_dim),
// by repeated float multiplication, divided by per-pair factors (llama3) and scaled (linear).
std::vector<float> rope_frequencies(const ModelConfig& cfg, float base, const float* factors, float freq_scale) {
  const size_t half = cfg.rope_dim / 2;
  std::vector<float> f(half);
  const float theta_scale = std::pow(base, -2.0f / static_cast<float>(cfg.rope_dim));
  float x = 1.0f;
  for (size_t i = 0; i < half; ++i) {
    f[i] = x * freq_scale / (factors ? factors[i] : 1.0f);
    x *= theta_scale;
  }
  return f;
}

}  // namespace

Forward::Forward(const ModelConfig& cfg, const Weights& w, AttentionPrecision precision)
    : cfg_(cfg), w_(w), precision_(precision) {
  using Scaling = ModelConfig::RopeScaling::Type;
  const auto& rs = cfg.rope_scaling;
  if (rs.type == Scaling::yarn || rs.type == Scaling::longrope)
    throw Error(ErrorKind::unsupported, "ModelConfig.rope_scaling",
                std::string(rs.type == Scaling::yarn ? "yarn" : "longrope") + " RoPE scaling is not implemented yet");
  const float freq_scale = rs.type == Scaling::linear && rs.factor > 0 ? 1.0f / rs.factor : 1.0f;
  std::vector<float> llama3;
  const float* factors = w.rope_freq_factors ? w.rope_freq_factors.data : nullptr;
  if (!factors && rs.type == Scaling::llama3) {
    llama3 = llama3_rope_freq_factors(cfg);
    factors = llama3.data();
  }
  inv_freq_ = rope_frequencies(cfg, cfg.rope_theta, factors, freq_scale);
  // Sliding-window layers (gemma3) rotate with their own base and no scaling.
  inv_freq_local_ = rope_frequencies(cfg, cfg.rope_theta_swa, nullptr, 1.0f);
  if (cfg.n_experts > 0) expert_counts_.assign(cfg.n_layers, std::vector<uint64_t>(cfg.n_experts, 0));
}

void Forward::reset_expert_counts() {
  for (auto& l : expert_counts_) std::fill(l.begin(), l.end(), 0);
  min_routing_margin_ = INFINITY;
}

void Forward::rope_cos_sin(const std::vector<float>& freq, int32_t pos, float* cos, float* sin) const {
  for (size_t i = 0; i < freq.size(); ++i) {
    const float theta = static_cast<float>(pos) * freq[i];
    cos[i] = std::cos(theta);
    sin[i] = std::sin(theta);
  }
}

void Forward::run(ThreadPool& pool, std::span<const BatchEntry> batch, KvCache& kv, float* logits) {
  const auto& K = kernels::active();
  const int64_t n = static_cast<int64_t>(batch.size());
  if (n == 0) return;
  std::optional<ThreadPool::SpinScope> spin;
  if (n <= kSpinMaxTokens) spin.emplace(pool);
  const int64_t d = cfg_.d_model;
  const int64_t hd = cfg_.head_dim;
  const int64_t q_dim = static_cast<int64_t>(cfg_.n_heads) * hd;
  const int64_t kv_dim = static_cast<int64_t>(cfg_.n_kv_heads) * hd;
  const int64_t ffn = std::max<int64_t>(cfg_.ffn_dim, cfg_.expert_ffn_dim);

  resize(x_, n * d);
  resize(xn_, n * d);
  resize(q_, n * q_dim);
  resize(k_, n * kv_dim);
  resize(v_, n * kv_dim);
  resize(att_, n * q_dim);
  resize(proj_, n * d);
  resize(gate_, n * ffn);
  resize(up_, n * ffn);
  resize(ffn_out_, n * d);

  // Token embeddings (any weight type: one row dequantized per token).
  for (int64_t t = 0; t < n; ++t) {
    const int32_t tok = batch[t].token;
    if (tok < 0 || tok >= w_.token_embd.rows)
      throw Error(ErrorKind::out_of_range, "forward", "token id " + std::to_string(tok) + " outside the vocabulary");
  }
  for_tokens(pool, n, d, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      // the type was checked at load
      kernels::dequantize_row(w_.token_embd.type, w_.token_embd.row(batch[t].token), &x_[t * d], d);
      if (cfg_.embedding_scale != 1.0f)
        for (int64_t i = 0; i < d; ++i) x_[t * d + i] *= cfg_.embedding_scale;
    }
  });
  rope_tables(pool, batch);

  // Between the matrix products, every step works token by token: for_tokens runs it on the pool
  // for prompt-sized batches (a serial stretch would idle the other threads, which then sleep and
  // cost a wake-up at the next product) and inline for one token.
  const float w_off = cfg_.norm_weight_offset ? 1.0f : 0.0f;
  // x += branch (after the branch's post-norm, where the model has one), then xn = next_norm(x), the
  // input of the next block, in the same pass.
  const auto residual = [&](std::vector<float>& branch, const VecView& post_norm, const VecView* next_norm) {
    for_tokens(pool, n, d, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        float* b = &branch[t * d];
        float* x = &x_[t * d];
        if (post_norm) K.rmsnorm(b, post_norm.data, b, d, cfg_.norm_eps, w_off);
        for (int64_t i = 0; i < d; ++i) x[i] += b[i];
        if (next_norm) K.rmsnorm(x, next_norm->data, &xn_[t * d], d, cfg_.norm_eps, w_off);
      }
    });
  };
  if (cfg_.n_layers > 0)
    for_tokens(pool, n, d, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t)
        K.rmsnorm(&x_[t * d], w_.layers[0].attn_norm.data, &xn_[t * d], d, cfg_.norm_eps, w_off);
    });
  for (uint32_t l = 0; l < cfg_.n_layers; ++l) {
    const LayerWeights& L = w_.layers[l];

    // --- attention block (xn_ holds its normed input)
    const MatmulJob qkv[] = {{&L.wq, xn_.data(), n, q_.data(), q_dim},
                             {&L.wk, xn_.data(), n, k_.data(), kv_dim},
                             {&L.wv, xn_.data(), n, v_.data(), kv_dim}};
    matmul_jobs(pool, qkv, mm_);
    for_tokens(pool, n, q_dim + 2 * kv_dim, [&](int64_t t0, int64_t t1) {
      add_bias(&q_[t0 * q_dim], t1 - t0, q_dim, L.bq);
      add_bias(&k_[t0 * kv_dim], t1 - t0, kv_dim, L.bk);
      add_bias(&v_[t0 * kv_dim], t1 - t0, kv_dim, L.bv);
      if (L.q_norm)
        for (int64_t i = t0 * cfg_.n_heads; i < t1 * cfg_.n_heads; ++i)
          K.rmsnorm(&q_[i * hd], L.q_norm.data, &q_[i * hd], hd, cfg_.norm_eps, w_off);
      if (L.k_norm)
        for (int64_t i = t0 * cfg_.n_kv_heads; i < t1 * cfg_.n_kv_heads; ++i)
          K.rmsnorm(&k_[i * hd], L.k_norm.data, &k_[i * hd], hd, cfg_.norm_eps, w_off);
      rope(static_cast<int>(l), t0, t1);
      for (int64_t t = t0; t < t1; ++t) {
        const KvSeqView view = kv.view(static_cast<int32_t>(l), batch[t].seq);
        for (int32_t h = 0; h < static_cast<int32_t>(cfg_.n_kv_heads); ++h) {
          K.f32_to_f16_row(&k_[t * kv_dim + h * hd], view.k(batch[t].pos, h), hd);
          K.f32_to_f16_row(&v_[t * kv_dim + h * hd], view.v(batch[t].pos, h), hd);
        }
      }
    });
    attention(pool, static_cast<int>(l), batch, kv);
    matmul(pool, L.wo, att_.data(), n, proj_.data(), d, mm_);
    residual(proj_, L.attn_post_norm, &L.ffn_norm);

    // --- feed-forward block
    if (cfg_.n_experts > 0)
      moe_ffn(pool, static_cast<int>(l), L, n);
    else
      dense_ffn(pool, L, n);
    residual(ffn_out_, L.ffn_post_norm, l + 1 < cfg_.n_layers ? &w_.layers[l + 1].attn_norm : nullptr);
  }

  // --- output: final norm and vocabulary projection for the entries that want logits
  int64_t m = 0;
  for (int64_t t = 0; t < n; ++t) {
    if (!batch[t].logits) continue;
    K.rmsnorm(&x_[t * d], w_.output_norm.data, &xn_[m * d], d, cfg_.norm_eps, w_off);
    ++m;
  }
  if (m == 0) return;
  matmul(pool, w_.output, xn_.data(), m, logits, cfg_.vocab_size, mm_);
  if (cfg_.final_logit_softcap > 0)
    for (int64_t i = 0; i < m * static_cast<int64_t>(cfg_.vocab_size); ++i) logits[i] = softcap(logits[i], cfg_.final_logit_softcap);
}

void Forward::rope_tables(ThreadPool& pool, std::span<const BatchEntry> batch) {
  const int64_t n = static_cast<int64_t>(batch.size());
  const size_t half = inv_freq_.size();
  bool local = false;
  for (uint32_t l = 0; l < cfg_.n_layers && !local; ++l) local = is_local_layer(cfg_, l);
  if (rope_cs_.size() < static_cast<size_t>(n) * 2 * half) rope_cs_.resize(static_cast<size_t>(n) * 2 * half);
  if (local && rope_cs_local_.size() < static_cast<size_t>(n) * 2 * half)
    rope_cs_local_.resize(static_cast<size_t>(n) * 2 * half);
  for_tokens(pool, n, static_cast<int64_t>(8 * half), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float* cs = &rope_cs_[static_cast<size_t>(t) * 2 * half];
      rope_cos_sin(inv_freq_, batch[t].pos, cs, cs + half);
      if (local) {
        float* csl = &rope_cs_local_[static_cast<size_t>(t) * 2 * half];
        rope_cos_sin(inv_freq_local_, batch[t].pos, csl, csl + half);
      }
    }
  });
}

void Forward::rope(int layer, int64_t t0, int64_t t1) {
  const auto& K = kernels::active();
  const int64_t hd = cfg_.head_dim;
  const int64_t q_dim = static_cast<int64_t>(cfg_.n_heads) * hd;
  const int64_t kv_dim = static_cast<int64_t>(cfg_.n_kv_heads) * hd;
  const bool neox = cfg_.rope_style == ModelConfig::RopeStyle::neox;
  const auto& table = is_local_layer(cfg_, static_cast<uint32_t>(layer)) ? rope_cs_local_ : rope_cs_;
  const size_t half = inv_freq_.size();
  for (int64_t t = t0; t < t1; ++t) {
    const float* c = &table[static_cast<size_t>(t) * 2 * half];
    const float* s = c + half;
    K.rope(&q_[t * q_dim], cfg_.n_heads, hd, cfg_.rope_dim, c, s, neox);
    K.rope(&k_[t * kv_dim], cfg_.n_kv_heads, hd, cfg_.rope_dim, c, s, neox);
  }
}

void Forward::attention(ThreadPool& pool, int layer, std::span<const BatchEntry> batch, KvCache& kv) {
  const int64_t hd = cfg_.head_dim;
  const int64_t n_heads = cfg_.n_heads;
  const int64_t n_kv = cfg_.n_kv_heads;
  const int64_t group = n_heads / n_kv;
  const int64_t q_dim = n_heads * hd;
  const float scale = cfg_.attn_scale > 0 ? cfg_.attn_scale : 1.0f / std::sqrt(static_cast<float>(hd));
  const bool sliding = is_local_layer(cfg_, static_cast<uint32_t>(layer));
  // One task per (block of consecutive entries of one sequence, KV head): the block's tokens times
  // the group's query heads walk that KV head's cache together (attend_group), so each cache row is
  // read once per task rather than once per query. Blocks of kTokens keep a prompt's tasks many
  // enough to balance the threads.
  constexpr int64_t kTokens = 8;
  std::vector<int64_t> block_begin{0};
  for (int64_t t = 1; t < static_cast<int64_t>(batch.size()); ++t)
    if (t - block_begin.back() == kTokens || batch[static_cast<size_t>(t)].seq != batch[static_cast<size_t>(t - 1)].seq)
      block_begin.push_back(t);
  block_begin.push_back(static_cast<int64_t>(batch.size()));
  const int64_t blocks = static_cast<int64_t>(block_begin.size()) - 1;
  pool.parallel_for(blocks * n_kv, 1, [&](int64_t i0, int64_t i1) {
    // Per worker thread, kept between calls: the buffers only grow, so tasks do not allocate.
    thread_local AttentionScratch scratch;
    thread_local std::vector<AttentionQuery> queries;
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t blk = i / n_kv;
      const int64_t h_kv = i % n_kv;
      queries.clear();
      for (int64_t t = block_begin[static_cast<size_t>(blk)]; t < block_begin[static_cast<size_t>(blk) + 1]; ++t) {
        const BatchEntry& e = batch[static_cast<size_t>(t)];
        const int32_t first = sliding ? std::max<int32_t>(0, e.pos - static_cast<int32_t>(cfg_.sliding_window) + 1) : 0;
        for (int64_t h = h_kv * group; h < (h_kv + 1) * group; ++h)
          queries.push_back({&q_[t * q_dim + h * hd], &att_[t * q_dim + h * hd], first, e.pos});
      }
      AttentionGroupArgs a;
      a.kv = kv.view(layer, batch[static_cast<size_t>(block_begin[static_cast<size_t>(blk)])].seq);
      a.kv_head = static_cast<int32_t>(h_kv);
      a.scale = scale;
      a.softcap = cfg_.attn_logit_softcap;
      a.queries = queries.data();
      a.n_queries = queries.size();
      attend_group(a, precision_, scratch);
    }
  });
}

void Forward::dense_ffn(ThreadPool& pool, const LayerWeights& L, int64_t n) {
  const int64_t f = cfg_.ffn_dim;
  const MatmulJob gate_up[] = {{&L.w_gate, xn_.data(), n, gate_.data(), f}, {&L.w_up, xn_.data(), n, up_.data(), f}};
  matmul_jobs(pool, gate_up, mm_);
  gated_activation(pool, cfg_.activation == ModelConfig::Activation::gelu_tanh, gate_.data(), up_.data(), n, f);
  matmul(pool, L.w_down, gate_.data(), n, ffn_out_.data(), cfg_.d_model, mm_);
}

void Forward::moe_ffn(ThreadPool& pool, int layer, const LayerWeights& L, int64_t n) {
  const auto& K = kernels::active();
  const int64_t d = cfg_.d_model;
  const int64_t n_exp = cfg_.n_experts;
  const int64_t top_k = cfg_.n_experts_used;
  const int64_t f = cfg_.expert_ffn_dim;
  const int64_t fs = L.shexp_gate ? L.shexp_gate.rows : 0;  // shared expert (qwen2moe)

  // Three products per layer, each one call: everything that reads the normed input (router and
  // shared expert), then every chosen expert's gate and up, then every expert's down.
  resize(router_logits_, n * n_exp);
  std::vector<MatmulJob> jobs{{&L.router, xn_.data(), n, router_logits_.data(), n_exp}};
  std::vector<float> shared_gate(static_cast<size_t>(n), 1.0f);
  if (fs > 0) {
    resize(shexp_gate_, n * fs);
    resize(shexp_up_, n * fs);
    resize(shexp_y_, n * d);
    jobs.push_back({&L.shexp_gate, xn_.data(), n, shexp_gate_.data(), fs});
    jobs.push_back({&L.shexp_up, xn_.data(), n, shexp_up_.data(), fs});
    if (L.shexp_router) jobs.push_back({&L.shexp_router, xn_.data(), n, shared_gate.data(), 1});
  }
  matmul_jobs(pool, jobs, mm_);

  // Router: probabilities over experts, the top k chosen, their weights renormalised if asked.
  std::vector<std::vector<std::pair<int64_t, float>>> routed(static_cast<size_t>(n_exp));  // expert -> (token, weight)
  std::vector<int64_t> order(static_cast<size_t>(n_exp));
  for (int64_t t = 0; t < n; ++t) {
    float* p = &router_logits_[t * n_exp];
    if (cfg_.expert_gating == ModelConfig::ExpertGating::sigmoid) {
      for (int64_t e = 0; e < n_exp; ++e) p[e] = 1.0f / (1.0f + std::exp(-p[e]));
    } else {
      K.softmax(p, n_exp);
    }
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + top_k, order.end(),
                      [&](int64_t a, int64_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
    // A tie only matters where the expert that could be swapped carries weight.
    if (top_k < n_exp && p[order[top_k - 1]] > 0.02f) {
      float best_unchosen = 0.0f;  // partial_sort leaves the unchosen in no order
      for (int64_t j = top_k; j < n_exp; ++j) best_unchosen = std::max(best_unchosen, p[order[j]]);
      min_routing_margin_ = std::min(min_routing_margin_, p[order[top_k - 1]] - best_unchosen);
    }
    float sum = 0.0f;
    for (int64_t j = 0; j < top_k; ++j) sum += p[order[j]];
    for (int64_t j = 0; j < top_k; ++j) {
      const int64_t e = order[j];
      const float wgt = cfg_.expert_weights_norm ? p[e] / sum : p[e];
      routed[static_cast<size_t>(e)].emplace_back(t, wgt);
    }
  }

  // Each chosen expert runs once over the tokens that chose it: one slot (a row of moe_x_, gate_,
  // up_ and moe_y_) per routed token, an expert's slots consecutive, experts in index order;
  // unchosen experts are never read. With one token every expert reads xn_ itself, so its
  // conversion is shared.
  const int64_t slots = n * top_k;
  resize(moe_x_, slots * d);
  resize(gate_, slots * f);
  resize(up_, slots * f);
  resize(moe_y_, slots * d);
  // token_slots[t * top_k + j]: token t's j-th slot, in expert order as the slots are filled.
  std::vector<MatmulJob> down;
  std::vector<int64_t> slot_token(static_cast<size_t>(slots));  // slot -> token
  std::vector<float> slot_weight(static_cast<size_t>(slots));
  std::vector<int64_t> token_slots(static_cast<size_t>(slots)), token_fill(static_cast<size_t>(n), 0);
  jobs.clear();
  int64_t used = 0;
  for (int64_t e = 0; e < n_exp; ++e) {
    const auto& toks = routed[static_cast<size_t>(e)];
    if (toks.empty()) continue;
    expert_counts_[static_cast<size_t>(layer)][static_cast<size_t>(e)] += toks.size();
    const int64_t m = static_cast<int64_t>(toks.size());
    for (int64_t j = 0; j < m; ++j) {
      const int64_t t = toks[static_cast<size_t>(j)].first;
      slot_token[static_cast<size_t>(used + j)] = t;
      slot_weight[static_cast<size_t>(used + j)] = toks[static_cast<size_t>(j)].second;
      token_slots[static_cast<size_t>(t * top_k + token_fill[static_cast<size_t>(t)]++)] = used + j;
    }
    const float* x = n > 1 ? &moe_x_[used * d] : xn_.data();
    jobs.push_back({&L.exp_gate.experts[e], x, m, &gate_[used * f], f});
    jobs.push_back({&L.exp_up.experts[e], x, m, &up_[used * f], f});
    down.push_back({&L.exp_down.experts[e], &gate_[used * f], m, &moe_y_[used * d], d});
    used += m;
  }
  if (n > 1)
    for_tokens(pool, used, d, [&](int64_t s0, int64_t s1) {
      for (int64_t j = s0; j < s1; ++j) std::copy_n(&xn_[slot_token[static_cast<size_t>(j)] * d], d, &moe_x_[j * d]);
    });
  matmul_jobs(pool, jobs, mm_);
  gated_activation(pool, cfg_.activation == ModelConfig::Activation::gelu_tanh, gate_.data(), up_.data(), used, f);
  if (fs > 0) {
    gated_activation(pool, false, shexp_gate_.data(), shexp_up_.data(), n, fs);
    down.push_back({&L.shexp_down, shexp_gate_.data(), n, shexp_y_.data(), d});
  }
  matmul_jobs(pool, down, mm_);

  // Each token's output: its experts' outputs weighted, in expert order, then the shared expert's
  // scaled by sigmoid(router_shexp . x) where it has that router.
  if (fs > 0 && L.shexp_router)
    for (auto& s : shared_gate) s = 1.0f / (1.0f + std::exp(-s));
  for_tokens(pool, n, d * (top_k + 1), [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      float* dst = &ffn_out_[t * d];
      std::fill_n(dst, d, 0.0f);
      for (int64_t k = 0; k < top_k; ++k) {
        const int64_t j = token_slots[static_cast<size_t>(t * top_k + k)];
        const float* src = &moe_y_[j * d];
        const float wgt = slot_weight[static_cast<size_t>(j)];
        for (int64_t i = 0; i < d; ++i) dst[i] += wgt * src[i];
      }
      if (fs > 0)
        for (int64_t i = 0; i < d; ++i) dst[i] += shared_gate[static_cast<size_t>(t)] * shexp_y_[t * d + i];
    }
  });
}

}  // namespace slm
