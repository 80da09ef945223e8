// slm::Session: the public API over LoadedModel, Forward, KvCache and Sampler.
#include "slm/session.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "slm/error.h"
#include "src/engine/thread_pool.h"
#include "src/graph/forward.h"
#include "src/kv/kv_cache.h"
#include "src/model/model.h"
#include "src/sample/sampler.h"
#include "src/text/unicode.h"

namespace slm {

// ---- Session ---------------------------------------------------------------------------------------

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Length of the longest prefix of s that does not end inside an unfinished UTF-8 character: the
// same hold-back StreamDecoder applies, so streamed generation and detokenization split alike.
size_t complete_utf8_prefix(std::string_view s) { return s.size() - text::utf8_incomplete_tail(s); }

}  // namespace

struct Session::Impl {
  std::shared_ptr<const LoadedModel> model;
  SessionOptions opts;
  ThreadPool pool;
  KvCache kv;
  Forward forward;
  std::vector<int32_t> tokens;
  std::vector<float> logits;
  bool logits_valid = false;
  Timings prompt_timings;

  Impl(std::shared_ptr<const LoadedModel> m, const SessionOptions& o, int32_t ctx)
      : model(std::move(m)),
        opts(o),
        pool(o.n_threads),
        kv(KvCacheOptions{static_cast<int32_t>(model->config().n_layers),
                          static_cast<int32_t>(model->config().n_kv_heads),
                          static_cast<int32_t>(model->config().head_dim), 32, ctx, 1}),
        forward(model->config(), model->weights(),
                o.f32_attention ? AttentionPrecision::f32 : AttentionPrecision::f16_accumulate),
        logits(model->config().vocab_size) {}

  int32_t ctx() const { return opts.context_size; }

  void check_fits(size_t n) const {
    if (n > static_cast<size_t>(ctx()))
      throw Error(ErrorKind::out_of_range, "session",
                  "context of " + std::to_string(n) + " tokens exceeds the session's context size " + std::to_string(ctx()));
  }

  void process(std::span<const int32_t> toks) {
    if (toks.empty()) return;
    const int32_t vocab = static_cast<int32_t>(model->config().vocab_size);
    for (int32_t t : toks)
      if (t < 0 || t >= vocab)
        throw Error(ErrorKind::out_of_range, "session", "token id " + std::to_string(t) + " outside the vocabulary");
    check_fits(tokens.size() + toks.size());
    kv.reserve(0, static_cast<int32_t>(tokens.size() + toks.size()));
    std::vector<BatchEntry> batch;
    const size_t bs = static_cast<size_t>(std::max(1, opts.batch_size));
    for (size_t i = 0; i < toks.size(); i += bs) {
      const size_t n = std::min(bs, toks.size() - i);
      batch.clear();
      for (size_t j = 0; j < n; ++j) {
        const bool last = i + j + 1 == toks.size();
        batch.push_back(BatchEntry{0, static_cast<int32_t>(tokens.size()), toks[i + j], last});
        tokens.push_back(toks[i + j]);
      }
      logits_valid = false;
      forward.run(pool, batch, kv, logits.data());
    }
    logits_valid = true;
  }

  void truncate(size_t n) {
    if (n >= tokens.size()) return;
    tokens.resize(n);
    kv.truncate(0, static_cast<int32_t>(n));
    logits_valid = false;
  }

  // Makes sure logits belong to the last token, recomputing it when a truncation dropped them.
  void ensure_logits() {
    if (logits_valid) return;
    if (tokens.empty()) throw Error(ErrorKind::invalid_argument, "session", "the context is empty: give a prompt first");
    const int32_t last = tokens.back();
    truncate(tokens.size() - 1);
    const int32_t one[1] = {last};
    process(one);
  }
};

Session::Session(const Model& model, const SessionOptions& opts) {
  SessionOptions o = opts;
  const int32_t model_ctx = static_cast<int32_t>(model.impl_->config().context_length);
  if (o.context_size < 0) throw Error(ErrorKind::invalid_argument, "session option context_size", "must not be negative");
  if (o.context_size == 0) o.context_size = model_ctx > 0 ? std::min(model_ctx, 4096) : 4096;
  if (o.batch_size <= 0) throw Error(ErrorKind::invalid_argument, "session option batch_size", "must be positive");
  impl_ = std::make_unique<Impl>(model.impl_, o, o.context_size);
}

Session::~Session() = default;
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;

void Session::prompt(std::span<const int32_t> toks) {
  auto& s = *impl_;
  s.check_fits(toks.size());
  size_t common = 0;
  while (common < toks.size() && common < s.tokens.size() && toks[common] == s.tokens[common]) ++common;
  if (common == toks.size() && common == s.tokens.size() && s.logits_valid) {
    s.prompt_timings = Timings{};
    return;  // same context: nothing to do
  }
  if (common == toks.size() && common > 0) --common;  // recompute the last token for its logits
  s.truncate(common);
  const auto t0 = Clock::now();
  s.process(toks.subspan(common));
  s.prompt_timings = Timings{static_cast<int32_t>(toks.size() - common), seconds_since(t0), 0, 0};
}

