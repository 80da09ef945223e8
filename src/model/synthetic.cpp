#include "src/model/synthetic.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "formats/gguf_writer.h"
#include "kernels/kernels.h"
#include "slm/error.h"

namespace slm {
namespace {

class TensorSink {
 public:
  TensorSink(gguf::GgufWriter& w, std::mt19937_64& rng, uint32_t distinct_rows)
      : w_(w), rng_(rng), distinct_rows_(distinct_rows) {}

  // A [rows][cols] matrix (GGUF shape {cols, rows}, or {cols, rows, n} when stacked), normal
  // values scaled 1/sqrt(cols), stored as `type`.
  void matrix(const std::string& name, DType type, uint64_t rows, uint64_t cols, uint64_t stacked = 0) {
    const uint64_t n_rows = rows * (stacked ? stacked : 1);
    const auto rb = row_bytes(type, cols);
    if (!rb) throw Error(ErrorKind::invalid_argument, "synthetic model: tensor " + name,
                         std::to_string(cols) + " columns is not a multiple of the block size of " + std::string(dtype_name(type)));
    std::vector<uint8_t> bytes(*rb * n_rows);
    std::vector<float> row(cols);
    std::normal_distribution<float> nd(0.0f, 1.0f / std::sqrt(static_cast<float>(cols)));
    for (uint64_t r = 0; r < n_rows; ++r) {
      if (distinct_rows_ && r >= distinct_rows_) {
        std::memcpy(bytes.data() + r * *rb, bytes.data() + (r % distinct_rows_) * *rb, *rb);
        continue;
      }
      for (auto& x : row) x = nd(rng_);
      if (!kernels::quantize_row(type, row.data(), bytes.data() + r * *rb, static_cast<int64_t>(cols)))
        throw Error(ErrorKind::invalid_argument, "synthetic model: tensor " + name, "slm cannot write type " + std::string(dtype_name(type)));
    }
    std::vector<uint64_t> shape = {cols, rows};
    if (stacked) shape.push_back(stacked);
    w_.add_tensor(name, type, shape, bytes);
  }

  // An F32 vector around `center` (norm weights near 1, biases near 0).
  void vector(const std::string& name, uint64_t n, float center, float spread) {
    std::vector<float> v(n);
    std::uniform_real_distribution<float> ud(-spread, spread);
    for (auto& x : v) x = center + ud(rng_);
    w_.add_tensor(name, DType::F32, {n}, std::span(reinterpret_cast<const uint8_t*>(v.data()), n * sizeof(float)));
  }

