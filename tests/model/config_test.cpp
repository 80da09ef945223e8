// ModelConfig from GGUF and from config.json: the models in ../shared (each Hugging Face folder
// against its GGUF, field by field), writer-made GGUF files with gemma3 / phi3 / mixtral / qwen2moe
// key sets against the config.json those models ship, and every error naming its key or field.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "slm/error.h"
#include "src/model/config.h"
#include "tests/fuzz/seed_safetensors.h"
#include "tests/support/shared_data.h"

namespace fs = std::filesystem;
using slm::Error;
using slm::ErrorKind;
using slm::ModelConfig;
using Type = ModelConfig::RopeScaling::Type;

namespace {

template <class F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  FAIL("expected slm::Error");
  return Error(ErrorKind::internal, "", "");
}

// Field by field, so a mismatch names the field.
void check_same(const ModelConfig& a, const ModelConfig& b) {
#define SAME(f) CHECK_MESSAGE(a.f == b.f, #f)
  SAME(architecture);
  SAME(n_layers);
  SAME(d_model);
  SAME(n_heads);
  SAME(n_kv_heads);
  SAME(head_dim);
  SAME(ffn_dim);
  SAME(vocab_size);
  SAME(context_length);
  SAME(rope_theta);
  SAME(rope_dim);
  SAME(rope_style);
  SAME(rope_scaling.type);
  SAME(rope_scaling.factor);
  SAME(rope_scaling.original_context);
  SAME(rope_scaling.low_freq_factor);
  SAME(rope_scaling.high_freq_factor);
  SAME(rope_scaling.ext_factor);
  SAME(rope_scaling.attn_factor);
  SAME(rope_scaling.beta_fast);
  SAME(rope_scaling.beta_slow);
  SAME(rope_scaling.short_factor);
  SAME(rope_scaling.long_factor);
  SAME(rope_theta_swa);
  SAME(norm_eps);
  SAME(tied_embeddings);
  SAME(qk_norm);
  SAME(attn_bias);
  SAME(activation);
  SAME(embedding_scale);
  SAME(norm_weight_offset);
  SAME(sliding_window);
  SAME(sliding_window_pattern);
  SAME(attn_logit_softcap);
  SAME(final_logit_softcap);
  SAME(attn_scale);
  SAME(n_experts);
  SAME(n_experts_used);
  SAME(expert_ffn_dim);
  SAME(n_shared_experts);
  SAME(shared_expert_ffn_dim);
  SAME(expert_weights_norm);
  SAME(expert_gating);
#undef SAME
  CHECK(a == b);  // and nothing the list above forgot
}

ModelConfig from_gguf(const fs::path& p) {
  const auto f = slm::gguf::GgufFile::open(p);
  return slm::config_from_gguf(f);
}

// A GGUF file held in memory: the writer's bytes and the reader over them.
struct MemGguf {
  std::vector<uint8_t> bytes;
  slm::gguf::GgufFile file;
  explicit MemGguf(const slm::gguf::GgufWriter& w)
      : bytes(w.write_memory()), file(slm::gguf::GgufFile::from_memory(bytes, "mem.gguf")) {}
};

void add_f32(slm::gguf::GgufWriter& w, const std::string& name, std::vector<uint64_t> shape,
             const std::vector<float>& values = {}) {
  uint64_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<float> v = values.empty() ? std::vector<float>(n, 1.0f) : values;
  REQUIRE(v.size() == n);
  w.add_tensor(name, slm::DType::F32, std::move(shape),
               std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(v.data()), v.size() * 4));
}

ModelConfig hf(const std::string& json) { return slm::config_from_hf_text(json, "config.json"); }

}  // namespace

// ---- the models in ../shared ------------------------------------------------------------------

TEST_CASE("the GGUF files in ../shared have the shapes models/README.md gives") {
  struct Expect {
    const char* file;
    const char* arch;
    uint32_t layers, dim, heads, kv, head, ffn, vocab, ctx;
    float eps;
    bool qk_norm;
  };
  const Expect expect[] = {
      {"models/tiny-llama/tiny-llama-q8_0.gguf", "llama", 4, 256, 8, 2, 32, 768, 32000, 2048, 1e-6f, false},
      {"models/tiny-qwen3/tiny-qwen3-q8_0.gguf", "qwen3", 4, 256, 4, 2, 128, 768, 50257, 2048, 1e-6f, true},
      {"models/tiny-qwen3moe/tiny-qwen3moe-q8_0.gguf", "qwen3moe", 4, 256, 4, 2, 64, 768, 50257, 2048, 1e-6f, true},
      {"models/stories260K/stories260K-f32.gguf", "llama", 5, 64, 8, 4, 8, 172, 512, 512, 1e-5f, false},
  };
  for (const auto& e : expect) {
    auto p = SLM_REQUIRE_SHARED(e.file);
    if (!p) continue;
    CAPTURE(e.file);
    const ModelConfig c = from_gguf(*p);
    CHECK(c.architecture == e.arch);
    CHECK(c.n_layers == e.layers);
    CHECK(c.d_model == e.dim);
    CHECK(c.n_heads == e.heads);
    CHECK(c.n_kv_heads == e.kv);
    CHECK(c.head_dim == e.head);
    CHECK(c.rope_dim == e.head);
    CHECK(c.ffn_dim == e.ffn);
    CHECK(c.vocab_size == e.vocab);
    CHECK(c.context_length == e.ctx);
    CHECK(c.norm_eps == e.eps);
    CHECK(c.rope_theta == 10000.0f);
    CHECK(c.qk_norm == e.qk_norm);
    CHECK(c.tied_embeddings);
    CHECK_FALSE(c.attn_bias);
    CHECK(c.rope_style == (std::string(e.arch) == "llama" ? ModelConfig::RopeStyle::interleaved
                                                          : ModelConfig::RopeStyle::neox));
    CHECK(c.activation == ModelConfig::Activation::silu);
    CHECK(c.sliding_window == 0);
    CHECK(c.rope_scaling.type == Type::none);
    if (c.architecture == "qwen3moe") {
      CHECK(c.n_experts == 8);
      CHECK(c.n_experts_used == 2);
      CHECK(c.expert_ffn_dim == 256);
      CHECK(c.expert_weights_norm);
    } else {
      CHECK(c.n_experts == 0);
    }
    CHECK_NOTHROW(slm::validate(c));
  }
}

