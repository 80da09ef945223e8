// Helpers the subcommands share: resolving a MODEL argument, reading files.
#pragma once

#include <string>

namespace slm::cli {

// A path that exists is returned as is; otherwise a name such as "qwen3:4b" is looked up in the
// local Ollama store (OLLAMA_MODELS, ~/.ollama/models, /usr/share/ollama/.ollama/models) and its
// GGUF blob's path returned. Throws slm::Error(io) saying where it looked.
std::string resolve_model(const std::string& arg);

// The whole file; throws slm::Error(io) naming it.
std::string read_file(const std::string& path);

}  // namespace slm::cli
