// Maps a GGUF file's tensors (llama.cpp names: blk.N.attn_q.weight, ...) onto Weights.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "formats/gguf.h"
#include "kernels/kernels.h"
#include "slm/error.h"
#include "src/model/model.h"

namespace slm {

std::shared_ptr<const LoadedModel> load_hf_model(const std::filesystem::path& dir);  // load_hf.cpp

struct ModelLoader {
  LoadedModel& m;
  const gguf::GgufFile& f;

  [[noreturn]] void fail(const std::string& tensor, const std::string& what) const {
    throw Error(ErrorKind::model, f.name() + ": tensor " + tensor, what);
  }

  const gguf::TensorInfo* find(const std::string& name) const { return f.find_tensor(name); }

  static std::string shape_str(const std::vector<uint64_t>& s) {
    std::string r = "[";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + "]";
  }

  void check_supported(const gguf::TensorInfo& t) const {
    if (!kernels::has_matmul(t.type) || kernels::active().matmul[kernels::slot(t.type)] == nullptr)
      fail(std::string(t.name), "type " + std::string(dtype_name(t.type)) + " is not supported by slm");
  }

  // A matrix [rows][cols] (GGUF shape {cols, rows}).
  MatView mat(const std::string& name, int64_t rows, int64_t cols, bool required = true) const {
    const auto* t = find(name);
    if (!t) {
      if (required) fail(name, "missing");
      return {};
    }
    if (t->shape.size() != 2 || t->shape[0] != static_cast<uint64_t>(cols) || t->shape[1] != static_cast<uint64_t>(rows))
      fail(name, "shape " + shape_str(t->shape) + ", expected [" + std::to_string(cols) + ", " + std::to_string(rows) + "]");
    check_supported(*t);
    m.weight_bytes_ += t->n_bytes;
    return MatView{t->type, t->data, rows, cols, static_cast<size_t>(t->n_bytes / static_cast<uint64_t>(rows))};
  }

  // A vector of n values, converted to F32 if stored otherwise.
  VecView vec(const std::string& name, int64_t n, bool required = true) const {
    const auto* t = find(name);
    if (!t) {
      if (required) fail(name, "missing");
      return {};
    }
    if (t->n_elements != static_cast<uint64_t>(n))
      fail(name, "shape " + shape_str(t->shape) + ", expected " + std::to_string(n) + " values");
    m.weight_bytes_ += t->n_bytes;
    if (t->type == DType::F32 && reinterpret_cast<uintptr_t>(t->data) % alignof(float) == 0)
      return VecView{reinterpret_cast<const float*>(t->data), n};
    if (!kernels::can_dequantize(t->type)) fail(name, "type " + std::string(dtype_name(t->type)) + " is not supported");
    auto buf = std::make_unique<float[]>(static_cast<size_t>(n));
    kernels::dequantize_row(t->type, t->data, buf.get(), n);
    const float* p = buf.get();
    m.owned_.push_back(std::move(buf));
    return VecView{p, n};
  }

  // Stacked experts [n_exp][rows][cols] (GGUF shape {cols, rows, n_exp}).
  ExpertMats experts(const std::string& name, int64_t n_exp, int64_t rows, int64_t cols) const {
    const auto* t = find(name);
    if (!t) fail(name, "missing");
    if (t->shape.size() != 3 || t->shape[0] != static_cast<uint64_t>(cols) || t->shape[1] != static_cast<uint64_t>(rows) ||
        t->shape[2] != static_cast<uint64_t>(n_exp))
      fail(name, "shape " + shape_str(t->shape) + ", expected [" + std::to_string(cols) + ", " + std::to_string(rows) +
                     ", " + std::to_string(n_exp) + "]");
    check_supported(*t);
    m.weight_bytes_ += t->n_bytes;
    const size_t row_b = static_cast<size_t>(t->n_bytes / static_cast<uint64_t>(rows * n_exp));
    ExpertMats e;
    for (int64_t i = 0; i < n_exp; ++i)
      e.experts.push_back(MatView{t->type, t->data + static_cast<size_t>(i * rows) * row_b, rows, cols, row_b});
    return e;
  }