 private:
  gguf::GgufWriter& w_;
  std::mt19937_64& rng_;
  uint32_t distinct_rows_ = 0;
};

// A SentencePiece-style vocabulary: <unk> <s> </s>, the 256 byte tokens, then letter pieces; the
// spec's control tokens take the last ids.
void write_vocab(gguf::GgufWriter& w, const SyntheticSpec& spec) {
  const uint32_t vocab_size = spec.vocab_size;
  if (vocab_size < 259 + spec.control_tokens.size())
    throw Error(ErrorKind::invalid_argument, "synthetic model",
                "vocab_size must be at least 259 plus the number of control tokens");
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.emplace_back(buf);
    types.push_back(6);
  }
  const std::string space = "\xE2\x96\x81";  // U+2581, SentencePiece's space
  std::vector<std::string> pieces;
  for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(std::string(1, c));
  for (char c = 'a'; c <= 'z'; ++c) pieces.push_back(space + c);
  pieces.push_back(space);
  for (char a = 'a'; a <= 'z'; ++a)
    for (char b = 'a'; b <= 'z'; ++b) pieces.push_back(std::string{a, b});
  for (size_t i = 0; tokens.size() < vocab_size && i < pieces.size(); ++i) {
    tokens.push_back(pieces[i]);
    types.push_back(1);
  }
  while (tokens.size() < vocab_size) {  // beyond the letter pieces: unused filler
    tokens.push_back("<unused" + std::to_string(tokens.size()) + ">");
    types.push_back(5);
  }
  for (size_t i = 0; i < spec.control_tokens.size(); ++i) {
    const size_t id = vocab_size - spec.control_tokens.size() + i;
    tokens[id] = spec.control_tokens[i];
    types[id] = 3;
  }
  std::vector<float> scores(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) scores[i] = types[i] == 1 ? -static_cast<float>(i) : 0.0f;
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string("tokenizer.ggml.pre", "default");
  w.set_array_string("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
  w.set_array_f32("tokenizer.ggml.scores", scores);
  w.set_array_i32("tokenizer.ggml.token_type", types);
  w.set_u32("tokenizer.ggml.unknown_token_id", 0);
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
  w.set_bool("tokenizer.ggml.add_bos_token", true);
  w.set_bool("tokenizer.ggml.add_eos_token", false);
  if (!spec.chat_template.empty()) w.set_string("tokenizer.chat_template", spec.chat_template);
}

}  // namespace

void write_synthetic_model(const SyntheticSpec& s, const std::filesystem::path& path) {
  const uint32_t hd = s.head_dim ? s.head_dim : s.d_model / s.n_heads;
  const std::string& a = s.architecture;
  gguf::GgufWriter w;
  w.set_string("general.architecture", a);
  w.set_string("general.name", "slm synthetic " + a);
  w.set_u32(a + ".block_count", s.n_layers);
  w.set_u32(a + ".embedding_length", s.d_model);
  w.set_u32(a + ".feed_forward_length", s.ffn_dim);
  w.set_u32(a + ".attention.head_count", s.n_heads);
  w.set_u32(a + ".attention.head_count_kv", s.n_kv_heads);
  w.set_u32(a + ".attention.key_length", hd);
  w.set_u32(a + ".attention.value_length", hd);
  w.set_u32(a + ".context_length", s.context_length);
  w.set_u32(a + ".rope.dimension_count", hd);
  w.set_f32(a + ".rope.freq_base", s.rope_theta);
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", s.norm_eps);
  w.set_u32(a + ".vocab_size", s.vocab_size);
  if (s.n_experts) {
    w.set_u32(a + ".expert_count", s.n_experts);
    w.set_u32(a + ".expert_used_count", s.n_experts_used);
    w.set_u32(a + ".expert_feed_forward_length", s.expert_ffn_dim);
    if (s.shared_expert_ffn_dim) w.set_u32(a + ".expert_shared_feed_forward_length", s.shared_expert_ffn_dim);
  }
  write_vocab(w, s);

  std::mt19937_64 rng(s.seed);
  TensorSink t(w, rng, s.distinct_rows);
  const uint64_t q_dim = uint64_t{s.n_heads} * hd, kv_dim = uint64_t{s.n_kv_heads} * hd, d = s.d_model;
  t.matrix("token_embd.weight", s.embedding_type, s.vocab_size, d);
  t.vector("output_norm.weight", d, 1.0f, 0.1f);
  if (!s.tied_embeddings) t.matrix("output.weight", s.matrix_type, s.vocab_size, d);
  const uint32_t n = s.n_layers;
  for (uint32_t l = 0; l < n; ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    // llama.cpp's use_more_bits(i, n): i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2
    const bool more_bits = l < n / 8 || l >= 7 * n / 8 || (l >= n / 8 && (l - n / 8) % 3 == 2);
    const DType wide = s.q4_k_m_mix && more_bits ? DType::Q6_K : s.matrix_type;
    t.vector(p + "attn_norm.weight", d, 1.0f, 0.1f);
    t.matrix(p + "attn_q.weight", s.matrix_type, q_dim, d);
    t.matrix(p + "attn_k.weight", s.matrix_type, kv_dim, d);
    t.matrix(p + "attn_v.weight", wide, kv_dim, d);
    t.matrix(p + "attn_output.weight", s.matrix_type, d, q_dim);
    if (s.attn_bias) {
      t.vector(p + "attn_q.bias", q_dim, 0.0f, 0.1f);
      t.vector(p + "attn_k.bias", kv_dim, 0.0f, 0.1f);
      t.vector(p + "attn_v.bias", kv_dim, 0.0f, 0.1f);
    }
    if (s.qk_norm) {
      t.vector(p + "attn_q_norm.weight", hd, 1.0f, 0.1f);
      t.vector(p + "attn_k_norm.weight", hd, 1.0f, 0.1f);
    }
    t.vector(p + "ffn_norm.weight", d, 1.0f, 0.1f);
    if (s.n_experts) {
      t.matrix(p + "ffn_gate_inp.weight", DType::F32, s.n_experts, d);
      t.matrix(p + "ffn_gate_exps.weight", s.matrix_type, s.expert_ffn_dim, d, s.n_experts);
      t.matrix(p + "ffn_up_exps.weight", s.matrix_type, s.expert_ffn_dim, d, s.n_experts);
      t.matrix(p + "ffn_down_exps.weight", s.matrix_type, d, s.expert_ffn_dim, s.n_experts);
      if (s.shared_expert_ffn_dim) {
        t.matrix(p + "ffn_gate_inp_shexp.weight", DType::F32, 1, d);
        t.matrix(p + "ffn_gate_shexp.weight", s.matrix_type, s.shared_expert_ffn_dim, d);
        t.matrix(p + "ffn_up_shexp.weight", s.matrix_type, s.shared_expert_ffn_dim, d);
        t.matrix(p + "ffn_down_shexp.weight", s.matrix_type, d, s.shared_expert_ffn_dim);
      }
    } else {
      t.matrix(p + "ffn_gate.weight", s.matrix_type, s.ffn_dim, d);
      t.matrix(p + "ffn_up.weight", s.matrix_type, s.ffn_dim, d);
      t.matrix(p + "ffn_down.weight", wide, d, s.ffn_dim);
    }
  }
  w.write_file(path);
}

std::filesystem::path peers_synthetic_model(const std::string& arg) {
  const size_t colon = arg.find(':');
  const std::string type = arg.substr(0, colon);
  const std::string shape = colon == std::string::npos ? "llama1b" : arg.substr(colon + 1);
  SyntheticSpec s;
  s.distinct_rows = 64;
  s.context_length = 4096;
  s.tied_embeddings = true;
  if (shape == "llama1b") {
    s.architecture = "llama";
    s.n_layers = 16;
    s.d_model = 2048;
    s.n_heads = 32;
    s.n_kv_heads = 8;
    s.ffn_dim = 8192;
    s.vocab_size = 32000;
    s.rope_theta = 500000.0f;
  } else if (shape == "moe32" || shape == "dense32" || shape == "moe64" || shape == "dense64") {
    const bool moe = shape.starts_with("moe");
    const bool wide = shape.ends_with("32");
    s.architecture = moe ? "qwen3moe" : "qwen3";
    s.n_layers = 8;
    s.d_model = 1024;
    s.n_heads = 16;
    s.head_dim = 128;
    s.n_kv_heads = 4;
    s.qk_norm = true;
    s.vocab_size = 32000;
    s.rope_theta = 1000000.0f;
    if (moe) {
      s.n_experts = wide ? 32 : 64;
      s.n_experts_used = wide ? 4 : 2;
      s.expert_ffn_dim = 512;
      s.ffn_dim = 512;
    } else {
      s.ffn_dim = wide ? 2048 : 1024;
    }
  } else {
    throw Error(ErrorKind::invalid_argument, "synthetic model " + arg,
                     "shape must be llama1b, moe32, dense32, moe64 or dense64");
  }
  if (type == "q4_0") {
    s.matrix_type = DType::Q4_0;
    s.embedding_type = DType::Q6_K;  // llama-quantize's choice for the (tied) output tensor
  } else if (type == "q4_k_m") {
    s.matrix_type = DType::Q4_K;
    s.embedding_type = DType::Q6_K;
    s.q4_k_m_mix = true;
  } else if (type == "q8_0") {
    s.matrix_type = s.embedding_type = DType::Q8_0;
  } else if (type == "f16") {
    s.matrix_type = s.embedding_type = DType::F16;
  } else {
    throw Error(ErrorKind::invalid_argument, "synthetic model " + arg, "type must be q4_0, q4_k_m, q8_0 or f16");
  }
  const auto path = std::filesystem::temp_directory_path() / ("slm-synthetic-" + shape + "-" + type + ".gguf");
  if (!std::filesystem::exists(path)) {
    std::fprintf(stderr, "slm: writing %s (random weights, once)\n", path.c_str());
    const auto tmp = path.string() + ".partial";
    write_synthetic_model(s, tmp);
    std::filesystem::rename(tmp, path);
  }
  return path;
}

}  // namespace slm
