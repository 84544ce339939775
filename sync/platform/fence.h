// weft/sync/platform/fence.h: a thread fence with an explicit order.
#pragma once

#include "sync/platform/config.h"

#include <atomic>
#include <source_location>

namespace weft::platform {

#if defined(WEFT_MODEL_DPOR)

inline void fence(std::memory_order order,
                  std::source_location loc = std::source_location::current()) {
  detail::engine().fence(order, detail::where(loc));
}

#elif defined(WEFT_MODEL_RELACY)

inline void fence(std::memory_order order,
                  std::source_location loc = std::source_location::current()) {
  rl::atomic_thread_fence(detail::to_relacy(order), detail::where(loc));
}

#elif defined(__SANITIZE_THREAD__)

namespace detail {
inline std::atomic<unsigned> tsan_fence_word{0};
}  // namespace detail

// ThreadSanitizer does not model fences (GCC rejects atomic_thread_fence under
// -fsanitize=thread). Under TSan a fence is an RMW of the same order on one shared word:
// between two fencing threads that orders at least as strongly as the fences, so TSan
// sees the synchronization of fence-fence pairs. Fence-to-atomic synchronization is not
// seen by TSan; the model checker, which models fences exactly, covers it.
inline void fence(std::memory_order order) noexcept { detail::tsan_fence_word.fetch_add(0, order); }

#else

inline void fence(std::memory_order order) noexcept { std::atomic_thread_fence(order); }

#endif

}  // namespace weft::platform