TEST_CASE("every quantization of a model gives the same config") {
  const std::vector<std::vector<const char*>> families = {
      {"models/tiny-llama/tiny-llama-f16.gguf", "models/tiny-llama/tiny-llama-q8_0.gguf",
       "models/tiny-llama/tiny-llama-q4_0.gguf", "models/tiny-llama/tiny-llama-q4_k_m.gguf"},
      {"models/tiny-qwen3/tiny-qwen3-q8_0.gguf", "models/tiny-qwen3/tiny-qwen3-q4_k_m.gguf"},
      {"models/tiny-qwen3moe/tiny-qwen3moe-q8_0.gguf", "models/tiny-qwen3moe/tiny-qwen3moe-q4_k_m.gguf"},
      {"models/stories260K/stories260K-f32.gguf", "models/stories260K/stories260K-q4_k_m.gguf",
       "models/stories260K/stories260K-q6_k.gguf"},
  };
  for (const auto& fam : families) {
    auto first = SLM_REQUIRE_SHARED(fam[0]);
    if (!first) continue;
    const ModelConfig base = from_gguf(*first);
    for (size_t i = 1; i < fam.size(); ++i) {
      auto p = SLM_REQUIRE_SHARED(fam[i]);
      if (!p) continue;
      CAPTURE(fam[i]);
      check_same(from_gguf(*p), base);
    }
  }
}

TEST_CASE("each Hugging Face folder's config.json gives its GGUF's config, field by field") {
  const std::pair<const char*, const char*> pairs[] = {
      {"models/stories260K/stories260K-hf/config.json", "models/stories260K/stories260K-f32.gguf"},
      {"models/tiny-qwen3/tiny-qwen3-hf/config.json", "models/tiny-qwen3/tiny-qwen3-q8_0.gguf"},
      {"models/tiny-qwen3moe/tiny-qwen3moe-hf/config.json", "models/tiny-qwen3moe/tiny-qwen3moe-q8_0.gguf"},
  };
  for (const auto& [json, gguf] : pairs) {
    auto pj = SLM_REQUIRE_SHARED(json);
    auto pg = SLM_REQUIRE_SHARED(gguf);
    if (!pj || !pg) continue;
    CAPTURE(json);
    const ModelConfig from_json = slm::config_from_hf(*pj);
    CHECK_NOTHROW(slm::validate(from_json));
    check_same(from_json, from_gguf(*pg));
  }
}

// ---- writer-made GGUF files against the config.json of the same model ---------------------------

