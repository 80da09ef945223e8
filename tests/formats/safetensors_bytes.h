// Building safetensors files in memory for tests and fuzz seeds: valid ones from a tensor list, and
// raw ones from any header text (to break the format on purpose).
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace slm::test {

struct StTensor {
  std::string name;
  std::string dtype;             // as the header spells it: "F32", "BF16", ...
  std::vector<uint64_t> shape;   // outermost first
  std::vector<uint8_t> data;     // exactly the tensor's bytes
};

// Raw file: u64 little-endian header length, the header text, then `data`. With pad_to_8 the
// header is padded with spaces to a multiple of 8 bytes, as Hugging Face's writer does.
inline std::vector<uint8_t> safetensors_raw(std::string_view header, std::span<const uint8_t> data,
                                            bool pad_to_8 = true) {
  std::string h(header);
  if (pad_to_8)
    while (h.size() % 8 != 0) h += ' ';
  std::vector<uint8_t> out(8 + h.size() + data.size());
  const uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
  std::memcpy(out.data() + 8, h.data(), h.size());
  if (!data.empty()) std::memcpy(out.data() + 8 + h.size(), data.data(), data.size());
  return out;
}

// The header a writer would produce for `tensors`, laid out back to back in the given order.
inline std::string safetensors_header(const std::vector<StTensor>& tensors,
                                      const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
  nlohmann::ordered_json h = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json m = nlohmann::ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    h["__metadata__"] = m;
  }
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.data.size()}}};
    offset += t.data.size();
  }
  return h.dump();
}

// A valid file holding `tensors`.
inline std::vector<uint8_t> safetensors_file(const std::vector<StTensor>& tensors,
                                             const std::vector<std::pair<std::string, std::string>>& metadata = {}) {
  std::vector<uint8_t> data;
  for (const auto& t : tensors) data.insert(data.end(), t.data.begin(), t.data.end());
  return safetensors_raw(safetensors_header(tensors, metadata), data);
}

// Little-endian bytes of F32 values.
inline std::vector<uint8_t> f32_bytes(std::initializer_list<float> values) {
  std::vector<uint8_t> out(values.size() * 4);
  size_t i = 0;
  for (float v : values) std::memcpy(out.data() + 4 * i++, &v, 4);
  return out;
}

}  // namespace slm::test
