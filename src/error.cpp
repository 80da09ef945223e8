#include "slm/error.h"

namespace slm {

std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::io: return "io";
    case ErrorKind::format: return "format";
    case ErrorKind::unsupported: return "unsupported";
    case ErrorKind::invalid_argument: return "invalid_argument";
    case ErrorKind::out_of_range: return "out_of_range";
    case ErrorKind::template_syntax: return "template_syntax";
    case ErrorKind::template_runtime: return "template_runtime";
    case ErrorKind::template_raise: return "template_raise";
    case ErrorKind::tokenizer: return "tokenizer";
    case ErrorKind::model: return "model";
    case ErrorKind::internal: return "internal";
  }
  return "unknown";
}

static std::string compose(const std::string& where, const std::string& detail) {
  if (where.empty()) return detail;
  return where + ": " + detail;
}

Error::Error(ErrorKind kind, std::string where, std::string detail)
    : std::runtime_error(kind == ErrorKind::template_raise ? detail : compose(where, detail)),
      kind_(kind),
      where_(std::move(where)),
      detail_(std::move(detail)) {}

}  // namespace slm
