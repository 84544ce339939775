// weft/sync/platform/dpor.h: the one place that includes weft's DPOR model checker
// (model/dpor, model build with WEFT_MODEL_DPOR only). The platform headers' DPOR branches
// map each type onto the engine through these helpers.
#pragma once

#if !defined(WEFT_MODEL_DPOR)
#error "sync/platform/dpor.h is for the DPOR model build only"
#endif

#include "model/dpor/engine.h"

#include <cstdint>
#include <source_location>
#include <type_traits>

namespace weft::platform::detail {

inline dpor::Engine& engine() { return dpor::Engine::current(); }

inline dpor::Where where(const std::source_location& loc) {
  return dpor::Where{loc.file_name(), static_cast<unsigned>(loc.line())};
}

// An atomic's value as the engine stores it: the bits of T, zero-extended.
template <class T>
dpor::Value to_value(T value) {
  if constexpr (std::is_pointer_v<T>) {
    return reinterpret_cast<std::uintptr_t>(value);
  } else if constexpr (std::is_same_v<T, bool>) {
    return value ? 1 : 0;
  } else {
    return static_cast<std::make_unsigned_t<T>>(value);
  }
}

template <class T>
T from_value(dpor::Value value) {
  if constexpr (std::is_pointer_v<T>) {
    return reinterpret_cast<T>(static_cast<std::uintptr_t>(value));
  } else if constexpr (std::is_same_v<T, bool>) {
    return value != 0;
  } else {
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(value));
  }
}

// The bits an RMW keeps: arithmetic wraps at T's width.
template <class T>
constexpr dpor::Value value_mask() {
  return sizeof(T) >= sizeof(dpor::Value) ? ~dpor::Value{0}
                                          : (dpor::Value{1} << (8 * sizeof(T))) - 1;
}

}  // namespace weft::platform::detail
