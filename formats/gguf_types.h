// Which GGUF metadata type holds which C++ type, and the list of C++ types the typed templates
// accept: shared by the reader's typed getters (formats/gguf.cpp) and the writer's array makers
// (formats/gguf_writer.cpp), so that what one writes the other reads back as the same type.
#pragma once

#include <cstdint>
#include <string_view>
#include <type_traits>

#include "formats/gguf.h"

namespace slm::gguf {

template <class T>
constexpr ValueType value_type_of() {
  // One type a line, kept as a table.
  // clang-format off
  if constexpr (std::is_same_v<T, uint8_t>) return ValueType::UINT8;
  else if constexpr (std::is_same_v<T, int8_t>) return ValueType::INT8;
  else if constexpr (std::is_same_v<T, uint16_t>) return ValueType::UINT16;
  else if constexpr (std::is_same_v<T, int16_t>) return ValueType::INT16;
  else if constexpr (std::is_same_v<T, uint32_t>) return ValueType::UINT32;
  else if constexpr (std::is_same_v<T, int32_t>) return ValueType::INT32;
  else if constexpr (std::is_same_v<T, float>) return ValueType::FLOAT32;
  else if constexpr (std::is_same_v<T, bool>) return ValueType::BOOL;
  else if constexpr (std::is_same_v<T, std::string_view>) return ValueType::STRING;
  else if constexpr (std::is_same_v<T, uint64_t>) return ValueType::UINT64;
  else if constexpr (std::is_same_v<T, int64_t>) return ValueType::INT64;
  // clang-format on
  else {
    // Not a catch-all: any other type (long double, char, ...) must fail to compile rather than be
    // stored under a type id whose size differs from it.
    static_assert(std::is_same_v<T, double>, "no GGUF metadata type holds this C++ type");
    return ValueType::FLOAT64;
  }
}

}  // namespace slm::gguf

// X(T) for each MetadataArrayElement type (every scalar type but bool). The reader's getters and
// the writer's array makers are templates defined in their .cpp files, so each type they accept is
// instantiated there from this one list.
// clang-format off
#define SLM_GGUF_FOR_EACH_ARRAY_ELEMENT(X) \
  X(uint8_t) X(int8_t) X(uint16_t) X(int16_t) X(uint32_t) X(int32_t) X(uint64_t) X(int64_t) \
  X(float) X(double) X(std::string_view)
// clang-format on
