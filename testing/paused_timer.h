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

#include <chrono>
#include <stdexcept>

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

// Polls `future`, which must wait (pending, a timer registered), moves the clock `by` so
// that its timer fires, and polls it again: its output at the deadline. Throws
// std::logic_error when a step fails: ready at once, no timer fired, or the fire did not
// wake the task.
template <class F, class Rep, class Period>
auto poll_past_deadline(PausedTimer& timer, MockTask& task, F& future,
                        std::chrono::duration<Rep, Period> by) {
  if (!poll_under(timer.driver, task, future).is_pending()) {
    throw std::logic_error("poll_past_deadline: the future did not wait");
  }
  if (timer->advance(by) == 0) throw std::logic_error("poll_past_deadline: no timer fired");
  if (!task.is_woken()) throw std::logic_error("poll_past_deadline: the fire woke no task");
  return poll_under(timer.driver, task, future);
}

}  // namespace weft::testing
