// Sleep as tokio/tests/time_sleep.rs has it: sleep(d) and timeout(f, d) measure from their
// creation on the context's clock, is_elapsed(), reset() before and after the fire, to
// the past (the waiting task is woken) and before the first poll.
#include "sync/time/sleep.h"

#include "sync/mpsc/bounded.h"
#include "sync/time/timeout.h"
#include "testing/paused_timer.h"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>

namespace {

using namespace std::chrono_literals;
using weft::MockTask;
using weft::testing::PausedTimer;
using weft::testing::poll_under;

TEST_CASE("sleep(d) measures from its creation, on the context's clock") {
  PausedTimer d;
  MockTask task;
  auto sleep = weft::sleep(10ms);
  CHECK(sleep.deadline() == d.start + 10ms);
  (void)d->advance(6ms);
  CHECK(poll_under(d.driver, task, sleep).is_pending());
  CHECK(d->advance(4ms) == 1);
  CHECK(poll_under(d.driver, task, sleep).is_ready());
}

TEST_CASE("timeout(f, d) measures from its creation") {
  PausedTimer d;
  auto [tx, rx] = weft::mpsc::channel<int>(1);
  MockTask task;
  auto recv = weft::timeout(rx.recv(), 10ms);
  (void)d->advance(10ms);
  auto out = poll_under(d.driver, task, recv);  // first poll, deadline already passed
  REQUIRE(out.is_ready());
  CHECK(out.value().is_err());
}

TEST_CASE("outside every timer context, sleep(d) measures from the steady clock") {
  const weft::Instant before = weft::detail::steady_now();
  auto sleep = weft::sleep(1h);  // no PausedTimer here: this thread has no timer context
  CHECK(sleep.deadline() >= before + 1h);
  CHECK(sleep.deadline() <= weft::detail::steady_now() + 1h);
}

// tokio/tests/time_sleep.rs is_elapsed.
TEST_CASE("is_elapsed: only once the timer has fired or the sleep was ready") {
  PausedTimer d;
  MockTask task;
  auto sleep = weft::sleep(10ms);
  CHECK_FALSE(sleep.is_elapsed());
  CHECK(poll_under(d.driver, task, sleep).is_pending());
  CHECK_FALSE(sleep.is_elapsed());
  (void)d->advance(10ms);
  CHECK(sleep.is_elapsed());  // fired, before the task polls again
  CHECK(poll_under(d.driver, task, sleep).is_ready());
  CHECK(sleep.is_elapsed());
  auto past = weft::sleep_until(d.start);
  CHECK_FALSE(past.is_elapsed());  // as Tokio: not polled yet
  CHECK(poll_under(d.driver, task, past).is_ready());
  CHECK(past.is_elapsed());
}

// tokio/tests/time_sleep.rs reset_future_sleep_before_fire.
TEST_CASE("reset to a later deadline before the fire keeps the waiter") {
  PausedTimer d;
  MockTask task;
  auto sleep = weft::sleep_until(d.start + 100ms);
  CHECK(poll_under(d.driver, task, sleep).is_pending());
  sleep.reset(d.start + 200ms);
  CHECK(sleep.deadline() == d.start + 200ms);
  CHECK(d->advance(100ms) == 0);
  CHECK_FALSE(task.is_woken());
  CHECK(d->advance(100ms) == 1);  // the waker of the first poll, at the new deadline
  CHECK(task.wake_count() == 1);
  CHECK(poll_under(d.driver, task, sleep).is_ready());
}

// tokio/tests/time_sleep.rs reset_past_sleep_before_turn.
TEST_CASE("reset to an earlier future deadline fires then") {
  PausedTimer d;
  MockTask task;
  auto sleep = weft::sleep_until(d.start + 100ms);
  CHECK(poll_under(d.driver, task, sleep).is_pending());
  sleep.reset(d.start + 80ms);
  CHECK(d->next_deadline() == d.start + 80ms);
  CHECK(d->advance(80ms) == 1);
  CHECK(poll_under(d.driver, task, sleep).is_ready());
  CHECK(d->size() == 0);
}

// tokio/tests/time_sleep.rs reset_sleep_to_past: ready at the next poll; weft also wakes
// the task (the TODO there), so a waiter is not left until someone polls it.
TEST_CASE("reset to a passed deadline wakes the task and is ready") {
  PausedTimer d;
  MockTask task;
  auto sleep = weft::sleep_until(d.start + 100ms);
  CHECK(poll_under(d.driver, task, sleep).is_pending());
  (void)d->advance(50ms);
  CHECK_FALSE(task.is_woken());
  sleep.reset(d.start + 40ms);
  CHECK(task.wake_count() == 1);
  CHECK(d->size() == 0);
  CHECK(poll_under(d.driver, task, sleep).is_ready());
  CHECK(sleep.is_elapsed());
}

// tokio/tests/time_sleep.rs reset_future_sleep_after_fire.
TEST_CASE("reset after the fire waits again") {
  PausedTimer d;
  MockTask task;
  auto sleep = weft::sleep_until(d.start + 100ms);
  CHECK(poll_under(d.driver, task, sleep).is_pending());
  (void)d->advance(100ms);
  CHECK(poll_under(d.driver, task, sleep).is_ready());
  sleep.reset(d.start + 110ms);
  CHECK_FALSE(sleep.is_elapsed());
  CHECK(poll_under(d.driver, task, sleep).is_pending());
  CHECK(d->advance(10ms) == 1);
  CHECK(task.wake_count() == 2);
  CHECK(poll_under(d.driver, task, sleep).is_ready());
}

TEST_CASE("reset before the first poll only moves the deadline; the sleep stays movable") {
  PausedTimer d;
  MockTask task;
  auto sleep = weft::sleep(10ms);
  sleep.reset(d.start + 30ms);
  weft::Sleep moved = std::move(sleep);
  CHECK(moved.deadline() == d.start + 30ms);
  CHECK(poll_under(d.driver, task, moved).is_pending());
  CHECK(d->advance(20ms) == 0);
  CHECK(d->advance(10ms) == 1);
  CHECK(poll_under(d.driver, task, moved).is_ready());
}

// tokio/tests/time_sleep.rs drop_after_reschedule_at_new_scheduled_time: a reset entry
// dropped after others fired leaves the heap clean.
TEST_CASE("a reset entry is unlinked by its drop") {
  PausedTimer d;
  MockTask a, b, c;
  auto first = weft::sleep(5ms);
  std::optional<weft::Sleep> second(weft::sleep(5ms));
  auto third = weft::sleep(10ms);
  CHECK(poll_under(d.driver, a, first).is_pending());
  CHECK(poll_under(d.driver, b, *second).is_pending());
  CHECK(poll_under(d.driver, c, third).is_pending());
  second->reset(d.start + 10ms);
  CHECK(d->advance(5ms) == 1);
  second.reset();
  CHECK(d->size() == 1);
  CHECK(b.wake_count() == 0);
  CHECK(b.waker_ref_count() == 0);
}

}  // namespace
