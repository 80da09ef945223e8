// ModelConfig: a model's hyperparameters and feature flags, whichever file format it came from.
//
// The graph reads only this struct (and Weights): architecture differences are data here, never
// branches on the file format. Two loaders fill it, config_from_gguf (GGUF metadata + tensor table)
// and config_from_hf (a Hugging Face config.json); for the same model they give equal structs
// (tests/model/config_test.cpp checks this field by field on the models in ../shared).
//
// Conventions the loaders share, so that the two sources agree:
//  - Layouts are GGUF's. rope_style names the pairing of the canonical (GGUF) q/k weight layout;
//    Hugging Face llama/mixtral checkpoints store q_proj/k_proj rows permuted for rotate_half, and
//    the weight loader un-permutes them at load (as llama.cpp's converter does), so a llama model is
//    `interleaved` from either source.
//  - Two things legitimately differ by format, because the formats store them differently:
//    norm_weight_offset says how the stored norm weights are to be read (gemma's Hugging Face
//    weights hold w - 1; llama.cpp's converter already added 1), and llama3 RoPE scaling is a
//    RopeScaling from config.json but a tensor in GGUF (see RopeScaling::Type::llama3).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace slm {

namespace gguf { class GgufFile; }

struct ModelConfig {
  // Canonical architecture: "llama", "qwen2", "qwen3", "qwen2moe", "qwen3moe", "mixtral", "gemma3",
  // "phi3". A GGUF "llama" with experts is reported as "mixtral".
  std::string architecture;

  uint32_t n_layers = 0;        // transformer blocks
  uint32_t d_model = 0;         // residual stream width (embedding length)
  uint32_t n_heads = 0;         // query heads
  uint32_t n_kv_heads = 0;      // key/value heads (n_heads % n_kv_heads == 0; GQA group = the ratio)
  uint32_t head_dim = 0;        // elements per head for q and k (and v); not always d_model / n_heads
  uint32_t ffn_dim = 0;         // dense FFN hidden width (gate/up rows); informational for MoE models
  uint32_t vocab_size = 0;      // rows of the token embedding and of the output projection (logits)
  uint32_t context_length = 0;  // positions the model was trained for

  float rope_theta = 10000.0f;  // RoPE frequency base (full-attention layers)
  uint32_t rope_dim = 0;        // rotated elements per head (< head_dim for partial rotary), even

  enum class RopeStyle {
    interleaved,  // llama, mixtral: rotates pairs (2i, 2i+1)
    neox,         // qwen2/3, qwen2moe/3moe, gemma3, phi3: rotates pairs (i, i + rope_dim/2)
  };
  RopeStyle rope_style = RopeStyle::interleaved;

  // Context extension of RoPE. Applies to full-attention layers; sliding-window layers of gemma3
  // use rope_theta_swa without scaling (as both transformers and llama.cpp do).
  struct RopeScaling {
    enum class Type {
      none,
      linear,    // positions divided by factor
      yarn,      // NTK-by-parts interpolation with magnitude correction (YaRN)
      llama3,    // per-frequency divisors from low/high_freq_factor (see llama3_rope_freq_factors).
                 // Only config.json reports it: llama.cpp's converter stores the divisors as the
                 // tensor rope_freqs.weight (Weights::rope_freq_factors) and no scaling key, so a
                 // GGUF llama3 model reads as `none`; an HF loader fills Weights::rope_freq_factors
                 // from llama3_rope_freq_factors() and the graph applies only those divisors.
      longrope,  // per-frequency divisors short_factor / long_factor (phi3 128k)
    };
    Type type = Type::none;
    float factor = 1.0f;            // context extension factor (>= 1 in practice)
    uint32_t original_context = 0;  // context before extension (0 when unknown / not needed)
    // llama3
    float low_freq_factor = 1.0f;
    float high_freq_factor = 4.0f;
    // yarn (llama.cpp's meaning of each)
    float ext_factor = 0.0f;   // weight of the extrapolation/interpolation ramp: 1 for yarn, 0 otherwise
    float attn_factor = 1.0f;  // multiplier on attention magnitude (yarn: on top of 0.1 ln(factor) + 1;
                               // longrope: the whole correction, sqrt(1 + ln(factor)/ln(original)))
    float beta_fast = 32.0f;   // yarn ramp bounds, in rotations over the original context
    float beta_slow = 1.0f;
    // longrope: rope_dim/2 divisors of the rotary frequencies, `short_factor` up to
    // original_context positions and `long_factor` beyond (from config.json, or from the GGUF
    // tensors rope_factors_short.weight / rope_factors_long.weight).
    std::vector<float> short_factor;
    std::vector<float> long_factor;

