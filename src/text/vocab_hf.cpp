// Vocabulary from a Hugging Face folder: tokenizer.json (model "BPE": byte-level like GPT-2 /
// Llama 3 / Qwen, or SentencePiece-style like Llama 2 with byte fallback), tokenizer_config.json
// for BOS/EOS and add_bos_token, generation_config.json for extra end-of-generation ids.
#include <algorithm>
#include <cctype>
#include <climits>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <unordered_set>

#include "slm/error.h"
#include "src/text/pretokenize.h"
#include "src/text/vocab.h"

namespace slm::text {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

const std::string kMetaspace = "\xE2\x96\x81";  // U+2581

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::io, path.string(), "cannot be opened");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw Error(ErrorKind::io, path.string(), "cannot be read");
  return ss.str();
}

// A PCRE2 pattern matching `s` literally.
std::string regex_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x80 && !std::isalnum(u)) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// Typed access to one JSON document, with errors that name the file and the field.
struct Doc {
  std::string file;

  std::string where(const std::string& field) const { return file + ": field " + field; }
  [[noreturn]] void fail(const std::string& field, const std::string& detail) const {
    throw Error(ErrorKind::tokenizer, where(field), detail);
  }
  [[noreturn]] void unsupported(const std::string& field, const std::string& detail) const {
    throw Error(ErrorKind::unsupported, where(field), detail);
  }
  void expect(const Json& j, Json::value_t type, const std::string& field, const char* what) const {
    if (j.type() != type)
      fail(field, std::string("expected ") + what + ", got " + std::string(j.type_name()));
  }
  const Json* member(const Json& obj, const char* key) const {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }
  const Json& required(const Json& obj, const char* key, const std::string& field) const {
    const Json* j = member(obj, key);
    if (j == nullptr) fail(field.empty() ? key : field + "." + key, "is missing");
    return *j;
  }
  std::string string(const Json& obj, const char* key, const std::string& field) const {
    const Json& j = required(obj, key, field);
    expect(j, Json::value_t::string, field + "." + key, "a string");
    return j.get<std::string>();
  }
  std::optional<std::string> optional_string(const Json& obj, const char* key,
                                             const std::string& field) const {
    const Json* j = member(obj, key);
    if (j == nullptr) return std::nullopt;
    expect(*j, Json::value_t::string, field + "." + key, "a string");
    return j->get<std::string>();
  }
  bool boolean(const Json& obj, const char* key, const std::string& field, bool fallback) const {
    const Json* j = member(obj, key);
    if (j == nullptr) return fallback;
    expect(*j, Json::value_t::boolean, field + "." + key, "a boolean");
    return j->get<bool>();
  }
  // A token id: a non-negative integer that fits 32 bits.
  int32_t id(const Json& j, const std::string& field) const {
    if (!j.is_number_integer()) fail(field, "expected a token id, got " + std::string(j.type_name()));
    if (j.is_number_unsigned() ? j.get<uint64_t>() >= uint64_t(INT32_MAX)
                               : (j.get<int64_t>() < 0 || j.get<int64_t>() >= INT32_MAX))
      fail(field, "token id " + j.dump() + " is out of range");
    return static_cast<int32_t>(j.get<int64_t>());
  }
  // "<s>" or {"content": "<s>", ...} (tokenizer_config.json's two spellings of a special token).
  std::optional<std::string> token_content(const Json& obj, const char* key) const {
    const Json* j = member(obj, key);
    if (j == nullptr) return std::nullopt;
    if (j->is_string()) return j->get<std::string>();
    if (j->is_object()) return string(*j, "content", key);
    fail(key, "expected a string or an object with \"content\", got " + std::string(j->type_name()));
  }
};

