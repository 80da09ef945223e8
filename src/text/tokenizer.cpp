#include "src/text/tokenizer.h"

#include <algorithm>
#include <cctype>

#include "slm/error.h"
#include "src/text/bpe.h"
#include "src/text/pretokenize.h"
#include "src/text/spm.h"
#include "src/text/unicode.h"
#include "src/text/unicode_bytes.h"
#include "src/text/unicode_normalize.h"
#include "src/text/vocab.h"

namespace slm {

using text::kNoToken;
using text::NormalizerStep;
using text::Vocab;
namespace token_attr = text::token_attr;

struct Tokenizer::Impl {
  Vocab vocab;
  text::PreTokenizer pre;
  std::vector<std::string> pieces;  // per token: what it decodes to in normal (non-special) decoding
};

namespace {

constexpr uint32_t kShownOnlyIfSpecial = token_attr::control | token_attr::unknown;

std::string piece_of(const Vocab& v, int32_t id) {
  const uint32_t attr = v.attrs[id];
  const std::string& text = v.tokens[id];
  if (attr & kShownOnlyIfSpecial) return {};
  if (attr & token_attr::user_defined) return text;
  if (attr & token_attr::byte) {
    // Byte tokens are spelled <0xXX>; one typed byte but spelled otherwise decodes as its text.
    if (text.size() == 6 && text.compare(0, 3, "<0x") == 0 && text[5] == '>' &&
        std::isxdigit(static_cast<unsigned char>(text[3])) &&
        std::isxdigit(static_cast<unsigned char>(text[4])))
      return std::string(1, static_cast<char>(std::stoi(text.substr(3, 2), nullptr, 16)));
    return text;
  }
  if (!(attr & token_attr::normal)) return {};  // unused and undefined tokens
  if (v.byte_level) {
    std::string out;
    text::byte_level_decode(text, out);
    return out;
  }
  if (v.decode_metaspace) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
      if (text.compare(i, 3, "\xE2\x96\x81") == 0) {
        out.push_back(' ');
        i += 3;
      } else {
        out.push_back(text[i++]);
      }
    }
    return out;
  }
  return text;
}

struct Fragment {
  int32_t token = kNoToken;  // a special token, or kNoToken for a run of text
  size_t offset = 0, length = 0;
};

