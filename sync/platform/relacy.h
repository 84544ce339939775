// weft/sync/platform/relacy.h: the one place that includes Relacy (model build only).
//
// relacy.hpp defines macros for new, delete, malloc, memory_order_*, pthread_* and more.
// A standard header parsed after it breaks, so every standard header weft or a scenario
// may use is included first; then the macros that would leak into weft's code are undone.
// Relacy still replaces the global operator new/delete, so every heap allocation made
// during a simulation is tracked for leaks (model targets build with
// -fno-sized-deallocation so that every delete reaches that replacement).
#pragma once

#if !defined(WEFT_MODEL)
#error "sync/platform/relacy.h is for the model build only"
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <climits>
#include <compare>
#include <concepts>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <initializer_list>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <numeric>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <shared_mutex>
#include <source_location>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include <relacy/relacy.hpp>

#undef new
#undef delete
#undef malloc
#undef calloc
#undef realloc
#undef free
#undef memory_order_relaxed
#undef memory_order_consume
#undef memory_order_acquire
#undef memory_order_release
#undef memory_order_acq_rel
#undef memory_order_seq_cst
#undef VAR
#undef VAR_T
#undef TLS_T
// Win32's Sleep(ms), a function-like macro, would rewrite weft::Sleep's constructor.
#undef Sleep
// Relacy's futex(uaddr, op, ...) emulation would rewrite platform::futex (futex.h).
#undef futex
#undef $  // weft code never writes `$`: adapters pass std::source_location instead
#undef assert
#include <cassert>  // restores the standard assert (assert.h may be included again)

namespace weft::platform::detail {

// Where an instrumented operation was called from, as Relacy prints it in a trace.
inline rl::debug_info where(const std::source_location& loc) {
  return rl::debug_info(loc.function_name(), loc.file_name(), loc.line());
}

inline rl::memory_order to_relacy(std::memory_order order) {
  switch (order) {
    case std::memory_order_relaxed: return rl::mo_relaxed;
    case std::memory_order_consume: return rl::mo_consume;
    case std::memory_order_acquire: return rl::mo_acquire;
    case std::memory_order_release: return rl::mo_release;
    case std::memory_order_acq_rel: return rl::mo_acq_rel;
    case std::memory_order_seq_cst: return rl::mo_seq_cst;
  }
  return rl::mo_seq_cst;
}

}  // namespace weft::platform::detail
