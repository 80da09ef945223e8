// config_from_gguf: GGUF metadata and tensor table -> ModelConfig.
//
// Keys are llama.cpp's ("<arch>.block_count", "<arch>.attention.head_count", ...), and so are the
// defaults for optional keys and the facts llama.cpp hard-codes per architecture rather than
// storing (RoPE pairing from llama_model_rope_type, gemma3's layer pattern and local RoPE base,
// MoE weight normalisation). Some flags come from the tensor table: tied embeddings (no
// output.weight), QK-norm (blk.0.attn_q_norm.weight), q/k/v biases (blk.0.attn_q.bias).
#include <cmath>
#include <cstring>

#include "formats/gguf.h"
#include "slm/error.h"
#include "src/model/config.h"

namespace slm {
namespace {

using Scaling = ModelConfig::RopeScaling;

class Keys {
 public:
  Keys(const gguf::GgufFile& f, std::string arch) : f_(f), prefix_(std::move(arch) + ".") {}

  std::string key(std::string_view k) const { return prefix_ + std::string(k); }
  std::string where(std::string_view full_key) const { return f_.name() + ": key " + std::string(full_key); }

  uint32_t required_u32(std::string_view k) const {
    const std::string full = key(k);
    const auto v = f_.get_optional<uint32_t>(full);
    if (!v) throw Error(ErrorKind::model, where(full), "missing (required for this architecture)");
    if (*v == 0) throw Error(ErrorKind::model, where(full), "must be positive, got 0");
    return *v;
  }
  std::optional<uint32_t> u32(std::string_view k) const { return f_.get_optional<uint32_t>(key(k)); }
  std::optional<float> f32(std::string_view k) const {
    const std::string full = key(k);
    const auto v = f_.get_optional<float>(full);
    if (v && !std::isfinite(*v)) throw Error(ErrorKind::model, where(full), "is not a finite number");
    return v;
  }
  std::optional<bool> boolean(std::string_view k) const { return f_.get_optional<bool>(key(k)); }
  std::optional<std::string_view> string(std::string_view k) const { return f_.get_optional<std::string_view>(key(k)); }
  bool has(std::string_view k) const { return f_.has(key(k)); }

