// Hand-assembled GGUF bytes for tests that need a field the writer would never produce (a lying
// length, a bad type id, an unaligned offset). Each call appends one little-endian field.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "formats/gguf.h"
#include "slm/error.h"

namespace slm::test {

struct GgufBytes {
  std::vector<uint8_t> bytes;

  size_t size() const { return bytes.size(); }
  template <class T>
  GgufBytes& put(T v) {
    const size_t at = bytes.size();
    bytes.resize(at + sizeof(T));
    std::memcpy(bytes.data() + at, &v, sizeof(T));
    return *this;
  }
  GgufBytes& u8(uint8_t v) { return put(v); }
  GgufBytes& u32(uint32_t v) { return put(v); }
  GgufBytes& u64(uint64_t v) { return put(v); }
  GgufBytes& raw(std::string_view s) {
    // resize + memcpy: GCC 12 warns falsely (-Wstringop-overflow) on small vector range inserts.
    const size_t at = bytes.size();
    bytes.resize(at + s.size());
    if (!s.empty()) std::memcpy(bytes.data() + at, s.data(), s.size());
    return *this;
  }
  GgufBytes& str(std::string_view s) { return u64(s.size()).raw(s); }
  GgufBytes& type(gguf::ValueType t) { return u32(static_cast<uint32_t>(t)); }
  GgufBytes& zeros(size_t n) {
    bytes.resize(bytes.size() + n, 0);
    return *this;
  }
  GgufBytes& pad_to(size_t alignment) { return zeros((alignment - bytes.size() % alignment) % alignment); }

  // magic, version, tensor count, metadata key count
  static GgufBytes header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    GgufBytes b;
    b.raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
    return b;
  }
};

// The slm::Error that parsing `bytes` throws; fails the test (via std::logic_error) when it parses.
inline Error parse_error(std::span<const uint8_t> bytes, const std::string& name = "t.gguf") {
  try {
    (void)gguf::GgufFile::from_memory(bytes, name);
  } catch (const Error& e) {
    return e;
  }
  throw std::logic_error("expected the GGUF bytes to be rejected, but they parsed");
}

}  // namespace slm::test
