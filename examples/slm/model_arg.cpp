#include "examples/slm/model_arg.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/ollama.h"
#include "slm/error.h"

namespace slm::cli {

std::string resolve_model(const std::string& arg) {
  std::error_code ec;
  if (std::filesystem::exists(arg, ec)) return arg;
  const auto roots = ollama::default_roots();
  if (auto name = ollama::parse_name(arg)) {
    if (auto blob = ollama::resolve(*name, roots)) return blob->string();
  }
  std::string looked;
  for (const auto& r : roots) looked += (looked.empty() ? "" : ", ") + r.string();
  throw Error(ErrorKind::io, arg, "no such file, and no Ollama model of that name in " + looked);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::io, path, "cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace slm::cli