// Parses a JSON file of the folder, rejecting repeated keys and deep nesting like
// parse_untrusted_json does. Not parse_untrusted_json itself: its insertion-ordered objects cost
// O(n^2) to build, and model.vocab has 50k-250k keys (seconds to minutes).
Json parse_file(const fs::path& path) {
  const std::string text = read_text(path);
  const std::string file = path.string();
  constexpr int kMaxDepth = 64;
  std::vector<std::unordered_set<std::string>> keys;  // one set per open object
  std::vector<std::string> key_path;                  // keys leading to the current value
  auto check = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth > kMaxDepth) throw Error(ErrorKind::format, file, "JSON nested deeper than 64 levels");
    switch (event) {
      case Json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case Json::parse_event_t::object_end:
        keys.pop_back();
        break;
      case Json::parse_event_t::key: {
        std::string key = parsed.get<std::string>();
        key_path.resize(depth > 0 ? size_t(depth - 1) : 0);
        key_path.push_back(key);
        if (!keys.back().insert(std::move(key)).second) {
          std::string dotted;
          for (const auto& k : key_path) dotted += (dotted.empty() ? "" : ".") + k;
          throw Error(ErrorKind::format, file + ": field " + dotted, "key repeated within one object");
        }
        break;
      }
      default:
        break;
    }
    return true;
  };
  try {
    return Json::parse(text, check);
  } catch (const Json::parse_error& e) {
    std::string message = e.what();
    if (const auto close = message.find("] "); message.starts_with("[json.") && close != std::string::npos)
      message.erase(0, close + 2);
    throw Error(ErrorKind::format, file + ": offset " + std::to_string(e.byte > 0 ? e.byte - 1 : 0), message);
  }
}

void add_normalizer(const Doc& d, const Json& n, const std::string& field, Vocab& v) {
  const std::string type = d.string(n, "type", field);
  using K = NormalizerStep::Kind;
  if (type == "Sequence") {
    const Json& list = d.required(n, "normalizers", field);
    d.expect(list, Json::value_t::array, field + ".normalizers", "an array");
    for (size_t i = 0; i < list.size(); ++i)
      add_normalizer(d, list[i], field + ".normalizers[" + std::to_string(i) + "]", v);
  } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    const K kind = type == "NFC" ? K::nfc : type == "NFD" ? K::nfd : type == "NFKC" ? K::nfkc : K::nfkd;
    v.normalizers.push_back({kind, {}, {}, false, false});
  } else if (type == "Prepend") {
    v.normalizers.push_back({K::prepend, d.string(n, "prepend", field), {}, false, false});
  } else if (type == "Replace") {
    const Json& pattern = d.required(n, "pattern", field);
    const Json* literal = d.member(pattern, "String");
    if (literal == nullptr || !literal->is_string())
      d.unsupported(field + ".pattern", "only literal (\"String\") Replace patterns are supported");
    v.normalizers.push_back(
        {K::replace, literal->get<std::string>(), d.string(n, "content", field), false, false});
  } else if (type == "ByteLevel") {
    v.byte_level = true;
  } else {
    d.unsupported(field + ".type", "normalizer '" + type + "' is not supported by slm");
  }
}

