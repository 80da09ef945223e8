// Reference conformance: every DIR/*.jsonl (llama.cpp's outputs, see ../shared/reference/README.md)
// whose model exists under DIR/../models is replayed through slm's public API:
//   - token ids of each prompt equal llama.cpp's (BOS added as the model asks, special text parsed);
//   - the top-20 logits at every prompt position are within the tolerance: 0.1 for F32/F16 files
//     (the README's bound), 0.4 for quantized dense models, 1.0 for quantized MoE models;
//   - the whole prompt in one batch gives last logits within the same tolerance of llama.cpp's, and
//     within twice it of the token-by-token pass (their kernels may sum in different orders);
//   - greedy generation gives llama.cpp's tokens, up to the first near-tie (a step where llama.cpp's
//     top-2 margin is under 0.05, or ours under 0.05 for float files and under the logit tolerance
//     for quantized ones, past which the texts may part legitimately).
// Why quantized files get more than the README's suggested 0.25: activations are quantized to int8
// blocks before every matmul, and that rounding turns last-bit differences upstream (summation
// order of dot products, expf) into whole int8 steps. slm computes attention with llama.cpp's own
// F16 flash-attention arithmetic (src/graph/attention.h), and with it matches llama.cpp exactly at
// most positions; where a single int8 rounding flips, the difference is of the size of the
// quantization noise itself (slm's own logits with int8 and with exact F32 activations differ by
// 0.14-0.37 on these files). MoE models amplify further: the tiny MoE's router is so sharp that a
// flip can move a token's second expert, giving isolated jumps up to about 1. Where slm itself saw a
// routing near-tie (last chosen and first unchosen expert within 0.02 in probability) before the
// first position off by more than the tolerance, or before a greedy divergence, the two engines may
// legitimately run different experts from there on: that is reported as a note, like a greedy tie.
// Usage: reference_conformance DIR [FILTER]. Exit 0 all good, 1 on a mismatch, 77 DIR absent.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slm/slm.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Tally {
  int passed = 0, failed = 0, skipped = 0;
};

// A MoE routing near-tie: the last chosen and first unchosen experts' probabilities closer than this.
constexpr float kRoutingTie = 0.02f;

float top2_gap(std::span<const float> l) {
  float a = -INFINITY, b = -INFINITY;
  for (float x : l) {
    if (x > a) {
      b = a;
      a = x;
    } else if (x > b) {
      b = x;
    }
  }
  return a - b;
}

// The reference files hold greedy texts of byte-level tokens that end inside UTF-8 characters, so a
// few lines are not valid UTF-8, which JSON parsers refuse. Invalid bytes b are carried through the
// parser as the private-use code points U+10FF00 + b and turned back into raw bytes afterwards.
std::string escape_invalid_utf8(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += "\xF4\x8F\xBC";  // U+10FF00 + c, c >= 0x80: F4 8F (BC | c>>6) (80 | c&63)
      out.back() = static_cast<char>(0xBC | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
      ++i;
    }
  }
  return out;
}

