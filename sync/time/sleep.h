// weft/sync/time/sleep.h: weft::sleep(duration) and weft::sleep_until(deadline), futures
// ready once the time has come on the current timer driver's clock (timer_driver.h).
//
// Follows tokio/src/time/sleep.rs, with one difference: sleep(duration) takes its start
// from the first poll (a C++ future may be built long before an executor first polls it,
// and only then is its driver known); sleep_until(deadline) is the same in both. A
// duration of zero or less is ready at the first poll; a huge one never fires (it
// saturates, no overflow).
//
// Concurrency: polled by one task at a time (as any future); the driver may fire it from
// any thread at once. Cancel-safety: destroying a Sleep unregisters it; it holds nothing
// else. Memory ordering: the driver's fire (fire_due / advance, or an executor's tick)
// happens-before the poll that returns ready. Polled outside every timer context, it
// throws std::invalid_argument ("no timer").
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
#include <optional>

namespace weft {

class [[nodiscard]] Sleep {
 public:
  // Ready at `deadline`.
  explicit Sleep(Instant deadline) : deadline_(deadline) {}
  // Ready `delay` after the first poll.
  explicit Sleep(Duration delay) : delay_(delay) {}
  // Movable until first polled (as every weft future).
  Sleep(Sleep&& other) noexcept : deadline_(other.deadline_), delay_(other.delay_) {
    WEFT_INVARIANT(!other.entry_.registered());
  }

  Poll<void> poll(Context& cx) {
    if (!deadline_) deadline_ = detail::saturating_add(TimerDriver::current().now(), delay_);
    return entry_.poll(cx, *deadline_);
  }

  // The deadline, once known (sleep_until: always; sleep: from the first poll).
  std::optional<Instant> deadline() const noexcept { return deadline_; }

 private:
  std::optional<Instant> deadline_;
  Duration delay_{};
  detail::TimerEntry entry_;
};

inline Sleep sleep_until(Instant deadline) { return Sleep(deadline); }

template <class Rep, class Period>
Sleep sleep(std::chrono::duration<Rep, Period> duration) {
  return Sleep(detail::to_duration(duration));
}

}  // namespace weft
