#include "formats/ollama.h"

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "slm/error.h"

namespace slm::ollama {
namespace {

bool plain_component(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) return false;
  return true;
}

bool hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

std::optional<ModelName> parse_name(std::string_view name) {
  ModelName n;
  std::string_view rest = name;
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos && rest.find('/', colon) == std::string_view::npos) {
    n.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
  }
  std::vector<std::string_view> parts;
  while (true) {
    auto slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  if (parts.size() > 3) return std::nullopt;
  n.model = std::string(parts.back());
  if (parts.size() >= 2) n.ns = std::string(parts[parts.size() - 2]);
  if (parts.size() == 3) n.registry = std::string(parts[0]);
  for (const auto& c : {n.registry, n.ns, n.model, n.tag})
    if (!plain_component(c)) return std::nullopt;
  return n;
}

std::vector<std::filesystem::path> default_roots() {
  std::vector<std::filesystem::path> roots;
  if (const char* env = std::getenv("OLLAMA_MODELS"); env && *env) roots.emplace_back(env);
  if (const char* home = std::getenv("HOME"); home && *home) roots.push_back(std::filesystem::path(home) / ".ollama" / "models");
  roots.emplace_back("/usr/share/ollama/.ollama/models");
  return roots;
}

std::optional<std::filesystem::path> resolve(const ModelName& name, const std::vector<std::filesystem::path>& roots) {
  for (const auto& root : roots) {
    const auto manifest = root / "manifests" / name.registry / name.ns / name.model / name.tag;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(manifest, ec)) continue;
    std::ifstream in(manifest, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const auto j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
    const std::string where = manifest.string();
    if (j.is_discarded() || !j.is_object()) throw Error(ErrorKind::format, where, "manifest is not a JSON object");
    if (!j.contains("layers") || !j["layers"].is_array()) throw Error(ErrorKind::format, where + ": field layers", "missing or not an array");
    for (const auto& layer : j["layers"]) {
      if (!layer.is_object() || layer.value("mediaType", "") != "application/vnd.ollama.image.model") continue;
      const auto d = layer.find("digest");
      if (d == layer.end() || !d->is_string()) throw Error(ErrorKind::format, where + ": field layers[].digest", "missing");
      const std::string digest = d->get<std::string>();
      if (digest.rfind("sha256:", 0) != 0 || !hex64(std::string_view(digest).substr(7)))
        throw Error(ErrorKind::format, where + ": field layers[].digest", "not of the form sha256:<64 hex digits>");
      const auto blob = root / "blobs" / ("sha256-" + digest.substr(7));
      if (!std::filesystem::is_regular_file(blob, ec)) throw Error(ErrorKind::io, blob.string(), "blob named by the manifest is missing");
      return blob;
    }
    throw Error(ErrorKind::format, where, "manifest has no model layer");
  }
  return std::nullopt;
}

}  // namespace slm::ollama
