// config_from_hf: a Hugging Face config.json -> ModelConfig.
//
// Field names and defaults follow transformers' config classes (LlamaConfig, Qwen2Config,
// Qwen3Config, Qwen2MoeConfig, Qwen3MoeConfig, MixtralConfig, Gemma3TextConfig, Phi3Config): a
// field that is absent or null takes the class default. Unknown fields are ignored, as transformers
// does; fields whose value slm cannot honour (an activation or RoPE type it does not implement,
// mixed dense/MoE layer stacks) are errors rather than silently different models.
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>

#include "formats/untrusted_json.h"
#include "slm/error.h"
#include "src/model/config.h"

namespace slm {
namespace {

using Json = nlohmann::ordered_json;
using Scaling = ModelConfig::RopeScaling;

constexpr uint64_t kMaxConfigBytes = 16u << 20;  // real config.json files are a few KB

struct ArchInfo {
  std::string_view hf_class;   // "architectures"[0]
  std::string_view canonical;  // ModelConfig::architecture
};
constexpr ArchInfo kArchitectures[] = {
    {"LlamaForCausalLM", "llama"},       {"MistralForCausalLM", "llama"},
    {"Qwen2ForCausalLM", "qwen2"},       {"Qwen2MoeForCausalLM", "qwen2moe"},
    {"Qwen3ForCausalLM", "qwen3"},       {"Qwen3MoeForCausalLM", "qwen3moe"},
    {"MixtralForCausalLM", "mixtral"},   {"Gemma3ForCausalLM", "gemma3"},
    {"Gemma3ForConditionalGeneration", "gemma3"},  // text model in "text_config"
    {"Phi3ForCausalLM", "phi3"},
};

// Typed, error-reporting access to the members of one JSON object of the config.
class Fields {
 public:
  Fields(const Json& obj, std::string file, std::string prefix)
      : obj_(&obj), file_(std::move(file)), prefix_(std::move(prefix)) {}

  std::string where(std::string_view key) const { return file_ + ": field " + prefix_ + std::string(key); }
  [[noreturn]] void fail(std::string_view key, std::string detail, ErrorKind kind = ErrorKind::format) const {
    throw Error(kind, where(key), std::move(detail));
  }

  // The member, or nullptr when absent or null (transformers treats both as "use the default").
  const Json* get(std::string_view key) const {
    const auto it = obj_->find(key);
    if (it == obj_->end() || it->is_null()) return nullptr;
    return &*it;
  }
  bool has(std::string_view key) const { return get(key) != nullptr; }

