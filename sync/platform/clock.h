// weft/sync/platform/clock.h: the clock every weft deadline is measured on.
//
//   platform::clock::time_point deadline = platform::deadline_after(std::chrono::milliseconds(5));
//   bool woken = parker.park_until(deadline);   // false: the deadline passed first
//
// Production: std::chrono::steady_clock itself (monotonic; never jumps with the wall
// clock). Model build: virtual time. It starts at zero in every execution and moves only
// when a timed wait times out, to that wait's deadline; whether and when a timed wait
// times out is the checker's choice at every step (Relacy: its timed condvar wait; DPOR:
// a choice at the wait, a later timeout being the same with the relock later), so "the
// timeout races the wakeup" is explored both ways and no scenario depends on how fast the
// machine is. After a timed wait timed out, now() >= its deadline, in both builds. On
// DPOR the clock is the engine's and now() is a scheduling point, so a read and another
// thread's timeout are explored in both orders (Relacy: a plain read, in the order run).
#pragma once

#include "sync/platform/config.h"

#include <chrono>
#include <cstdint>
#include <ratio>
#include <source_location>

namespace weft::platform {

#if defined(WEFT_MODEL)

// The model build's clock types: nanoseconds of virtual time since the execution began.
template <class Clock>
struct virtual_clock_types {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<Clock, duration>;
  static constexpr bool is_steady = true;
};

#endif

#if defined(WEFT_MODEL_DPOR)

class clock : public virtual_clock_types<clock> {
  using here = std::source_location;

 public:
  static time_point now(here loc = here::current()) noexcept {
    return time_point(duration(detail::engine().clock_now(detail::where(loc))));
  }
  // The engine's clock starts at zero in every execution and moves at a timeout
  // (condvar::wait_until hands the engine its deadline).
  static void reset() noexcept {}
};

#elif defined(WEFT_MODEL)

class clock : public virtual_clock_types<clock> {
 public:
  static time_point now() noexcept { return time_point(duration(now_)); }

  // Called by a timed wait that timed out: time reaches its deadline (never goes back).
  static void advance_to(time_point deadline) noexcept {
    if (deadline.time_since_epoch().count() > now_) now_ = deadline.time_since_epoch().count();
  }
  // Called by the harness before each execution (model/harness/execution.cc).
  static void reset() noexcept { now_ = 0; }

 private:
  // The checker runs one execution at a time on one OS thread (its model threads are
  // fibers), so plain data suffices; it is the checker's time, not the program's data.
  static inline rep now_ = 0;
};

#else

using clock = std::chrono::steady_clock;

#endif

// now() + timeout, rounded up to the clock's tick and saturated at time_point::max(): a
// huge timeout (hours::max()) means "no deadline", never an overflow into the past. A
// timeout <= 0 is a deadline already passed (now()).
template <class Rep, class Period>
clock::time_point deadline_after(std::chrono::duration<Rep, Period> timeout) noexcept {
  const clock::time_point now = clock::now();
  if (timeout <= timeout.zero()) return now;
  // Compared in long double: neither unit's conversion to the other can overflow.
  using wide = std::chrono::duration<long double, std::nano>;
  if (wide(timeout) >= wide(clock::time_point::max() - now)) return clock::time_point::max();
  return now + std::chrono::ceil<clock::duration>(timeout);
}

}  // namespace weft::platform
