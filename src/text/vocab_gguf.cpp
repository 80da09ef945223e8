// Vocabulary from GGUF metadata (tokenizer.ggml.*), read the way llama.cpp reads it.
#include <string>

#include "formats/gguf.h"
#include "slm/error.h"
#include "src/text/vocab.h"

namespace slm::text {

namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space

struct Reader {
  const gguf::GgufFile& file;

  std::string where(std::string_view key) const { return file.name() + ": key " + std::string(key); }

  [[noreturn]] void fail(std::string_view key, const std::string& detail) const {
    throw Error(ErrorKind::tokenizer, where(key), detail);
  }

  const gguf::Array* array(std::string_view key, bool required) const {
    const gguf::Value* value = file.find(key);
    if (value == nullptr) {
      if (required) fail(key, "is missing");
      return nullptr;
    }
    const auto* arr = std::get_if<std::shared_ptr<const gguf::Array>>(&value->data);
    if (value->type != gguf::ValueType::ARRAY || arr == nullptr || *arr == nullptr)
      fail(key, "is a " + std::string(gguf::value_type_name(value->type)) + ", not an array");
    return arr->get();
  }

  template <class T>
  static const std::vector<T>* array_of(const gguf::Array& arr) {
    return std::get_if<std::vector<T>>(&arr.items);
  }

  std::optional<std::string_view> string(std::string_view key) const {
    const gguf::Value* value = file.find(key);
    if (value == nullptr) return std::nullopt;
    const auto* s = std::get_if<std::string_view>(&value->data);
    if (value->type != gguf::ValueType::STRING || s == nullptr)
      fail(key, "is a " + std::string(gguf::value_type_name(value->type)) + ", not a string");
    return *s;
  }

  std::optional<bool> boolean(std::string_view key) const {
    const gguf::Value* value = file.find(key);
    if (value == nullptr) return std::nullopt;
    const auto* b = std::get_if<bool>(&value->data);
    if (value->type != gguf::ValueType::BOOL || b == nullptr)
      fail(key, "is a " + std::string(gguf::value_type_name(value->type)) + ", not a bool");
    return *b;
  }

  // A token id: any integer type, within the vocabulary.
  std::optional<int32_t> token_id(std::string_view key, int32_t n_tokens) const {
    const gguf::Value* value = file.find(key);
    if (value == nullptr) return std::nullopt;
    std::optional<int64_t> id;
    std::visit(
        [&](const auto& x) {
          using X = std::decay_t<decltype(x)>;
          if constexpr (std::is_integral_v<X> && !std::is_same_v<X, bool>) {
            if constexpr (std::is_unsigned_v<X>) {
              id = x > uint64_t(INT64_MAX) ? INT64_MAX : int64_t(x);
            } else {
              id = int64_t(x);
            }
          }
        },
        value->data);
    if (!id) fail(key, "is a " + std::string(gguf::value_type_name(value->type)) + ", not an integer");
    if (*id < 0 || *id >= n_tokens)
      fail(key, "token id " + std::to_string(*id) + " is outside the vocabulary of " +
                    std::to_string(n_tokens) + " tokens");
    return int32_t(*id);
  }
};

// GGUF token types (gguf-py TokenType) to attribute bits; 0 ("undefined") gets none, as in llama.cpp.
uint32_t attr_of_type(int32_t type) {
  switch (type) {
    case 0:
      return 0;
    case 1:
      return token_attr::normal;
    case 2:
      return token_attr::unknown;
    case 3:
      return token_attr::control;
    case 4:
      return token_attr::user_defined;
    case 5:
      return token_attr::unused;
    case 6:
      return token_attr::byte;
    default:
      return ~0u;
  }
}

}  // namespace

