// A Hugging Face model folder: config.json, the weights as model.safetensors or as shards listed by
// model.safetensors.index.json, and (optionally) tokenizer.json / tokenizer_config.json.
//
// The index ({"metadata": {...}, "weight_map": {"<tensor>": "<shard file>"}}) is untrusted: shard
// names must be plain file names inside the folder (no '/', no "..", not absolute), every shard
// it names must exist and is opened (and validated) once, every tensor must be in the shard the
// index names, and every tensor of every shard must be listed there, for that shard. When both
// model.safetensors and an index exist, model.safetensors is used, as transformers does.
// Failures: slm::Error(io) for missing files, slm::Error(format) naming
// "<dir>/model.safetensors.index.json: field weight_map.<tensor>" or the shard's own error.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "formats/safetensors.h"

namespace slm {

class HfFolder {
 public:
  // Opens and validates every weight file of the folder. Throws slm::Error(io | format).
  static HfFolder open(const std::filesystem::path& dir);

  HfFolder(HfFolder&&) noexcept;
  HfFolder& operator=(HfFolder&&) noexcept;
  ~HfFolder();

  const std::filesystem::path& dir() const noexcept;
  std::filesystem::path config_path() const;                          // dir/config.json (exists)
  std::optional<std::filesystem::path> tokenizer_path() const;        // dir/tokenizer.json, if present
  std::optional<std::filesystem::path> tokenizer_config_path() const; // dir/tokenizer_config.json
  std::optional<std::filesystem::path> generation_config_path() const;
  bool sharded() const noexcept;  // weights came through model.safetensors.index.json

  // The weight files: one for model.safetensors; for an index, each shard once, in the order the
  // index first names them.
  std::span<const safetensors::SafetensorsFile> shards() const noexcept;

  struct Entry {
    const safetensors::Tensor* tensor = nullptr;
    const safetensors::SafetensorsFile* file = nullptr;  // the shard holding it
  };
  // Every tensor once: shard by shard, each in its header order.
  std::span<const Entry> tensors() const noexcept;
  // nullptr when no tensor has that name.
  const Entry* find(std::string_view tensor_name) const noexcept;

  // The index's "metadata" object as (key, value) pairs in file order; non-string values are given
  // as their JSON text ("total_size" -> "33602560"). Empty for a single model.safetensors.
  std::span<const std::pair<std::string, std::string>> index_metadata() const noexcept;

 private:
  struct Impl;
  explicit HfFolder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// True for a name that stays inside a folder when appended to it: non-empty, no '/' or '\\', no NUL,
// not "." or "..". (The index is untrusted; a shard name must not reach outside the folder.)
bool is_plain_file_name(std::string_view name) noexcept;

}  // namespace slm