TEST_CASE("gemma3: GGUF keys as llama.cpp writes them and config.json agree") {
  // A scaled-down Gemma 3 4B: 7 layers (5 local, 1 global, 1 local), linear RoPE scaling x8 on
  // global layers, local base 10000, GELU-tanh, sqrt(d_model) embedding scale.
  slm::gguf::GgufWriter w;
  w.set_string("general.architecture", "gemma3");
  w.set_u32("gemma3.context_length", 131072);
  w.set_u32("gemma3.embedding_length", 64);
  w.set_u32("gemma3.block_count", 7);
  w.set_u32("gemma3.feed_forward_length", 160);
  w.set_u32("gemma3.attention.head_count", 4);
  w.set_u32("gemma3.attention.head_count_kv", 2);
  w.set_f32("gemma3.attention.layer_norm_rms_epsilon", 1e-6f);
  w.set_u32("gemma3.attention.key_length", 32);
  w.set_u32("gemma3.attention.value_length", 32);
  w.set_f32("gemma3.rope.freq_base", 1000000.0f);
  w.set_u32("gemma3.attention.sliding_window", 1024);
  w.set_string("gemma3.rope.scaling.type", "linear");
  w.set_f32("gemma3.rope.scaling.factor", 8.0f);
  add_f32(w, "token_embd.weight", {64, 40});
  add_f32(w, "blk.0.attn_q_norm.weight", {32});
  add_f32(w, "blk.0.attn_k_norm.weight", {32});
  const MemGguf g(w);
  const ModelConfig from_gguf = slm::config_from_gguf(g.file);

  const ModelConfig from_json = hf(R"({
    "architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text",
    "hidden_size": 64, "intermediate_size": 160, "num_hidden_layers": 7,
    "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32,
    "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0,
    "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
    "sliding_window": 1024, "sliding_window_pattern": 6, "query_pre_attn_scalar": 32,
    "attn_logit_softcapping": null, "final_logit_softcapping": null,
    "vocab_size": 40, "tie_word_embeddings": true})");

  CHECK(from_gguf.architecture == "gemma3");
  CHECK(from_gguf.activation == ModelConfig::Activation::gelu_tanh);
  CHECK(from_gguf.embedding_scale == 8.0f);
  CHECK(from_gguf.rope_style == ModelConfig::RopeStyle::neox);
  CHECK(from_gguf.rope_scaling.type == Type::linear);
  CHECK(from_gguf.rope_scaling.factor == 8.0f);
  CHECK(from_gguf.rope_theta_swa == 10000.0f);
  CHECK(from_gguf.qk_norm);
  CHECK(from_gguf.tied_embeddings);
  CHECK(from_gguf.attn_scale == 0.0f);  // query_pre_attn_scalar == head_dim: the default
  CHECK(from_gguf.sliding_window_pattern == 6);
  for (uint32_t l = 0; l < 7; ++l) CHECK_MESSAGE(slm::is_local_layer(from_gguf, l) == (l != 5), l);
  // The one flag that differs by format: the checkpoint's norms hold w - 1, the GGUF's already w.
  CHECK(from_json.norm_weight_offset);
  CHECK_FALSE(from_gguf.norm_weight_offset);
  ModelConfig json_as_gguf = from_json;
  json_as_gguf.norm_weight_offset = false;
  check_same(json_as_gguf, from_gguf);
  CHECK_NOTHROW(slm::validate(from_gguf));

  // Newer configs give the layer pattern as layer_types instead of sliding_window_pattern.
  const ModelConfig typed = hf(R"({"architectures": ["Gemma3ForCausalLM"], "hidden_size": 64,
    "intermediate_size": 160, "num_hidden_layers": 4, "num_attention_heads": 4, "vocab_size": 40,
    "max_position_embeddings": 512, "sliding_window": 16,
    "layer_types": ["sliding_attention", "full_attention", "sliding_attention", "full_attention"]})");
  CHECK(typed.sliding_window_pattern == 2);
  CHECK(typed.head_dim == 16);
  CHECK(typed.rope_theta == 1000000.0f);  // Gemma3TextConfig's default
  CHECK(typed.tied_embeddings);           // likewise
  const Error irregular = error_of([] {
    (void)hf(R"({"architectures": ["Gemma3ForCausalLM"], "hidden_size": 64, "intermediate_size": 1,
      "num_hidden_layers": 3, "num_attention_heads": 4, "vocab_size": 4, "max_position_embeddings": 8,
      "layer_types": ["sliding_attention", "full_attention", "full_attention"]})");
  });
  CHECK(irregular.kind() == ErrorKind::unsupported);
  CHECK(irregular.where() == "config.json: field layer_types[2]");
}

TEST_CASE("phi3: longrope factors from config.json and from GGUF tensors agree") {
  // Phi-3.5-mini-like, scaled down: head 16, partial rotary 0.75 -> 12 rotary dims, 6 factors.
  const std::vector<float> shortf = {1.0f, 1.0f, 1.25f, 1.5f, 2.0f, 3.0f};
  const std::vector<float> longf = {1.0f, 1.5f, 2.5f, 4.0f, 8.0f, 16.0f};
  const uint32_t ctx = 131072, orig = 4096;
  slm::gguf::GgufWriter w;
  w.set_string("general.architecture", "phi3");
  w.set_u32("phi3.context_length", ctx);
  w.set_u32("phi3.rope.scaling.original_context_length", orig);
  w.set_u32("phi3.embedding_length", 64);
  w.set_u32("phi3.feed_forward_length", 96);
  w.set_u32("phi3.block_count", 2);
  w.set_u32("phi3.attention.head_count", 4);
  w.set_u32("phi3.attention.head_count_kv", 4);
  w.set_f32("phi3.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_u32("phi3.rope.dimension_count", 12);
  w.set_f32("phi3.rope.freq_base", 10000.0f);
  w.set_u32("phi3.attention.sliding_window", 262144);
  // The converter computes this in double: sqrt(1 + ln(32) / ln(4096)).
  w.set_f32("phi3.rope.scaling.attn_factor", static_cast<float>(std::sqrt(1.0 + std::log(32.0) / std::log(4096.0))));
  add_f32(w, "token_embd.weight", {64, 32});
  add_f32(w, "output.weight", {64, 32});
  add_f32(w, "rope_factors_long.weight", {6}, longf);
  add_f32(w, "rope_factors_short.weight", {6}, shortf);
  const MemGguf g(w);
  const ModelConfig from_gguf = slm::config_from_gguf(g.file);

  const ModelConfig from_json = hf(R"({
    "architectures": ["Phi3ForCausalLM"], "hidden_size": 64, "intermediate_size": 96,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
    "hidden_act": "silu", "max_position_embeddings": 131072, "original_max_position_embeddings": 4096,
    "partial_rotary_factor": 0.75, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
    "rope_scaling": {"type": "longrope", "short_factor": [1.0, 1.0, 1.25, 1.5, 2.0, 3.0],
                     "long_factor": [1.0, 1.5, 2.5, 4.0, 8.0, 16.0]},
    "sliding_window": 262144, "tie_word_embeddings": false, "vocab_size": 32})");

  CHECK(from_gguf.architecture == "phi3");
  CHECK(from_gguf.rope_dim == 12);
  CHECK(from_gguf.head_dim == 16);
  CHECK(from_gguf.rope_style == ModelConfig::RopeStyle::neox);
  CHECK(from_gguf.rope_scaling.type == Type::longrope);
  CHECK(from_gguf.rope_scaling.factor == 32.0f);
  CHECK(from_gguf.rope_scaling.original_context == orig);
  CHECK(from_gguf.rope_scaling.short_factor == shortf);
  CHECK(from_gguf.rope_scaling.long_factor == longf);
  CHECK_FALSE(from_gguf.tied_embeddings);
  CHECK(from_gguf.sliding_window == 262144);
  CHECK(slm::is_local_layer(from_gguf, 0));  // pattern 0: every layer windowed
  check_same(from_json, from_gguf);
  CHECK_NOTHROW(slm::validate(from_gguf));

  // A factor table of the wrong length is caught where it is read.
  slm::gguf::GgufWriter bad = w;
  bad.set_u32("phi3.rope.dimension_count", 16);
  const MemGguf gb(bad);
  const Error e = error_of([&] { (void)slm::config_from_gguf(gb.file); });
  CHECK(e.kind() == ErrorKind::model);
  CHECK(e.where() == "mem.gguf: tensor rope_factors_short.weight");
}

