// The graph against a naive double-precision transformer written independently here, on synthetic
// models of each architecture variant (F32 weights, so only the F16 KV cache rounds; the reference
// rounds K and V the same way). Also: batched == one-at-a-time, interleaved sequences == alone,
// and the MoE layer == a dense reference that runs every expert and masks the unchosen ones.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "kernels/fp16.h"
#include "kernels/kernels.h"
#include "src/engine/thread_pool.h"
#include "src/graph/forward.h"
#include "src/model/model.h"
#include "src/model/synthetic.h"

namespace fs = std::filesystem;
using namespace slm;

namespace {

using Vec = std::vector<double>;

// A matrix read straight from the file by name: [rows][cols] doubles.
struct Mat {
  int64_t rows = 0, cols = 0;
  std::vector<double> v;
  Vec mul(const Vec& x) const {
    Vec y(static_cast<size_t>(rows), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      double s = 0;
      for (int64_t c = 0; c < cols; ++c) s += v[static_cast<size_t>(r * cols + c)] * x[static_cast<size_t>(c)];
      y[static_cast<size_t>(r)] = s;
    }
    return y;
  }
};

Mat read_mat(const gguf::GgufFile& f, const std::string& name, int64_t expert = -1) {
  const auto* t = f.find_tensor(name);
  REQUIRE_MESSAGE(t != nullptr, name);
  Mat m;
  m.cols = static_cast<int64_t>(t->shape[0]);
  m.rows = static_cast<int64_t>(t->shape.size() > 1 ? t->shape[1] : 1);
  const size_t rb = static_cast<size_t>(*row_bytes(t->type, static_cast<uint64_t>(m.cols)));
  const int64_t first = expert >= 0 ? expert * m.rows : 0;
  std::vector<float> row(static_cast<size_t>(m.cols));
  for (int64_t r = 0; r < m.rows; ++r) {
    kernels::dequantize_row(t->type, t->data + static_cast<size_t>(first + r) * rb, row.data(), m.cols);
    for (float x : row) m.v.push_back(x);
  }
  return m;
}

Vec read_vec(const gguf::GgufFile& f, const std::string& name) {
  const Mat m = read_mat(f, name);
  return m.v;
}

Vec rmsnorm(const Vec& x, const Vec& w, double eps) {
  double ss = 0;
  for (double a : x) ss += a * a;
  const double k = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
  Vec y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * k * w[i];
  return y;
}

double f16_round(double x) { return kernels::fp16_to_f32(kernels::f32_to_fp16(static_cast<float>(x))); }

// Rotates head vector h (length hd) in place: rope_dim = hd, neox or interleaved pairs.
void rope(double* h, int64_t hd, int32_t pos, double base, bool neox) {
  for (int64_t i = 0; i < hd / 2; ++i) {
    const double theta = pos * std::pow(base, -2.0 * static_cast<double>(i) / static_cast<double>(hd));
    const double c = std::cos(theta), s = std::sin(theta);
    const int64_t a = neox ? i : 2 * i, b = neox ? i + hd / 2 : 2 * i + 1;
    const double x0 = h[a], x1 = h[b];
    h[a] = x0 * c - x1 * s;
    h[b] = x0 * s + x1 * c;
  }
}

double silu(double x) { return x / (1.0 + std::exp(-x)); }

// The naive transformer: processes tokens of one sequence in order, returns logits per position.
struct Reference {
  const gguf::GgufFile& f;
  const ModelConfig& c;
  std::vector<std::vector<Vec>> kcache, vcache;  // [layer][pos]

  Reference(const gguf::GgufFile& file, const ModelConfig& cfg) : f(file), c(cfg), kcache(cfg.n_layers), vcache(cfg.n_layers) {}

  Vec ffn_expert(const std::string& p, int64_t e, const Vec& xn, const char* suffix) {
    const Mat g = read_mat(f, p + "ffn_gate" + suffix + ".weight", e), u = read_mat(f, p + "ffn_up" + suffix + ".weight", e),
              dn = read_mat(f, p + "ffn_down" + suffix + ".weight", e);
    Vec gv = g.mul(xn), uv = u.mul(xn);
    for (size_t i = 0; i < gv.size(); ++i) gv[i] = silu(gv[i]) * uv[i];
    return dn.mul(gv);
  }

