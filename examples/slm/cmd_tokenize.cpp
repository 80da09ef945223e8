// slm tokenize MODEL (-p TEXT | -f FILE) [--bos] [--special] [--json]
//
// Prints the token ids of a text for a GGUF model, a vocabulary-only GGUF, or a Hugging Face folder.
// Special-token texts in the input stay plain text unless --special; --bos puts BOS first.
// Output: one line per token, "id<TAB>piece" with the piece quoted and escaped so that spaces,
// control characters and partial UTF-8 are visible; with --json, one line: a JSON array of ids.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "examples/slm/command.h"
#include "examples/slm/model_arg.h"
#include "formats/gguf.h"
#include "slm/error.h"
#include "src/text/tokenizer.h"
#include "src/text/unicode.h"

namespace {

struct TokenizeArgs {
  std::string model;
  std::string prompt;
  std::string file;
  bool bos = false;
  bool special = false;
  bool json = false;
};

// A double-quoted, JSON-style rendering of raw bytes: well-formed UTF-8 stays as it is, control
// characters become \n, \t, \uXXXX, and bytes that are not UTF-8 (half of a character split across
// byte tokens) become \xHH.
std::string quoted(std::string_view bytes) {
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    char32_t cp = 0;
    const size_t n = slm::text::utf8_decode(bytes, i, cp);
    if (n == 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
      i += 1;
      continue;
    }
    if (n > 1) {
      out.append(bytes.substr(i, n));
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
    i += n;
  }
  return out + "\"";
}

int run_tokenize(const TokenizeArgs& args) {
  const std::string path = slm::cli::resolve_model(args.model);
  std::error_code ec;
  const slm::Tokenizer tok = std::filesystem::is_directory(path, ec)
                                 ? slm::Tokenizer::from_hf(path)
                                 : slm::Tokenizer::from_gguf(slm::gguf::GgufFile::open(path));
  const std::string text = args.file.empty() ? args.prompt : slm::cli::read_file(args.file);
  const auto ids = tok.encode(text, {.add_bos = args.bos, .add_eos = false, .parse_special = args.special});
  if (args.json) {
    std::string line = "[";
    for (size_t i = 0; i < ids.size(); ++i) line += (i ? ", " : "") + std::to_string(ids[i]);
    std::printf("%s]\n", line.c_str());
    return 0;
  }
  for (int32_t id : ids)
    std::printf("%d\t%s\n", id, quoted(tok.token_piece(id, /*show_special=*/true)).c_str());
  return 0;
}

}  // namespace

SLM_COMMAND(tokenize) {
  auto* sub = app.add_subcommand("tokenize", "Print the token ids of a text");
  auto args = std::make_shared<TokenizeArgs>();
  sub->add_option("MODEL", args->model, "GGUF file, vocabulary-only GGUF, Hugging Face folder or Ollama name")
      ->required();
  auto* prompt = sub->add_option("-p,--prompt", args->prompt, "Text to tokenize");
  auto* file = sub->add_option("-f,--file", args->file, "File whose contents to tokenize");
  prompt->excludes(file);
  file->excludes(prompt);
  sub->add_flag("--bos", args->bos, "Put the BOS token first");
  sub->add_flag("--special", args->special,
                "Match special-token texts (<|im_end|>, <s>, ...) as special tokens");
  sub->add_flag("--json", args->json, "Print one line: a JSON array of the ids");
  sub->callback([prompt, file] {
    if (prompt->count() == 0 && file->count() == 0) throw CLI::RequiredError("-p or -f");
  });
  return {sub, [args] { return run_tokenize(*args); }};
}
