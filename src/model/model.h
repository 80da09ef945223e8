// LoadedModel: a loaded model (hyperparameters, weights, tokenizer, chat template) and the memory that
// backs it. Loading maps the file; weights are used in place, never copied (small F32 vectors of
// non-F32 files, such as norm weights, are the exception: they are converted once).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "formats/mapped_file.h"
#include "src/model/config.h"
#include "src/model/weights.h"
#include "src/text/tokenizer.h"

namespace slm {

namespace gguf { class GgufFile; }

class LoadedModel {
 public:
  // A GGUF file or a Hugging Face folder. Throws slm::Error naming the file and what was wrong.
  // MapMode::huge_pages (GGUF only) reads the file into huge-page memory (formats/mapped_file.h).
  static std::shared_ptr<const LoadedModel> load(const std::filesystem::path& path, MapMode mode = MapMode::file);

  const ModelConfig& config() const noexcept { return config_; }
  const Weights& weights() const noexcept { return weights_; }
  const Tokenizer& tokenizer() const noexcept { return *tokenizer_; }
  const std::string& chat_template() const noexcept { return chat_template_; }
  const std::filesystem::path& path() const noexcept { return path_; }

  // Bytes of all weight matrices and vectors (what one token of generation streams, dense models).
  uint64_t weight_bytes() const noexcept { return weight_bytes_; }
  uint64_t n_params() const noexcept { return n_params_; }
  // Bytes generation reads per token: everything but the embedding table (one row of it is read)
  // and, for MoE models, only n_experts_used of the experts.
  uint64_t bytes_per_token() const noexcept { return bytes_per_token_; }

  ~LoadedModel();
  LoadedModel(const LoadedModel&) = delete;
  LoadedModel& operator=(const LoadedModel&) = delete;

 private:
  LoadedModel();
  friend struct ModelLoader;
  friend struct HfModelLoader;

  std::filesystem::path path_;
  ModelConfig config_;
  Weights weights_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::string chat_template_;
  uint64_t n_params_ = 0;
  uint64_t weight_bytes_ = 0;
  uint64_t bytes_per_token_ = 0;
  std::shared_ptr<void> storage_;                  // keeps the mapping(s) alive
  std::vector<std::unique_ptr<float[]>> owned_;    // converted small vectors
};

}  // namespace slm
