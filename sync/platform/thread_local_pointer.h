// weft/sync/platform/thread_local_pointer.h: one pointer per thread, per type.
//
//   struct Current { ... };
//   platform::thread_local_pointer<Current>() = &me;   // this thread only
//   Current* mine = platform::thread_local_pointer<Current>();
//
// Each thread sees its own pointer, null until it sets one; only that thread reads or
// writes it, so it needs no atomics. Set it back to null before the thread ends.
// Production: a thread_local. Model: the threads are fibers of one OS thread, so a table
// indexed by the simulated thread, each slot marked with the execution that set it: an
// execution may end before its threads put their pointers back (a failure, a discarded
// execution, one DPOR abandons as equivalent to another), and the next one reads null.
#pragma once

#include "sync/platform/config.h"
#include "sync/platform/invariant.h"

#include <cstdint>

namespace weft::platform {

template <class T>
inline T*& thread_local_pointer() noexcept {
#if defined(WEFT_MODEL)
  struct Slot {
    T* pointer = nullptr;
    std::uint64_t execution = 0;  // the one that last used the slot
  };
  constexpr unsigned max_model_threads = 64;  // far more than any scenario declares
  static Slot by_thread[max_model_threads] = {};
#if defined(WEFT_MODEL_DPOR)
  const unsigned index = detail::engine().thread_index();
  // Numbered in the process, across explorations: a new Engine's first execution too.
  const std::uint64_t execution = detail::engine().execution();
#else
  const unsigned index = rl::thread_index();
  // A Relacy simulation ends at the first execution that stops early (a failure; a discard,
  // after which the harness starts another simulation), so its number is enough.
  const std::uint64_t execution = rl::ctx().get_ctx_seq();
#endif
  WEFT_INVARIANT(index < max_model_threads);
  Slot& slot = by_thread[index];
  if (slot.execution != execution) slot = Slot{nullptr, execution};
  return slot.pointer;
#else
  thread_local T* current = nullptr;
  return current;
#endif
}

}  // namespace weft::platform