bool is_c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Cuts the input at the texts of special tokens (llama.cpp's tokenizer_st_partition): each token,
// longest first, is searched in the runs of text that are left, so a longer token wins over a
// shorter one that overlaps it.
bool overlaps(std::span<const TextRange> ranges, size_t at, size_t length) {
  for (const TextRange& r : ranges)
    if (at < r.offset + r.length && r.offset < at + length) return true;
  return false;
}

// Ranges where control tokens are not matched (see EncodeOptions::plain_ranges).
std::vector<Fragment> partition(const Vocab& v, std::string_view text, bool parse_special,
                                std::span<const TextRange> plain) {
  std::vector<Fragment> fragments{{kNoToken, 0, text.size()}};
  std::vector<Fragment> next;
  for (int32_t id : v.special_tokens) {
    const uint32_t attr = v.attrs[id];
    const bool control = attr & (token_attr::control | token_attr::unknown);
    if (!parse_special && control) continue;
    const std::string_view special = v.tokens[id];
    if (special.empty()) continue;
    if (text.find(special) == std::string_view::npos) continue;
    next.clear();
    for (const Fragment& f : fragments) {
      if (f.token != kNoToken) {
        next.push_back(f);
        continue;
      }
      size_t begin = f.offset;
      const size_t end = f.offset + f.length;
      while (begin < end) {
        size_t at = text.substr(0, end).find(special, begin);
        while (at != std::string_view::npos && control && overlaps(plain, at, special.size()))
          at = text.substr(0, end).find(special, at + 1);
        if (at == std::string_view::npos) break;
        size_t left_end = at;
        if (attr & token_attr::lstrip)
          while (left_end > begin && is_c_space(text[left_end - 1])) --left_end;
        if (left_end > begin) next.push_back({kNoToken, begin, left_end - begin});
        next.push_back({id, at, special.size()});
        begin = at + special.size();
        if (attr & token_attr::rstrip)
          while (begin < end && is_c_space(text[begin])) ++begin;
      }
      if (begin < end) next.push_back({kNoToken, begin, end - begin});
    }
    fragments.swap(next);
  }
  return fragments;
}

std::string normalize(const Vocab& v, std::string_view run, bool at_text_start) {
  std::string s(run);
  for (const NormalizerStep& step : v.normalizers) {
    switch (step.kind) {
      case NormalizerStep::Kind::nfc:
        s = text::unicode_normalize(s, text::NormalForm::nfc);
        break;
      case NormalizerStep::Kind::nfd:
        s = text::unicode_normalize(s, text::NormalForm::nfd);
        break;
      case NormalizerStep::Kind::nfkc:
        s = text::unicode_normalize(s, text::NormalForm::nfkc);
        break;
      case NormalizerStep::Kind::nfkd:
        s = text::unicode_normalize(s, text::NormalForm::nfkd);
        break;
      case NormalizerStep::Kind::prepend:
        if (s.empty() || (step.only_at_text_start && !at_text_start)) break;
        if (step.unless_prefixed && s.compare(0, step.a.size(), step.a) == 0) break;
        s.insert(0, step.a);
        break;
      case NormalizerStep::Kind::replace: {
        if (step.a.empty()) break;
        std::string out;
        out.reserve(s.size());
        size_t from = 0;
        for (size_t at; (at = s.find(step.a, from)) != std::string::npos; from = at + step.a.size())
          out.append(s, from, at - from).append(step.b);
        out.append(s, from, std::string::npos);
        s.swap(out);
        break;
      }
    }
  }
  return s;
}

// One run of text between special tokens: normalize, pre-tokenize, then the vocabulary's model.
void encode_run(const Vocab& v, const text::PreTokenizer& pre, std::string_view run, bool at_text_start,
                std::vector<int32_t>& out) {
  const std::string normalized = normalize(v, run, at_text_start);
  std::vector<std::string_view> pieces;
  pre.split(normalized, pieces);
  std::string mapped;
  for (std::string_view piece : pieces) {
    if (v.model == text::VocabModel::spm_scores) {
      text::spm_encode(v, piece, out);
    } else if (v.byte_level) {
      mapped = text::byte_level_encode(piece);
      text::bpe_encode_piece(v, mapped, out);
    } else {
      text::bpe_encode_piece(v, piece, out);
    }
  }
}

}  // namespace

Tokenizer::Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Tokenizer Tokenizer::from_vocab(Vocab vocab) {
  auto impl = std::make_shared<Impl>();
  impl->vocab = std::move(vocab);  // token_to_id's views stay valid: the strings do not move
  Vocab& v = impl->vocab;
  if (!v.finalized) text::finalize_vocab(v);
  impl->pre = text::PreTokenizer(v.split_rules, v.source);
  impl->pieces.resize(v.tokens.size());
  for (int32_t id = 0; id < v.n_tokens(); ++id) impl->pieces[id] = piece_of(v, id);
  return Tokenizer(std::move(impl));
}

std::vector<int32_t> Tokenizer::encode(std::string_view input, const EncodeOptions& options) const {
  return encode(input, options, {});
}

