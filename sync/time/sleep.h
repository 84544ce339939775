// weft/sync/time/sleep.h: weft::sleep(duration) and weft::sleep_until(deadline), futures
// ready once the time has come on the current timer driver's clock (timer_driver.h).
//
// Follows tokio/src/time/sleep.rs: sleep(duration) is sleep_until(now + duration), `now`
// read when it is called, on the clock of this thread's timer context (a paused driver's
// frozen time; Tokio's Instant::now()); created outside every context (weft allows it,
// Tokio panics) it reads the steady clock, so a sleep for a paused driver is made under
// it. A duration of zero or less is ready at the first poll; a huge one never fires (it
// saturates, no overflow). reset(deadline) moves it, before or after it completed.
//
// Concurrency: polled and reset by one task at a time (as any future); the driver may fire
// it from any thread at once. Cancel-safety: destroying a Sleep unregisters it; it holds
// nothing else. Memory ordering: the driver's fire (fire_due / advance, or an executor's
// tick) happens-before the poll that returns ready and an is_elapsed() that returns true.
// Polled outside every timer context, it throws std::invalid_argument ("no timer").
//
//   weft::LocalExecutor ex;
//   ex.run_until([]() -> weft::Task<void> {
//     co_await weft::sleep(std::chrono::milliseconds(10));   // parks the executor 10 ms
//   }());
#pragma once

#include "sync/platform/invariant.h"
#include "sync/task/poll.h"
#include "sync/task/waker.h"
#include "sync/time/clock.h"
#include "sync/time/timer_driver.h"

#include <chrono>

namespace weft {

class [[nodiscard]] Sleep {
 public:
  // Ready at `deadline`.
  explicit Sleep(Instant deadline) : deadline_(deadline) {}
  // Movable until first polled (as every weft future).
  Sleep(Sleep&& other) noexcept : deadline_(other.deadline_) {
    WEFT_INVARIANT(!other.entry_.registered());
  }

  Poll<void> poll(Context& cx) { return entry_.poll(cx, deadline_); }

  // The instant it completes at.
  Instant deadline() const noexcept { return deadline_; }

  // The timer has fired (or a poll found the deadline passed) since the last reset; as
  // Tokio's, false before the first poll even if the deadline has passed.
  bool is_elapsed() const noexcept { return entry_.elapsed(); }

  // Completes at `deadline` instead, whether or not it completed already (Tokio's
  // Sleep::reset): a waiting task stays registered and is woken at the new deadline, at
  // once if that has passed; after completing it is pending again until then.
  void reset(Instant deadline) {
    deadline_ = deadline;
    entry_.reset(deadline);
  }

 private:
  Instant deadline_;
  detail::TimerEntry entry_;
};

inline Sleep sleep_until(Instant deadline) { return Sleep(deadline); }

template <class Rep, class Period>
Sleep sleep(std::chrono::duration<Rep, Period> duration) {
  return Sleep(detail::saturating_add(TimerDriver::context_now(), detail::to_duration(duration)));
}

}  // namespace weft
