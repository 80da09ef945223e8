// slm::Error: the one error type a user of slm sees.
//
// Every failure a user can cause (a bad file, a bad option, a bad request, a hostile template)
// is reported as an slm::Error carrying what kind of failure it is, where it happened (a file and
// byte offset, a metadata key, a JSON field, a template line) and what was wrong.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace slm {

enum class ErrorKind {
  io,                // a file could not be opened, mapped or read
  format,            // a file's bytes break its format's rules (truncated, overflowing, inconsistent)
  unsupported,       // valid input that slm does not handle (an IQ quant type, an unknown architecture)
  invalid_argument,  // an impossible option or argument from the caller
  out_of_range,      // a request beyond a limit (prompt longer than the context, token id past vocab)
  template_syntax,   // a chat template that does not parse
  template_runtime,  // a chat template that failed while rendering (type error, resource limit)
  template_raise,    // a chat template called raise_exception(msg): what() is exactly msg's text
  tokenizer,         // a vocabulary that cannot be used
  model,             // a model whose tensors or hyperparameters do not fit together
  internal,          // a broken invariant inside slm: a bug, please report it
};

std::string_view to_string(ErrorKind kind) noexcept;

class Error : public std::runtime_error {
 public:
  // where: "file.gguf: offset 1234", "key llama.block_count", "config.json: field num_heads", ...
  // detail: what was wrong, as a sentence fragment ("tensor extends past end of file").
  Error(ErrorKind kind, std::string where, std::string detail);

  ErrorKind kind() const noexcept { return kind_; }
  const std::string& where() const noexcept { return where_; }
  const std::string& detail() const noexcept { return detail_; }

 private:
  ErrorKind kind_;
  std::string where_;
  std::string detail_;
};

}  // namespace slm
