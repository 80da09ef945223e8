// Weights: every tensor of a model as a named field, in one canonical layout.
//
// Views point into memory someone else owns (the mmapped file, a repacked buffer, later device
// memory), so a backend can swap where a view points without touching the graph. Above src/model/
// nobody looks a tensor up by name and nobody knows which file format the model came from.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/types.h"

namespace slm {

// A weight matrix as the kernels see it: `rows` output features of `cols` input elements each,
// row r at data + r * row_bytes. (In GGUF terms: ne0 = cols, ne1 = rows.)
struct MatView {
  DType type = DType::F32;
  const uint8_t* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  size_t row_bytes = 0;

  explicit operator bool() const noexcept { return data != nullptr; }
  size_t bytes() const noexcept { return static_cast<size_t>(rows) * row_bytes; }
  const uint8_t* row(int64_t r) const noexcept { return data + static_cast<size_t>(r) * row_bytes; }
  // Rows [r0, r0 + n) as a matrix of their own (fused q|k|v or gate|up tensors).
  MatView slice_rows(int64_t r0, int64_t n) const noexcept {
    MatView s = *this;
    s.data = row(r0);
    s.rows = n;
    return s;
  }
};

// A vector of F32 values (norm weights, biases). Always F32: loaders convert other types at load.
struct VecView {
  const float* data = nullptr;
  int64_t n = 0;
  explicit operator bool() const noexcept { return data != nullptr; }
};

// The experts of one MoE projection: experts[e] is expert e's matrix. Stacked GGUF tensors
// (ffn_*_exps, [n_experts][rows][cols]) and per-expert safetensors both end up here.
struct ExpertMats {
  std::vector<MatView> experts;
  explicit operator bool() const noexcept { return !experts.empty(); }
};

struct LayerWeights {
  VecView attn_norm;             // [d_model]
  MatView wq, wk, wv, wo;        // q: [n_heads*head_dim][d_model], k/v: [n_kv_heads*head_dim][d_model], o: [d_model][n_heads*head_dim]
  VecView bq, bk, bv;            // optional biases (qwen2)
  VecView q_norm, k_norm;        // optional per-head RMSNorm over head_dim (qwen3)
  VecView attn_post_norm;        // optional norm of the attention output before the residual (gemma3)

  VecView ffn_norm;              // [d_model]
  MatView w_gate, w_up, w_down;  // dense FFN: gate/up [ffn_dim][d_model], down [d_model][ffn_dim]
  VecView ffn_post_norm;         // optional (gemma3)

  // Mixture of experts (n_experts > 0): router and experts, plus an optional shared expert.
  MatView router;                // [n_experts][d_model]
  ExpertMats exp_gate, exp_up, exp_down;
  MatView shexp_gate, shexp_up, shexp_down;  // shared expert (qwen2moe)
  MatView shexp_router;          // [1][d_model]: sigmoid gate of the shared expert's output
};

struct ModelConfig;

struct Weights {
  MatView token_embd;            // [vocab][d_model]: row t is token t's embedding
  VecView output_norm;           // [d_model]
  MatView output;                // [vocab][d_model]; equals token_embd when embeddings are tied
  VecView rope_freq_factors;     // optional [rope_dim/2] divisors of RoPE frequencies (llama3 files)
  std::vector<LayerWeights> layers;
};

// Weight bytes one generated token streams: every matrix once, except the embedding table (one row;
// whole again when it doubles as the output projection) and, of MoE experts, only the chosen ones.
uint64_t bytes_per_token(const ModelConfig& c, const Weights& w, uint64_t all_weight_bytes);

}  // namespace slm