  void load_weights() {
    const ModelConfig& c = m.config_;
    Weights& W = m.weights_;
    const int64_t d = c.d_model, hd = c.head_dim;
    const int64_t q_dim = static_cast<int64_t>(c.n_heads) * hd, kv_dim = static_cast<int64_t>(c.n_kv_heads) * hd;
    W.token_embd = mat("token_embd.weight", c.vocab_size, d);
    W.output_norm = vec("output_norm.weight", d);
    W.output = c.tied_embeddings ? W.token_embd : mat("output.weight", c.vocab_size, d);
    W.rope_freq_factors = vec("rope_freqs.weight", c.rope_dim / 2, false);
    W.layers.resize(c.n_layers);
    for (uint32_t l = 0; l < c.n_layers; ++l) {
      LayerWeights& L = W.layers[l];
      const std::string p = "blk." + std::to_string(l) + ".";
      L.attn_norm = vec(p + "attn_norm.weight", d);
      if (find(p + "attn_qkv.weight")) {  // fused q|k|v rows (phi3)
        MatView qkv = mat(p + "attn_qkv.weight", q_dim + 2 * kv_dim, d);
        L.wq = qkv.slice_rows(0, q_dim);
        L.wk = qkv.slice_rows(q_dim, kv_dim);
        L.wv = qkv.slice_rows(q_dim + kv_dim, kv_dim);
      } else {
        L.wq = mat(p + "attn_q.weight", q_dim, d);
        L.wk = mat(p + "attn_k.weight", kv_dim, d);
        L.wv = mat(p + "attn_v.weight", kv_dim, d);
      }
      L.wo = mat(p + "attn_output.weight", d, q_dim);
      L.bq = vec(p + "attn_q.bias", q_dim, false);
      L.bk = vec(p + "attn_k.bias", kv_dim, false);
      L.bv = vec(p + "attn_v.bias", kv_dim, false);
      L.q_norm = vec(p + "attn_q_norm.weight", hd, c.qk_norm);
      L.k_norm = vec(p + "attn_k_norm.weight", hd, c.qk_norm);
      L.attn_post_norm = vec(p + "post_attention_norm.weight", d, false);
      L.ffn_norm = vec(p + "ffn_norm.weight", d);
      L.ffn_post_norm = vec(p + "post_ffw_norm.weight", d, false);
      if (c.n_experts > 0) {
        const int64_t ne = c.n_experts, fe = c.expert_ffn_dim;
        L.router = mat(p + "ffn_gate_inp.weight", ne, d);
        L.exp_gate = experts(p + "ffn_gate_exps.weight", ne, fe, d);
        L.exp_up = experts(p + "ffn_up_exps.weight", ne, fe, d);
        L.exp_down = experts(p + "ffn_down_exps.weight", ne, d, fe);
        if (find(p + "ffn_gate_shexp.weight")) {
          const auto* t = find(p + "ffn_gate_shexp.weight");
          const int64_t fs = t->shape.size() == 2 ? static_cast<int64_t>(t->shape[1]) : 0;
          L.shexp_gate = mat(p + "ffn_gate_shexp.weight", fs, d);
          L.shexp_up = mat(p + "ffn_up_shexp.weight", fs, d);
          L.shexp_down = mat(p + "ffn_down_shexp.weight", d, fs);
          L.shexp_router = mat(p + "ffn_gate_inp_shexp.weight", 1, d, false);
        }
      } else if (!find(p + "ffn_gate.weight") && find(p + "ffn_up.weight")) {  // fused gate|up rows (phi3)
        MatView gu = mat(p + "ffn_up.weight", 2 * static_cast<int64_t>(c.ffn_dim), d);
        L.w_gate = gu.slice_rows(0, c.ffn_dim);
        L.w_up = gu.slice_rows(c.ffn_dim, c.ffn_dim);
        L.w_down = mat(p + "ffn_down.weight", d, c.ffn_dim);
      } else {
        L.w_gate = mat(p + "ffn_gate.weight", c.ffn_dim, d);
        L.w_up = mat(p + "ffn_up.weight", c.ffn_dim, d);
        L.w_down = mat(p + "ffn_down.weight", d, c.ffn_dim);
      }
    }
  }

