// weft/sync/platform/thread_local_pointer.h: one pointer per thread, per type.
//
//   struct Current { ... };
//   platform::thread_local_pointer<Current>() = &me;   // this thread only
//   Current* mine = platform::thread_local_pointer<Current>();
//
// Each thread sees its own pointer, null until it sets one; only that thread reads or
// writes it, so it needs no atomics. Set it back to null before the thread (or, in the
// model build, the execution) ends: the model keeps the slots between executions.
// Production: a thread_local. Model: Relacy's threads are fibers of one OS thread, so a
// table indexed by the simulated thread.
#pragma once

#include "sync/platform/config.h"
#include "sync/platform/invariant.h"

namespace weft::platform {

template <class T>
inline T*& thread_local_pointer() noexcept {
#if defined(WEFT_MODEL)
  constexpr unsigned max_model_threads = 64;  // far more than any scenario declares
  static T* by_thread[max_model_threads] = {};
#if defined(WEFT_MODEL_DPOR)
  const unsigned index = detail::engine().thread_index();
#else
  const unsigned index = rl::thread_index();
#endif
  WEFT_INVARIANT(index < max_model_threads);
  return by_thread[index];
#else
  thread_local T* current = nullptr;
  return current;
#endif
}

}  // namespace weft::platform