void Session::append(std::span<const int32_t> toks) {
  const auto t0 = Clock::now();
  impl_->process(toks);
  impl_->prompt_timings = Timings{static_cast<int32_t>(toks.size()), seconds_since(t0), 0, 0};
}

GenerateResult Session::generate(const GenerateOptions& opts, const StreamCallback& on_piece) {
  auto& s = *impl_;
  if (opts.max_tokens < 0) throw Error(ErrorKind::invalid_argument, "generate option max_tokens", "must not be negative");
  s.ensure_logits();
  Sampler sampler(opts.sampling);
  const Tokenizer& tok = s.model->tokenizer();
  GenerateResult r;
  r.timings.prompt_tokens = s.prompt_timings.prompt_tokens;
  r.timings.prompt_seconds = s.prompt_timings.prompt_seconds;
  size_t max_stop = 0;
  for (const auto& st : opts.stop) max_stop = std::max(max_stop, st.size());

  std::string text;    // all generated text so far (bytes)
  size_t emitted = 0;  // bytes of `text` passed to the callback
  const auto t0 = Clock::now();
  auto emit = [&](size_t upto, int32_t token) -> bool {
    if (upto <= emitted) return true;
    const std::string_view piece(text.data() + emitted, upto - emitted);
    emitted = upto;
    return on_piece ? on_piece(piece, token) : true;
  };

  r.stop_reason = StopReason::max_tokens;
  for (int32_t i = 0; i < opts.max_tokens; ++i) {
    const int32_t next = sampler.sample(s.logits, s.tokens);
    if (opts.stop_at_end_of_generation && tok.is_eog(next)) {
      r.stop_reason = StopReason::end_of_generation;
      break;
    }
    r.tokens.push_back(next);
    text += tok.token_piece(next);

    // Stop strings: cut the text at the first one and end.
    bool stopped = false;
    if (max_stop > 0) {
      const size_t from = emitted >= max_stop ? emitted - max_stop : 0;
      size_t cut = std::string::npos;
      for (const auto& st : opts.stop)
        if (!st.empty())
          if (size_t at = text.find(st, from); at != std::string::npos) cut = std::min(cut, at);
      if (cut != std::string::npos) {
        text.resize(cut);
        stopped = true;
      }
    }
    // Emit whole UTF-8 characters, holding back a tail that could still become a stop string.
    size_t safe = complete_utf8_prefix(text);
    if (!stopped && max_stop > 0) {
      for (const auto& st : opts.stop)
        for (size_t k = std::min(st.size() - 1, text.size()); k > 0; --k)
          if (text.compare(text.size() - k, k, st, 0, k) == 0) {
            safe = std::min(safe, text.size() - k);
            break;
          }
    }
    if (stopped) safe = complete_utf8_prefix(text);
    if (!emit(safe, next)) {
      r.stop_reason = StopReason::callback;
      break;
    }
    if (stopped) {
      r.stop_reason = StopReason::stop_string;
      break;
    }
    if (static_cast<int32_t>(s.tokens.size()) >= s.ctx()) {
      r.stop_reason = StopReason::context_full;
      break;
    }
    const int32_t one[1] = {next};
    s.process(one);
  }
  if (r.stop_reason != StopReason::callback) emit(text.size(), r.tokens.empty() ? -1 : r.tokens.back());
  r.text = std::move(text);
  r.timings.generated_tokens = static_cast<int32_t>(r.tokens.size());
  r.timings.generate_seconds = seconds_since(t0);
  return r;
}

std::span<const float> Session::logits() const {
  if (!impl_->logits_valid) throw Error(ErrorKind::invalid_argument, "session", "no logits: the context is empty or was truncated");
  return impl_->logits;
}
std::span<const int32_t> Session::tokens() const { return impl_->tokens; }
int32_t Session::context_size() const { return impl_->ctx(); }
void Session::reset() { impl_->truncate(0); }
void Session::truncate(int32_t n) {
  if (n < 0) throw Error(ErrorKind::invalid_argument, "session truncate", "negative length");
  impl_->truncate(static_cast<size_t>(n));
}
const Timings& Session::last_prompt_timings() const { return impl_->prompt_timings; }
std::vector<std::vector<uint64_t>> Session::expert_counts() const { return impl_->forward.expert_counts(); }
float Session::min_routing_margin() const { return impl_->forward.min_routing_margin(); }
uint64_t Session::weight_bytes_read() const { return impl_->forward.weight_bytes_read(); }

}  // namespace slm
