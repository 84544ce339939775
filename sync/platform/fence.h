// weft/sync/platform/fence.h: a thread fence with an explicit order.
#pragma once

#include "sync/platform/config.h"

#include <atomic>
#include <source_location>

namespace weft::platform {

#if defined(WEFT_MODEL)
inline void fence(std::memory_order order,
                  std::source_location loc = std::source_location::current()) {
  rl::atomic_thread_fence(detail::to_relacy(order), detail::where(loc));
}
#else
inline void fence(std::memory_order order) noexcept { std::atomic_thread_fence(order); }
#endif

}  // namespace weft::platform
