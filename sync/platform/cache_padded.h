// weft/sync/platform/cache_padded.h: cache_padded<T>, a T alone on its cache line(s), so
// that threads writing neighbouring objects do not take each other's line (false
// sharing). After crossbeam_utils::CachePadded.
//
//   std::unique_ptr<platform::cache_padded<Slot>[]> slots;   // one line per worker
//   slots[i]->task.load(...);
//   alignas(platform::cache_line) Fields written_by_senders;   // a group of members
//   [[no_unique_address]] platform::line_gap gap;  // the next members on another line
//
// Production: 64-byte lines (x86-64, and most ARM64 cores). Model: natural alignment,
// since the model checker has no caches and big alignment only costs its fiber stacks.
#pragma once

#include "sync/platform/config.h"

#include <cstddef>
#include <utility>

namespace weft::platform {

#if defined(WEFT_MODEL)
inline constexpr std::size_t cache_line = alignof(void*);
#else
inline constexpr std::size_t cache_line = 64;
#endif

template <class T>
struct alignas(cache_line) cache_padded {
  cache_padded() = default;
  template <class... Args>
  requires(sizeof...(Args) > 0) explicit cache_padded(Args&&... args)
      : value(std::forward<Args>(args)...) {}

  T* operator->() noexcept { return &value; }
  const T* operator->() const noexcept { return &value; }
  T& operator*() noexcept { return value; }
  const T& operator*() const noexcept { return value; }

  T value{};
};

// A line's worth of bytes: the members after it never share a cache line with the members
// before it, and, unlike alignas, the enclosing type keeps its natural alignment, so its
// first members can share a line with what precedes the object (mpsc's Chan puts the
// bounded semaphore's permit word on the list's tail line this way).
struct line_gap {
  char bytes[cache_line];
};

}  // namespace weft::platform