 private:
  const gguf::GgufFile& f_;
  std::string prefix_;
};

// A small F32 vector tensor (RoPE factors), copied out: tensor bytes in the file may be unaligned.
std::vector<float> read_f32_vector(const gguf::GgufFile& f, const gguf::TensorInfo& t, uint32_t expected) {
  const std::string where = f.name() + ": tensor " + std::string(t.name);
  if (t.type != DType::F32)
    throw Error(ErrorKind::model, where, "expected F32, got " + std::string(dtype_name(t.type)));
  if (t.n_elements != expected)
    throw Error(ErrorKind::model, where,
                "expected " + std::to_string(expected) + " values (rope_dim / 2), got " + std::to_string(t.n_elements));
  std::vector<float> out(expected);
  std::memcpy(out.data(), t.data, expected * sizeof(float));
  return out;
}

// Sliding-window layer pattern as a period (see ModelConfig::sliding_window_pattern). Newer files
// may store it as "<arch>.attention.sliding_window_pattern": a period, or one bool per layer.
uint32_t sliding_pattern(const gguf::GgufFile& f, const Keys& keys, uint32_t n_layers, uint32_t fallback) {
  const std::string full = keys.key("attention.sliding_window_pattern");
  const gguf::Value* v = f.find(full);
  if (!v) return fallback;
  if (!v->array()) return f.get<uint32_t>(full);
  const std::vector<bool> local = f.get_bool_array(full);
  if (local.size() != n_layers)
    throw Error(ErrorKind::model, keys.where(full), "expected one bool per layer (" + std::to_string(n_layers) + ")");
  uint32_t period = 0;
  for (uint32_t i = 0; i < n_layers; ++i)
    if (!local[i]) {
      period = i + 1;
      break;
    }
  for (uint32_t i = 0; i < n_layers; ++i)
    if (local[i] != (period == 0 || i % period < period - 1))
      throw Error(ErrorKind::unsupported, keys.where(full),
                  "layer pattern is not a repeating run of sliding layers then one full layer");
  return period;
}

}  // namespace

ModelConfig config_from_gguf(const gguf::GgufFile& f) {
  const std::string arch_key = "general.architecture";
  const auto arch = f.get_optional<std::string_view>(arch_key);
  if (!arch) throw Error(ErrorKind::model, f.name() + ": key " + arch_key, "missing");
  const std::string a(*arch);
  if (a != "llama" && a != "qwen2" && a != "qwen2moe" && a != "qwen3" && a != "qwen3moe" && a != "gemma3" &&
      a != "phi3")
    throw Error(ErrorKind::unsupported, f.name() + ": key " + arch_key,
                "architecture \"" + a + "\" is not supported (llama, qwen2, qwen2moe, qwen3, qwen3moe, gemma3, phi3)");
  const Keys k(f, a);
  const bool gemma = a == "gemma3";

  ModelConfig c;
  c.n_layers = k.required_u32("block_count");
  c.d_model = k.required_u32("embedding_length");
  c.n_heads = k.required_u32("attention.head_count");
  c.n_kv_heads = k.u32("attention.head_count_kv").value_or(c.n_heads);
  c.head_dim = k.u32("attention.key_length").value_or(c.n_heads ? c.d_model / c.n_heads : 0);
  if (auto v = k.u32("attention.value_length"); v && *v != c.head_dim)
    throw Error(ErrorKind::unsupported, k.where(k.key("attention.value_length")),
                "value head size " + std::to_string(*v) + " differs from key head size " + std::to_string(c.head_dim));
  c.ffn_dim = k.u32("feed_forward_length").value_or(0);
  c.context_length = k.required_u32("context_length");

  // Vocabulary: the rows of the embedding matrix (what the logits cover); the tokenizer's list when
  // the file has no embedding (vocabulary-only files).
  const gguf::TensorInfo* embd = f.find_tensor("token_embd.weight");
  const gguf::Value* tokens = f.find("tokenizer.ggml.tokens");
  const uint64_t n_tokens = tokens && tokens->array() ? tokens->array()->size() : 0;
  if (embd && embd->shape.size() >= 2) {
    if (embd->shape[1] > UINT32_MAX)
      throw Error(ErrorKind::model, f.name() + ": tensor token_embd.weight", "more than 2^32 rows");
    c.vocab_size = static_cast<uint32_t>(embd->shape[1]);
  } else if (auto v = k.u32("vocab_size")) {
    c.vocab_size = *v;
  } else if (n_tokens <= UINT32_MAX) {
    c.vocab_size = static_cast<uint32_t>(n_tokens);
  }
  if (n_tokens > c.vocab_size)
    throw Error(ErrorKind::model, f.name() + ": key tokenizer.ggml.tokens",
                std::to_string(n_tokens) + " tokens but the embedding has only " + std::to_string(c.vocab_size) + " rows");

  c.rope_theta = k.f32("rope.freq_base").value_or(gemma ? 1000000.0f : 10000.0f);
  c.rope_theta_swa = gemma ? k.f32("rope.freq_base_swa").value_or(10000.0f) : c.rope_theta;
  c.rope_dim = k.u32("rope.dimension_count").value_or(c.head_dim);
  c.rope_style = a == "llama" ? ModelConfig::RopeStyle::interleaved : ModelConfig::RopeStyle::neox;

  Scaling& s = c.rope_scaling;
  const auto* short_factors = f.find_tensor("rope_factors_short.weight");
  const auto* long_factors = f.find_tensor("rope_factors_long.weight");
  const std::string_view type = k.string("rope.scaling.type").value_or("none");
  if (type == "none" && (short_factors || long_factors)) {
    // llama.cpp's phi3 converter writes longrope as these two tensors and no scaling type.
    s.type = Scaling::Type::longrope;
  } else if (type == "none") {
    // Files older than rope.scaling.* stored a linear factor as rope.scale_linear.
    if (auto lin = k.f32("rope.scale_linear"); lin && *lin != 1.0f) {
      s.type = Scaling::Type::linear;
      s.factor = *lin;
    }
  } else if (type == "linear") {
    s.type = Scaling::Type::linear;
  } else if (type == "yarn") {
    s.type = Scaling::Type::yarn;
    s.ext_factor = k.f32("rope.scaling.yarn_ext_factor").value_or(1.0f);
    s.beta_fast = k.f32("rope.scaling.yarn_beta_fast").value_or(32.0f);
    s.beta_slow = k.f32("rope.scaling.yarn_beta_slow").value_or(1.0f);
  } else if (type == "longrope") {
    s.type = Scaling::Type::longrope;
  } else {
    throw Error(ErrorKind::unsupported, k.where(k.key("rope.scaling.type")),
                "RoPE scaling \"" + std::string(type) + "\" is not supported (none, linear, yarn, longrope)");
  }
  if (s.type != Scaling::Type::none) {
    if (auto v = k.f32("rope.scaling.factor")) s.factor = *v;
    s.original_context = k.u32("rope.scaling.original_context_length").value_or(0);
    s.attn_factor = k.f32("rope.scaling.attn_factor").value_or(1.0f);
  }
  if (s.type == Scaling::Type::longrope) {
    if (!short_factors || !long_factors)
      throw Error(ErrorKind::model, f.name() + ": tensor rope_factors_" + (short_factors ? "long" : "short") + ".weight",
                  "missing (longrope needs both rope_factors_short.weight and rope_factors_long.weight)");
    if (s.original_context == 0)
      throw Error(ErrorKind::model, k.where(k.key("rope.scaling.original_context_length")), "missing (needed by longrope)");
    s.short_factor = read_f32_vector(f, *short_factors, c.rope_dim / 2);
    s.long_factor = read_f32_vector(f, *long_factors, c.rope_dim / 2);
    // The converter stores no factor: it is the context extension, as transformers computes it.
    if (!k.has("rope.scaling.factor"))
      s.factor = static_cast<float>(static_cast<double>(c.context_length) / s.original_context);
  }

  const std::string eps_key = k.key("attention.layer_norm_rms_epsilon");
  const auto eps = f.get_optional<float>(eps_key);
  if (!eps) throw Error(ErrorKind::model, k.where(eps_key), "missing (required for RMSNorm models)");
  c.norm_eps = *eps;

  c.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  c.qk_norm = f.find_tensor("blk.0.attn_q_norm.weight") != nullptr;
  c.attn_bias = f.find_tensor("blk.0.attn_q.bias") != nullptr || f.find_tensor("blk.0.attn_qkv.bias") != nullptr;
  c.activation = gemma ? ModelConfig::Activation::gelu_tanh : ModelConfig::Activation::silu;
  c.embedding_scale = gemma ? std::sqrt(static_cast<float>(c.d_model)) : 1.0f;
  c.norm_weight_offset = false;  // llama.cpp's converter stores gemma norms with the 1 already added

  c.sliding_window = k.u32("attention.sliding_window").value_or(0);
  if (gemma && c.sliding_window == 0)
    throw Error(ErrorKind::model, k.where(k.key("attention.sliding_window")), "missing (gemma3 has local layers)");
  c.sliding_window_pattern = sliding_pattern(f, k, c.n_layers, gemma ? 6 : 0);
  c.attn_logit_softcap = k.f32("attn_logit_softcapping").value_or(0.0f);
  c.final_logit_softcap = k.f32("final_logit_softcapping").value_or(0.0f);
  c.attn_scale = k.f32("attention.scale").value_or(0.0f);
  // llama.cpp (after gemma_pytorch): the 27B model (62 layers) scales by (d_model / n_heads)^-1/2,
  // which is its query_pre_attn_scalar; the others by head_dim^-1/2, the default.
  if (gemma && c.n_layers == 62 && c.n_heads > 0)
    c.attn_scale = 1.0f / std::sqrt(static_cast<float>(c.d_model / c.n_heads));

  c.n_experts = k.u32("expert_count").value_or(0);
  if (c.n_experts > 0) {
    c.n_experts_used = k.u32("expert_used_count").value_or(0);
    c.expert_ffn_dim = k.u32("expert_feed_forward_length").value_or(c.ffn_dim);
    c.shared_expert_ffn_dim = k.u32("expert_shared_feed_forward_length").value_or(0);
    c.n_shared_experts = k.u32("expert_shared_count").value_or(c.shared_expert_ffn_dim > 0 ? 1 : 0);
    // What llama.cpp's graph does when the key is absent: qwen2moe leaves the top-k weights as the
    // softmax gave them, qwen3moe and mixtral renormalise them.
    c.expert_weights_norm = k.boolean("expert_weights_norm").value_or(a != "qwen2moe");
    const uint32_t gating = k.u32("expert_gating_func").value_or(0);  // 0 unset, 1 softmax, 2 sigmoid
    if (gating > 2)
      throw Error(ErrorKind::unsupported, k.where(k.key("expert_gating_func")),
                  "gating function " + std::to_string(gating) + " is not supported (1 softmax, 2 sigmoid)");
    c.expert_gating = gating == 2 ? ModelConfig::ExpertGating::sigmoid : ModelConfig::ExpertGating::softmax;
  }
  // llama.cpp runs Mixtral as "llama" with experts; slm names it.
  c.architecture = a == "llama" && c.n_experts > 0 ? "mixtral" : a;
  return c;
}

}  // namespace slm