TEST_CASE("mixtral: a llama GGUF with experts is mixtral, as in config.json") {
  slm::gguf::GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.context_length", 32768);
  w.set_u32("llama.embedding_length", 64);
  w.set_u32("llama.block_count", 2);
  w.set_u32("llama.feed_forward_length", 224);
  w.set_u32("llama.attention.head_count", 8);
  w.set_u32("llama.attention.head_count_kv", 2);
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  w.set_f32("llama.rope.freq_base", 1000000.0f);
  w.set_u32("llama.rope.dimension_count", 8);
  w.set_u32("llama.expert_count", 8);
  w.set_u32("llama.expert_used_count", 2);
  add_f32(w, "token_embd.weight", {64, 48});
  add_f32(w, "output.weight", {64, 48});
  const MemGguf g(w);
  const ModelConfig from_gguf = slm::config_from_gguf(g.file);
  const ModelConfig from_json = hf(R"({
    "architectures": ["MixtralForCausalLM"], "hidden_size": 64, "intermediate_size": 224,
    "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 2,
    "num_local_experts": 8, "num_experts_per_tok": 2, "max_position_embeddings": 32768,
    "rms_norm_eps": 1e-05, "rope_theta": 1000000.0, "sliding_window": null,
    "tie_word_embeddings": false, "vocab_size": 48, "hidden_act": "silu"})");
  CHECK(from_gguf.architecture == "mixtral");
  CHECK(from_gguf.n_experts == 8);
  CHECK(from_gguf.n_experts_used == 2);
  CHECK(from_gguf.expert_ffn_dim == 224);
  CHECK(from_gguf.expert_weights_norm);
  CHECK(from_gguf.rope_style == ModelConfig::RopeStyle::interleaved);
  check_same(from_json, from_gguf);
  CHECK_NOTHROW(slm::validate(from_gguf));
}

