// Maps a Hugging Face folder's tensors (model.layers.N.self_attn.q_proj.weight, ...) onto Weights,
// using F32/F16/BF16 safetensors data in place. Llama-family q/k projections are stored in
// Hugging Face's rotate-half order; instead of permuting rows (as llama.cpp's converter does, which
// would copy the matrices), the model keeps them and rotates the matching (neox) pairs: q.k is the
// same either way.
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "formats/hf_folder.h"
#include "kernels/kernels.h"
#include "slm/error.h"
#include "src/model/model.h"

namespace slm {

struct HfModelLoader {
  LoadedModel& m;
  const HfFolder& f;

  [[noreturn]] void fail(const std::string& tensor, const std::string& what) const {
    throw Error(ErrorKind::model, f.dir().string() + ": tensor " + tensor, what);
  }

  static std::string shape_str(const std::vector<uint64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
  }

  const HfFolder::Entry* find(const std::string& name) const { return f.find(name); }

  DType type_of(const std::string& name, const HfFolder::Entry& e) const {
    const DType t = e.file->element_type(*e.tensor);  // throws for dtypes slm cannot use
    if (t != DType::F32 && t != DType::F16 && t != DType::BF16)
      fail(name, "dtype " + std::string(safetensors::dtype_name(e.tensor->dtype)) + " is not supported (F32, F16, BF16 are)");
    return t;
  }

