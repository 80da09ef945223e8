// Synthetic models: random-weight GGUF files of any supported architecture and shape, written with
// slm's own GGUF writer and quantizers. Tests use them to cover every graph path without ../shared;
// benchmarks use them at real model shapes (speed does not depend on the weights' values).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "kernels/types.h"

namespace slm {

struct SyntheticSpec {
  std::string architecture = "llama";  // llama, qwen2, qwen3, qwen3moe, qwen2moe, gemma3, phi3
  uint32_t n_layers = 2;
  uint32_t d_model = 64;
  uint32_t n_heads = 4;
  uint32_t n_kv_heads = 2;
  uint32_t head_dim = 0;      // 0: d_model / n_heads
  uint32_t ffn_dim = 96;
  uint32_t vocab_size = 320;  // >= 259 (3 specials + 256 byte tokens); the rest are letter pieces
  uint32_t context_length = 256;
  float rope_theta = 10000.0f;
  float norm_eps = 1e-5f;
  bool tied_embeddings = true;
  bool qk_norm = false;       // adds blk.N.attn_{q,k}_norm (qwen3 style)
  bool attn_bias = false;     // adds q/k/v biases (qwen2 style)
  uint32_t n_experts = 0;     // > 0: MoE FFN (stacked ffn_*_exps tensors)
  uint32_t n_experts_used = 0;
  uint32_t expert_ffn_dim = 0;
  uint32_t shared_expert_ffn_dim = 0;  // > 0: a shared expert with a sigmoid gate (qwen2moe)
  DType matrix_type = DType::F32;      // type of the 2-D/3-D weight matrices
  DType embedding_type = DType::F32;
  uint64_t seed = 1;
  // llama-quantize's Q4_K_M choices on top of matrix_type: Q6_K for attn_v and ffn_down in the layers
  // its use_more_bits() picks (the first and last eighth, and every third layer in between).
  bool q4_k_m_mix = false;
  // > 0: only this many distinct random rows per matrix, repeated to its height. Writing a model of
  // a real shape (a billion weights) then takes seconds; speed does not depend on the values.
  uint32_t distinct_rows = 0;
  std::vector<std::string> control_tokens;  // control tokens ("<|im_end|>", ...) taking the last ids
  std::string chat_template;                // tokenizer.chat_template, when not empty
};

// Writes the model; throws slm::Error(invalid_argument) for shapes the chosen types cannot hold
// (e.g. d_model not a multiple of 256 with a K-quant).
void write_synthetic_model(const SyntheticSpec& spec, const std::filesystem::path& path);

// Random-weight models of the shapes PEERS.md's llama.cpp figures were measured on, written once into
// the temporary directory and reused. TYPE[:SHAPE]:
//   llama1b (default)  Llama 3.2 1B: dim 2048, 16 layers, 32 heads, 8 KV, FFN 8192, 32,000 tokens, tied
//   moe32 / dense32    qwen3(moe) dim 1024, 8 layers, 16 heads of 128, 4 KV: 32 experts top-4 of FFN
//                      512, or dense FFN 2048 (the same active size)
//   moe64 / dense64    the same with 64 experts top-2 of FFN 512, or dense FFN 1024
// Returns the file's path; throws slm::Error(invalid_argument) for an unknown TYPE or SHAPE.
std::filesystem::path peers_synthetic_model(const std::string& type_and_shape);

}  // namespace slm
