#include "formats/hf_folder.h"

#include <fstream>
#include <iterator>
#include <sstream>
#include <unordered_map>

#include "formats/untrusted_json.h"
#include "slm/error.h"

namespace slm {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using safetensors::SafetensorsFile;

constexpr uint64_t kMaxIndexBytes = 64u << 20;  // a real index is a few hundred KB at most

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

std::optional<fs::path> if_file(const fs::path& p) {
  if (is_file(p)) return p;
  return std::nullopt;
}

std::string read_index_text(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) throw Error(ErrorKind::io, path.string(), "cannot read: " + ec.message());
  if (size > kMaxIndexBytes)
    throw Error(ErrorKind::format, path.string(),
                "index is " + std::to_string(size) + " bytes, more than the limit of " + std::to_string(kMaxIndexBytes));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::io, path.string(), "cannot open");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error(ErrorKind::io, path.string(), "read failed");
  return text;
}

}  // namespace

bool is_plain_file_name(std::string_view name) noexcept {
  if (name.empty() || name == "." || name == "..") return false;
  return name.find_first_of(std::string_view("/\\\0", 3)) == std::string_view::npos;
}

struct HfFolder::Impl {
  fs::path dir;
  bool sharded = false;
  std::vector<SafetensorsFile> shards;  // reserved up front: entries point into it
  std::vector<Entry> entries;
  std::unordered_map<std::string_view, size_t> by_name;  // views into tensor names (owned by shards)
  std::vector<std::pair<std::string, std::string>> index_metadata;

  void open_single(const fs::path& file);
  void open_index(const fs::path& index_path);
  void index_entries();
};

void HfFolder::Impl::open_single(const fs::path& file) {
  shards.push_back(SafetensorsFile::open(file));
  index_entries();
}

void HfFolder::Impl::open_index(const fs::path& index_path) {
  sharded = true;
  const std::string where = index_path.string();
  const Json root = parse_untrusted_json(read_index_text(index_path), {.file = where, .max_depth = 16});
  if (!root.is_object())
    throw Error(ErrorKind::format, where, "expected a JSON object, got " + std::string(json_type_name(root)));

  if (root.contains("metadata")) {
    const Json& m = root.at("metadata");
    if (!m.is_object() && !m.is_null())
      throw Error(ErrorKind::format, where + ": field metadata",
                  "expected an object, got " + std::string(json_type_name(m)));
    if (m.is_object())
      for (const auto& [k, v] : m.items()) index_metadata.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
  }

  if (!root.contains("weight_map")) throw Error(ErrorKind::format, where + ": field weight_map", "missing");
  const Json& map = root.at("weight_map");
  if (!map.is_object())
    throw Error(ErrorKind::format, where + ": field weight_map",
                "expected an object of tensor name -> shard file, got " + std::string(json_type_name(map)));
  if (map.empty()) throw Error(ErrorKind::format, where + ": field weight_map", "lists no tensors");

  // Shard names first (validated, in order of first mention), so each is opened once.
  std::vector<std::string> shard_names;
  std::unordered_map<std::string, size_t> shard_index;
  std::unordered_map<std::string_view, size_t> tensor_shard;  // views into `root`, alive until return
  tensor_shard.reserve(map.size());
  for (const auto& [tensor, file] : map.items()) {
    const std::string field = where + ": field weight_map." + tensor;
    if (!file.is_string())
      throw Error(ErrorKind::format, field, "expected a shard file name, got " + std::string(json_type_name(file)));
    const std::string& name = file.get_ref<const std::string&>();
    if (!is_plain_file_name(name))
      throw Error(ErrorKind::format, field,
                  "shard \"" + name + "\" is not a plain file name inside the folder (no '/', '..' or absolute paths)");
    const auto [it, added] = shard_index.emplace(name, shard_names.size());
    if (added) {
      if (!is_file(dir / name)) throw Error(ErrorKind::io, field, "shard file " + (dir / name).string() + " does not exist");
      shard_names.push_back(name);
    }
    tensor_shard.emplace(tensor, it->second);  // keys are unique: the JSON checker rejects repeats
  }
  shards.reserve(shard_names.size());
  for (const std::string& name : shard_names) shards.push_back(SafetensorsFile::open(dir / name));

  // Index -> shard: every listed tensor is where the index says.
  for (const auto& [tensor, file] : map.items()) {
    const size_t s = shard_index.at(file.get_ref<const std::string&>());
    if (!shards[s].find(tensor))
      throw Error(ErrorKind::format, where + ": field weight_map." + tensor, "tensor not found in shard " + shard_names[s]);
  }
  // Shard -> index: nothing unlisted, and no tensor in a second shard.
  for (size_t s = 0; s < shards.size(); ++s)
    for (const auto& t : shards[s].tensors()) {
      const auto it = tensor_shard.find(t.name);
      if (it == tensor_shard.end())
        throw Error(ErrorKind::format, where + ": field weight_map",
                    "tensor " + t.name + " of shard " + shard_names[s] + " is not listed");
      if (it->second != s)
        throw Error(ErrorKind::format, where + ": field weight_map." + t.name,
                    "tensor is also in shard " + shard_names[s] + ", not only in " + shard_names[it->second]);
    }
  index_entries();
}

void HfFolder::Impl::index_entries() {
  for (const auto& f : shards)
    for (const auto& t : f.tensors()) entries.push_back(Entry{&t, &f});
  by_name.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) by_name.emplace(entries[i].tensor->name, i);
}

HfFolder HfFolder::open(const fs::path& dir) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(ErrorKind::io, dir.string(), "not a directory");
  if (!is_file(dir / "config.json")) throw Error(ErrorKind::io, (dir / "config.json").string(), "does not exist");
  if (is_file(dir / "model.safetensors")) {
    impl->open_single(dir / "model.safetensors");
  } else if (is_file(dir / "model.safetensors.index.json")) {
    impl->open_index(dir / "model.safetensors.index.json");
  } else {
    throw Error(ErrorKind::io, dir.string(), "holds neither model.safetensors nor model.safetensors.index.json");
  }
  return HfFolder(std::move(impl));
}

HfFolder::HfFolder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HfFolder::HfFolder(HfFolder&&) noexcept = default;
HfFolder& HfFolder::operator=(HfFolder&&) noexcept = default;
HfFolder::~HfFolder() = default;

const fs::path& HfFolder::dir() const noexcept { return impl_->dir; }
fs::path HfFolder::config_path() const { return impl_->dir / "config.json"; }
std::optional<fs::path> HfFolder::tokenizer_path() const { return if_file(impl_->dir / "tokenizer.json"); }
std::optional<fs::path> HfFolder::tokenizer_config_path() const { return if_file(impl_->dir / "tokenizer_config.json"); }
std::optional<fs::path> HfFolder::generation_config_path() const {
  return if_file(impl_->dir / "generation_config.json");
}
bool HfFolder::sharded() const noexcept { return impl_->sharded; }
std::span<const SafetensorsFile> HfFolder::shards() const noexcept { return impl_->shards; }
std::span<const HfFolder::Entry> HfFolder::tensors() const noexcept { return impl_->entries; }

const HfFolder::Entry* HfFolder::find(std::string_view tensor_name) const noexcept {
  const auto it = impl_->by_name.find(tensor_name);
  return it == impl_->by_name.end() ? nullptr : &impl_->entries[it->second];
}

std::span<const std::pair<std::string, std::string>> HfFolder::index_metadata() const noexcept {
  return impl_->index_metadata;
}

}  // namespace slm