TEST_CASE("qwen2 and qwen2moe: q/k/v biases, a shared expert, un-normalised top-k") {
  slm::gguf::GgufWriter w;
  w.set_string("general.architecture", "qwen2moe");
  w.set_u32("qwen2moe.context_length", 8192);
  w.set_u32("qwen2moe.embedding_length", 64);
  w.set_u32("qwen2moe.block_count", 2);
  w.set_u32("qwen2moe.feed_forward_length", 160);
  w.set_u32("qwen2moe.attention.head_count", 4);
  w.set_u32("qwen2moe.attention.head_count_kv", 4);
  w.set_f32("qwen2moe.attention.layer_norm_rms_epsilon", 1e-6f);
  w.set_f32("qwen2moe.rope.freq_base", 1000000.0f);
  w.set_u32("qwen2moe.expert_count", 6);
  w.set_u32("qwen2moe.expert_used_count", 4);
  w.set_u32("qwen2moe.expert_feed_forward_length", 32);
  w.set_u32("qwen2moe.expert_shared_feed_forward_length", 128);
  add_f32(w, "token_embd.weight", {64, 24});
  add_f32(w, "output.weight", {64, 24});
  add_f32(w, "blk.0.attn_q.bias", {64});
  const MemGguf g(w);
  const ModelConfig from_gguf = slm::config_from_gguf(g.file);
  const ModelConfig from_json = hf(R"({
    "architectures": ["Qwen2MoeForCausalLM"], "hidden_size": 64, "intermediate_size": 160,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
    "num_experts": 6, "num_experts_per_tok": 4, "moe_intermediate_size": 32,
    "shared_expert_intermediate_size": 128, "norm_topk_prob": false, "decoder_sparse_step": 1,
    "mlp_only_layers": [], "max_position_embeddings": 8192, "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0, "sliding_window": 8192, "use_sliding_window": false,
    "tie_word_embeddings": false, "vocab_size": 24})");
  CHECK(from_gguf.attn_bias);
  CHECK(from_gguf.n_shared_experts == 1);
  CHECK(from_gguf.shared_expert_ffn_dim == 128);
  CHECK_FALSE(from_gguf.expert_weights_norm);
  check_same(from_json, from_gguf);
  CHECK_NOTHROW(slm::validate(from_gguf));

  const ModelConfig dense = hf(R"({"architectures": ["Qwen2ForCausalLM"], "hidden_size": 64,
    "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "max_position_embeddings": 4096, "vocab_size": 24, "tie_word_embeddings": true,
    "sliding_window": 4096, "use_sliding_window": false})");
  CHECK(dense.architecture == "qwen2");
  CHECK(dense.attn_bias);
  CHECK(dense.sliding_window == 0);
  CHECK(dense.rope_style == ModelConfig::RopeStyle::neox);
  CHECK(dense.norm_eps == 1e-6f);
  // Qwen2Config's use_sliding_window defaults to false: a window alone does not turn it on...
  const std::string qwen = R"("architectures": ["Qwen2ForCausalLM"], "hidden_size": 64, "intermediate_size": 160,
    "num_hidden_layers": 2, "num_attention_heads": 4, "max_position_embeddings": 4096, "vocab_size": 24,
    "sliding_window": 4096)";
  CHECK(hf("{" + qwen + "}").sliding_window == 0);
  // ...and qwen's per-layer windows (max_window_layers) are refused rather than ignored.
  const Error e = error_of([&] { (void)hf("{" + qwen + R"(, "use_sliding_window": true})"); });
  CHECK(e.kind() == ErrorKind::unsupported);
  CHECK(e.where() == "config.json: field use_sliding_window");
  // Mistral (run as llama) windows every layer.
  const ModelConfig mistral = hf(R"({"architectures": ["MistralForCausalLM"], "hidden_size": 64,
    "intermediate_size": 160, "num_hidden_layers": 2, "num_attention_heads": 4, "max_position_embeddings": 32768,
    "vocab_size": 24, "sliding_window": 4096})");
  CHECK(mistral.architecture == "llama");
  CHECK(mistral.sliding_window == 4096);
  CHECK(slm::is_local_layer(mistral, 1));
}

TEST_CASE("Qwen3MoE mixing dense and MoE layers is refused, not silently mis-run") {
  const Error e = error_of([] {
    (void)hf(R"({"architectures": ["Qwen3MoeForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "vocab_size": 8, "max_position_embeddings": 64, "num_experts": 4,
      "num_experts_per_tok": 2, "moe_intermediate_size": 16, "mlp_only_layers": [0]})");
  });
  CHECK(e.kind() == ErrorKind::unsupported);
  CHECK(e.where() == "config.json: field mlp_only_layers");
}

// ---- RoPE scaling -----------------------------------------------------------------------------

TEST_CASE("llama3 RoPE scaling: parameters from config.json, divisors as llama.cpp stores them") {
  // Llama 3.2 1B's values.
  const ModelConfig c = hf(R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 2048,
    "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
    "head_dim": 64, "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "tie_word_embeddings": true, "vocab_size": 128256})");
  CHECK(c.rope_scaling.type == Type::llama3);
  CHECK(c.rope_scaling.factor == 32.0f);
  CHECK(c.rope_scaling.original_context == 8192);
  CHECK_NOTHROW(slm::validate(c));
  const std::vector<float> f = slm::llama3_rope_freq_factors(c);
  REQUIRE(f.size() == 32);
  // High frequencies (short wavelengths) untouched, low ones divided by the full factor, the band
  // between blended monotonically.
  CHECK(f.front() == 1.0f);
  CHECK(f.back() == 32.0f);
  CHECK(std::is_sorted(f.begin(), f.end()));
  // Pair 16: freq = 500000^(-32/64), wavelength 2pi/freq = 2pi * sqrt(500000) ~ 4443 lies between
  // 8192/4 and 8192/1, so smooth = (8192/wl - 1) / 3 and the divisor is 1 / ((1 - smooth)/32 + smooth).
  const double wl = 2.0 * 3.14159265358979323846 * std::sqrt(500000.0);
  REQUIRE(wl > 2048.0);
  REQUIRE(wl < 8192.0);
  const double smooth = (8192.0 / wl - 1.0) / 3.0;
  CHECK(f[16] == doctest::Approx(1.0 / ((1.0 - smooth) / 32.0 + smooth)).epsilon(1e-6));
  ModelConfig none = c;
  none.rope_scaling = {};
  CHECK(slm::llama3_rope_freq_factors(none).empty());
}

