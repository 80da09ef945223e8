// validate() and the derived quantities of a ModelConfig. The two loaders are in config_gguf.cpp
// and config_hf.cpp.
#include "src/model/config.h"

#include <cmath>
#include <numbers>

#include "slm/error.h"

namespace slm {
namespace {

// Upper bounds far beyond any real model; they keep every size the graph derives (products of two
// or three of these) well inside 64 bits, and reject garbage before it turns into allocations.
constexpr uint64_t kMaxDim = 1u << 24;        // d_model, head dims, FFN widths, vocab, context
constexpr uint64_t kMaxLayers = 1u << 16;
constexpr uint64_t kMaxHeads = 1u << 16;
constexpr uint64_t kMaxExperts = 1u << 16;

[[noreturn]] void fail(std::string_view field, std::string detail) {
  throw Error(ErrorKind::model, "ModelConfig." + std::string(field), std::move(detail));
}

void require_range(std::string_view field, uint64_t v, uint64_t lo, uint64_t hi) {
  if (v < lo || v > hi)
    fail(field, std::to_string(v) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

void require_positive_finite(std::string_view field, float v) {
  if (!(std::isfinite(v) && v > 0.0f)) fail(field, "expected a positive finite number, got " + std::to_string(v));
}

void require_non_negative_finite(std::string_view field, float v) {
  if (!(std::isfinite(v) && v >= 0.0f)) fail(field, "expected a finite number >= 0, got " + std::to_string(v));
}

bool is_known_architecture(std::string_view a) {
  for (std::string_view k : {"llama", "qwen2", "qwen3", "qwen2moe", "qwen3moe", "mixtral", "gemma3", "phi3"})
    if (a == k) return true;
  return false;
}

}  // namespace

void validate(const ModelConfig& c) {
  if (!is_known_architecture(c.architecture))
    throw Error(ErrorKind::unsupported, "ModelConfig.architecture",
                "\"" + c.architecture + "\" is not one of llama, qwen2, qwen3, qwen2moe, qwen3moe, mixtral, gemma3, phi3");

  require_range("n_layers", c.n_layers, 1, kMaxLayers);
  require_range("d_model", c.d_model, 1, kMaxDim);
  require_range("n_heads", c.n_heads, 1, kMaxHeads);
  require_range("n_kv_heads", c.n_kv_heads, 1, c.n_heads);
  if (c.n_heads % c.n_kv_heads != 0)
    fail("n_kv_heads", std::to_string(c.n_kv_heads) + " does not divide n_heads " + std::to_string(c.n_heads));
  require_range("head_dim", c.head_dim, 2, kMaxDim);
  if (c.head_dim % 2 != 0) fail("head_dim", std::to_string(c.head_dim) + " is odd (RoPE rotates pairs)");
  // q rows = n_heads * head_dim: each factor <= 2^24 and 2^16, so the product is exact in 64 bits.
  if (uint64_t{c.n_heads} * c.head_dim > kMaxDim)
    fail("head_dim", "n_heads * head_dim = " + std::to_string(uint64_t{c.n_heads} * c.head_dim) + " exceeds " +
                         std::to_string(kMaxDim));
  require_range("rope_dim", c.rope_dim, 2, c.head_dim);
  if (c.rope_dim % 2 != 0) fail("rope_dim", std::to_string(c.rope_dim) + " is odd (RoPE rotates pairs)");
  require_range("vocab_size", c.vocab_size, 1, kMaxDim);
  require_range("context_length", c.context_length, 1, kMaxDim);
  require_positive_finite("rope_theta", c.rope_theta);
  require_positive_finite("rope_theta_swa", c.rope_theta_swa);
  require_positive_finite("norm_eps", c.norm_eps);
  require_positive_finite("embedding_scale", c.embedding_scale);
  require_non_negative_finite("attn_logit_softcap", c.attn_logit_softcap);
  require_non_negative_finite("final_logit_softcap", c.final_logit_softcap);
  require_non_negative_finite("attn_scale", c.attn_scale);
  if (c.sliding_window_pattern > c.n_layers && c.sliding_window > 0)
    fail("sliding_window_pattern", std::to_string(c.sliding_window_pattern) + " exceeds n_layers " +
                                       std::to_string(c.n_layers));
  require_range("sliding_window", c.sliding_window, 0, kMaxDim);

  const auto& rs = c.rope_scaling;
  using Type = ModelConfig::RopeScaling::Type;
  if (rs.type != Type::none) {
    require_positive_finite("rope_scaling.factor", rs.factor);
    require_positive_finite("rope_scaling.attn_factor", rs.attn_factor);
  }
  if (rs.type == Type::yarn) {
    require_range("rope_scaling.original_context", rs.original_context, 1, kMaxDim);
    require_positive_finite("rope_scaling.beta_fast", rs.beta_fast);
    require_positive_finite("rope_scaling.beta_slow", rs.beta_slow);
    require_non_negative_finite("rope_scaling.ext_factor", rs.ext_factor);
  }
  if (rs.type == Type::llama3) {
    require_range("rope_scaling.original_context", rs.original_context, 1, kMaxDim);
    require_positive_finite("rope_scaling.low_freq_factor", rs.low_freq_factor);
    require_positive_finite("rope_scaling.high_freq_factor", rs.high_freq_factor);
    if (!(rs.high_freq_factor > rs.low_freq_factor))
      fail("rope_scaling.high_freq_factor", "must exceed low_freq_factor (" + std::to_string(rs.low_freq_factor) + ")");
  }
  if (rs.type == Type::longrope) {
    require_range("rope_scaling.original_context", rs.original_context, 1, kMaxDim);
    for (const auto* v : {&rs.short_factor, &rs.long_factor}) {
      const char* name = v == &rs.short_factor ? "rope_scaling.short_factor" : "rope_scaling.long_factor";
      if (v->size() != c.rope_dim / 2)
        fail(name, "has " + std::to_string(v->size()) + " values, rope_dim / 2 = " + std::to_string(c.rope_dim / 2));
      for (float f : *v) require_positive_finite(name, f);
    }
  } else if (!rs.short_factor.empty() || !rs.long_factor.empty()) {
    fail("rope_scaling.short_factor", "set, but rope_scaling.type is not longrope");
  }

  if (c.n_experts == 0) {
    require_range("ffn_dim", c.ffn_dim, 1, kMaxDim);
    if (c.n_experts_used != 0) fail("n_experts_used", "is " + std::to_string(c.n_experts_used) + " but n_experts is 0");
    if (c.n_shared_experts != 0) fail("n_shared_experts", "set on a model without experts");
  } else {
    require_range("n_experts", c.n_experts, 1, kMaxExperts);
    require_range("n_experts_used", c.n_experts_used, 1, c.n_experts);
    require_range("expert_ffn_dim", c.expert_ffn_dim, 1, kMaxDim);
    require_range("ffn_dim", c.ffn_dim, 0, kMaxDim);  // unused by MoE layers, may be 0
    if (c.n_shared_experts > 0) {
      require_range("n_shared_experts", c.n_shared_experts, 1, kMaxExperts);
      require_range("shared_expert_ffn_dim", c.shared_expert_ffn_dim, 1, kMaxDim);
    } else if (c.shared_expert_ffn_dim != 0) {
      fail("shared_expert_ffn_dim", "set, but n_shared_experts is 0");
    }
  }
}

std::vector<float> llama3_rope_freq_factors(const ModelConfig& c) {
  const auto& rs = c.rope_scaling;
  if (rs.type != ModelConfig::RopeScaling::Type::llama3 || c.rope_dim < 2) return {};
  // As Meta's reference and llama.cpp's converter: wavelengths shorter than original/high_freq_factor
  // keep their frequency, longer than original/low_freq_factor are divided by `factor`, and those
  // between are blended smoothly. Computed in double, stored as float like rope_freqs.weight.
  const double old_ctx = rs.original_context;
  const double low_wavelen = old_ctx / rs.low_freq_factor;
  const double high_wavelen = old_ctx / rs.high_freq_factor;
  std::vector<float> out;
  out.reserve(c.rope_dim / 2);
  for (uint32_t i = 0; i < c.rope_dim; i += 2) {
    const double freq = 1.0 / std::pow(static_cast<double>(c.rope_theta), static_cast<double>(i) / c.rope_dim);
    const double wavelen = 2.0 * std::numbers::pi / freq;
    double f;
    if (wavelen < high_wavelen) {
      f = 1.0;
    } else if (wavelen > low_wavelen) {
      f = rs.factor;
    } else {
      const double smooth = (old_ctx / wavelen - rs.low_freq_factor) / (rs.high_freq_factor - rs.low_freq_factor);
      f = 1.0 / ((1.0 - smooth) / rs.factor + smooth);
    }
    out.push_back(static_cast<float>(f));
  }
  return out;
}

}  // namespace slm