std::vector<int32_t> Tokenizer::encode(std::string_view input, const EncodeOptions& options,
                                       std::span<const TextRange> plain) const {
  const Vocab& v = impl_->vocab;
  std::vector<int32_t> out;
  if (options.add_bos) {
    if (v.bos == kNoToken)
      throw Error(ErrorKind::invalid_argument, "encode option add_bos", "the vocabulary has no BOS token");
    out.push_back(v.bos);
  }
  if (!input.empty()) {
    for (const Fragment& f : partition(v, input, options.parse_special, plain)) {
      if (f.token != kNoToken) {
        out.push_back(f.token);
      } else {
        encode_run(v, impl_->pre, input.substr(f.offset, f.length), f.offset == 0, out);
      }
    }
  }
  if (options.add_eos) {
    if (v.eos == kNoToken)
      throw Error(ErrorKind::invalid_argument, "encode option add_eos", "the vocabulary has no EOS token");
    out.push_back(v.eos);
  }
  return out;
}

std::string_view Tokenizer::token_piece(int32_t id, bool show_special) const {
  const Vocab& v = impl_->vocab;
  if (!v.has(id))
    throw Error(ErrorKind::out_of_range, "token id " + std::to_string(id),
                "is outside the vocabulary of " + std::to_string(v.n_tokens()) + " tokens");
  if (show_special && (v.attrs[id] & kShownOnlyIfSpecial)) return v.tokens[id];
  return impl_->pieces[id];
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool show_special) const {
  std::string out;
  for (int32_t id : ids) out.append(token_piece(id, show_special));
  if (impl_->vocab.decode_strip_leading && !out.empty() && out[0] == ' ') out.erase(0, 1);
  return out;
}

std::string_view Tokenizer::token_text(int32_t id) const {
  const Vocab& v = impl_->vocab;
  if (!v.has(id))
    throw Error(ErrorKind::out_of_range, "token id " + std::to_string(id),
                "is outside the vocabulary of " + std::to_string(v.n_tokens()) + " tokens");
  return v.tokens[id];
}

int32_t Tokenizer::find_token(std::string_view text) const noexcept { return impl_->vocab.find(text); }
int32_t Tokenizer::n_vocab() const noexcept { return impl_->vocab.n_tokens(); }
int32_t Tokenizer::bos() const noexcept { return impl_->vocab.bos; }
int32_t Tokenizer::eos() const noexcept { return impl_->vocab.eos; }
int32_t Tokenizer::eot() const noexcept { return impl_->vocab.eot; }
int32_t Tokenizer::unk() const noexcept { return impl_->vocab.unk; }
int32_t Tokenizer::pad() const noexcept { return impl_->vocab.pad; }
bool Tokenizer::add_bos() const noexcept { return impl_->vocab.add_bos; }
bool Tokenizer::add_eos() const noexcept { return impl_->vocab.add_eos; }
bool Tokenizer::is_eog(int32_t id) const noexcept {
  return std::binary_search(impl_->vocab.eog.begin(), impl_->vocab.eog.end(), id);
}
std::span<const int32_t> Tokenizer::eog_tokens() const noexcept { return impl_->vocab.eog; }
bool Tokenizer::is_control(int32_t id) const noexcept { return impl_->vocab.is(id, token_attr::control); }
bool Tokenizer::is_byte(int32_t id) const noexcept { return impl_->vocab.is(id, token_attr::byte); }
bool Tokenizer::is_user_defined(int32_t id) const noexcept {
  return impl_->vocab.is(id, token_attr::user_defined);
}
bool Tokenizer::is_unknown(int32_t id) const noexcept { return impl_->vocab.is(id, token_attr::unknown); }
bool Tokenizer::strips_leading_space() const noexcept { return impl_->vocab.decode_strip_leading; }
std::string_view Tokenizer::model_name() const noexcept { return impl_->vocab.model_name; }
std::string_view Tokenizer::pre_name() const noexcept { return impl_->vocab.pre_name; }
const text::Vocab& Tokenizer::vocab() const noexcept { return impl_->vocab; }

Tokenizer Tokenizer::from_gguf(const gguf::GgufFile& file) { return from_vocab(text::load_vocab_gguf(file)); }
Tokenizer Tokenizer::from_hf(const std::filesystem::path& folder) {
  return from_vocab(text::load_vocab_hf(folder));
}

}  // namespace slm
