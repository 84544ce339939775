// weft/sync/time/clock.h: the clock weft's timers read: Instant, Duration and the steady
// time now.
//
// Timers read platform::clock (platform/clock.h): std::chrono::steady_clock in
// production, virtual time in the model build, the clock every weft deadline is measured
// on (parker::park_until, block_on_until). A TimerDriver (timer_driver.h) reads it unless
// paused, when it reads its own frozen time instead (tests: pause, advance, as
// tokio::time::pause / advance).
#pragma once

#include "sync/platform/clock.h"

#include <chrono>

namespace weft {

using Instant = platform::clock::time_point;
using Duration = platform::clock::duration;

namespace detail {

inline Instant steady_now() noexcept { return platform::clock::now(); }

// `d` as a Duration, rounded up (a timer never fires early), saturating at Duration::max()
// and at zero for a negative `d` (as std::this_thread::sleep_for, which returns at once):
// a huge timeout means "never", not an overflow.
template <class Rep, class Period>
Duration to_duration(std::chrono::duration<Rep, Period> d) {
  using Long = std::chrono::duration<long double, Period>;
  if (d <= d.zero()) return Duration::zero();
  if (Long(d) >= std::chrono::duration_cast<Long>(Duration::max())) return Duration::max();
  return std::chrono::ceil<Duration>(d);
}

// `at + d` (d >= 0), saturating at Instant::max().
inline Instant saturating_add(Instant at, Duration d) {
  return d >= Instant::max() - at ? Instant::max() : at + d;
}

}  // namespace detail
}  // namespace weft