TEST_CASE("yarn, linear and unsupported RoPE scalings in config.json") {
  const std::string base = R"("architectures": ["Qwen2ForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
    "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 16, "max_position_embeddings": 131072)";
  const ModelConfig y = hf("{" + base + R"(, "rope_scaling": {"type": "yarn", "factor": 4.0,
    "original_max_position_embeddings": 32768}})");
  CHECK(y.rope_scaling.type == Type::yarn);
  CHECK(y.rope_scaling.factor == 4.0f);
  CHECK(y.rope_scaling.original_context == 32768);
  CHECK(y.rope_scaling.ext_factor == 1.0f);
  CHECK(y.rope_scaling.attn_factor == 1.0f);
  CHECK(y.rope_scaling.beta_fast == 32.0f);
  CHECK(y.rope_scaling.beta_slow == 1.0f);
  const ModelConfig lin = hf("{" + base + R"(, "rope_scaling": {"rope_type": "linear", "factor": 2.0}})");
  CHECK(lin.rope_scaling.type == Type::linear);
  CHECK(lin.rope_scaling.factor == 2.0f);
  const ModelConfig def = hf("{" + base + R"(, "rope_scaling": {"rope_type": "default"}})");
  CHECK(def.rope_scaling.type == Type::none);
  // transformers 5 keeps theta and scaling in rope_parameters.
  const ModelConfig v5 = hf("{" + base + R"(, "rope_parameters": {"rope_type": "linear", "factor": 3.0,
    "rope_theta": 50000.0}})");
  CHECK(v5.rope_theta == 50000.0f);
  CHECK(v5.rope_scaling.type == Type::linear);
  CHECK(v5.rope_scaling.factor == 3.0f);
  const Error e = error_of([&] { (void)hf("{" + base + R"(, "rope_scaling": {"type": "dynamic", "factor": 2.0}})"); });
  CHECK(e.kind() == ErrorKind::unsupported);
  CHECK(e.where() == "config.json: field rope_scaling.type");
  CHECK(e.detail().find("dynamic") != std::string::npos);
}

TEST_CASE("a yarn GGUF: defaults for the ramp, attention factor as stored") {
  slm::gguf::GgufWriter w;
  w.set_string("general.architecture", "qwen2");
  w.set_u32("qwen2.context_length", 131072);
  w.set_u32("qwen2.embedding_length", 64);
  w.set_u32("qwen2.block_count", 1);
  w.set_u32("qwen2.feed_forward_length", 128);
  w.set_u32("qwen2.attention.head_count", 4);
  w.set_f32("qwen2.attention.layer_norm_rms_epsilon", 1e-6f);
  w.set_string("qwen2.rope.scaling.type", "yarn");
  w.set_f32("qwen2.rope.scaling.factor", 4.0f);
  w.set_u32("qwen2.rope.scaling.original_context_length", 32768);
  add_f32(w, "token_embd.weight", {64, 16});
  const MemGguf g(w);
  const ModelConfig c = slm::config_from_gguf(g.file);
  CHECK(c.rope_scaling.type == Type::yarn);
  CHECK(c.rope_scaling.factor == 4.0f);
  CHECK(c.rope_scaling.original_context == 32768);
  CHECK(c.rope_scaling.ext_factor == 1.0f);
  CHECK(c.rope_scaling.attn_factor == 1.0f);
  CHECK(c.n_kv_heads == 4);  // head_count_kv absent: as many as query heads
  CHECK(c.head_dim == 16);   // key_length absent: d_model / n_heads
  CHECK_NOTHROW(slm::validate(c));
}

// ---- errors -----------------------------------------------------------------------------------

TEST_CASE("config.json errors name the field") {
  const std::string ok_fields = R"("architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
    "num_hidden_layers": 2, "vocab_size": 16, "max_position_embeddings": 256)";
  struct Case {
    std::string json, where, detail;
    ErrorKind kind;
  };
  const std::vector<Case> cases = {
      {"{" + ok_fields + "}", "config.json: field num_attention_heads", "missing: expected a positive integer",
       ErrorKind::format},
      {"{" + ok_fields + R"(, "num_attention_heads": 0})", "config.json: field num_attention_heads",
       "expected a positive integer, got 0", ErrorKind::format},
      {"{" + ok_fields + R"(, "num_attention_heads": "8"})", "config.json: field num_attention_heads",
       "expected a non-negative integer, got string", ErrorKind::format},
      {"{" + ok_fields + R"(, "num_attention_heads": -8})", "config.json: field num_attention_heads",
       "expected a non-negative integer", ErrorKind::format},
      {"{" + ok_fields + R"(, "num_attention_heads": 8, "rms_norm_eps": "small"})", "config.json: field rms_norm_eps",
       "expected a number", ErrorKind::format},
      {"{" + ok_fields + R"(, "num_attention_heads": 8, "tie_word_embeddings": 1})",
       "config.json: field tie_word_embeddings", "expected true or false", ErrorKind::format},
      {"{" + ok_fields + R"(, "num_attention_heads": 8, "hidden_act": "relu"})", "config.json: field hidden_act",
       "activation \"relu\" is not supported", ErrorKind::unsupported},
      {"{" + ok_fields + R"(, "num_attention_heads": 8, "rope_scaling": [1]})", "config.json: field rope_scaling",
       "expected an object", ErrorKind::format},
      {"{" + ok_fields + R"(, "num_attention_heads": 6})", "config.json: field head_dim",
       "not a multiple of num_attention_heads", ErrorKind::format},
      {R"({"architectures": ["BertModel"]})", "config.json: field architectures[0]", "\"BertModel\" is not supported",
       ErrorKind::unsupported},
      {R"({"architectures": []})", "config.json: field architectures", "non-empty array", ErrorKind::format},
      {R"({"hidden_size": 1})", "config.json: field architectures", "missing", ErrorKind::format},
      {R"({"architectures": ["Gemma3ForConditionalGeneration"]})", "config.json: field text_config", "missing",
       ErrorKind::format},
      {R"({"architectures": ["LlamaForCausalLM"], "architectures": ["Qwen2ForCausalLM"]})",
       "config.json: field architectures", "duplicate key", ErrorKind::format},
      {R"([1, 2])", "config.json", "expected a JSON object", ErrorKind::format},
      {R"({"architectures": ["LlamaForCausalLM"],})", "config.json: offset 39", "malformed JSON", ErrorKind::format},
  };
  for (const auto& c : cases) {
    CAPTURE(c.json);
    const Error e = error_of([&] { (void)hf(c.json); });
    CHECK(e.kind() == c.kind);
    CHECK(e.where() == c.where);
    CHECK_MESSAGE(e.detail().find(c.detail) != std::string::npos, e.detail());
  }
  // A multimodal wrapper's fields are named with their path.
  const Error nested = error_of([] {
    (void)hf(R"({"architectures": ["Gemma3ForConditionalGeneration"], "text_config": {"hidden_size": 64}})");
  });
  CHECK(nested.where() == "config.json: field text_config.num_hidden_layers");
  // A missing file is io.
  const Error io = error_of([] { (void)slm::config_from_hf("/nonexistent/config.json"); });
  CHECK(io.kind() == ErrorKind::io);
}

