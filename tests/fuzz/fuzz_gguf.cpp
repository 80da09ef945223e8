// libFuzzer target: the GGUF reader on arbitrary bytes. Anything but a clean slm::Error is a
// finding; everything the reader returns is walked, so a view that lies about its bounds is read
// and caught by AddressSanitizer.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "formats/gguf.h"
#include "slm/error.h"

namespace {

volatile uint64_t g_sink;  // keeps the reads below from being optimised away

// Folds any scalar into the hash without undefined conversions (a NaN cast to an integer is UB).
template <class X>
uint64_t bits(X x) {
  if constexpr (std::is_same_v<X, float>) return std::bit_cast<uint32_t>(x);
  else if constexpr (std::is_same_v<X, double>) return std::bit_cast<uint64_t>(x);
  else return static_cast<uint64_t>(x);
}

uint64_t touch(std::string_view s) {
  uint64_t h = s.size();
  for (char c : s) h = h * 31 + static_cast<unsigned char>(c);
  return h;
}

uint64_t touch(const slm::gguf::Value& v);

uint64_t touch(const slm::gguf::Array& a) {
  return std::visit(
      [](const auto& items) -> uint64_t {
        uint64_t h = items.size();
        for (const auto& x : items) {
          using X = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<X, std::string_view>) h += touch(x);
          else if constexpr (std::is_same_v<X, slm::gguf::Value>) h += touch(x);
          else h += bits(x);
        }
        return h;
      },
      a.items);
}

uint64_t touch(const slm::gguf::Value& v) {
  if (const auto* a = v.array()) return touch(*a) + static_cast<uint64_t>(a->elem_type);
  return std::visit(
      [](const auto& x) -> uint64_t {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::string_view>) return touch(x);
        else if constexpr (std::is_arithmetic_v<X>) return bits(x);
        else return 0;
      },
      v.data);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto f = slm::gguf::GgufFile::from_memory(std::span<const uint8_t>(data, size), "fuzz.gguf");
    uint64_t h = f.version() + f.alignment() + f.data_offset();
    for (const auto& kv : f.metadata()) {
      h += touch(kv.key) + touch(kv.value);
      if (f.find(kv.key) != &kv.value) __builtin_trap();  // the index must agree with the list
    }
    for (const auto& t : f.tensors()) {
      h += touch(t.name) + t.rows() + t.n_elements;
      for (uint8_t b : t.bytes()) h += b;
      if (f.find_tensor(t.name) != &t) __builtin_trap();
    }
    g_sink = h;
  } catch (const slm::Error&) {
  }
  return 0;
}
