#include "src/text/pretokenize.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>

#include "slm/error.h"
#include "src/text/unicode.h"

namespace slm::text {

// ---- the splits named by tokenizer.ggml.pre -----------------------------------------------------
// Transcribed from the tokenizer.json files of each family (as llama.cpp's llama-vocab.cpp lists
// them). Case-insensitive contractions are spelled out ('[sS]) because PCRE2's Unicode case folding
// would also accept U+017F for 's', which llama.cpp does not.

namespace {

constexpr const char* kContractionsCased = R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]))";

const std::string kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const std::string kGpt2NoTail = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
const std::string kLlama3 =
    std::string(kContractionsCased) +
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kQwen2 =
    std::string(kContractionsCased) +
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kQwen35 =
    std::string(kContractionsCased) +
    R"(|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kUpperLower =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+)";
const std::string kLowerUpper =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*)";
const std::string kGpt4o = kUpperLower + kContractionsCased + "?|" + kLowerUpper + kContractionsCased +
                           R"(?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kTekken =
    kUpperLower + "|" + kLowerUpper + R"(|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kBloom = R"( ?[^(\s|.,!?…。，、।۔،)]+)";
const std::string kDeepseek3Words =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct NamedPreset {
  std::vector<std::string_view> names;
  std::vector<const std::string*> patterns;
  bool ignore_merges = false;
  bool add_bos_default = false;
};

const std::string kDefaultPunct = R"([\p{P}\$\+<=>\^~\|]+)";
const std::string kDigitsRun = R"(\p{N}+)";
const std::string kThreeAsciiDigits = R"([0-9][0-9][0-9])";
const std::string kOneDigit = R"(\p{N})";
const std::string kUpTo3Digits = R"(\p{N}{1,3})";
const std::string kFalconPunct = R"([\p{P}\$\+<=>\^~\|`]+)";
const std::string kNewline = "[\r\n]";
const std::string kSpaceLetters = R"(\s?\p{L}+)";
const std::string kSpacePunct = R"(\s?\p{P}+)";
const std::string kCjkHangul = "[一-龥ࠀ-一가-퟿]+";
const std::string kCjkKana = "[一-龥぀-ゟ゠-ヿ]+";
const std::string kBailing =
    R"('(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)";
const std::string kSeedCoder =
    std::string(kContractionsCased) +
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kUfakzeka =
    R"([^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kMinicpm5 =
    std::string(kContractionsCased) +
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}+| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kAyaDigits = R"(\d{1,3}(?=(?:\d{3})*\b))";
const std::string kAya = kUpperLower + kContractionsCased + "?|" + kLowerUpper + kContractionsCased +
                         R"(?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const std::string kExaoneMoe =
    std::string(kContractionsCased) +
    R"(|[^\r\n\p{L}\p{N}]?(?:\p{L}\p{M}*(?: \p{L}\p{M}*)*)+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]?|\s*[\r\n]|\s+(?!\S)|\s+)";
const std::string kLines = R"([^\n]+|[\n]+)";

const std::vector<NamedPreset>& presets() {
  static const std::vector<NamedPreset> table = {
      {{"default"}, {&kDefaultPunct, &kGpt2NoTail, &kDigitsRun, &kThreeAsciiDigits}},
      {{"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
        "modern-bert", "exaone4", "mpt", "olmo", "jais", "trillion", "granite-docling", "jina-v1-en",
        "jina-v2-code", "roberta-bpe"},
       {&kGpt2}},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
        "jina-v5-nano"},
       {&kLlama3},
       true,
       true},
      {{"dbrx", "smaug-bpe", "glm4", "chatglm-bpe"}, {&kLlama3}},
      {{"qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "stablelm2", "hunyuan", "solar-open", "megrez",
        "grok-2"},
       {&kQwen2}},
      {{"qwen35"}, {&kQwen35}},
      {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2"},
       {&kOneDigit, &kGpt2NoTail}},
      {{"falcon"}, {&kFalconPunct, &kGpt2NoTail, &kThreeAsciiDigits}},
      {{"deepseek-coder"}, {&kNewline, &kSpaceLetters, &kSpacePunct, &kCjkHangul, &kOneDigit}},
      {{"deepseek-v3", "hunyuan-dense", "joyai-llm", "hy_v4"}, {&kUpTo3Digits, &kCjkKana, &kDeepseek3Words}},
      {{"poro-chat", "bloom", "gpt3-finnish"}, {&kBloom}},
      {{"viking"}, {&kBloom, &kOneDigit}},
      {{"tekken"}, {&kTekken}, true, true},
      {{"gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2"}, {&kGpt4o}},
      {{"bailingmoe", "bailingmoe2", "llada-moe"}, {&kBailing}},
      {{"seed-coder"}, {&kSeedCoder}},
      {{"ufakzeka"}, {&kUfakzeka}},
      {{"minicpm5"}, {&kUpTo3Digits, &kMinicpm5}, true},
      {{"tiny_aya", "cohere2moe"}, {&kAyaDigits, &kAya}},
      {{"exaone-moe"}, {&kExaoneMoe}},
      {{"laguna"}, {&kLines, &kQwen2}},
  };
  return table;
}

}  // namespace