TEST_CASE("GGUF errors name the key") {
  const auto base = [] {
    slm::gguf::GgufWriter w;
    w.set_string("general.architecture", "llama");
    w.set_u32("llama.context_length", 256);
    w.set_u32("llama.embedding_length", 64);
    w.set_u32("llama.block_count", 2);
    w.set_u32("llama.feed_forward_length", 128);
    w.set_u32("llama.attention.head_count", 4);
    w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    add_f32(w, "token_embd.weight", {64, 8});
    return w;
  };
  {
    const MemGguf ok(base());
    const ModelConfig c = slm::config_from_gguf(ok.file);
    CHECK(c.vocab_size == 8);
    CHECK_NOTHROW(slm::validate(c));
  }
  struct Case {
    std::function<void(slm::gguf::GgufWriter&)> edit;
    std::string where, detail;
    ErrorKind kind;
  };
  const std::vector<Case> cases = {
      {[](auto& w) { w.set_u32("llama.block_count", 0); }, "mem.gguf: key llama.block_count", "must be positive",
       ErrorKind::model},
      {[](auto& w) { w.set_string("general.architecture", "gpt2"); }, "mem.gguf: key general.architecture",
       "\"gpt2\" is not supported", ErrorKind::unsupported},
      {[](auto& w) { w.set_string("llama.attention.head_count", "four"); }, "mem.gguf: key llama.attention.head_count",
       "", ErrorKind::format},
      {[](auto& w) { w.set_u32("llama.attention.value_length", 8); }, "mem.gguf: key llama.attention.value_length",
       "differs from key head size 16", ErrorKind::unsupported},
      {[](auto& w) { w.set_string("llama.rope.scaling.type", "ntk"); }, "mem.gguf: key llama.rope.scaling.type",
       "\"ntk\" is not supported", ErrorKind::unsupported},
      {[](auto& w) {
         const std::vector<std::string> toks(9, "t");
         w.set_array_string("tokenizer.ggml.tokens", std::span<const std::string>(toks));
       },
       "mem.gguf: key tokenizer.ggml.tokens", "9 tokens but the embedding has only 8 rows", ErrorKind::model},
      {[](auto& w) { add_f32(w, "rope_factors_long.weight", {8}); }, "mem.gguf: tensor rope_factors_short.weight",
       "missing", ErrorKind::model},
      {[](auto& w) { w.set_u32("llama.expert_count", 4); w.set_u32("llama.expert_gating_func", 7); },
       "mem.gguf: key llama.expert_gating_func", "not supported", ErrorKind::unsupported},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    slm::gguf::GgufWriter w = base();
    cases[i].edit(w);
    const MemGguf g(w);
    const Error e = error_of([&] { (void)slm::config_from_gguf(g.file); });
    CHECK(e.kind() == cases[i].kind);
    CHECK(e.where() == cases[i].where);
    CHECK_MESSAGE(e.detail().find(cases[i].detail) != std::string::npos, e.detail());
  }
  // Missing keys: the writer cannot delete one, so build the file without it.
  slm::gguf::GgufWriter w;
  w.set_string("general.architecture", "qwen3");
  w.set_u32("qwen3.embedding_length", 64);
  const MemGguf g(w);
  const Error e = error_of([&] { (void)slm::config_from_gguf(g.file); });
  CHECK(e.kind() == ErrorKind::model);
  CHECK(e.where() == "mem.gguf: key qwen3.block_count");
  CHECK(e.detail().find("missing") != std::string::npos);
}

// ---- validate ---------------------------------------------------------------------------------