  std::optional<uint64_t> opt_uint(std::string_view key) const {
    const Json* v = get(key);
    if (!v) return std::nullopt;
    if (v->is_number_unsigned()) return v->get<uint64_t>();
    // 4096.0 is an integer too (some tools write every number as a float)
    if (v->is_number_float()) {
      const double d = v->get<double>();
      if (d >= 0 && d < 18446744073709551616.0 && d == std::floor(d)) return static_cast<uint64_t>(d);
    }
    fail(key, "expected a non-negative integer, got " + describe(*v));
  }
  std::optional<uint32_t> opt_u32(std::string_view key) const {
    const auto v = opt_uint(key);
    if (v && *v > std::numeric_limits<uint32_t>::max()) fail(key, std::to_string(*v) + " is too large");
    return v ? std::optional<uint32_t>(static_cast<uint32_t>(*v)) : std::nullopt;
  }
  uint32_t positive_u32(std::string_view key) const {
    const Json* v = get(key);
    if (!v) fail(key, "missing: expected a positive integer");
    const auto n = opt_u32(key);
    if (*n == 0) fail(key, "expected a positive integer, got 0");
    return *n;
  }
  std::optional<double> opt_number(std::string_view key) const {
    const Json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_number()) fail(key, "expected a number, got " + describe(*v));
    const double d = v->get<double>();
    if (!std::isfinite(d) || std::fabs(d) > std::numeric_limits<float>::max())
      fail(key, "expected a finite number within float range, got " + v->dump());
    return d;
  }
  std::optional<float> opt_float(std::string_view key) const {
    const auto d = opt_number(key);
    return d ? std::optional<float>(static_cast<float>(*d)) : std::nullopt;
  }
  std::optional<bool> opt_bool(std::string_view key) const {
    const Json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) fail(key, "expected true or false, got " + describe(*v));
    return v->get<bool>();
  }
  std::optional<std::string> opt_string(std::string_view key) const {
    const Json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) fail(key, "expected a string, got " + describe(*v));
    return v->get<std::string>();
  }
  // A nested object (nullopt when absent or null).
  std::optional<Fields> opt_object(std::string_view key) const {
    const Json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_object()) fail(key, "expected an object, got " + describe(*v));
    return Fields(*v, file_, prefix_ + std::string(key) + ".");
  }
  std::vector<float> float_array(std::string_view key) const {
    const Json* v = get(key);
    if (!v) fail(key, "missing: expected an array of numbers");
    if (!v->is_array()) fail(key, "expected an array of numbers, got " + describe(*v));
    std::vector<float> out;
    out.reserve(v->size());
    for (size_t i = 0; i < v->size(); ++i) {
      const Json& e = (*v)[i];
      if (!e.is_number() || !std::isfinite(e.get<double>()) ||
          std::fabs(e.get<double>()) > std::numeric_limits<float>::max())
        fail(std::string(key) + "[" + std::to_string(i) + "]", "expected a finite number, got " + describe(e));
      out.push_back(static_cast<float>(e.get<double>()));
    }
    return out;
  }
  const Json& json() const { return *obj_; }

  static std::string describe(const Json& v) {
    return v.is_primitive() ? std::string(json_type_name(v)) + " " + v.dump().substr(0, 64)
                            : std::string(json_type_name(v));
  }

 private:
  const Json* obj_;  // a pointer, so Fields can be assigned
  std::string file_;
  std::string prefix_;
};

ModelConfig::Activation parse_activation(const Fields& f, std::string_view key, const std::string& name) {
  if (name == "silu" || name == "swish") return ModelConfig::Activation::silu;
  if (name == "gelu_pytorch_tanh" || name == "gelu_new" || name == "gelu_fast")
    return ModelConfig::Activation::gelu_tanh;
  f.fail(key, "activation \"" + name + "\" is not supported (silu, gelu_pytorch_tanh)", ErrorKind::unsupported);
}

// rope_scaling (transformers < 5) or the scaling members of rope_parameters (transformers 5).
void parse_rope_scaling(const Fields& rs, const Fields& top, ModelConfig& c) {
  std::optional<std::string> type = rs.opt_string("rope_type");
  const char* type_key = "rope_type";
  if (!type) {
    type = rs.opt_string("type");
    type_key = "type";
  }
  if (!type || *type == "default") return;
  Scaling& s = c.rope_scaling;
  const auto original = [&]() -> uint32_t {
    if (auto v = rs.opt_u32("original_max_position_embeddings")) return *v;
    if (auto v = top.opt_u32("original_max_position_embeddings")) return *v;  // phi3 keeps it at the top
    return 0;
  };
  if (*type == "linear") {
    s.type = Scaling::Type::linear;
    s.factor = rs.opt_float("factor").value_or(1.0f);
  } else if (*type == "llama3") {
    s.type = Scaling::Type::llama3;
    s.factor = rs.opt_float("factor").value_or(1.0f);
    s.low_freq_factor = rs.opt_float("low_freq_factor").value_or(1.0f);
    s.high_freq_factor = rs.opt_float("high_freq_factor").value_or(4.0f);
    s.original_context = original();
  } else if (*type == "yarn") {
    s.type = Scaling::Type::yarn;
    s.factor = rs.opt_float("factor").value_or(1.0f);
    s.original_context = original();
    if (s.original_context == 0) s.original_context = c.context_length;  // transformers' fallback
    s.ext_factor = 1.0f;
    s.beta_fast = rs.opt_float("beta_fast").value_or(32.0f);
    s.beta_slow = rs.opt_float("beta_slow").value_or(1.0f);
    // transformers' attention_factor is the whole magnitude correction; llama.cpp's attn_factor
    // multiplies its own 0.1 ln(factor) + 1.
    if (auto af = rs.opt_float("attention_factor")) {
      const double own = s.factor > 1.0f ? 0.1 * std::log(static_cast<double>(s.factor)) + 1.0 : 1.0;
      s.attn_factor = static_cast<float>(*af / own);
    }
    if (rs.has("mscale") || rs.has("mscale_all_dim"))
      rs.fail("mscale", "yarn with mscale / mscale_all_dim (deepseek) is not supported", ErrorKind::unsupported);
  } else if (*type == "longrope" || *type == "su") {
    s.type = Scaling::Type::longrope;
    s.original_context = original();
    if (s.original_context == 0) rs.fail("original_max_position_embeddings", "missing (needed by longrope)");
    // As transformers and llama.cpp's converter, in double: the extension factor and the magnitude
    // correction sqrt(1 + ln(factor) / ln(original)).
    const double factor = rs.opt_number("factor").value_or(static_cast<double>(c.context_length) / s.original_context);
    s.factor = static_cast<float>(factor);
    s.short_factor = rs.float_array("short_factor");
    s.long_factor = rs.float_array("long_factor");
    if (auto af = rs.opt_float("attention_factor")) {
      s.attn_factor = *af;
    } else {
      s.attn_factor = factor <= 1.0 ? 1.0f
                                    : static_cast<float>(std::sqrt(1.0 + std::log(factor) / std::log(static_cast<double>(s.original_context))));
    }
  } else {
    rs.fail(type_key, "RoPE scaling \"" + *type + "\" is not supported (linear, llama3, yarn, longrope)",
            ErrorKind::unsupported);
  }
}