  // Huge-page copies are ours to rearrange: matrices the kernel level reads faster in a layout of
  // its own (kernels.h, "repacked layouts") are converted in place, once, at load. The embedding
  // table stays as it is (its rows are dequantized one by one), also where it doubles as the output.
  // Opt-in for now (SLM_REPACK=1): see the kernels.h section for what it measured where.
  static bool relayout_wanted() {
    const char* opt_in = std::getenv("SLM_REPACK");
    return kernels::active().load_layout && opt_in != nullptr && std::string_view(opt_in) == "1";
  }
  void relayout() {
    const kernels::KernelTable& k = kernels::active();
    std::vector<MatView*> mats;
    Weights& W = m.weights_;
    if (W.output.data != W.token_embd.data) mats.push_back(&W.output);
    for (LayerWeights& L : W.layers) {
      for (MatView* v : {&L.wq, &L.wk, &L.wv, &L.wo, &L.w_gate, &L.w_up, &L.w_down, &L.shexp_gate,
                         &L.shexp_up, &L.shexp_down})
        mats.push_back(v);
      for (ExpertMats* e : {&L.exp_gate, &L.exp_up, &L.exp_down})
        for (MatView& v : e->experts) mats.push_back(&v);
    }
    std::vector<uint8_t> scratch;
    for (MatView* v : mats) {
      if (!*v || v->data == W.token_embd.data || k.load_layout(v->type, v->rows, v->cols) != DType::Q4_0_R4 ||
          v->row_bytes != row_bytes(v->type, static_cast<uint64_t>(v->cols)))
        continue;
      scratch.resize(std::max(scratch.size(), static_cast<size_t>(kernels::kR4Rows) * v->row_bytes));
      // The bytes belong to the huge-page copy this loader made (MapMode::huge_pages), not to a mapping.
      kernels::repack_q4_0_r4(const_cast<uint8_t*>(v->data), v->rows, v->row_bytes, scratch.data());
      v->type = DType::Q4_0_R4;
    }
  }

  void compute_traffic() { m.bytes_per_token_ = bytes_per_token(m.config_, m.weights_, m.weight_bytes_); }


  static std::shared_ptr<const LoadedModel> load_gguf(const std::filesystem::path& path, MapMode mode) {
    auto file = std::make_shared<gguf::GgufFile>(gguf::GgufFile::open(path, mode));
    std::shared_ptr<LoadedModel> m(new LoadedModel());
    m->path_ = path;
    m->storage_ = file;
    m->config_ = config_from_gguf(*file);
    validate(m->config_);
    m->tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::from_gguf(*file));
    if (auto t = file->get_optional<std::string_view>("tokenizer.chat_template")) m->chat_template_ = std::string(*t);
    for (const auto& t : file->tensors()) m->n_params_ += t.n_elements;
    ModelLoader loader{*m, *file};
    loader.load_weights();
    if (mode == MapMode::huge_pages && ModelLoader::relayout_wanted() && file->unseal()) {
      struct Seal {
        gguf::GgufFile& f;
        ~Seal() { f.seal(); }
      } seal{*file};
      loader.relayout();
    }
    loader.compute_traffic();
    return m;
  }
};

LoadedModel::LoadedModel() = default;
LoadedModel::~LoadedModel() = default;

std::shared_ptr<const LoadedModel> LoadedModel::load(const std::filesystem::path& path, MapMode mode) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    if (mode == MapMode::huge_pages)
      throw Error(ErrorKind::unsupported, path.string(),
                  "huge-page loading applies to GGUF files; a Hugging Face folder is used through its mappings");
    return load_hf_model(path);
  }
  return ModelLoader::load_gguf(path, mode);
}

}  // namespace slm