TEST_CASE("validate() names the field that does not fit") {
  ModelConfig ok;
  ok.architecture = "qwen3";
  ok.n_layers = 4;
  ok.d_model = 256;
  ok.n_heads = 4;
  ok.n_kv_heads = 2;
  ok.head_dim = 128;
  ok.rope_dim = 128;
  ok.ffn_dim = 768;
  ok.vocab_size = 1000;
  ok.context_length = 2048;
  CHECK_NOTHROW(slm::validate(ok));

  struct Case {
    std::function<void(ModelConfig&)> edit;
    const char* field;
  };
  const std::vector<Case> cases = {
      {[](ModelConfig& c) { c.n_layers = 0; }, "n_layers"},
      {[](ModelConfig& c) { c.d_model = 0; }, "d_model"},
      {[](ModelConfig& c) { c.n_kv_heads = 3; }, "n_kv_heads"},   // 4 % 3 != 0
      {[](ModelConfig& c) { c.n_kv_heads = 8; }, "n_kv_heads"},   // more kv heads than heads
      {[](ModelConfig& c) { c.n_kv_heads = 0; }, "n_kv_heads"},
      {[](ModelConfig& c) { c.head_dim = 127; c.rope_dim = 126; }, "head_dim"},
      {[](ModelConfig& c) { c.rope_dim = 130; }, "rope_dim"},
      {[](ModelConfig& c) { c.rope_dim = 63; }, "rope_dim"},
      {[](ModelConfig& c) { c.n_heads = 65535; c.n_kv_heads = 1; c.head_dim = 1024; c.rope_dim = 2; }, "head_dim"},
      {[](ModelConfig& c) { c.vocab_size = 0; }, "vocab_size"},
      {[](ModelConfig& c) { c.context_length = 0; }, "context_length"},
      {[](ModelConfig& c) { c.ffn_dim = 0; }, "ffn_dim"},
      {[](ModelConfig& c) { c.norm_eps = 0.0f; }, "norm_eps"},
      {[](ModelConfig& c) { c.rope_theta = std::nanf(""); }, "rope_theta"},
      {[](ModelConfig& c) { c.attn_scale = -1.0f; }, "attn_scale"},
      {[](ModelConfig& c) { c.n_experts_used = 2; }, "n_experts_used"},  // experts used without experts
      {[](ModelConfig& c) { c.n_experts = 4; c.n_experts_used = 5; c.expert_ffn_dim = 64; }, "n_experts_used"},
      {[](ModelConfig& c) { c.n_experts = 4; c.n_experts_used = 2; }, "expert_ffn_dim"},
      {[](ModelConfig& c) { c.n_experts = 4; c.n_experts_used = 2; c.expert_ffn_dim = 8; c.n_shared_experts = 1; },
       "shared_expert_ffn_dim"},
      {[](ModelConfig& c) { c.rope_scaling.type = Type::yarn; c.rope_scaling.factor = 4; }, "rope_scaling.original_context"},
      {[](ModelConfig& c) { c.rope_scaling.type = Type::linear; c.rope_scaling.factor = 0; }, "rope_scaling.factor"},
      {[](ModelConfig& c) {
         c.rope_scaling.type = Type::llama3;
         c.rope_scaling.original_context = 8192;
         c.rope_scaling.low_freq_factor = 4;
       },
       "rope_scaling.high_freq_factor"},
      {[](ModelConfig& c) {
         c.rope_scaling.type = Type::longrope;
         c.rope_scaling.original_context = 1024;
         c.rope_scaling.short_factor.assign(64, 1.0f);
         c.rope_scaling.long_factor.assign(63, 1.0f);
       },
       "rope_scaling.long_factor"},
      {[](ModelConfig& c) { c.sliding_window = 64; c.sliding_window_pattern = 9; }, "sliding_window_pattern"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    CAPTURE(i);
    ModelConfig c = ok;
    cases[i].edit(c);
    const Error e = error_of([&] { slm::validate(c); });
    CHECK(e.kind() == ErrorKind::model);
    CHECK(e.where() == std::string("ModelConfig.") + cases[i].field);
  }
  ModelConfig unknown = ok;
  unknown.architecture = "gpt2";
  CHECK(error_of([&] { slm::validate(unknown); }).kind() == ErrorKind::unsupported);
}

TEST_CASE("is_local_layer follows the pattern") {
  ModelConfig c;
  c.n_layers = 12;
  CHECK_FALSE(slm::is_local_layer(c, 0));  // no window, no local layers
  c.sliding_window = 512;
  c.sliding_window_pattern = 6;
  std::vector<bool> local;
  for (uint32_t l = 0; l < 12; ++l) local.push_back(slm::is_local_layer(c, l));
  CHECK(local == std::vector<bool>{true, true, true, true, true, false, true, true, true, true, true, false});
  c.sliding_window_pattern = 0;
  CHECK(slm::is_local_layer(c, 5));
  c.sliding_window_pattern = 1;
  CHECK_FALSE(slm::is_local_layer(c, 3));
}

TEST_CASE("the config.json fuzz seeds are valid configs") {
  const fs::path dir = fs::temp_directory_path() / ("slm-hf-seeds-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const int n = slm::test::write_hf_config_seeds(dir);
  CHECK(n == 5);
  int read = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    CAPTURE(e.path().string());
    const ModelConfig c = slm::config_from_hf(e.path());
    CHECK_NOTHROW(slm::validate(c));
    ++read;
  }
  CHECK(read == n);
  fs::remove_all(dir);
}