// Gemma3's local/global layer interleave as a period P (layer i local iff i % P < P - 1).
uint32_t gemma_sliding_pattern(const Fields& f, uint32_t n_layers) {
  if (auto p = f.opt_u32("sliding_window_pattern")) return *p;
  const Json* types = f.get("layer_types");
  if (!types) return 6;  // Gemma3TextConfig's default
  if (!types->is_array() || types->size() != n_layers)
    f.fail("layer_types", "expected an array of num_hidden_layers strings");
  // The first full-attention layer fixes the period; every layer must then follow it.
  uint32_t period = 0;
  for (uint32_t i = 0; i < n_layers; ++i)
    if ((*types)[i] == "full_attention") {
      period = i + 1;
      break;
    }
  for (uint32_t i = 0; i < n_layers; ++i) {
    const Json& t = (*types)[i];
    const bool local = period == 0 || i % period < period - 1;
    if (!t.is_string() || t != (local ? "sliding_attention" : "full_attention"))
      f.fail("layer_types[" + std::to_string(i) + "]",
             "layer pattern is not a repeating run of sliding layers then one full layer", ErrorKind::unsupported);
  }
  return period;
}

ModelConfig parse(const Json& root, const std::string& file) {
  const Fields top(root, file, "");
  const Json* archs = top.get("architectures");
  if (!archs) top.fail("architectures", "missing: expected an array naming the model class");
  if (!archs->is_array() || archs->empty() || !(*archs)[0].is_string())
    top.fail("architectures", "expected a non-empty array of strings, got " + Fields::describe(*archs));
  const std::string hf_class = (*archs)[0].get<std::string>();
  const ArchInfo* arch = nullptr;
  for (const auto& a : kArchitectures)
    if (a.hf_class == hf_class) arch = &a;
  if (!arch) {
    std::string known;
    for (const auto& a : kArchitectures) known += (known.empty() ? "" : ", ") + std::string(a.hf_class);
    top.fail("architectures[0]", "\"" + hf_class + "\" is not supported (" + known + ")", ErrorKind::unsupported);
  }

  // Multimodal wrappers keep the language model's fields in text_config.
  std::optional<Fields> text;
  if (hf_class == "Gemma3ForConditionalGeneration") {
    text = top.opt_object("text_config");
    if (!text) top.fail("text_config", "missing (Gemma3ForConditionalGeneration keeps the text model there)");
  }
  const Fields& f = text ? *text : top;

  ModelConfig c;
  c.architecture = std::string(arch->canonical);
  const std::string& a = c.architecture;
  const bool gemma = a == "gemma3";
  const bool moe = a == "qwen2moe" || a == "qwen3moe" || a == "mixtral";

  c.n_layers = f.positive_u32("num_hidden_layers");
  c.d_model = f.positive_u32("hidden_size");
  c.n_heads = f.positive_u32("num_attention_heads");
  c.n_kv_heads = f.opt_u32("num_key_value_heads").value_or(c.n_heads);
  if (auto hd = f.opt_u32("head_dim")) {
    c.head_dim = *hd;
  } else {
    if (c.d_model % c.n_heads != 0)
      f.fail("head_dim", "missing, and hidden_size " + std::to_string(c.d_model) +
                             " is not a multiple of num_attention_heads " + std::to_string(c.n_heads));
    c.head_dim = c.d_model / c.n_heads;
  }
  c.vocab_size = f.positive_u32("vocab_size");
  c.context_length = f.positive_u32("max_position_embeddings");
  if (moe) {
    c.ffn_dim = f.opt_u32("intermediate_size").value_or(0);
  } else {
    c.ffn_dim = f.positive_u32("intermediate_size");
  }

  // RoPE: base, partial rotary, scaling; transformers 5 moves all of it into rope_parameters.
  c.rope_theta = gemma ? 1000000.0f : 10000.0f;
  c.rope_theta_swa = 10000.0f;
  std::optional<Fields> rope_params = f.opt_object("rope_parameters");
  std::optional<Fields> rope_global, rope_local;
  if (rope_params) {
    rope_global = rope_params->opt_object("full_attention");
    rope_local = rope_params->opt_object("sliding_attention");
    if (!rope_global) rope_global = rope_params;
  }
  if (auto t = f.opt_float("rope_theta")) c.rope_theta = *t;
  if (rope_global)
    if (auto t = rope_global->opt_float("rope_theta")) c.rope_theta = *t;
  if (gemma) {
    if (auto t = f.opt_float("rope_local_base_freq")) c.rope_theta_swa = *t;
    if (rope_local)
      if (auto t = rope_local->opt_float("rope_theta")) c.rope_theta_swa = *t;
  } else {
    c.rope_theta_swa = c.rope_theta;
  }
  c.rope_dim = c.head_dim;
  const std::optional<double> partial =
      rope_global && rope_global->has("partial_rotary_factor") ? rope_global->opt_number("partial_rotary_factor")
                                                               : f.opt_number("partial_rotary_factor");
  if (partial) {
    const double dims = *partial * c.head_dim;
    if (!(*partial > 0.0 && *partial <= 1.0) || dims != std::floor(dims) || static_cast<uint32_t>(dims) % 2 != 0)
      f.fail("partial_rotary_factor", "must give an even number of rotary dims of head_dim " +
                                          std::to_string(c.head_dim) + ", got " + std::to_string(*partial));
    c.rope_dim = static_cast<uint32_t>(dims);
  }
  if (auto rs = f.opt_object("rope_scaling")) {
    parse_rope_scaling(*rs, f, c);
  } else if (rope_global) {
    parse_rope_scaling(*rope_global, f, c);
  }
  c.rope_style = (a == "llama" || a == "mixtral") ? ModelConfig::RopeStyle::interleaved : ModelConfig::RopeStyle::neox;

  c.norm_eps = f.opt_float("rms_norm_eps").value_or(a == "phi3" || a == "mixtral" ? 1e-5f : 1e-6f);
  c.tied_embeddings = f.opt_bool("tie_word_embeddings").value_or(gemma);
  c.qk_norm = a == "qwen3" || a == "qwen3moe" || gemma;
  c.attn_bias = a == "qwen2" || a == "qwen2moe" || f.opt_bool("attention_bias").value_or(false);
  if (f.opt_bool("mlp_bias").value_or(false))
    f.fail("mlp_bias", "FFN biases are not supported", ErrorKind::unsupported);

  c.activation = gemma ? ModelConfig::Activation::gelu_tanh : ModelConfig::Activation::silu;
  for (const char* key : {"hidden_activation", "hidden_act"})  // gemma names it hidden_activation
    if (auto act = f.opt_string(key)) {
      c.activation = parse_activation(f, key, *act);
      break;
    }

  if (gemma) {
    c.embedding_scale = std::sqrt(static_cast<float>(c.d_model));
    c.norm_weight_offset = true;
    c.sliding_window = f.opt_u32("sliding_window").value_or(4096);
    c.sliding_window_pattern = gemma_sliding_pattern(f, c.n_layers);
    // Gemma scales q.k by query_pre_attn_scalar^-1/2 (head_dim, except the 27B model's d_model/n_heads).
    if (auto q = f.opt_float("query_pre_attn_scalar"); q && *q != static_cast<float>(c.head_dim)) {
      if (!(*q > 0.0f)) f.fail("query_pre_attn_scalar", "expected a positive number");
      c.attn_scale = 1.0f / std::sqrt(*q);
    }
  } else {
    // mistral / phi3 put one window on every layer. Qwen configs carry a window that applies only
    // with use_sliding_window (default false), and then only to some layers (max_window_layers).
    const bool qwen = a == "qwen2" || a == "qwen2moe" || a == "qwen3" || a == "qwen3moe";
    if (f.opt_bool("use_sliding_window").value_or(!qwen)) {
      c.sliding_window = f.opt_u32("sliding_window").value_or(0);
      c.sliding_window_pattern = 0;
      if (c.sliding_window > 0 && qwen)
        f.fail("use_sliding_window", "qwen sliding-window layers (max_window_layers) are not supported",
               ErrorKind::unsupported);
    }
  }
  c.attn_logit_softcap = f.opt_float("attn_logit_softcapping").value_or(0.0f);
  c.final_logit_softcap = f.opt_float("final_logit_softcapping").value_or(0.0f);

  if (a == "qwen2moe" || a == "qwen3moe") {
    c.n_experts = f.positive_u32("num_experts");
    c.n_experts_used = f.positive_u32("num_experts_per_tok");
    c.expert_ffn_dim = f.positive_u32("moe_intermediate_size");
    c.expert_weights_norm = f.opt_bool("norm_topk_prob").value_or(false);
    if (f.opt_u32("decoder_sparse_step").value_or(1) != 1)
      f.fail("decoder_sparse_step", "models mixing dense and MoE layers are not supported", ErrorKind::unsupported);
    if (const Json* dense = f.get("mlp_only_layers"); dense && !(dense->is_array() && dense->empty()))
      f.fail("mlp_only_layers", "models mixing dense and MoE layers are not supported", ErrorKind::unsupported);
    if (a == "qwen2moe") {
      c.shared_expert_ffn_dim = f.opt_u32("shared_expert_intermediate_size").value_or(0);
      c.n_shared_experts = c.shared_expert_ffn_dim > 0 ? 1 : 0;
    }
  } else if (a == "mixtral") {
    c.n_experts = f.positive_u32("num_local_experts");
    c.n_experts_used = f.positive_u32("num_experts_per_tok");
    c.expert_ffn_dim = f.positive_u32("intermediate_size");  // each expert is a full-width FFN
    c.expert_weights_norm = true;                            // softmax over the chosen top-k
  }
  c.expert_gating = ModelConfig::ExpertGating::softmax;
  return c;
}

}  // namespace

ModelConfig config_from_hf_text(std::string_view json_text, const std::string& name) {
  const Json root = parse_untrusted_json(json_text, {.file = name, .max_depth = 64});
  if (!root.is_object()) throw Error(ErrorKind::format, name, "expected a JSON object, got " + Fields::describe(root));
  return parse(root, name);
}

ModelConfig config_from_hf(const std::filesystem::path& config_json) {
  const std::string name = config_json.string();
  std::error_code ec;
  const auto size = std::filesystem::file_size(config_json, ec);
  if (ec) throw Error(ErrorKind::io, name, "cannot read: " + ec.message());
  if (size > kMaxConfigBytes)
    throw Error(ErrorKind::format, name,
                "file is " + std::to_string(size) + " bytes, more than the limit of " + std::to_string(kMaxConfigBytes));
  std::ifstream in(config_json, std::ios::binary);
  if (!in) throw Error(ErrorKind::io, name, "cannot open");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(ErrorKind::io, name, "read failed");
  return config_from_hf_text(text, name);
}

}  // namespace slm