std::string unescape_invalid_utf8(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i + 3 < s.size() && static_cast<unsigned char>(s[i]) == 0xF4 && static_cast<unsigned char>(s[i + 1]) == 0x8F &&
        (static_cast<unsigned char>(s[i + 2]) & 0xFC) == 0xBC) {
      out += static_cast<char>(((static_cast<unsigned char>(s[i + 2]) & 3) << 6) | (static_cast<unsigned char>(s[i + 3]) & 0x3F));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool check_case(slm::Model& model, const json& c, float tol, float tie, const std::string& label) {
  bool ok = true;
  const std::string prompt = c["prompt"];
  const auto want_tokens = c["tokens"].get<std::vector<int32_t>>();
  slm::TokenizeOptions to;
  to.add_bos = true;
  to.parse_special = true;
  const auto tokens = model.tokenize(prompt, to);
  if (tokens != want_tokens) {
    std::printf("  FAIL %s: token ids differ (%zu vs %zu tokens)\n", label.c_str(), tokens.size(), want_tokens.size());
    return false;
  }

  // Logits at every prompt position, one token per step.
  slm::SessionOptions so;
  so.n_threads = 2;
  slm::Session s(model, so);
  float worst = 0;
  size_t worst_pos = 0;
  bool routing_tie = false;  // a MoE routing near-tie at or before the first position off by more than tol
  const auto& tops = c["top_logits"];
  for (size_t pos = 0; pos < tokens.size(); ++pos) {
    const int32_t one[1] = {tokens[pos]};
    s.append(one);
    const auto logits = s.logits();
    for (const auto& pair : tops[pos]) {
      const int32_t id = pair[0];
      const float want = pair[1];
      const float diff = std::fabs(logits[static_cast<size_t>(id)] - want);
      if (diff > tol && worst <= tol) routing_tie = s.min_routing_margin() < kRoutingTie;
      if (diff > worst) {
        worst = diff;
        worst_pos = pos;
      }
    }
  }
  if (worst > tol && routing_tie) {
    std::printf("  note %s: logits part by %.3f after a MoE routing near-tie (margin %.4f)\n", label.c_str(), worst,
                s.min_routing_margin());
    return true;  // past a routing near-tie the two engines may run different experts: nothing more to compare
  }
  if (worst > tol) {
    std::printf("  FAIL %s: logit off by %.4f at position %zu (tolerance %.2f; smallest routing margin %.4f)\n",
                label.c_str(), worst, worst_pos, tol, s.min_routing_margin());
    ok = false;
  }

  // The whole prompt in one batch: its last logits are held to llama.cpp's like the token-by-token
  // pass's, and the two passes agree within twice that tolerance. (Multi-token and one-token kernels
  // may sum in different orders; on quantized files the int8 activations turn such last-bit
  // differences into whole quantization steps, the same noise the tolerance allows against
  // llama.cpp. A batching bug, such as a wrong position or mask, shows up as several units.)
  slm::Session batch(model, so);
  batch.prompt(tokens);
  const auto lb = batch.logits();
  const auto ls = s.logits();
  float bdiff = 0, bworst = 0;
  for (size_t i = 0; i < lb.size(); ++i) bdiff = std::max(bdiff, std::fabs(lb[i] - ls[i]));
  for (const auto& pair : tops.back()) {
    const int32_t id = pair[0];
    const float want = pair[1];
    bworst = std::max(bworst, std::fabs(lb[static_cast<size_t>(id)] - want));
  }
  if (!routing_tie && (bworst > tol || bdiff > 2 * tol)) {
    std::printf("  FAIL %s: batched prompt: last logits off llama.cpp's by %.4f (tolerance %.2f), off the "
                "step-by-step pass by %.4f\n", label.c_str(), bworst, tol, bdiff);
    ok = false;
  }

  // Greedy continuation.
  const auto want = c["greedy"].get<std::vector<int32_t>>();
  std::vector<float> margins;
  if (c.contains("margins")) margins = c["margins"].get<std::vector<float>>();
  slm::GenerateOptions g;
  g.max_tokens = static_cast<int32_t>(want.size());
  g.sampling = slm::SamplerOptions::greedy();
  g.stop_at_end_of_generation = false;
  slm::Session gen(model, so);
  gen.prompt(tokens);
  std::string streamed;
  const auto r = gen.generate(g, [&](std::string_view piece, int32_t) {
    streamed += piece;
    return true;
  });
  const auto& got = r.tokens;
  if (streamed != r.text) {
    std::printf("  FAIL %s: streamed pieces do not concatenate to the result text\n", label.c_str());
    ok = false;
  }
  size_t agree = 0;
  while (agree < want.size() && agree < got.size() && want[agree] == got[agree]) ++agree;
  if (agree < want.size()) {
    // Our own top-2 gap where the two parted: replay the agreed prefix.
    std::vector<int32_t> prefix = tokens;
    prefix.insert(prefix.end(), want.begin(), want.begin() + static_cast<std::ptrdiff_t>(agree));
    slm::Session replay(model, so);
    replay.prompt(prefix);
    const float gap = top2_gap(replay.logits());
    const bool near_tie = gap < tie || (agree < margins.size() && margins[agree] < 0.05f) ||
                          replay.min_routing_margin() < kRoutingTie;
    if (!near_tie) {
      std::printf("  FAIL %s: greedy token %zu is %d, llama.cpp %d (our top-2 gap %.3f)\n", label.c_str(), agree,
                  agree < got.size() ? got[agree] : -1, want[agree], gap);
      ok = false;
    } else {
      std::printf("  note %s: greedy parts at token %zu on a near-tie (gap %.3f)\n", label.c_str(), agree, gap);
    }
  } else if (c.contains("expect") && r.text != unescape_invalid_utf8(c["expect"].get<std::string>())) {
    std::printf("  FAIL %s: greedy text differs:\n    got    %s\n    expect %s\n", label.c_str(), r.text.c_str(),
                unescape_invalid_utf8(c["expect"].get<std::string>()).c_str());
    ok = false;
  }
  std::printf("  %s %s: %zu tokens, max logit diff %.4f, greedy %zu/%zu\n", ok ? "ok  " : "FAIL", label.c_str(),
              tokens.size(), worst, agree, want.size());
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: reference_conformance DIR [FILTER]\n");
    return 2;
  }
  const fs::path dir = argv[1];
  const std::string filter = argc > 2 ? argv[2] : "";
  if (!fs::is_directory(dir)) {
    std::printf("skipped: %s not found\n", dir.c_str());
    return 77;
  }
  const fs::path models = dir.parent_path() / "models";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".jsonl" && e.path().filename().string().find(filter) != std::string::npos)
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  Tally t;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string line;
    std::vector<json> cases;
    while (std::getline(in, line))
      if (!line.empty()) cases.push_back(json::parse(escape_invalid_utf8(line)));
    if (cases.empty()) continue;
    const fs::path model_path = models / cases[0]["model"].get<std::string>();
    std::printf("%s (%s)\n", f.filename().c_str(), model_path.filename().c_str());
    if (!fs::exists(model_path)) {
      std::printf("  skipped: %s not found\n", model_path.c_str());
      t.skipped += static_cast<int>(cases.size());
      continue;
    }
    const std::string name = model_path.filename().string();
    // Hugging Face folders hold F32/BF16 weights: float files too.
    const bool float_file = fs::is_directory(model_path) || name.find("f32") != std::string::npos ||
                            name.find("f16") != std::string::npos;
    try {
      slm::Model model = slm::Model::load(model_path.string());
      const float tol = float_file ? 0.1f : model.info().n_experts > 0 ? 1.0f : 0.4f;
      const float tie = float_file ? 0.05f : tol;
      for (size_t i = 0; i < cases.size(); ++i) {
        const std::string label = name + " #" + std::to_string(i);
        (check_case(model, cases[i], tol, tie, label) ? t.passed : t.failed)++;
      }
    } catch (const std::exception& e) {
      std::printf("  FAIL: %s\n", e.what());
      t.failed += static_cast<int>(cases.size());
    }
  }
  std::printf("reference: %d passed, %d failed, %d skipped\n", t.passed, t.failed, t.skipped);
  return t.failed ? 1 : 0;
}