  Vec step(int32_t token, int32_t pos) {
    const int64_t d = c.d_model, hd = c.head_dim, nh = c.n_heads, nkv = c.n_kv_heads;
    const Mat emb = read_mat(f, "token_embd.weight");
    Vec x(emb.v.begin() + token * d, emb.v.begin() + (token + 1) * d);
    const bool neox = c.rope_style == ModelConfig::RopeStyle::neox;
    for (uint32_t l = 0; l < c.n_layers; ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      Vec xn = rmsnorm(x, read_vec(f, p + "attn_norm.weight"), c.norm_eps);
      Vec q = read_mat(f, p + "attn_q.weight").mul(xn), k = read_mat(f, p + "attn_k.weight").mul(xn),
          v = read_mat(f, p + "attn_v.weight").mul(xn);
      if (f.find_tensor(p + "attn_q.bias")) {
        const Vec bq = read_vec(f, p + "attn_q.bias"), bk = read_vec(f, p + "attn_k.bias"), bv = read_vec(f, p + "attn_v.bias");
        for (size_t i = 0; i < q.size(); ++i) q[i] += bq[i];
        for (size_t i = 0; i < k.size(); ++i) k[i] += bk[i], v[i] += bv[i];
      }
      if (f.find_tensor(p + "attn_q_norm.weight")) {
        const Vec qn = read_vec(f, p + "attn_q_norm.weight"), kn = read_vec(f, p + "attn_k_norm.weight");
        for (int64_t h = 0; h < nh; ++h) {
          Vec part(q.begin() + h * hd, q.begin() + (h + 1) * hd);
          part = rmsnorm(part, qn, c.norm_eps);
          std::copy(part.begin(), part.end(), q.begin() + h * hd);
        }
        for (int64_t h = 0; h < nkv; ++h) {
          Vec part(k.begin() + h * hd, k.begin() + (h + 1) * hd);
          part = rmsnorm(part, kn, c.norm_eps);
          std::copy(part.begin(), part.end(), k.begin() + h * hd);
        }
      }
      for (int64_t h = 0; h < nh; ++h) rope(&q[h * hd], hd, pos, c.rope_theta, neox);
      for (int64_t h = 0; h < nkv; ++h) rope(&k[h * hd], hd, pos, c.rope_theta, neox);
      for (auto& a : k) a = f16_round(a);
      for (auto& a : v) a = f16_round(a);
      kcache[l].push_back(k);
      vcache[l].push_back(v);
      Vec att(static_cast<size_t>(nh * hd), 0.0);
      for (int64_t h = 0; h < nh; ++h) {
        const int64_t kvh = h / (nh / nkv);
        Vec s(static_cast<size_t>(pos + 1));
        for (int32_t t = 0; t <= pos; ++t) {
          double dot = 0;
          for (int64_t i = 0; i < hd; ++i) dot += q[h * hd + i] * kcache[l][t][kvh * hd + i];
          s[t] = dot / std::sqrt(static_cast<double>(hd));
        }
        const double mx = *std::max_element(s.begin(), s.end());
        double sum = 0;
        for (auto& a : s) sum += (a = std::exp(a - mx));
        for (int32_t t = 0; t <= pos; ++t)
          for (int64_t i = 0; i < hd; ++i) att[h * hd + i] += s[t] / sum * vcache[l][t][kvh * hd + i];
      }
      const Vec o = read_mat(f, p + "attn_output.weight").mul(att);
      for (int64_t i = 0; i < d; ++i) x[i] += o[i];

      xn = rmsnorm(x, read_vec(f, p + "ffn_norm.weight"), c.norm_eps);
      Vec y(static_cast<size_t>(d), 0.0);
      if (c.n_experts == 0) {
        y = ffn_expert(p, -1, xn, "");
      } else {
        // Dense masked reference: every expert runs; unchosen ones are multiplied by zero.
        Vec logits = read_mat(f, p + "ffn_gate_inp.weight").mul(xn);
        const double mx = *std::max_element(logits.begin(), logits.end());
        double sum = 0;
        for (auto& a : logits) sum += (a = std::exp(a - mx));
        for (auto& a : logits) a /= sum;
        std::vector<int64_t> order(logits.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
        Vec mask(logits.size(), 0.0);
        double chosen = 0;
        for (uint32_t j = 0; j < c.n_experts_used; ++j) chosen += logits[order[j]];
        for (uint32_t j = 0; j < c.n_experts_used; ++j)
          mask[order[j]] = c.expert_weights_norm ? logits[order[j]] / chosen : logits[order[j]];
        for (int64_t e = 0; e < static_cast<int64_t>(c.n_experts); ++e) {
          const Vec ye = ffn_expert(p, e, xn, "_exps");
          for (int64_t i = 0; i < d; ++i) y[i] += mask[e] * ye[i];
        }
        if (f.find_tensor(p + "ffn_gate_shexp.weight")) {
          const Vec ys = ffn_expert(p, -1, xn, "_shexp");
          const double g = 1.0 / (1.0 + std::exp(-read_mat(f, p + "ffn_gate_inp_shexp.weight").mul(xn)[0]));
          for (int64_t i = 0; i < d; ++i) y[i] += g * ys[i];
        }
      }
      for (int64_t i = 0; i < d; ++i) x[i] += y[i];
    }
    const Vec xn = rmsnorm(x, read_vec(f, "output_norm.weight"), c.norm_eps);
    return read_mat(f, f.find_tensor("output.weight") ? "output.weight" : "token_embd.weight").mul(xn);
  }
};

fs::path temp_model(const std::string& name) { return fs::temp_directory_path() / ("slm-graph-" + name + ".gguf"); }

// Runs `tokens` through Forward in batches of `batch` entries; returns logits per position.
std::vector<std::vector<float>> run_forward(const LoadedModel& m, const std::vector<int32_t>& tokens, size_t batch, int threads,
                                            AttentionPrecision precision = AttentionPrecision::f32) {
  const auto& c = m.config();
  ThreadPool pool(threads);
  KvCache kv(KvCacheOptions{static_cast<int32_t>(c.n_layers), static_cast<int32_t>(c.n_kv_heads),
                            static_cast<int32_t>(c.head_dim), 4, 64, 1});
  kv.reserve(0, static_cast<int32_t>(tokens.size()));
  Forward fw(c, m.weights(), precision);
  std::vector<std::vector<float>> out;
  for (size_t i = 0; i < tokens.size(); i += batch) {
    std::vector<BatchEntry> b;
    for (size_t j = i; j < std::min(tokens.size(), i + batch); ++j) b.push_back({0, static_cast<int32_t>(j), tokens[j], true});
    std::vector<float> logits(b.size() * c.vocab_size);
    fw.run(pool, b, kv, logits.data());
    for (size_t j = 0; j < b.size(); ++j) out.emplace_back(logits.begin() + j * c.vocab_size, logits.begin() + (j + 1) * c.vocab_size);
  }
  return out;
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

void check_against_reference(const SyntheticSpec& spec, const std::string& name, double tol) {
  const fs::path path = temp_model(name);
  write_synthetic_model(spec, path);
  const auto model = LoadedModel::load(path);
  const auto file = gguf::GgufFile::open(path);
  const std::vector<int32_t> tokens = {1, 300, 17, 299, 5, 260, 261, 42, 3, 310, 311};

  Reference ref(file, model->config());
  std::vector<std::vector<float>> want;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Vec l = ref.step(tokens[i], static_cast<int32_t>(i));
    want.emplace_back(l.begin(), l.end());
  }
  const auto batched = run_forward(*model, tokens, tokens.size(), 2);
  const auto stepped = run_forward(*model, tokens, 1, 1);
  const auto chunked = run_forward(*model, tokens, 4, 2);
  const auto f16acc = run_forward(*model, tokens, 4, 2, AttentionPrecision::f16_accumulate);
  for (size_t i = 0; i < tokens.size(); ++i) {
    CAPTURE(name);
    CAPTURE(i);
    CHECK(max_diff(batched[i], want[i]) < tol);
    CHECK(max_diff(stepped[i], batched[i]) < 1e-4);
    CHECK(max_diff(chunked[i], batched[i]) < 1e-4);
    CHECK(max_diff(f16acc[i], want[i]) < 20 * tol);  // llama.cpp's F16 arithmetic: close, not exact
  }
  fs::remove(path);
}

}  // namespace

TEST_CASE("llama (interleaved RoPE, GQA) matches the naive reference") {
  SyntheticSpec s;
  s.architecture = "llama";
  check_against_reference(s, "llama", 2e-3);
}

TEST_CASE("qwen3 (neox RoPE, QK-norm, head_dim != d_model / n_heads) matches the naive reference") {
  SyntheticSpec s;
  s.architecture = "qwen3";
  s.qk_norm = true;
  s.head_dim = 32;  // 4 heads of 32 over d_model 64
  check_against_reference(s, "qwen3", 2e-3);
}

TEST_CASE("qwen2 (q/k/v biases, untied output) matches the naive reference") {
  SyntheticSpec s;
  s.architecture = "qwen2";
  s.attn_bias = true;
  s.tied_embeddings = false;
  check_against_reference(s, "qwen2", 2e-3);
}

TEST_CASE("MoE layer equals the dense masked reference, with and without a shared expert") {
  SyntheticSpec s;
  s.architecture = "qwen3moe";
  s.qk_norm = true;
  s.n_experts = 6;
  s.n_experts_used = 2;
  s.expert_ffn_dim = 32;
  check_against_reference(s, "qwen3moe", 2e-3);
  s.architecture = "qwen2moe";
  s.qk_norm = false;
  s.attn_bias = true;
  s.shared_expert_ffn_dim = 48;
  check_against_reference(s, "qwen2moe", 2e-3);
  // Mixtral: a llama GGUF with stacked experts (softmax router, top-k renormalised).
  SyntheticSpec m;
  m.architecture = "llama";
  m.n_experts = 4;
  m.n_experts_used = 2;
  m.expert_ffn_dim = 40;
  check_against_reference(m, "mixtral", 2e-3);
}

TEST_CASE("quantized weights: a prompt in one batch agrees with the token-by-token pass and the reference") {
  // A batch of the level's panel_min_tokens or more goes through the panel products (where the kernel
  // level has them), one token through the matrix-vector kernels. Both sum every block's integer
  // products exactly and differ only in the order of the float sums, which the int8 quantization of
  // the next product's activations can turn into a whole quantization step: the passes agree
  // closely, not bit for bit. The double-precision reference (dequantized weights, float
  // activations) bounds both by the quantization noise itself.
  struct Case {
    DType type;
    bool mix;
  };
  for (const Case& k : {Case{DType::Q4_0, false}, Case{DType::Q8_0, false}, Case{DType::Q4_K, true},
                        Case{DType::Q5_K, false}, Case{DType::Q4_1, false}, Case{DType::Q5_0, false}}) {
    SyntheticSpec s;
    s.d_model = 256;
    s.n_heads = 4;
    s.n_kv_heads = 2;
    s.ffn_dim = 512;
    s.n_layers = 3;
    s.matrix_type = k.type;
    s.q4_k_m_mix = k.mix;  // Q6_K for attn_v and ffn_down in some layers
    const std::string name = std::string("quant-") + std::string(dtype_name(k.type));
    const fs::path path = temp_model(name);
    write_synthetic_model(s, path);
    const auto model = LoadedModel::load(path);
    const auto file = gguf::GgufFile::open(path);
    std::vector<int32_t> tokens;
    for (int i = 0; i < 37; ++i) tokens.push_back(static_cast<int32_t>(3 + (i * 97 + 11) % 300));
    Reference ref(file, model->config());
    const auto batched = run_forward(*model, tokens, tokens.size(), 2);
    const auto stepped = run_forward(*model, tokens, 1, 2);
    double worst_pair = 0, worst_ref = 0, scale = 0;
    for (size_t i = 0; i < tokens.size(); ++i) {
      const Vec l = ref.step(tokens[i], static_cast<int32_t>(i));
      const std::vector<float> want(l.begin(), l.end());
      worst_pair = std::max(worst_pair, max_diff(batched[i], stepped[i]));
      worst_ref = std::max(worst_ref, std::max(max_diff(batched[i], want), max_diff(stepped[i], want)));
      for (float v : want) scale = std::max(scale, std::fabs(static_cast<double>(v)));
    }
    MESSAGE(name << ": batched vs stepped " << worst_pair << ", vs reference " << worst_ref << ", |logit| up to " << scale);
    // Measured (AVX-512, 2026-12-02): pairs 1e-6 (Q4_0, Q8_0) to 0.06 (Q4_K), reference 0.08-0.14
    // with logits up to ~4.
    CHECK(worst_pair < 0.25);
    CHECK(worst_ref < 0.4);
    fs::remove(path);
  }
}

TEST_CASE("sequences interleaved in one batch give the same logits as each alone") {
  SyntheticSpec s;
  const fs::path path = temp_model("interleave");
  write_synthetic_model(s, path);
  const auto model = LoadedModel::load(path);
  const auto& c = model->config();
  const std::vector<int32_t> a = {1, 300, 301, 302, 303}, b = {1, 310, 311};
  const auto alone_a = run_forward(*model, a, a.size(), 2);
  const auto alone_b = run_forward(*model, b, b.size(), 2);

  ThreadPool pool(2);
  KvCache kv(KvCacheOptions{static_cast<int32_t>(c.n_layers), static_cast<int32_t>(c.n_kv_heads),
                            static_cast<int32_t>(c.head_dim), 4, 64, 2});
  kv.reserve(0, 5);
  kv.reserve(1, 3);
  Forward fw(c, model->weights(), AttentionPrecision::f32);
  std::vector<BatchEntry> batch = {{0, 0, 1, true}, {1, 0, 1, true}, {0, 1, 300, true}, {1, 1, 310, true},
                                   {0, 2, 301, true}, {1, 2, 311, true}, {0, 3, 302, true}, {0, 4, 303, true}};
  std::vector<float> logits(batch.size() * c.vocab_size);
  fw.run(pool, batch, kv, logits.data());
  auto row = [&](size_t i) { return std::vector<float>(logits.begin() + i * c.vocab_size, logits.begin() + (i + 1) * c.vocab_size); };
  CHECK(max_diff(row(0), alone_a[0]) < 1e-4);
  CHECK(max_diff(row(5), alone_b[2]) < 1e-4);
  CHECK(max_diff(row(7), alone_a[4]) < 1e-4);
  fs::remove(path);
}
