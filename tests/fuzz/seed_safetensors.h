// Seed corpora for fuzz_safetensors and fuzz_hf_config, written with the test builders. Called from
// make_seed_corpus.cpp:
//   write_safetensors_seeds(root / "safetensors");   write_hf_config_seeds(root / "hf_config");
// Seeds are small so the fuzzer spends its time on headers, not tensor data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "formats/safetensors.h"
#include "tests/formats/safetensors_bytes.h"

namespace slm::test {

inline void write_seed_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

inline void write_seed_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  write_seed_file(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// Returns the number of seeds written.
inline int write_safetensors_seeds(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const auto pattern = [](size_t n) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 37 + 11);
    return v;
  };
  int n = 0;

  write_seed_file(dir / "empty.safetensors", safetensors_raw("{}", {}));
  ++n;

  // A layer of a llama-shaped model in the three dtypes slm computes with, plus metadata.
  write_seed_file(dir / "layer.safetensors",
                  safetensors_file({{"model.embed_tokens.weight", "BF16", {6, 4}, pattern(48)},
                                    {"model.layers.0.self_attn.q_proj.weight", "F16", {4, 4}, pattern(32)},
                                    {"model.layers.0.input_layernorm.weight", "F32", {4}, pattern(16)},
                                    {"model.norm.weight", "F32", {4}, pattern(16)}},
                                   {{"format", "pt"}}));
  ++n;

  // One tensor of every dtype the format defines (two elements each, so 4- and 6-bit types fill bytes
  // only where they should: F4 x2 = 1 byte; F6 x4 = 3 bytes).
  {
    std::vector<StTensor> all;
    for (std::string_view name : {"BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16", "U16", "F16", "BF16",
                                  "I32", "U32", "F32", "F64", "I64", "U64", "C64", "F4", "F6_E2M3", "F6_E3M2"}) {
      const auto d = safetensors::dtype_from_name(name);
      const uint64_t elems = safetensors::dtype_bits(*d) == 6 ? 4 : 2;
      all.push_back({"t." + std::string(name), std::string(name), {elems}, pattern(elems * safetensors::dtype_bits(*d) / 8)});
    }
    write_seed_file(dir / "every_dtype.safetensors", safetensors_file(all));
    ++n;
  }

  // Offsets out of header order, a scalar and an empty tensor, unpadded header.
  write_seed_file(dir / "unordered.safetensors",
                  safetensors_raw(R"({"b":{"dtype":"F32","shape":[],"data_offsets":[4,8]},)"
                                  R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                  R"("e":{"dtype":"F32","shape":[0,3],"data_offsets":[8,8]}})",
                                  pattern(8), /*pad_to_8=*/false));
  ++n;
  return n;
}

// config.json seeds for fuzz_hf_config: the shapes of the architectures slm reads.
inline int write_hf_config_seeds(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const std::vector<std::pair<std::string, std::string>> seeds = {
      {"llama.json", R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "intermediate_size": 172,
"num_hidden_layers": 5, "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 8, "hidden_act": "silu",
"max_position_embeddings": 512, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "rope_scaling": {"rope_type": "llama3",
"factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 128},
"vocab_size": 512, "tie_word_embeddings": true})"},
      {"qwen3moe.json", R"({"architectures": ["Qwen3MoeForCausalLM"], "hidden_size": 256, "intermediate_size": 768,
"num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64,
"max_position_embeddings": 2048, "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "rope_scaling": null,
"vocab_size": 50257, "tie_word_embeddings": true, "num_experts": 8, "num_experts_per_tok": 2,
"moe_intermediate_size": 256, "norm_topk_prob": true, "decoder_sparse_step": 1, "mlp_only_layers": []})"},
      {"gemma3.json", R"({"architectures": ["Gemma3ForConditionalGeneration"], "text_config": {"hidden_size": 64,
"intermediate_size": 160, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
"head_dim": 32, "hidden_activation": "gelu_pytorch_tanh", "max_position_embeddings": 1024, "sliding_window": 16,
"layer_types": ["sliding_attention", "full_attention", "sliding_attention", "full_attention"],
"rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0},
"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}}, "query_pre_attn_scalar": 24,
"vocab_size": 40}})"},
      {"phi3.json", R"({"architectures": ["Phi3ForCausalLM"], "hidden_size": 64, "intermediate_size": 96,
"num_hidden_layers": 2, "num_attention_heads": 4, "max_position_embeddings": 8192,
"original_max_position_embeddings": 1024, "partial_rotary_factor": 0.75, "sliding_window": 2047,
"rope_scaling": {"type": "longrope", "short_factor": [1, 1, 1, 1, 1, 1], "long_factor": [1, 2, 3, 4, 5, 6]},
"vocab_size": 32})"},
      {"qwen2_yarn.json", R"({"architectures": ["Qwen2ForCausalLM"], "hidden_size": 64, "intermediate_size": 128,
"num_hidden_layers": 2, "num_attention_heads": 4, "max_position_embeddings": 131072, "vocab_size": 16,
"rope_scaling": {"type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768, "attention_factor": 1.2},
"use_sliding_window": false, "sliding_window": 4096})"},
  };
  for (const auto& [name, text] : seeds) write_seed_file(dir / name, text);
  return static_cast<int>(seeds.size());
}

}  // namespace slm::test