const std::string& gpt2_split_pattern() { return kGpt2; }

PreTokenizerPreset pre_tokenizer_preset(std::string_view name, const std::string& where) {
  auto make = [](const NamedPreset& p) {
    PreTokenizerPreset out;
    for (const std::string* pattern : p.patterns) out.rules.push_back({*pattern, false});
    out.ignore_merges = p.ignore_merges;
    out.add_bos_default = p.add_bos_default;
    return out;
  };
  for (const NamedPreset& preset : presets())
    for (std::string_view candidate : preset.names)
      if (name == candidate) return make(preset);
  throw Error(ErrorKind::unsupported, where,
              "pre-tokenizer '" + std::string(name) + "' is not supported by slm");
}

// ---- compiled splits ----------------------------------------------------------------------------

struct PreTokenizer::Compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
  bool remove_matches = false;
  ~Compiled() { pcre2_code_free(code); }
};

namespace {

std::string pcre2_message(int code) {
  std::array<PCRE2_UCHAR, 256> buf{};
  const int n = pcre2_get_error_message(code, buf.data(), buf.size());
  return n < 0 ? "PCRE2 error " + std::to_string(code)
               : std::string(reinterpret_cast<const char*>(buf.data()));
}

struct MatchData {
  pcre2_match_data* md = nullptr;
  pcre2_match_context* ctx = nullptr;
  pcre2_jit_stack* stack = nullptr;
  ~MatchData() {
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(ctx);
    pcre2_match_data_free(md);
  }
};

}  // namespace

PreTokenizer::PreTokenizer(const std::vector<SplitRule>& rules, const std::string& where) {
  for (size_t i = 0; i < rules.size(); ++i) {
    auto compiled = std::make_shared<Compiled>();
    int err = 0;
    PCRE2_SIZE err_offset = 0;
    compiled->code =
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rules[i].pattern.data()), rules[i].pattern.size(),
                      PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &err_offset, nullptr);
    if (compiled->code == nullptr)
      throw Error(ErrorKind::tokenizer, where,
                  "pre-tokenizer regex " + std::to_string(i) + " does not compile at offset " +
                      std::to_string(err_offset) + ": " + pcre2_message(err));
    compiled->jit = pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE) == 0;
    compiled->remove_matches = rules[i].remove_matches;
    rules_.push_back(std::move(compiled));
  }
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& out) const {
  if (text.empty()) return;
  if (rules_.empty()) {
    out.push_back(text);
    return;
  }
  std::vector<std::string_view> current{text}, next;
  MatchData data;
  for (const auto& rule : rules_) {
    pcre2_match_data_free(data.md);
    data.md = pcre2_match_data_create_from_pattern(rule->code, nullptr);
    if (data.md == nullptr) throw std::bad_alloc();
    next.clear();
    for (std::string_view piece : current) {
      const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
      size_t offset = 0, kept_until = 0;
      while (offset < piece.size()) {
        int rc = pcre2_match(rule->code, subject, piece.size(), offset, 0, data.md, data.ctx);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
          // Long runs (e.g. whitespace under \s+(?!\S)) can outgrow the default 32 KiB JIT stack.
          if (data.ctx == nullptr) {
            data.ctx = pcre2_match_context_create(nullptr);
            data.stack = pcre2_jit_stack_create(64 * 1024, 64 * 1024 * 1024, nullptr);
            if (data.ctx == nullptr || data.stack == nullptr) throw std::bad_alloc();
            pcre2_jit_stack_assign(data.ctx, nullptr, data.stack);
          }
          rc = pcre2_match(rule->code, subject, piece.size(), offset, 0, data.md, data.ctx);
        }
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0)
          throw Error(ErrorKind::out_of_range, "pre-tokenizer",
                      "regex matching failed on a text piece of " + std::to_string(piece.size()) +
                          " bytes: " + pcre2_message(rc));
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data.md);
        const size_t begin = ov[0], end = ov[1];
        if (end <= begin) {  // an empty match splits nothing: step over one character
          if (begin >= piece.size()) break;
          offset = begin + utf8_lead_length(static_cast<uint8_t>(piece[begin]));
          continue;
        }
        if (begin > kept_until) next.push_back(piece.substr(kept_until, begin - kept_until));
        if (!rule->remove_matches) next.push_back(piece.substr(begin, end - begin));
        kept_until = offset = end;
      }
      if (kept_until < piece.size()) next.push_back(piece.substr(kept_until));
    }
    current.swap(next);
  }
  out.insert(out.end(), current.begin(), current.end());
}

}  // namespace slm::text