void add_pre_tokenizer(const Doc& d, const Json& p, const std::string& field, Vocab& v) {
  const std::string type = d.string(p, "type", field);
  if (type == "Sequence") {
    const Json& list = d.required(p, "pretokenizers", field);
    d.expect(list, Json::value_t::array, field + ".pretokenizers", "an array");
    for (size_t i = 0; i < list.size(); ++i)
      add_pre_tokenizer(d, list[i], field + ".pretokenizers[" + std::to_string(i) + "]", v);
  } else if (type == "Split") {
    const Json& pattern = d.required(p, "pattern", field);
    std::string regex;
    if (const Json* r = d.member(pattern, "Regex"); r && r->is_string()) {
      regex = r->get<std::string>();
    } else if (const Json* s = d.member(pattern, "String"); s && s->is_string()) {
      regex = regex_escape(s->get<std::string>());
    } else {
      d.fail(field + ".pattern", "expected {\"Regex\": ...} or {\"String\": ...}");
    }
    const std::string behavior = d.string(p, "behavior", field);
    if (behavior != "Isolated" && behavior != "Removed")
      d.unsupported(field + ".behavior", "split behavior '" + behavior + "' is not supported by slm");
    if (d.boolean(p, "invert", field, false))
      d.unsupported(field + ".invert", "inverted splits are not supported");
    v.split_rules.push_back({regex, behavior == "Removed"});
  } else if (type == "ByteLevel") {
    if (d.boolean(p, "add_prefix_space", field, true)) {
      // Hugging Face prefixes each piece it is given; as the first step that is each run of text.
      if (!v.split_rules.empty())
        d.unsupported(field, "ByteLevel with add_prefix_space after another split is not supported");
      v.normalizers.push_back({NormalizerStep::Kind::prepend, " ", {}, false, true});
    }
    if (d.boolean(p, "use_regex", field, true)) v.split_rules.push_back({gpt2_split_pattern(), false});
    v.byte_level = true;
  } else if (type == "Metaspace") {
    if (!v.split_rules.empty()) d.unsupported(field, "Metaspace after another split is not supported");
    const std::string replacement = d.optional_string(p, "replacement", field).value_or(kMetaspace);
    std::string scheme = d.optional_string(p, "prepend_scheme", field).value_or("");
    if (scheme.empty()) scheme = d.boolean(p, "add_prefix_space", field, true) ? "always" : "never";
    if (scheme != "always" && scheme != "first" && scheme != "never")
      d.fail(field + ".prepend_scheme", "expected always, first or never, got '" + scheme + "'");
    v.normalizers.push_back({NormalizerStep::Kind::replace, " ", replacement, false, false});
    if (scheme != "never")
      v.normalizers.push_back({NormalizerStep::Kind::prepend, replacement, {}, scheme == "first", true});
    if (d.boolean(p, "split", field, true)) {
      const std::string r = regex_escape(replacement);
      v.split_rules.push_back({"(?s)" + r + "(?:(?!" + r + ").)*|(?:(?!" + r + ").)+", false});
    }
  } else if (type == "Digits") {
    v.split_rules.push_back(
        {d.boolean(p, "individual_digits", field, false) ? R"(\p{N})" : R"(\p{N}+)", false});
  } else {
    d.unsupported(field + ".type", "pre-tokenizer '" + type + "' is not supported by slm");
  }
}

void read_decoder(const Doc& d, const Json& dec, const std::string& field, Vocab& v) {
  const std::string type = d.string(dec, "type", field);
  if (type == "Sequence") {
    const Json& list = d.required(dec, "decoders", field);
    d.expect(list, Json::value_t::array, field + ".decoders", "an array");
    for (size_t i = 0; i < list.size(); ++i)
      read_decoder(d, list[i], field + ".decoders[" + std::to_string(i) + "]", v);
  } else if (type == "ByteLevel") {
    v.byte_level = true;
  } else if (type == "ByteFallback" || type == "Fuse") {
    // Byte tokens decode to their byte and pieces are concatenated anyway.
  } else if (type == "Replace") {
    const Json* literal = d.member(d.required(dec, "pattern", field), "String");
    const std::string content = d.string(dec, "content", field);
    if (literal == nullptr || !literal->is_string() || literal->get<std::string>() != kMetaspace ||
        content != " ")
      d.unsupported(field, "only the Replace decoder U+2581 -> ' ' is supported");
    v.decode_metaspace = true;
  } else if (type == "Strip") {
    const Json& start = d.required(dec, "start", field);
    const Json& stop = d.required(dec, "stop", field);
    if (d.string(dec, "content", field) != " " || !start.is_number_integer() || start.get<int64_t>() > 1 ||
        !stop.is_number_integer() || stop.get<int64_t>() != 0)
      d.unsupported(field, "only a Strip decoder removing one leading space is supported");
    v.decode_strip_leading = start.get<int64_t>() == 1;
  } else if (type == "Metaspace") {
    v.decode_metaspace = true;
    std::string scheme = d.optional_string(dec, "prepend_scheme", field).value_or("");
    if (scheme.empty()) scheme = d.boolean(dec, "add_prefix_space", field, true) ? "always" : "never";
    v.decode_strip_leading = scheme != "never";
  } else {
    d.unsupported(field + ".type", "decoder '" + type + "' is not supported by slm");
  }
}