Vocab load_vocab_gguf(const gguf::GgufFile& file) {
  const Reader r{file};
  Vocab v;
  v.source = file.name();

  const auto model = r.string("tokenizer.ggml.model");
  if (!model) r.fail("tokenizer.ggml.model", "is missing: the file has no tokenizer");
  v.model_name = std::string(*model);
  PreTokenizerPreset preset;
  if (*model == "llama") {
    v.model = VocabModel::spm_scores;
    v.pre_name = std::string(r.string("tokenizer.ggml.pre").value_or("default"));
  } else if (*model == "gpt2") {
    v.model = VocabModel::bpe_ranks;
    v.byte_level = true;
    v.pre_name = std::string(r.string("tokenizer.ggml.pre").value_or("default"));
    preset = pre_tokenizer_preset(v.pre_name, r.where("tokenizer.ggml.pre"));
  } else {
    throw Error(
        ErrorKind::unsupported, r.where("tokenizer.ggml.model"),
        "tokenizer model '" + std::string(*model) + "' is not supported (slm reads 'llama' and 'gpt2')");
  }

  // Tokens, scores, types.
  const gguf::Array* tokens = r.array("tokenizer.ggml.tokens", true);
  const auto* texts = r.array_of<std::string_view>(*tokens);
  if (texts == nullptr) r.fail("tokenizer.ggml.tokens", "is not an array of strings");
  if (texts->empty()) r.fail("tokenizer.ggml.tokens", "is empty");
  if (texts->size() >= size_t(INT32_MAX))
    r.fail("tokenizer.ggml.tokens", "has too many tokens for 32-bit ids");
  const size_t n = texts->size();
  v.tokens.reserve(n);
  for (size_t i = 0; i < n; ++i)
    v.tokens.emplace_back((*texts)[i].empty() ? "[EMPTY_" + std::to_string(i) + "]"
                                              : std::string((*texts)[i]));

  v.scores.assign(n, 0.0f);
  if (const gguf::Array* scores = r.array("tokenizer.ggml.scores", false)) {
    if (scores->size() != n)
      r.fail("tokenizer.ggml.scores",
             "has " + std::to_string(scores->size()) + " entries for " + std::to_string(n) + " tokens");
    if (const auto* f = r.array_of<float>(*scores)) {
      v.scores.assign(f->begin(), f->end());
    } else if (const auto* i = r.array_of<int32_t>(*scores)) {
      for (size_t k = 0; k < n; ++k) v.scores[k] = float((*i)[k]);
    } else {
      r.fail("tokenizer.ggml.scores", "is an array of " +
                                          std::string(gguf::value_type_name(scores->elem_type)) +
                                          ", not float32 or int32");
    }
  }

  v.attrs.assign(n, token_attr::normal);
  if (const gguf::Array* types = r.array("tokenizer.ggml.token_type", false)) {
    const auto* t = r.array_of<int32_t>(*types);
    if (t == nullptr)
      r.fail("tokenizer.ggml.token_type",
             "is an array of " + std::string(gguf::value_type_name(types->elem_type)) + ", not int32");
    if (t->size() != n)
      r.fail("tokenizer.ggml.token_type",
             "has " + std::to_string(t->size()) + " entries for " + std::to_string(n) + " tokens");
    for (size_t k = 0; k < n; ++k) {
      v.attrs[k] = attr_of_type((*t)[k]);
      if (v.attrs[k] == ~0u)
        r.fail("tokenizer.ggml.token_type",
               "token " + std::to_string(k) + " has type " + std::to_string((*t)[k]) + ", not one of 0..6");
    }
  }

  // Special ids: SentencePiece vocabularies default to <unk>=0, <s>=1, </s>=2 like llama.cpp.
  const auto n_tokens = static_cast<int32_t>(n);
  if (v.model == VocabModel::spm_scores) {
    v.unk = n_tokens > 0 ? 0 : kNoToken;
    v.bos = n_tokens > 1 ? 1 : kNoToken;
    v.eos = n_tokens > 2 ? 2 : kNoToken;
  }
  auto read_id = [&](const char* key, int32_t& id) {
    if (auto x = r.token_id(key, n_tokens)) id = *x;
  };
  read_id("tokenizer.ggml.bos_token_id", v.bos);
  read_id("tokenizer.ggml.eos_token_id", v.eos);
  read_id("tokenizer.ggml.unknown_token_id", v.unk);
  read_id("tokenizer.ggml.padding_token_id", v.pad);
  read_id("tokenizer.ggml.eot_token_id", v.eot);
  read_id("tokenizer.ggml.eom_token_id", v.eom);

  const bool spm = v.model == VocabModel::spm_scores;
  // A file that asks for BOS/EOS must name it; a default (llama3 adds BOS) only applies when it can.
  const auto add_bos = r.boolean("tokenizer.ggml.add_bos_token");
  const auto add_eos = r.boolean("tokenizer.ggml.add_eos_token");
  if (add_bos.value_or(false) && v.bos == kNoToken)
    r.fail("tokenizer.ggml.add_bos_token", "is true but tokenizer.ggml.bos_token_id is not set");
  if (add_eos.value_or(false) && v.eos == kNoToken)
    r.fail("tokenizer.ggml.add_eos_token", "is true but tokenizer.ggml.eos_token_id is not set");
  v.add_bos = add_bos.value_or((spm || preset.add_bos_default) && v.bos != kNoToken);
  v.add_eos = add_eos.value_or(false);

  if (spm) {
    // llama.cpp: a space before each run of text (at the start and after every special token),
    // then spaces written as U+2581.
    const bool add_space_prefix = r.boolean("tokenizer.ggml.add_space_prefix").value_or(true);
    if (add_space_prefix)
      v.normalizers.push_back({NormalizerStep::Kind::prepend, std::string(kSpace), {}, false, false});
    v.normalizers.push_back({NormalizerStep::Kind::replace, " ", std::string(kSpace), false, false});
    v.decode_metaspace = true;
    v.decode_strip_leading = add_space_prefix;
  } else {
    v.split_rules = preset.rules;
    v.ignore_merges = preset.ignore_merges;
  }

  // token_to_id, byte tokens, special-token detection; merges need the first.
  finalize_vocab(v, r.string("general.name").value_or(""));

  if (!spm) {
    const gguf::Array* merges = r.array("tokenizer.ggml.merges", true);
    const auto* lines = r.array_of<std::string_view>(*merges);
    if (lines == nullptr) r.fail("tokenizer.ggml.merges", "is not an array of strings");
    if (lines->size() >= size_t(INT32_MAX)) r.fail("tokenizer.ggml.merges", "has too many entries");
    v.merges.reserve(lines->size());
    std::string joined;
    for (size_t i = 0; i < lines->size(); ++i) {
      const std::string_view line = (*lines)[i];
      const std::string key = "tokenizer.ggml.merges[" + std::to_string(i) + "]";
      // "left right", split at the first space after the first byte (a token may begin with ' ').
      const size_t space = line.size() > 1 ? line.find(' ', 1) : std::string_view::npos;
      if (space == std::string_view::npos || space + 1 >= line.size())
        r.fail(key, "'" + std::string(line) + "' is not two tokens separated by a space");
      const std::string_view left = line.substr(0, space), right = line.substr(space + 1);
      joined.assign(left).append(right);
      const int32_t l = v.find(left), rt = v.find(right), merged = v.find(joined);
      if (l == kNoToken || rt == kNoToken || merged == kNoToken)
        r.fail(key, "'" + std::string(line) + "' names a token that is not in the vocabulary");
      v.merges.emplace(merge_key(l, rt), MergeResult{int32_t(i), merged});  // the first rank wins
    }
  }
  return v;
}

}  // namespace slm::text
