// weft/testing/counting_new.h: replaces the global operator new / delete of the test
// binary that includes it with malloc / free, counting the calls of operator new:
// weft::testing::allocations(). For tests that check a path allocates nothing (or
// little). Include it in one translation unit of the binary only: it defines the
// replacements, which may not be inline.
//
//   const long before = weft::testing::allocations();
//   ...                                                  // the path under test
//   CHECK(weft::testing::allocations() == before);
#pragma once

#include "sync/platform/atomic.h"

#include <cstddef>
#include <cstdlib>
#include <new>

namespace weft::testing {

inline platform::atomic<long> allocation_calls{0};

// Calls of the global operator new so far, on every thread.
inline long allocations() noexcept {
  // Relaxed: a counter; the test orders its reads by joining the threads it counts.
  return allocation_calls.load(std::memory_order_relaxed);
}

}  // namespace weft::testing

void* operator new(std::size_t size) {
  // Relaxed: a counter only.
  weft::testing::allocation_calls.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