    bool operator==(const RopeScaling&) const = default;
  };
  RopeScaling rope_scaling;
  // RoPE base of sliding-window layers (gemma3: 10000); equals rope_theta when there are none.
  float rope_theta_swa = 10000.0f;

  float norm_eps = 1e-5f;        // RMSNorm epsilon
  bool tied_embeddings = false;  // output projection is the token embedding (no separate weight)
  bool qk_norm = false;          // per-head RMSNorm on q and k before RoPE (qwen3, gemma3)
  bool attn_bias = false;        // q/k/v projections have biases (qwen2, qwen2moe)

  enum class Activation {
    silu,       // SwiGLU: silu(gate) * up
    gelu_tanh,  // GeGLU with the tanh approximation of GELU (gemma)
  };
  Activation activation = Activation::silu;

  float embedding_scale = 1.0f;     // token embeddings are multiplied by this (gemma: sqrt(d_model))
  bool norm_weight_offset = false;  // RMSNorm uses (1 + w) instead of w: the stored weights hold w - 1

  // Sliding-window attention. Layer i attends to the last `sliding_window` positions when it is a
  // local layer (see is_local_layer): with pattern P > 0, layer i is local iff i % P < P - 1 (gemma3:
  // P = 6, five local layers then one global); P = 0 makes every layer local. sliding_window == 0:
  // no local layers at all.
  uint32_t sliding_window = 0;
  uint32_t sliding_window_pattern = 0;

  float attn_logit_softcap = 0.0f;   // scores become c * tanh(s / c) before softmax; 0 = off
  float final_logit_softcap = 0.0f;  // same on the output logits; 0 = off
  float attn_scale = 0.0f;           // multiplier of q.k; 0 = 1 / sqrt(head_dim)

  // Mixture of experts (n_experts == 0: a dense model).
  uint32_t n_experts = 0;              // routed experts per layer
  uint32_t n_experts_used = 0;         // experts each token is routed to (top-k)
  uint32_t expert_ffn_dim = 0;         // hidden width of one routed expert
  uint32_t n_shared_experts = 0;       // experts every token goes through (qwen2moe: 1)
  uint32_t shared_expert_ffn_dim = 0;  // hidden width of the shared expert(s), all together
  bool expert_weights_norm = false;    // renormalise the top-k routing weights to sum to 1

  enum class ExpertGating {
    softmax,  // routing weights = softmax over all experts' logits, then top-k
    sigmoid,  // routing weights = sigmoid of each logit
  };
  ExpertGating expert_gating = ExpertGating::softmax;

  bool operator==(const ModelConfig&) const = default;
};

// True when layer `layer` uses sliding-window attention.
inline bool is_local_layer(const ModelConfig& c, uint32_t layer) noexcept {
  if (c.sliding_window == 0) return false;
  const uint32_t p = c.sliding_window_pattern;
  return p == 0 || layer % p < p - 1;
}

// Checks the hyperparameters fit together: positive sizes, n_heads % n_kv_heads == 0, even head_dim
// and rope_dim <= head_dim, n_experts_used <= n_experts, finite positive epsilons and bases, and that
// the tensor sizes they imply fit in 64 bits. Throws slm::Error(model, "ModelConfig.<field>", ...).
void validate(const ModelConfig& config);

// From a GGUF file's metadata (keys "<arch>.block_count", ...) and tensor table (tied embeddings,
// QK-norm, biases, vocabulary rows). Throws slm::Error(model | unsupported) naming the file and key.
// The result is not validated; call validate().
ModelConfig config_from_gguf(const gguf::GgufFile& file);

// From a Hugging Face config.json ("architectures"[0] picks the architecture). Throws slm::Error
// (io | format | model | unsupported) naming "config.json: field <name>". Not validated either.
ModelConfig config_from_hf(const std::filesystem::path& config_json);
// The same from the text of a config.json; `name` stands for the file in error messages.
ModelConfig config_from_hf_text(std::string_view json_text, const std::string& name);

// llama3 RoPE scaling as per-frequency divisors: rope_dim/2 values, the i-th dividing frequency
// theta^(-2i/rope_dim) (what llama.cpp's converter stores as the tensor rope_freqs.weight).
// Empty unless rope_scaling.type is llama3.
std::vector<float> llama3_rope_freq_factors(const ModelConfig& config);

}  // namespace slm
