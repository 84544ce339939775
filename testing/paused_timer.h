// weft/testing/paused_timer.h: PausedTimer, a TimerDriver whose clock is paused (time moves
// only by advance()) and which is this thread's timer context while it lives (so sleep(d)
// and timeout(f, d) made in the test measure from its frozen time, as under Tokio's
// time::pause()), and poll_under(driver, task, future), one poll of a future as a
// MockTask in that driver's timer context: how unit tests poll timers by hand.
//
//   weft::testing::PausedTimer timer;
//   auto sleep = weft::sleep(std::chrono::milliseconds(10));
//   CHECK(poll_under(timer.driver, task, sleep).is_pending());
//   CHECK(timer->advance(std::chrono::milliseconds(10)) == 1);
#pragma once

#include "sync/task/mock_task.h"
#include "sync/time/clock.h"
#include "sync/time/timer_driver.h"

namespace weft::testing {

struct PausedTimer {
  TimerDriver* driver = TimerDriver::create();
  Instant start;  // the frozen time at construction
  TimerScope scope{*driver};

  PausedTimer() {
    driver->pause();
    start = driver->now();
  }
  ~PausedTimer() { driver->release(); }
  PausedTimer(const PausedTimer&) = delete;
  PausedTimer& operator=(const PausedTimer&) = delete;
  TimerDriver* operator->() const { return driver; }
};

template <class F>
auto poll_under(TimerDriver* driver, MockTask& task, F& future) {
  const TimerScope scope(*driver);
  return task.poll(future);
}

}  // namespace weft::testing
