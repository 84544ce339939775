// weft/sync/task/timer_slot.h: TimerSlot, the timer context of the driver running on this
// thread (a block_on call, an executor's driving thread or worker), as the task layer sees
// it. The time layer (sync/time/) sits above this one, so the slot names its driver only
// by a forward declaration, and block_on parks through the function the time layer left in
// it when it made the driver.
//
// The innermost driver wins: block_on and the executors install their slot for the
// duration of their polls and put the previous one back (TimerSlotScope), so a block_on
// nested in a task gets timers of its own (its thread is blocked, the executor's driver
// cannot fire them).
#pragma once

#include "sync/platform/clock.h"
#include "sync/platform/thread_local_pointer.h"
#include "sync/task/thread_waker.h"

namespace weft {
class TimerDriver;  // sync/time/timer_driver.h
}

namespace weft::detail {

struct TimerSlot {
  // The driver of this context, or null until a timer asks for one (block_on makes it on
  // demand: sync/time/timer_driver.h, TimerDriver::current()). Owned: one reference.
  TimerDriver* driver = nullptr;
  // How block_on parks while `driver` holds timers: until unparked, the next timer
  // deadline (then it fires what is due) or `limit`; false only when `limit` passed. Set
  // with `driver` by the time layer; null in an executor's slot (the executor parks itself).
  bool (*park)(TimerDriver* driver, ThreadWaker& thread,
               platform::clock::time_point limit) = nullptr;
  // Drops `driver`'s reference; set with `driver`.
  void (*release)(TimerDriver* driver) noexcept = nullptr;

  // block_on's park: through the driver if this call made one, else on the thread alone.
  // False only when `limit` (time_point::max(): none) passed.
  bool park_until(ThreadWaker& thread, platform::clock::time_point limit) {
    if (driver != nullptr) return park(driver, thread, limit);
    if (limit == platform::clock::time_point::max()) {
      thread.park();
      return true;
    }
    return thread.park_until(limit);
  }
};

// A block_on call's own slot: releases the driver the call's timers made, if any.
struct OwnedTimerSlot : TimerSlot {
  OwnedTimerSlot() = default;
  OwnedTimerSlot(const OwnedTimerSlot&) = delete;
  OwnedTimerSlot& operator=(const OwnedTimerSlot&) = delete;
  ~OwnedTimerSlot() {
    if (driver != nullptr) release(driver);
  }
};

inline TimerSlot*& current_timer_slot() noexcept {
  return platform::thread_local_pointer<TimerSlot>();
}

// Installs `slot` as this thread's timer context until destroyed, then puts back the one
// it replaced.
class TimerSlotScope {
 public:
  explicit TimerSlotScope(TimerSlot& slot) noexcept : previous_(current_timer_slot()) {
    current_timer_slot() = &slot;
  }
  ~TimerSlotScope() { current_timer_slot() = previous_; }
  TimerSlotScope(const TimerSlotScope&) = delete;
  TimerSlotScope& operator=(const TimerSlotScope&) = delete;

 private:
  TimerSlot* previous_;
};

}  // namespace weft::detail