  // A [rows][cols] matrix; safetensors shape [rows, cols] (outermost first).
  MatView mat(const std::string& name, int64_t rows, int64_t cols, bool required = true) const {
    const auto* e = find(name);
    if (!e) {
      if (required) fail(name, "missing");
      return {};
    }
    const auto& s = e->tensor->shape;
    if (s.size() != 2 || s[0] != static_cast<uint64_t>(rows) || s[1] != static_cast<uint64_t>(cols))
      fail(name, "shape " + shape_str(s) + ", expected [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
    const DType t = type_of(name, *e);
    m.weight_bytes_ += e->tensor->n_bytes();
    m.n_params_ += e->tensor->n_elements;
    return MatView{t, e->tensor->data, rows, cols, static_cast<size_t>(e->tensor->n_bytes() / static_cast<uint64_t>(rows))};
  }

  // A vector, always converted to an owned, aligned F32 copy (safetensors data need not be aligned).
  VecView vec(const std::string& name, int64_t n, bool required = true) const {
    const auto* e = find(name);
    if (!e) {
      if (required) fail(name, "missing");
      return {};
    }
    if (e->tensor->n_elements != static_cast<uint64_t>(n))
      fail(name, "shape " + shape_str(e->tensor->shape) + ", expected " + std::to_string(n) + " values");
    const DType t = type_of(name, *e);
    m.weight_bytes_ += e->tensor->n_bytes();
    m.n_params_ += e->tensor->n_elements;
    auto buf = std::make_unique<float[]>(static_cast<size_t>(n));
    kernels::dequantize_row(t, e->tensor->data, buf.get(), n);
    const float* p = buf.get();
    m.owned_.push_back(std::move(buf));
    return VecView{p, n};
  }

  // A small matrix converted to an owned F32 copy. Routers are kept in F32 as llama.cpp's converter
  // keeps them: their logits decide which experts run, and rounding the activations to BF16 for a
  // BF16 router would flip near-tied choices.
  MatView mat_f32(const std::string& name, int64_t rows, int64_t cols, bool required = true) const {
    const MatView src = mat(name, rows, cols, required);
    if (!src || src.type == DType::F32) return src;
    auto buf = std::make_unique<float[]>(static_cast<size_t>(rows * cols));
    for (int64_t r = 0; r < rows; ++r) kernels::dequantize_row(src.type, src.row(r), buf.get() + r * cols, cols);
    const auto* p = reinterpret_cast<const uint8_t*>(buf.get());
    m.owned_.push_back(std::move(buf));
    return MatView{DType::F32, p, rows, cols, static_cast<size_t>(cols) * sizeof(float)};
  }


  void load_weights() {
    ModelConfig& c = m.config_;
    Weights& W = m.weights_;
    const int64_t d = c.d_model, hd = c.head_dim;
    const int64_t q_dim = static_cast<int64_t>(c.n_heads) * hd, kv_dim = static_cast<int64_t>(c.n_kv_heads) * hd;
    W.token_embd = mat("model.embed_tokens.weight", c.vocab_size, d);
    W.output_norm = vec("model.norm.weight", d);
    W.output = c.tied_embeddings ? W.token_embd : mat("lm_head.weight", c.vocab_size, d);
    W.layers.resize(c.n_layers);
    for (uint32_t l = 0; l < c.n_layers; ++l) {
      LayerWeights& L = W.layers[l];
      const std::string p = "model.layers." + std::to_string(l) + ".";
      L.attn_norm = vec(p + "input_layernorm.weight", d);
      if (find(p + "self_attn.qkv_proj.weight")) {  // phi3: fused q|k|v
        const MatView qkv = mat(p + "self_attn.qkv_proj.weight", q_dim + 2 * kv_dim, d);
        L.wq = qkv.slice_rows(0, q_dim);
        L.wk = qkv.slice_rows(q_dim, kv_dim);
        L.wv = qkv.slice_rows(q_dim + kv_dim, kv_dim);
      } else {
        L.wq = mat(p + "self_attn.q_proj.weight", q_dim, d);
        L.wk = mat(p + "self_attn.k_proj.weight", kv_dim, d);
        L.wv = mat(p + "self_attn.v_proj.weight", kv_dim, d);
      }
      L.wo = mat(p + "self_attn.o_proj.weight", d, q_dim);
      L.bq = vec(p + "self_attn.q_proj.bias", q_dim, false);
      L.bk = vec(p + "self_attn.k_proj.bias", kv_dim, false);
      L.bv = vec(p + "self_attn.v_proj.bias", kv_dim, false);
      L.q_norm = vec(p + "self_attn.q_norm.weight", hd, c.qk_norm);
      L.k_norm = vec(p + "self_attn.k_norm.weight", hd, c.qk_norm);
      if (find(p + "pre_feedforward_layernorm.weight")) {  // gemma3: norms around both blocks
        L.attn_post_norm = vec(p + "post_attention_layernorm.weight", d);
        L.ffn_norm = vec(p + "pre_feedforward_layernorm.weight", d);
        L.ffn_post_norm = vec(p + "post_feedforward_layernorm.weight", d);
      } else {
        L.ffn_norm = vec(p + "post_attention_layernorm.weight", d);
      }
      if (c.n_experts > 0) {
        const int64_t ne = c.n_experts, fe = c.expert_ffn_dim;
        const bool mixtral = find(p + "block_sparse_moe.gate.weight") != nullptr;
        const std::string moe = p + (mixtral ? "block_sparse_moe." : "mlp.");
        L.router = mat_f32(moe + "gate.weight", ne, d);
        for (int64_t e = 0; e < ne; ++e) {
          const std::string ep = moe + "experts." + std::to_string(e) + ".";
          L.exp_gate.experts.push_back(mat(ep + (mixtral ? "w1.weight" : "gate_proj.weight"), fe, d));
          L.exp_up.experts.push_back(mat(ep + (mixtral ? "w3.weight" : "up_proj.weight"), fe, d));
          L.exp_down.experts.push_back(mat(ep + (mixtral ? "w2.weight" : "down_proj.weight"), d, fe));
        }
        if (find(p + "mlp.shared_expert.gate_proj.weight")) {
          const int64_t fs = c.shared_expert_ffn_dim;
          L.shexp_gate = mat(p + "mlp.shared_expert.gate_proj.weight", fs, d);
          L.shexp_up = mat(p + "mlp.shared_expert.up_proj.weight", fs, d);
          L.shexp_down = mat(p + "mlp.shared_expert.down_proj.weight", d, fs);
          L.shexp_router = mat_f32(p + "mlp.shared_expert_gate.weight", 1, d, false);
        }
      } else if (find(p + "mlp.gate_up_proj.weight")) {  // phi3: fused gate|up
        const MatView gu = mat(p + "mlp.gate_up_proj.weight", 2 * static_cast<int64_t>(c.ffn_dim), d);
        L.w_gate = gu.slice_rows(0, c.ffn_dim);
        L.w_up = gu.slice_rows(c.ffn_dim, c.ffn_dim);
        L.w_down = mat(p + "mlp.down_proj.weight", d, c.ffn_dim);
      } else {
        L.w_gate = mat(p + "mlp.gate_proj.weight", c.ffn_dim, d);
        L.w_up = mat(p + "mlp.up_proj.weight", c.ffn_dim, d);
        L.w_down = mat(p + "mlp.down_proj.weight", d, c.ffn_dim);
      }
    }
    if (c.rope_scaling.type == ModelConfig::RopeScaling::Type::llama3) {
      auto factors = llama3_rope_freq_factors(c);
      auto buf = std::make_unique<float[]>(factors.size());
      std::copy(factors.begin(), factors.end(), buf.get());
      W.rope_freq_factors = VecView{buf.get(), static_cast<int64_t>(factors.size())};
      m.owned_.push_back(std::move(buf));
    }
  }

  void compute_traffic() { m.bytes_per_token_ = bytes_per_token(m.config_, m.weights_, m.weight_bytes_); }


  static std::string chat_template_of(const HfFolder& f) {
    const auto p = f.tokenizer_config_path();
    if (!p) return {};
    std::ifstream in(*p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("chat_template")) return {};
    const auto& t = j["chat_template"];
    if (t.is_string()) return t.get<std::string>();
    if (t.is_array())  // [{"name": "default", "template": "..."}, ...]
      for (const auto& e : t)
        if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e["template"].is_string())
          return e["template"].get<std::string>();
    return {};
  }

  static std::shared_ptr<const LoadedModel> load(const std::filesystem::path& dir) {
    auto folder = std::make_shared<HfFolder>(HfFolder::open(dir));
    std::shared_ptr<LoadedModel> m(new LoadedModel());
    m->path_ = dir;
    m->storage_ = folder;
    m->config_ = config_from_hf(folder->config_path());
    validate(m->config_);
    if (m->config_.rope_style == ModelConfig::RopeStyle::interleaved) m->config_.rope_style = ModelConfig::RopeStyle::neox;
    m->tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::from_hf(dir));
    m->chat_template_ = chat_template_of(*folder);
    HfModelLoader loader{*m, *folder};
    loader.load_weights();
    loader.compute_traffic();
    return m;
  }
};

std::shared_ptr<const LoadedModel> load_hf_model(const std::filesystem::path& dir) { return HfModelLoader::load(dir); }

}  // namespace slm
