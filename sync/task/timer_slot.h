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

#include "sync/platform/thread_local_pointer.h"

namespace weft {
class TimerDriver;  // sync/time/timer_driver.h
}

namespace weft::detail {

class ThreadWaker;

struct TimerSlot {
  // The driver of this context, or null until a timer asks for one (block_on makes it on
  // demand: sync/time/timer_driver.h, TimerDriver::current()). Owned: one reference.
  TimerDriver* driver = nullptr;
  // How block_on parks while `driver` holds timers: until unparked or the next deadline,
  // then fires what is due. Set with `driver` by the time layer; null in an executor's
  // slot (the executor parks itself).
  void (*park)(TimerDriver* driver, ThreadWaker& thread) = nullptr;
  // Drops `driver`'s reference; set with `driver`.
  void (*release)(TimerDriver* driver) noexcept = nullptr;
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
