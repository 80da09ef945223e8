// libFuzzer target: the safetensors reader on arbitrary bytes. Anything but a clean slm::Error is a
// finding; every tensor's bytes are read, so a span that lies about its bounds is caught by
// AddressSanitizer, and the lookups must agree with the list.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "formats/safetensors.h"
#include "slm/error.h"

namespace {

volatile uint64_t g_sink;  // keeps the reads below from being optimised away

uint64_t touch(std::string_view s) {
  uint64_t h = s.size();
  for (char c : s) h = h * 31 + static_cast<unsigned char>(c);
  return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto f = slm::safetensors::SafetensorsFile::from_memory(std::span<const uint8_t>(data, size), "fuzz.safetensors");
    uint64_t h = f.header_size() + f.data_offset() + f.file_size();
    uint64_t covered = 0;
    for (const auto& t : f.tensors()) {
      h += touch(t.name) + t.n_elements + static_cast<uint64_t>(t.dtype);
      for (uint64_t d : t.shape) h += d;
      for (uint8_t b : t.bytes()) h += b;
      covered += t.n_bytes();
      if (f.find(t.name) != &t) __builtin_trap();  // the index must agree with the list
      if (t.data < f.file_bytes().data() + f.data_offset()) __builtin_trap();
      try {
        h += static_cast<uint64_t>(f.element_type(t));
      } catch (const slm::Error& e) {
        if (e.kind() != slm::ErrorKind::unsupported) __builtin_trap();
      }
    }
    // Tensors tile the data buffer exactly.
    if (covered != f.file_size() - f.data_offset()) __builtin_trap();
    for (const auto& [k, v] : f.metadata()) {
      h += touch(k) + touch(v);
      if (f.find_metadata(k) == nullptr) __builtin_trap();
    }
    g_sink = h;
  } catch (const slm::Error& e) {
    if (e.kind() != slm::ErrorKind::format) __builtin_trap();  // from_memory does no I/O
  }
  return 0;
}
