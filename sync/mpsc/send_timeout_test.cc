// Sender::send_timeout (tokio/src/sync/mpsc/bounded.rs send_timeout): capacity within the
// timeout sends; the deadline or a close hands the value back in SendTimeoutError. And
// why it exists: weft::timeout around send() destroys the value with the send future.
#include "sync/mpsc/bounded.h"

#include "sync/time/timeout.h"
#include "testing/counted.h"
#include "testing/paused_timer.h"

#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>
#include <utility>

namespace {

using namespace std::chrono_literals;
using weft::MockTask;
using weft::testing::Counted;
using weft::testing::PausedTimer;
using weft::testing::poll_under;

TEST_CASE("send_timeout sends when capacity comes in time") {
  PausedTimer d;
  auto [tx, rx] = weft::mpsc::channel<int>(1);
  REQUIRE(tx.try_send(1).is_ok());
  MockTask task;
  auto send = tx.send_timeout(2, 10ms);
  CHECK(poll_under(d.driver, task, send).is_pending());
  CHECK(*rx.try_recv() == 1);
  CHECK(task.is_woken());
  auto out = poll_under(d.driver, task, send);
  REQUIRE(out.is_ready());
  CHECK(out.value().is_ok());
  CHECK(*rx.try_recv() == 2);
  CHECK(d.driver->size() == 0);  // the timer left with the completed future
}

TEST_CASE("send_timeout hands the value back at the deadline and keeps the channel usable") {
  CHECK(Counted::live() == 0);
  {
    PausedTimer d;
    auto [tx, rx] = weft::mpsc::channel<Counted>(1);
    REQUIRE(tx.try_send(Counted(1)).is_ok());
    MockTask task;
    auto send = tx.send_timeout(Counted(2), 10ms);
    CHECK(poll_under(d.driver, task, send).is_pending());
    CHECK(d.driver->advance(9ms) == 0);
    CHECK(d.driver->advance(1ms) == 1);
    CHECK(task.is_woken());
    auto out = poll_under(d.driver, task, send);
    REQUIRE(out.is_ready());
    REQUIRE(out.value().is_err());
    CHECK(out.value().error().is_timeout());
    CHECK(std::string(out.value().error().message()) == "timed out waiting on send operation");
    CHECK(std::move(out.value().error()).into_inner().value == 2);
    CHECK_THROWS_AS((void)poll_under(d.driver, task, send), std::invalid_argument);
    // The place in the queue was given back: the next value takes the freed capacity.
    CHECK(rx.try_recv()->value == 1);
    CHECK(tx.try_send(Counted(3)).is_ok());
    CHECK(rx.try_recv()->value == 3);
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("send_timeout on a closed channel gives Closed with the value") {
  PausedTimer d;
  auto [tx, rx] = weft::mpsc::channel<int>(1);
  REQUIRE(tx.try_send(1).is_ok());
  MockTask task;
  auto send = tx.send_timeout(2, 10ms);
  CHECK(poll_under(d.driver, task, send).is_pending());
  rx.close();
  CHECK(task.is_woken());
  auto out = poll_under(d.driver, task, send);
  REQUIRE(out.is_ready());
  REQUIRE(out.value().is_err());
  CHECK(out.value().error().is_closed());
  CHECK(out.value().error().value == 2);
}

TEST_CASE("capacity free at once: send_timeout is ready at the first poll") {
  PausedTimer d;
  auto [tx, rx] = weft::mpsc::channel<int>(1);
  MockTask task;
  auto send = tx.send_timeout(5, 0ms);  // a zero timeout still takes free capacity
  auto out = poll_under(d.driver, task, send);
  REQUIRE(out.is_ready());
  CHECK(out.value().is_ok());
  CHECK(*rx.try_recv() == 5);
}

// Why send_timeout exists: timeout() destroys the send future at the deadline, and the
// send future destroys its value (as in Tokio).
TEST_CASE("timeout around send() destroys the value; send_timeout does not") {
  CHECK(Counted::live() == 0);
  {
    PausedTimer d;
    auto [tx, rx] = weft::mpsc::channel<Counted>(1);
    REQUIRE(tx.try_send(Counted(1)).is_ok());
    MockTask task;
    auto wrapped = weft::timeout(tx.send(Counted(2)), 10ms);
    CHECK(poll_under(d.driver, task, wrapped).is_pending());
    CHECK(Counted::live() == 2);
    (void)d.driver->advance(10ms);
    auto out = poll_under(d.driver, task, wrapped);
    REQUIRE(out.is_ready());
    CHECK(out.value().is_err());  // Elapsed
    CHECK(Counted::live() == 1);  // the 2 is gone with the send future
  }
  CHECK(Counted::live() == 0);
}

// Tokio's send_timeout is an async fn: its timeout starts when the body first runs, at the
// first poll (unlike timeout(f, d), which starts at its creation).
TEST_CASE("send_timeout's timeout starts at the first poll") {
  PausedTimer d;
  auto [tx, rx] = weft::mpsc::channel<int>(1);
  REQUIRE(tx.try_send(1).is_ok());
  MockTask task;
  auto send = tx.send_timeout(2, 10ms);
  (void)d->advance(10ms);
  CHECK(poll_under(d.driver, task, send).is_pending());
  CHECK(d->advance(9ms) == 0);
  CHECK(d->advance(1ms) == 1);
  auto out = poll_under(d.driver, task, send);
  REQUIRE(out.is_ready());
  CHECK(out.value().error().is_timeout());
}

}  // namespace
