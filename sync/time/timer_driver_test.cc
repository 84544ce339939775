// TimerDriver's heap and clock, and TimerEntry as a waiter: advance fires exactly the due
// timers, in deadline order (FIFO on equal deadlines); a dropped entry is never fired; a
// re-poll moves the registration to the new waker; no timer context is an error.
// Paused-clock tests in the manner of tokio/tests/time_pause.rs.
#include "sync/time/timer_driver.h"

#include "sync/task/mock_task.h"
#include "sync/time/sleep.h"
#include "testing/paused_timer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <vector>

namespace {

using namespace std::chrono_literals;
using weft::Context;
using weft::Instant;
using weft::MockTask;
using weft::Sleep;
using weft::TimerDriver;
using weft::TimerScope;
using weft::testing::PausedTimer;

// A waker that appends its id to a log when woken: the order timers fire in.
struct Logger {
  std::vector<int>* log;
  int id;
  static weft::RawWaker clone(const void* data) { return weft::RawWaker{data, &vtable}; }
  static void wake(const void* data) {
    const Logger* self = static_cast<const Logger*>(data);
    self->log->push_back(self->id);
  }
  static void drop(const void*) noexcept {}
  static constexpr weft::RawWakerVTable vtable{&clone, &wake, &wake, &drop};
  weft::Waker waker() const { return weft::Waker::from_raw(weft::RawWaker{this, &vtable}); }
};

// Polls `sleep` once under `driver` with `waker`: true if ready.
bool poll_with(TimerDriver* driver, Sleep& sleep, const weft::Waker& waker) {
  TimerScope scope(*driver);
  Context cx(waker);
  return sleep.poll(cx).is_ready();
}

TEST_CASE("advance fires exactly the due timers, in deadline order") {
  PausedTimer d;
  std::vector<int> log;
  const int delays_ms[] = {30, 10, 20, 40};
  std::vector<Logger> loggers;
  for (int i = 0; i < 4; ++i) loggers.push_back(Logger{&log, i});
  std::vector<std::unique_ptr<Sleep>> sleeps;
  for (int i = 0; i < 4; ++i) {
    sleeps.push_back(std::make_unique<Sleep>(d.start + std::chrono::milliseconds(delays_ms[i])));
    CHECK_FALSE(poll_with(d.driver, *sleeps.back(), loggers[i].waker()));
  }
  CHECK(d->size() == 4);
  CHECK(d->next_deadline() == d.start + 10ms);

  CHECK(d->advance(9ms) == 0);
  CHECK(log.empty());
  CHECK(d->advance(1ms) == 1);  // exactly at the deadline: due
  CHECK(log == std::vector<int>{1});
  CHECK(d->advance(25ms) == 2);  // 35 ms: the 20 and the 30, in that order
  CHECK(log == std::vector<int>{1, 2, 0});
  CHECK(d->size() == 1);
  CHECK(poll_with(d.driver, *sleeps[1], loggers[1].waker()));  // fired: ready
  CHECK_FALSE(poll_with(d.driver, *sleeps[3], loggers[3].waker()));
  CHECK(d->advance_to_next() == 1);
  CHECK(d->now() == d.start + 40ms);
  CHECK(log == std::vector<int>{1, 2, 0, 3});
  CHECK(d->next_deadline() == std::nullopt);
}

TEST_CASE("equal deadlines fire in registration order") {
  PausedTimer d;
  std::vector<int> log;
  std::vector<Logger> loggers;
  for (int i = 0; i < 5; ++i) loggers.push_back(Logger{&log, i});
  std::vector<std::unique_ptr<Sleep>> sleeps;
  for (int i = 0; i < 5; ++i) {
    sleeps.push_back(std::make_unique<Sleep>(d.start + 5ms));
    CHECK_FALSE(poll_with(d.driver, *sleeps.back(), loggers[i].waker()));
  }
  CHECK(d->advance(5ms) == 5);
  CHECK(log == std::vector<int>{0, 1, 2, 3, 4});
}

TEST_CASE("more due timers than one wake batch all fire, in order") {
  PausedTimer d;
  std::vector<int> log;
  constexpr int count = 100;  // three WakeList batches and a bit
  std::vector<Logger> loggers;
  for (int i = 0; i < count; ++i) loggers.push_back(Logger{&log, i});
  std::vector<std::unique_ptr<Sleep>> sleeps;
  for (int i = count - 1; i >= 0; --i) {
    sleeps.push_back(std::make_unique<Sleep>(d.start + std::chrono::microseconds(i + 1)));
    CHECK_FALSE(poll_with(d.driver, *sleeps.back(), loggers[i].waker()));
  }
  CHECK(d->advance(1ms) == count);
  std::vector<int> expected(count);
  for (int i = 0; i < count; ++i) expected[i] = i;
  CHECK(log == expected);
}

TEST_CASE("a dropped sleep is never fired and leaves the heap") {
  PausedTimer d;
  MockTask a, b;
  auto first = std::make_unique<Sleep>(d.start + 10ms);
  Sleep second(d.start + 20ms);
  CHECK_FALSE(poll_with(d.driver, *first, a.waker()));
  CHECK_FALSE(poll_with(d.driver, second, b.waker()));
  CHECK(a.waker_ref_count() == 1);  // the driver's clone
  first.reset();
  CHECK(a.waker_ref_count() == 0);  // dropped with the entry
  CHECK(d->size() == 1);
  CHECK(d->advance(30ms) == 1);
  CHECK(a.wake_count() == 0);
  CHECK(b.wake_count() == 1);
}

// The heap against a sorted reference: random deadlines, random cancellations, then every
// survivor fires once, in (deadline, registration) order.
TEST_CASE("random registrations and cancellations fire in order") {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    PausedTimer d;
    std::vector<int> log;
    constexpr int count = 64;
    std::vector<Logger> loggers;
    for (int i = 0; i < count; ++i) loggers.push_back(Logger{&log, i});
    std::vector<std::unique_ptr<Sleep>> sleeps;
    std::vector<std::pair<int, int>> expected;  // (deadline, id)
    for (int i = 0; i < count; ++i) {
      const int at = static_cast<int>(rng() % 16) + 1;
      sleeps.push_back(std::make_unique<Sleep>(d.start + std::chrono::milliseconds(at)));
      CHECK_FALSE(poll_with(d.driver, *sleeps.back(), loggers[i].waker()));
      expected.emplace_back(at, i);
    }
    for (int i = 0; i < count; ++i) {
      if (rng() % 3 == 0) {
        sleeps[i].reset();
        expected.erase(std::find_if(expected.begin(), expected.end(),
                                    [&](const auto& e) { return e.second == i; }));
      }
    }
    std::stable_sort(expected.begin(), expected.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    CHECK(d->size() == expected.size());
    for (int ms = 0; ms < 17; ++ms) (void)d->advance(1ms);
    std::vector<int> ids;
    for (const auto& e : expected) ids.push_back(e.second);
    CHECK(log == ids);
    CHECK(d->size() == 0);
  }
}

TEST_CASE("a re-poll with another waker moves the registration to it") {
  PausedTimer d;
  MockTask a, b;
  Sleep sleep(d.start + 10ms);
  CHECK_FALSE(poll_with(d.driver, sleep, a.waker()));
  CHECK_FALSE(poll_with(d.driver, sleep, a.waker()));  // same task: kept, no new clone
  CHECK(a.waker_ref_count() == 1);
  CHECK_FALSE(poll_with(d.driver, sleep, b.waker()));
  CHECK(a.waker_ref_count() == 0);
  (void)d->advance(10ms);
  CHECK(a.wake_count() == 0);
  CHECK(b.wake_count() == 1);
}

TEST_CASE("polled under another driver, a pending sleep moves to it") {
  PausedTimer first, second;
  MockTask task;
  Sleep sleep(first.start + 10ms);
  CHECK_FALSE(poll_with(first.driver, sleep, task.waker()));
  CHECK_FALSE(poll_with(second.driver, sleep, task.waker()));
  CHECK(first->size() == 0);
  CHECK(second->size() == 1);
  CHECK(first->advance(1s) == 0);
  CHECK(second->advance_to_next() == 1);
  CHECK(poll_with(second.driver, sleep, task.waker()));
}

TEST_CASE("a deadline already passed is ready at once and registers nothing") {
  PausedTimer d;
  MockTask task;
  Sleep past(d.start - 1ms);
  Sleep now(d.start);
  auto zero = weft::sleep(0ms);
  auto negative = weft::sleep(-5s);
  CHECK(poll_with(d.driver, past, task.waker()));
  CHECK(poll_with(d.driver, now, task.waker()));
  CHECK(poll_with(d.driver, zero, task.waker()));
  CHECK(poll_with(d.driver, negative, task.waker()));
  CHECK(d->size() == 0);
  CHECK(task.waker_ref_count() == 0);
}

TEST_CASE("sleep(duration) saturates instead of overflowing") {
  PausedTimer d;
  MockTask task;
  auto sleep = weft::sleep(10ms);
  (void)d->advance(5ms);
  CHECK_FALSE(poll_with(d.driver, sleep, task.waker()));
  auto forever = weft::sleep(std::chrono::hours::max());
  CHECK_FALSE(poll_with(d.driver, forever, task.waker()));
  CHECK(forever.deadline() == Instant::max());
  (void)d->advance(24h * 365 * 100);
  CHECK(task.wake_count() == 1);  // the 10 ms one only
}

TEST_CASE("misuse is a clear error") {
  MockTask task;
  auto sleep = weft::sleep(1ms);
  // No timer context on this thread (Tokio panics "no timer"-like).
  CHECK_THROWS_AS((void)task.poll(sleep), std::invalid_argument);
  TimerDriver* driver = TimerDriver::create();
  CHECK_THROWS_AS(driver->advance(1ms), std::invalid_argument);  // not paused
  CHECK_THROWS_AS(driver->resume(), std::invalid_argument);
  driver->pause();
  CHECK_THROWS_AS(driver->pause(), std::invalid_argument);
  CHECK_THROWS_AS(driver->advance(-1ms), std::invalid_argument);
  driver->resume();
  CHECK_FALSE(driver->is_paused());
  driver->release();
}

TEST_CASE("the real clock fires a short sleep with fire_due") {
  TimerDriver* driver = TimerDriver::create();
  MockTask task;
  {
    auto sleep = weft::sleep(1ms);
    CHECK_FALSE(poll_with(driver, sleep, task.waker()));
    const Instant deadline = sleep.deadline();
    while (driver->now() < deadline) {
    }
    CHECK(driver->fire_due() == 1);
    CHECK(task.wake_count() == 1);
    CHECK(poll_with(driver, sleep, task.waker()));
  }
  driver->release();
}

TEST_CASE("an entry outliving its driver's owner keeps the driver alive") {
  TimerDriver* driver = TimerDriver::create();
  MockTask task;
  auto sleep = std::make_unique<Sleep>(weft::Instant::max());
  CHECK_FALSE(poll_with(driver, *sleep, task.waker()));
  driver->release();  // the owner is gone; the entry holds the last reference
  sleep.reset();      // unregisters and frees the driver (asan twin: no leak, no use after free)
}

}  // namespace
