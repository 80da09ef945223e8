// Ollama model store: resolves a model name ("qwen3:4b", "library/llama3.2:1b",
// "registry.ollama.ai/library/phi3:latest") to the GGUF blob of a local store.
//
// Store layout: <root>/manifests/<registry>/<namespace>/<model>/<tag> is a JSON manifest whose
// layer with mediaType "application/vnd.ollama.image.model" names the weights blob by digest
// "sha256:<64 hex>", stored as <root>/blobs/sha256-<64 hex>.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slm::ollama {

struct ModelName {
  std::string registry = "registry.ollama.ai";
  std::string ns = "library";
  std::string model;
  std::string tag = "latest";
};

// Parses a name; nullopt when it is not a plausible Ollama name (empty parts, path characters).
std::optional<ModelName> parse_name(std::string_view name);

// Store roots to search, in order: $OLLAMA_MODELS, ~/.ollama/models, /usr/share/ollama/.ollama/models.
std::vector<std::filesystem::path> default_roots();

// The blob path of `name` in the first root that has its manifest; nullopt when none has it.
// Throws slm::Error(format) for a manifest that exists but is malformed (naming the file and field).
std::optional<std::filesystem::path> resolve(const ModelName& name, const std::vector<std::filesystem::path>& roots);

}  // namespace slm::ollama
