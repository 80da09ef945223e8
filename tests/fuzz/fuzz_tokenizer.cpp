// libFuzzer target: arbitrary bytes as user text through the tokenizers (a SentencePiece and a
// byte-level BPE vocabulary built in memory). A finding is a crash, a hang, a sanitizer report, an
// exception, or a broken promise:
//   - with parse_special=false no control token comes out, whatever the text says;
//   - byte-level BPE gives every input back exactly (it can write any byte);
//   - SentencePiece gives back well-formed text without U+2581 (which it reads as a space);
//     (both only when no user-defined token was matched: the text after one gets a space prefix)
//   - StreamDecoder pieces are whole characters for well-formed text and add up to decode();
//   - rendered into a chat template as two messages (split at the first NUL byte), the text yields
//     exactly the template's own control tokens (src/text/chat_prompt.h), and the rendering keeps
//     the text unchanged.
// The first input byte picks the vocabulary and whether special-token texts are parsed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "slm/error.h"
#include "src/text/chat_prompt.h"
#include "src/text/stream_decoder.h"
#include "src/text/tokenizer.h"
#include "src/text/unicode.h"
#include "src/text/unicode_bytes.h"

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_tokenizer: %s\n", what);
    std::abort();
  }
}

std::vector<std::string> byte_token_texts() {
  std::vector<std::string> out;
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    out.push_back(buf);
  }
  return out;
}

slm::Tokenizer load(const slm::gguf::GgufWriter& w) {
  static std::vector<std::vector<uint8_t>> keep;  // GgufFile views the bytes while loading
  keep.push_back(w.write_memory());
  return slm::Tokenizer::from_gguf(slm::gguf::GgufFile::from_memory(keep.back(), "fuzz.gguf"));
}

// SentencePiece: <unk> <s> </s>, byte tokens, a handful of pieces, two control markers.
slm::Tokenizer make_spm() {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  for (auto& t : byte_token_texts()) {
    tokens.push_back(t);
    types.push_back(6);
  }
  const char* pieces[] = {"\xE2\x96\x81",
                          "a",
                          "b",
                          "ab",
                          "\xE2\x96\x81"
                          "a",
                          "\xE2\x96\x81"
                          "ab",
                          "e",
                          "\xC3\xA9",
                          "\xE2\x96\x81\xE2\x96\x81",
                          "<",
                          ">",
                          "|",
                          "<|",
                          "|>",
                          "s"};
  for (const char* p : pieces) {
    tokens.push_back(p);
    types.push_back(1);
  }
  tokens.push_back("<|im_end|>");
  types.push_back(3);
  tokens.push_back("<|tool|>");
  types.push_back(4);
  std::vector<float> scores(tokens.size());
  for (size_t i = 0; i < scores.size(); ++i) scores[i] = -static_cast<float>(i % 7);
  slm::gguf::GgufWriter w;
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_array_string("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
  w.set_array_f32("tokenizer.ggml.scores", scores);
  w.set_array_i32("tokenizer.ggml.token_type", types);
  return load(w);
}

// Byte-level BPE: the 256 byte characters, a few merges, <|endoftext|>, qwen2 pre-tokenizer.
slm::Tokenizer make_bpe() {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.push_back(slm::text::byte_level_encode(std::string(1, char(b))));
  const std::string G = "\xC4\xA0";  // 'Ġ', the byte-level space
  for (const std::string& t : {std::string("ab"), G + "a", G + "ab", std::string("<|"), std::string("|>")})
    tokens.push_back(t);
  tokens.push_back("<|endoftext|>");
  std::vector<int32_t> types(tokens.size(), 1);
  types.back() = 3;
  const std::vector<std::string> merges = {"a b", G + " a", G + "a b", "< |", "| >"};
  slm::gguf::GgufWriter w;
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string("tokenizer.ggml.pre", "qwen2");
  w.set_array_string("tokenizer.ggml.tokens", std::span<const std::string>(tokens));
  w.set_array_i32("tokenizer.ggml.token_type", types);
  w.set_array_string("tokenizer.ggml.merges", std::span<const std::string>(merges));
  return load(w);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const slm::Tokenizer spm = make_spm();
  static const slm::Tokenizer bpe = make_bpe();
  static const slm::ChatTemplate spm_chat =
      slm::ChatTemplate::parse("{% for m in messages %}[{{ m.role }}]{{ m.content }}<|im_end|>{% endfor %}");
  static const slm::ChatTemplate bpe_chat =
      slm::ChatTemplate::parse("{% for m in messages %}[{{ m.role }}]{{ m.content }}<|endoftext|>{% endfor %}");
  if (size == 0) return 0;
  const bool use_bpe = data[0] & 1;
  const bool parse_special = data[0] & 2;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const slm::Tokenizer& tok = use_bpe ? bpe : spm;
  try {
    const auto ids = tok.encode(text, {.add_bos = !use_bpe && (data[0] & 4), .parse_special = parse_special});
    if (!parse_special)
      for (int32_t id : ids) check(!tok.is_control(id) || id == tok.bos(), "a control token from plain text");
    const std::string decoded = tok.decode(ids);
    // A matched user-defined token starts a new run of text, which SentencePiece prefixes with a
    // space (llama.cpp does the same), so round trips are promised only without them.
    bool user_defined = false;
    for (int32_t id : ids) user_defined = user_defined || tok.is_user_defined(id);
    if (!parse_special && !user_defined) {
      if (use_bpe)
        check(decoded == text, "byte-level BPE did not round-trip");
      else if (slm::text::utf8_is_valid(text) && text.find("\xE2\x96\x81") == std::string_view::npos)
        check(decoded == text, "SentencePiece did not round-trip well-formed text");
    }
    slm::StreamDecoder stream(tok);
    std::string joined;
    for (int32_t id : ids) {
      const std::string piece = stream.push(id);
      if (slm::text::utf8_is_valid(decoded))
        check(slm::text::utf8_is_valid(piece), "a split character was streamed");
      joined += piece;
    }
    joined += stream.flush();
    check(joined == decoded, "StreamDecoder pieces differ from decode()");

    // The text as user messages of a chat: only the template's markers become control tokens.
    const std::string marker = use_bpe ? "<|endoftext|>" : "<|im_end|>";
    const int32_t marker_id = tok.find_token(marker);
    const slm::ChatTemplate& tmpl = use_bpe ? bpe_chat : spm_chat;
    if (slm::text::utf8_is_valid(text)) {  // JSON strings hold Unicode text
      const size_t nul = text.find('\0');
      slm::ChatRequest req;
      req.messages.push_back({{"role", "user"}, {"content", std::string(text.substr(0, nul))}});
      if (nul != std::string_view::npos)
        req.messages.push_back({{"role", "assistant"}, {"content", std::string(text.substr(nul + 1))}});
      const slm::ChatPrompt prompt = slm::render_chat_prompt(tmpl, req, tok);
      check(prompt.text.find(std::string(text.substr(0, nul))) != std::string::npos, "user text changed by rendering");
      size_t markers = 0, controls = 0;
      for (int32_t id : slm::tokenize_chat_prompt(tok, prompt, false)) {
        markers += id == marker_id;
        controls += tok.is_control(id);
      }
      check(markers == req.messages.size(), "user text produced a control token, or a marker was lost");
      check(controls == markers, "user text produced a control token");
    }
  } catch (const slm::Error& e) {
    std::fprintf(stderr, "fuzz_tokenizer: unexpected slm::Error: %s\n", e.what());
    std::abort();
  }
  return 0;
}
