// slm::Session: one sequence of tokens on a model: feed a prompt, generate with streaming.
//
//   auto model = slm::Model::load("stories260K.gguf");
//   slm::Session session(model, {.context_size = 512});
//   session.prompt(model.tokenize("Once upon a time"));
//   slm::GenerateOptions g;  g.max_tokens = 64;  g.sampling = slm::SamplerOptions::greedy();
//   session.generate(g, [](std::string_view piece, int32_t) { std::cout << piece; return true; });
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "slm/model.h"
#include "slm/sampling.h"

namespace slm {

struct SessionOptions {
  int32_t context_size = 0;  // positions of KV cache; 0: min(model's context, 4096)
  int32_t n_threads = 0;     // 0: all hardware threads
  int32_t batch_size = 256;  // prompt tokens per forward pass
  // Attention arithmetic. false (default): llama.cpp's flash-attention arithmetic (q and the V sum
  // in F16), which reproduces its logits bit for bit on most positions; true: all in F32.
  bool f32_attention = false;
};

struct GenerateOptions {
  int32_t max_tokens = 256;
  SamplerOptions sampling;
  std::vector<std::string> stop;  // stop strings: generation ends before the first one; it is not returned
  bool stop_at_end_of_generation = true;  // EOS, EOT, <|im_end|>, ...: stop, and never print it
};

enum class StopReason { end_of_generation, max_tokens, stop_string, callback, context_full };

struct Timings {
  int32_t prompt_tokens = 0;     // tokens actually processed (a reused prefix is not counted)
  double prompt_seconds = 0;
  int32_t generated_tokens = 0;
  double generate_seconds = 0;
};

struct GenerateResult {
  std::vector<int32_t> tokens;   // generated tokens (stop tokens excluded)
  std::string text;              // their text, up to (not including) a stop string
  StopReason stop_reason = StopReason::max_tokens;
  Timings timings;
};

// Streaming callback: gets each new piece of text (always whole UTF-8 characters; pieces
// concatenate to the final text) and the token that completed it. Return false to stop.
using StreamCallback = std::function<bool(std::string_view piece, int32_t token)>;

class Session {
 public:
  explicit Session(const Model& model, const SessionOptions& opts = {});
  ~Session();
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;

  // Makes `tokens` the context: the longest prefix shared with the current context is kept (its KV
  // cache reused), the rest is processed. Throws slm::Error(out_of_range) when the tokens do not fit
  // in the context: never a silent truncation.
  void prompt(std::span<const int32_t> tokens);
  // Appends tokens to the context and processes them.
  void append(std::span<const int32_t> tokens);

  // Generates after the current context. Needs a non-empty context.
  GenerateResult generate(const GenerateOptions& opts, const StreamCallback& on_piece = {});

  // Logits after the last processed position (vocab_size floats).
  std::span<const float> logits() const;
  std::span<const int32_t> tokens() const;
  int32_t context_size() const;

  void reset();                    // empty context
  void truncate(int32_t n_tokens); // keep the first n tokens

  const Timings& last_prompt_timings() const;
  // Tokens routed to each expert, per layer, since the session started (empty for dense models).
  std::vector<std::vector<uint64_t>> expert_counts() const;
  // MoE diagnostic: the smallest gap, over everything processed by this session, between the routing
  // probability of the last expert chosen for a token and the first one not chosen (infinity for dense
  // models). A gap near 0 is a routing near-tie, where last-bit differences between engines can
  // change which experts run (the MoE analogue of a greedy near-tie).
  float min_routing_margin() const;
  // Weight bytes the matrix products have read since the session started, counted per product (the
  // whole matrix each time; for MoE layers only the experts that ran). Divided by generated tokens,
  // what one token costs in memory traffic.
  uint64_t weight_bytes_read() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slm