// add_bos / add_eos as a TemplateProcessing post-processor spells them: a special token before
// (after) the sequence "A" of a single input.
void read_post_processor(const Doc& d, const Json& p, const std::string& field,
                         std::optional<std::string>& bos_text, std::optional<std::string>& eos_text) {
  const std::string type = d.string(p, "type", field);
  if (type == "Sequence") {
    if (const Json* list = d.member(p, "processors"); list && list->is_array())
      for (size_t i = 0; i < list->size(); ++i)
        read_post_processor(d, (*list)[i], field + ".processors[" + std::to_string(i) + "]", bos_text,
                            eos_text);
    return;
  }
  if (type != "TemplateProcessing") return;  // ByteLevel and friends add no tokens
  const Json* single = d.member(p, "single");
  if (single == nullptr || !single->is_array() || single->empty()) return;
  auto special_of = [&](const Json& item) -> std::optional<std::string> {
    const Json* s = d.member(item, "SpecialToken");
    if (s == nullptr) return std::nullopt;
    return d.string(*s, "id", field + ".single");
  };
  if (auto t = special_of(single->front())) bos_text = t;
  if (single->size() > 1)
    if (auto t = special_of(single->back())) eos_text = t;
}

int32_t id_of_text(const Vocab& v, const std::string& text) {
  auto it = std::find(v.tokens.begin(), v.tokens.end(), text);
  return it == v.tokens.end() ? kNoToken : static_cast<int32_t>(it - v.tokens.begin());
}

bool is_byte_token_text(const std::string& t) {
  return t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' &&
         std::isxdigit(static_cast<unsigned char>(t[3])) && std::isxdigit(static_cast<unsigned char>(t[4])) &&
         !std::islower(static_cast<unsigned char>(t[3])) && !std::islower(static_cast<unsigned char>(t[4]));
}

}  // namespace

