// weft::timeout: the future's output, or Elapsed at the deadline with the future destroyed
// (its cancel-safety applies); a future ready at the deadline wins (the order of
// tokio/src/time/timeout.rs).
#include "sync/time/timeout.h"

#include "sync/mpsc/bounded.h"
#include "sync/oneshot.h"
#include "testing/counted.h"
#include "testing/paused_timer.h"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
using weft::MockTask;
using weft::testing::Counted;
using weft::testing::PausedTimer;
using weft::testing::poll_past_deadline;
using weft::testing::poll_under;

TEST_CASE("timeout returns the output when the future completes in time") {
  PausedTimer d;
  auto [tx, rx] = weft::mpsc::channel<int>(4);
  MockTask task;
  auto recv = weft::timeout(rx.recv(), 10ms);
  CHECK(poll_under(d.driver, task, recv).is_pending());
  CHECK(d.driver->size() == 1);
  REQUIRE(tx.try_send(3).is_ok());
  CHECK(task.is_woken());
  auto out = poll_under(d.driver, task, recv);
  REQUIRE(out.is_ready());
  REQUIRE(out.value().is_ok());
  CHECK(*out.value() == std::optional<int>(3));
  CHECK(d.driver->size() == 0);  // the timer went with the future
  CHECK_THROWS_AS((void)poll_under(d.driver, task, recv), std::invalid_argument);
}

TEST_CASE("timeout returns Elapsed at the deadline, and recv loses nothing") {
  PausedTimer d;
  auto [tx, rx] = weft::mpsc::channel<int>(4);
  MockTask task;
  {
    auto recv = weft::timeout(rx.recv(), 10ms);
    auto out = poll_past_deadline(d, task, recv, 10ms);  // the fire woke the task
    REQUIRE(out.is_ready());
    REQUIRE(out.value().is_err());
    CHECK(out.value().error() == weft::Elapsed{});
    CHECK(std::string(weft::Elapsed::message()) == "deadline has elapsed");
    CHECK(recv.get() == nullptr);  // the recv future is gone already
  }
  REQUIRE(tx.try_send(4).is_ok());  // the receiver is untouched
  CHECK(*rx.try_recv() == 4);
}

TEST_CASE("a future ready at the deadline wins over Elapsed") {
  PausedTimer d;
  auto [tx, rx] = weft::mpsc::channel<int>(4);
  MockTask task;
  auto recv = weft::timeout(rx.recv(), 10ms);
  CHECK(poll_under(d.driver, task, recv).is_pending());
  (void)d.driver->advance(10ms);
  REQUIRE(tx.try_send(5).is_ok());
  auto out = poll_under(d.driver, task, recv);
  REQUIRE(out.is_ready());
  REQUIRE(out.value().is_ok());
  CHECK(*out.value() == std::optional<int>(5));
}

TEST_CASE("timeout_at, a void future, and no leak of an owned value") {
  CHECK(Counted::live() == 0);
  {
    PausedTimer d;
    auto [tx, rx] = weft::oneshot::channel<Counted>();
    MockTask task;
    auto recv = weft::timeout_at(std::move(rx), d.driver->now() + 5ms);
    CHECK(poll_under(d.driver, task, recv).is_pending());
    CHECK(std::move(tx).send(Counted(9)).is_ok());
    (void)d.driver->advance(5ms);
    auto out = poll_under(d.driver, task, recv);  // both ready: the value wins
    REQUIRE(out.is_ready());
    REQUIRE(out.value().is_ok());
    CHECK(out.value().value()->value == 9);
  }
  CHECK(Counted::live() == 0);
  {
    PausedTimer d;
    auto [tx, rx] = weft::oneshot::channel<Counted>();
    MockTask task;
    auto recv = weft::timeout(std::move(rx), 5ms);
    CHECK(poll_under(d.driver, task, recv).is_pending());
    (void)d.driver->advance(5ms);
    CHECK(poll_under(d.driver, task, recv).value().is_err());
    CHECK(std::move(tx).send(Counted(1)).is_err());  // the receiver went with the timeout
  }
  CHECK(Counted::live() == 0);
  {
    PausedTimer d;
    MockTask task;
    auto nested = weft::timeout(weft::sleep(1ms), 5ms);  // Output void
    CHECK(poll_under(d.driver, task, nested).is_pending());
    (void)d.driver->advance(1ms);
    CHECK(poll_under(d.driver, task, nested).value().is_ok());
  }
}

// tokio/src/time/timeout.rs get_ref, get_mut, into_inner; weft destroys the future when
// the timeout completes, so after that they throw instead.
TEST_CASE("get_ref, get_mut and into_inner reach the wrapped future") {
  PausedTimer d;
  MockTask task;
  auto nested = weft::timeout(weft::sleep(5ms), 10ms);
  CHECK(nested.get_ref().deadline() == d.start + 5ms);
  nested.get_mut().reset(d.start + 20ms);
  CHECK(poll_under(d.driver, task, nested).is_pending());
  CHECK(d->advance(10ms) == 1);  // the timeout's own timer, not the inner sleep's
  CHECK(poll_under(d.driver, task, nested).value().is_err());
  CHECK_THROWS_AS((void)nested.get_ref(), std::invalid_argument);
  CHECK_THROWS_AS((void)nested.get_mut(), std::invalid_argument);
  CHECK_THROWS_AS((void)std::move(nested).into_inner(), std::invalid_argument);

  auto unpolled = weft::timeout(weft::sleep(5ms), 10ms);
  weft::Sleep inner = std::move(unpolled).into_inner();
  CHECK(inner.deadline() == d.start + 15ms);  // made after the 10 ms advance
  CHECK(d->size() == 0);
}

}  // namespace