Vocab load_vocab_hf(const fs::path& folder) {
  const fs::path tokenizer_json = folder / "tokenizer.json";
  std::error_code ec;
  if (!fs::is_regular_file(tokenizer_json, ec))
    throw Error(ErrorKind::io, tokenizer_json.string(),
                "not found (a Hugging Face tokenizer needs tokenizer.json)");
  const Json root = parse_file(tokenizer_json);
  const Doc d{tokenizer_json.string()};
  if (!root.is_object()) d.fail("(root)", "expected an object, got " + std::string(root.type_name()));

  Vocab v;
  v.source = folder.string();
  v.model = VocabModel::bpe_ranks;
  v.model_name = "hf-bpe";
  v.pre_name = "tokenizer.json";

  // ---- model ----
  const Json& model = d.required(root, "model", "");
  const std::string model_type = d.optional_string(model, "type", "model").value_or("BPE");
  if (model_type != "BPE")
    d.unsupported("model.type", "tokenizer model '" + model_type + "' is not supported (slm reads BPE)");
  if (const Json* dropout = d.member(model, "dropout");
      dropout && !(dropout->is_number() && dropout->get<double>() == 0.0))
    d.unsupported("model.dropout", "BPE dropout is not supported");
  for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (auto s = d.optional_string(model, affix, "model"); s && !s->empty())
      d.unsupported(std::string("model.") + affix, "subword prefixes and suffixes are not supported");
  v.fuse_unk = d.boolean(model, "fuse_unk", "model", false);
  v.byte_fallback = d.boolean(model, "byte_fallback", "model", false);
  v.ignore_merges = d.boolean(model, "ignore_merges", "model", false);

  const Json& vocab = d.required(model, "vocab", "model");
  d.expect(vocab, Json::value_t::object, "model.vocab", "an object");
  if (vocab.empty()) d.fail("model.vocab", "is empty");
  std::vector<std::pair<std::string, int32_t>> entries;
  entries.reserve(vocab.size());
  int32_t max_id = -1;
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const int32_t id = d.id(it.value(), "model.vocab." + it.key());
    entries.emplace_back(it.key(), id);
    max_id = std::max(max_id, id);
  }
  const Json* added = d.member(root, "added_tokens");
  if (added) {
    d.expect(*added, Json::value_t::array, "added_tokens", "an array");
    for (size_t i = 0; i < added->size(); ++i)
      max_id = std::max(max_id, d.id(d.required((*added)[i], "id", "added_tokens[" + std::to_string(i) + "]"),
                                     "added_tokens[" + std::to_string(i) + "].id"));
  }
  const size_t n = static_cast<size_t>(max_id) + 1;
  v.tokens.assign(n, std::string());
  v.attrs.assign(n, token_attr::unused);  // ids no entry names stay unused holes
  v.scores.assign(n, 0.0f);
  for (auto& [text, id] : entries) {
    if (!v.tokens[id].empty())
      d.fail("model.vocab." + text,
             "token id " + std::to_string(id) + " is also given to '" + v.tokens[id] + "'");
    if (text.empty()) d.fail("model.vocab", "has an empty token");
    v.tokens[id] = std::move(text);
    v.attrs[id] = v.byte_fallback && is_byte_token_text(v.tokens[id]) ? token_attr::byte : token_attr::normal;
  }
  if (added) {
    for (size_t i = 0; i < added->size(); ++i) {
      const std::string field = "added_tokens[" + std::to_string(i) + "]";
      const Json& t = (*added)[i];
      const int32_t id = d.id(d.required(t, "id", field), field + ".id");
      std::string content = d.string(t, "content", field);
      if (content.empty()) d.fail(field + ".content", "is empty");
      if (!v.tokens[id].empty() && v.tokens[id] != content && (v.attrs[id] & token_attr::normal))
        d.fail(field, "id " + std::to_string(id) + " is '" + v.tokens[id] + "' in model.vocab but '" +
                          content + "' here");
      v.tokens[id] = std::move(content);
      uint32_t attr = d.boolean(t, "special", field, false) ? token_attr::control : token_attr::user_defined;
      if (d.boolean(t, "lstrip", field, false)) attr |= token_attr::lstrip;
      if (d.boolean(t, "rstrip", field, false)) attr |= token_attr::rstrip;
      v.attrs[id] = attr;
    }
  }
  if (auto unk = d.optional_string(model, "unk_token", "model")) {
    v.unk = id_of_text(v, *unk);
    if (v.unk == kNoToken) d.fail("model.unk_token", "'" + *unk + "' is not in the vocabulary");
    v.attrs[v.unk] |= token_attr::unknown;
  }

  // ---- text pipeline ----
  if (const Json* normalizer = d.member(root, "normalizer")) add_normalizer(d, *normalizer, "normalizer", v);
  if (const Json* pre = d.member(root, "pre_tokenizer")) add_pre_tokenizer(d, *pre, "pre_tokenizer", v);
  if (const Json* decoder = d.member(root, "decoder")) read_decoder(d, *decoder, "decoder", v);

  // ---- special tokens: post-processor, then tokenizer_config.json, then generation_config.json ----
  std::optional<std::string> bos_text, eos_text;
  if (const Json* post = d.member(root, "post_processor"))
    read_post_processor(d, *post, "post_processor", bos_text, eos_text);
  v.add_bos = bos_text.has_value();
  v.add_eos = eos_text.has_value();
  std::vector<int32_t> extra_eog;

  auto resolve = [&](const Doc& doc, const std::string& field, const std::string& text) {
    const int32_t id = id_of_text(v, text);
    if (id == kNoToken) doc.fail(field, "'" + text + "' is not in the vocabulary");
    return id;
  };
  if (bos_text) v.bos = resolve(d, "post_processor", *bos_text);
  if (eos_text) v.eos = resolve(d, "post_processor", *eos_text);

  const fs::path config_path = folder / "tokenizer_config.json";
  if (fs::is_regular_file(config_path, ec)) {
    const Json config = parse_file(config_path);
    const Doc c{config_path.string()};
    if (!config.is_object()) c.fail("(root)", "expected an object");
    if (auto t = c.token_content(config, "bos_token")) v.bos = resolve(c, "bos_token", *t);
    if (auto t = c.token_content(config, "eos_token")) v.eos = resolve(c, "eos_token", *t);
    if (auto t = c.token_content(config, "pad_token")) v.pad = resolve(c, "pad_token", *t);
    if (auto t = c.token_content(config, "unk_token")) {
      v.unk = resolve(c, "unk_token", *t);
      v.attrs[v.unk] |= token_attr::unknown;
    }
    v.add_bos = c.boolean(config, "add_bos_token", "", v.add_bos);
    v.add_eos = c.boolean(config, "add_eos_token", "", v.add_eos);
  }
  const fs::path generation_path = folder / "generation_config.json";
  if (fs::is_regular_file(generation_path, ec)) {
    const Json gen = parse_file(generation_path);
    const Doc g{generation_path.string()};
    if (const Json* e = g.member(gen, "eos_token_id")) {
      if (e->is_array()) {
        for (size_t i = 0; i < e->size(); ++i)
          extra_eog.push_back(g.id((*e)[i], "eos_token_id[" + std::to_string(i) + "]"));
      } else {
        extra_eog.push_back(g.id(*e, "eos_token_id"));
      }
    }
    for (int32_t id : extra_eog)
      if (id < 0 || size_t(id) >= n)
        g.fail("eos_token_id", "token id " + std::to_string(id) + " is outside the vocabulary");
    if (v.eos == kNoToken && !extra_eog.empty()) v.eos = extra_eog.front();
  }

  finalize_vocab(v);

  // ---- merges (ids are known now) ----
  const Json& merges = d.required(model, "merges", "model");
  d.expect(merges, Json::value_t::array, "model.merges", "an array");
  v.merges.reserve(merges.size());
  std::string joined;
  for (size_t i = 0; i < merges.size(); ++i) {
    const std::string field = "model.merges[" + std::to_string(i) + "]";
    const Json& m = merges[i];
    std::string left, right;
    if (m.is_string()) {
      const std::string line = m.get<std::string>();
      const size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
        d.fail(field, "'" + line + "' is not two tokens separated by one space");
      left = line.substr(0, space);
      right = line.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get<std::string>();
      right = m[1].get<std::string>();
    } else {
      d.fail(field, "expected \"left right\" or [\"left\", \"right\"]");
    }
    joined = left + right;
    const int32_t l = v.find(left), r = v.find(right), merged = v.find(joined);
    if (l == kNoToken || r == kNoToken || merged == kNoToken)
      d.fail(field, "'" + left + "' + '" + right + "' names a token that is not in the vocabulary");
    v.merges.emplace(merge_key(l, r), MergeResult{static_cast<int32_t>(i), merged});
  }

  if (!extra_eog.empty()) {
    v.eog.insert(v.eog.end(), extra_eog.begin(), extra_eog.end());
    std::sort(v.eog.begin(), v.eog.end());
    v.eog.erase(std::unique(v.eog.begin(), v.eog.end()), v.eog.end());
  }
  return v;
}

}  // namespace slm::text
