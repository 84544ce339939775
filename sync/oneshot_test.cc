// Unit tests of oneshot. Ported from tokio/tests/sync_oneshot.rs, plus counted values
// (every value destroyed exactly once) and the misuse paths.
#include "sync/oneshot.h"
#include "sync/platform/atomic.h"

#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/waker_leak_check.h"
#include "testing/counted.h"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using weft::Context;
using weft::MockTask;
namespace oneshot = weft::oneshot;
using oneshot::RecvError;
using oneshot::TryRecvError;

using Counted = weft::testing::Counted;

struct LiveCheck {
  LiveCheck() { REQUIRE(Counted::live() == 0); }
  ~LiveCheck() { CHECK(Counted::live() == 0); }
};

template <class F>
auto poll_closed(MockTask& task, oneshot::Sender<F>& tx) {
  return task.enter([&](Context& cx) { return tx.poll_closed(cx); });
}

TEST_CASE("send_recv") {
  auto [tx, rx] = oneshot::channel<int>();
  MockTask task;
  CHECK(task.poll(rx).is_pending());
  CHECK(std::move(tx).send(1).is_ok());
  CHECK(task.is_woken());
  auto out = task.poll(rx);
  REQUIRE(out.is_ready());
  CHECK(*out.value() == 1);
}

TEST_CASE("async_send_recv") {
  auto [tx, rx] = oneshot::channel<int>();
  CHECK(std::move(tx).send(1).is_ok());
  auto r = weft::block_on(rx);
  REQUIRE(r.is_ok());
  CHECK(*r == 1);
}

TEST_CASE("close_tx") {
  auto [tx, rx] = oneshot::channel<int>();
  MockTask task;
  CHECK(task.poll(rx).is_pending());
  { auto gone = std::move(tx); }
  CHECK(task.is_woken());
  auto out = task.poll(rx);
  REQUIRE(out.is_ready());
  CHECK(out.value().is_err());
  CHECK(out.value().error() == RecvError{});
}

TEST_CASE("close_rx") {
  {
    auto [tx, rx] = oneshot::channel<int>();
    { auto gone = std::move(rx); }
    auto r = std::move(tx).send(1);
    REQUIRE(r.is_err());
    CHECK(r.error() == 1);
  }
  auto [tx, rx] = oneshot::channel<int>();
  MockTask task;
  CHECK(poll_closed(task, tx).is_pending());
  { auto gone = std::move(rx); }
  CHECK(task.is_woken());
  CHECK(tx.is_closed());
  CHECK(poll_closed(task, tx).is_ready());
  CHECK(std::move(tx).send(1).is_err());
}

TEST_CASE("async_rx_closed") {
  auto [tx, rx] = oneshot::channel<int>();
  std::thread t([rx = std::move(rx)]() mutable { auto gone = std::move(rx); });
  weft::block_on(tx.closed());
  CHECK(tx.is_closed());
  t.join();
}

TEST_CASE("explicit_close_poll") {
  {
    // With a message sent.
    auto [tx, rx] = oneshot::channel<int>();
    MockTask task;
    CHECK(std::move(tx).send(1).is_ok());
    rx.close();
    auto out = task.poll(rx);
    REQUIRE(out.is_ready());
    CHECK(*out.value() == 1);
  }
  {
    // Without the message sent.
    auto [tx, rx] = oneshot::channel<int>();
    MockTask tx_task, rx_task;
    CHECK(poll_closed(tx_task, tx).is_pending());
    rx.close();
    CHECK(tx_task.is_woken());
    CHECK(tx.is_closed());
    CHECK(poll_closed(tx_task, tx).is_ready());
    CHECK(std::move(tx).send(1).is_err());
    auto out = rx_task.poll(rx);
    REQUIRE(out.is_ready());
    CHECK(out.value().is_err());
  }
  {
    // Again, but without sending the value this time.
    auto [tx, rx] = oneshot::channel<int>();
    MockTask tx_task, rx_task;
    CHECK(poll_closed(tx_task, tx).is_pending());
    rx.close();
    CHECK(tx_task.is_woken());
    CHECK(tx.is_closed());
    CHECK(poll_closed(tx_task, tx).is_ready());
    auto out = rx_task.poll(rx);
    REQUIRE(out.is_ready());
    CHECK(out.value().is_err());
  }
}

TEST_CASE("explicit_close_try_recv") {
  {
    auto [tx, rx] = oneshot::channel<int>();
    CHECK(std::move(tx).send(1).is_ok());
    rx.close();
    auto r = rx.try_recv();
    REQUIRE(r.is_ok());
    CHECK(*r == 1);
  }
  auto [tx, rx] = oneshot::channel<int>();
  MockTask task;
  CHECK(poll_closed(task, tx).is_pending());
  rx.close();
  CHECK(task.is_woken());
  CHECK(tx.is_closed());
  CHECK(poll_closed(task, tx).is_ready());
  auto r = rx.try_recv();
  REQUIRE(r.is_err());
  CHECK(r.error() == TryRecvError::Closed);
}

TEST_CASE("close_try_recv_poll") {
  // Tokio panics; weft throws std::invalid_argument when a finished receiver is polled.
  auto [tx, rx] = oneshot::channel<int>();
  MockTask task;
  rx.close();
  CHECK(rx.try_recv().is_err());
  CHECK(rx.is_terminated());
  CHECK_THROWS_AS((void)task.poll(rx), std::invalid_argument);
}

TEST_CASE("close_after_recv") {
  auto [tx, rx] = oneshot::channel<int>();
  CHECK(std::move(tx).send(17).is_ok());
  CHECK(*rx.try_recv() == 17);
  rx.close();
}

TEST_CASE("try_recv_after_completion") {
  auto [tx, rx] = oneshot::channel<int>();
  CHECK(std::move(tx).send(17).is_ok());
  CHECK(*rx.try_recv() == 17);
  auto again = rx.try_recv();
  REQUIRE(again.is_err());
  CHECK(again.error() == TryRecvError::Closed);
  rx.close();
}

TEST_CASE("try_recv_after_completion_await") {
  auto [tx, rx] = oneshot::channel<int>();
  MockTask task;
  CHECK(std::move(tx).send(17).is_ok());
  auto out = task.poll(rx);
  REQUIRE(out.is_ready());
  CHECK(*out.value() == 17);
  auto again = rx.try_recv();
  REQUIRE(again.is_err());
  CHECK(again.error() == TryRecvError::Closed);
  rx.close();
}

TEST_CASE("try_recv before a send is Empty and keeps the receiver") {
  auto [tx, rx] = oneshot::channel<int>();
  auto r = rx.try_recv();
  REQUIRE(r.is_err());
  CHECK(r.error() == TryRecvError::Empty);
  CHECK_FALSE(rx.is_terminated());
  CHECK(std::move(tx).send(5).is_ok());
  CHECK(*rx.try_recv() == 5);
}

TEST_CASE("drops_tasks") {
  MockTask tx_task, rx_task;
  {
    auto [tx, rx] = oneshot::channel<int>();
    CHECK(poll_closed(tx_task, tx).is_pending());
    CHECK(rx_task.poll(rx).is_pending());
    CHECK(tx_task.waker_ref_count() == 1);
    CHECK(rx_task.waker_ref_count() == 1);
  }
  CHECK(tx_task.waker_ref_count() == 0);
  CHECK(rx_task.waker_ref_count() == 0);
}

TEST_CASE("receiver_changes_task") {
  auto [tx, rx] = oneshot::channel<int>();
  MockTask task1, task2;
  CHECK(task1.poll(rx).is_pending());
  CHECK(task1.waker_ref_count() == 1);
  CHECK(task2.waker_ref_count() == 0);
  CHECK(task2.poll(rx).is_pending());
  CHECK(task1.waker_ref_count() == 0);
  CHECK(task2.waker_ref_count() == 1);
  CHECK(std::move(tx).send(1).is_ok());
  CHECK_FALSE(task1.is_woken());
  CHECK(task2.is_woken());
  auto out = task2.poll(rx);
  REQUIRE(out.is_ready());
  CHECK(*out.value() == 1);
}

TEST_CASE("sender_changes_task") {
  auto [tx, rx] = oneshot::channel<int>();
  MockTask task1, task2;
  CHECK(poll_closed(task1, tx).is_pending());
  CHECK(task1.waker_ref_count() == 1);
  CHECK(task2.waker_ref_count() == 0);
  CHECK(poll_closed(task2, tx).is_pending());
  CHECK(task1.waker_ref_count() == 0);
  CHECK(task2.waker_ref_count() == 1);
  { auto gone = std::move(rx); }
  CHECK_FALSE(task1.is_woken());
  CHECK(task2.is_woken());
  CHECK(poll_closed(task2, tx).is_ready());
}

TEST_CASE("the same task polling again keeps one waker") {
  auto [tx, rx] = oneshot::channel<int>();
  MockTask task;
  CHECK(task.poll(rx).is_pending());
  CHECK(task.poll(rx).is_pending());
  CHECK(task.waker_ref_count() == 1);
  CHECK(poll_closed(task, tx).is_pending());
  CHECK(poll_closed(task, tx).is_pending());
  CHECK(task.waker_ref_count() == 2);
}

TEST_CASE("receiver_is_closed_send") {
  auto [tx, rx] = oneshot::channel<int>();
  CHECK_FALSE(rx.is_closed());
  CHECK(std::move(tx).send(17).is_ok());
  CHECK(rx.is_closed());
}

TEST_CASE("receiver_is_closed_drop") {
  auto [tx, rx] = oneshot::channel<int>();
  CHECK_FALSE(rx.is_closed());
  { auto gone = std::move(tx); }
  CHECK(rx.is_closed());
}

TEST_CASE("receiver_is_closed_rx_close") {
  auto [tx, rx] = oneshot::channel<int>();
  CHECK_FALSE(rx.is_closed());
  rx.close();
  CHECK(rx.is_closed());
}

TEST_CASE("receiver_is_empty_send") {
  auto [tx, rx] = oneshot::channel<int>();
  CHECK(rx.is_empty());
  CHECK(std::move(tx).send(17).is_ok());
  CHECK_FALSE(rx.is_empty());
  MockTask task;
  auto out = task.poll(rx);
  REQUIRE(out.is_ready());
  CHECK(*out.value() == 17);
  CHECK(rx.is_empty());
}

TEST_CASE("receiver_is_empty_drop") {
  auto [tx, rx] = oneshot::channel<int>();
  CHECK(rx.is_empty());
  { auto gone = std::move(tx); }
  CHECK(rx.is_empty());
  MockTask task;
  auto out = task.poll(rx);
  REQUIRE(out.is_ready());
  CHECK(out.value().is_err());
  CHECK(rx.is_empty());
}

TEST_CASE("receiver_is_empty_rx_close") {
  auto [tx, rx] = oneshot::channel<int>();
  CHECK(rx.is_empty());
  rx.close();
  CHECK(rx.is_empty());
}

TEST_CASE("blocking_recv across threads") {
  auto [tx, rx] = oneshot::channel<std::string>();
  std::thread t([tx = std::move(tx)]() mutable { CHECK(std::move(tx).send("ten").is_ok()); });
  auto r = std::move(rx).blocking_recv();
  t.join();
  REQUIRE(r.is_ok());
  CHECK(*r == "ten");
}

TEST_CASE("blocking_recv sees a dropped sender") {
  auto [tx, rx] = oneshot::channel<int>();
  std::thread t([tx = std::move(tx)]() mutable { auto gone = std::move(tx); });
  auto r = std::move(rx).blocking_recv();
  t.join();
  CHECK(r.is_err());
}

TEST_CASE("a consumed sender is misuse") {
  auto [tx, rx] = oneshot::channel<int>();
  CHECK(std::move(tx).send(1).is_ok());
  CHECK_THROWS_AS((void)std::move(tx).send(2), std::invalid_argument);
  CHECK_THROWS_AS((void)tx.is_closed(), std::invalid_argument);
  CHECK(*rx.try_recv() == 1);
}

TEST_CASE("handles move, and move assignment drops the old channel") {
  auto [tx1, rx1] = oneshot::channel<int>();
  auto [tx2, rx2] = oneshot::channel<int>();
  tx1 = std::move(tx2);  // drops the first sender: rx1 sees RecvError
  auto r1 = rx1.try_recv();
  REQUIRE(r1.is_err());
  CHECK(r1.error() == TryRecvError::Closed);
  CHECK(std::move(tx1).send(2).is_ok());
  oneshot::Receiver<int> moved = std::move(rx2);
  CHECK(*moved.try_recv() == 2);
}

// ---- counted values: every value destroyed exactly once ----

TEST_CASE("counted: a received value is the caller's") {
  LiveCheck check;
  auto [tx, rx] = oneshot::channel<Counted>();
  CHECK(std::move(tx).send(Counted(7)).is_ok());
  CHECK(Counted::live() == 1);
  {
    auto r = rx.try_recv();
    REQUIRE(r.is_ok());
    CHECK(r->value == 7);
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("counted: a refused value comes back inside the error") {
  LiveCheck check;
  auto [tx, rx] = oneshot::channel<Counted>();
  rx.close();
  auto r = std::move(tx).send(Counted(8));
  REQUIRE(r.is_err());
  CHECK(r.error().value == 8);
  CHECK(Counted::live() == 1);
}

TEST_CASE("counted: a value never received dies with the receiver") {
  LiveCheck check;
  auto [tx, rx] = oneshot::channel<Counted>();
  CHECK(std::move(tx).send(Counted(9)).is_ok());
  CHECK(Counted::live() == 1);
  { auto gone = std::move(rx); }
  CHECK(Counted::live() == 0);
}

TEST_CASE("counted: sent before close is still received") {
  LiveCheck check;
  auto [tx, rx] = oneshot::channel<Counted>();
  CHECK(std::move(tx).send(Counted(3)).is_ok());
  rx.close();
  MockTask task;
  auto out = task.poll(rx);
  REQUIRE(out.is_ready());
  CHECK(out.value()->value == 3);
}

TEST_CASE("counted: a channel dropped with a queued value frees it") {
  LiveCheck check;
  auto pair = oneshot::channel<Counted>();
  CHECK(std::move(pair.first).send(Counted(1)).is_ok());
  CHECK(Counted::live() == 1);
}

// Tokio #7886 (loom_oneshot.rs drop_rx_after_poll): the Receiver's waker goes with the
// Receiver, though the Sender lives on.
TEST_CASE("drop_rx_after_poll releases the receiver's waker") {
  auto pair = oneshot::channel<int>();
  CHECK(weft::testing::waker_released_on_destroy([&] { return std::move(pair.second); }));
  CHECK(pair.first.is_closed());
}

TEST_CASE("close releases the receiver's waker") {
  auto [tx, rx] = oneshot::channel<int>();
  CHECK(weft::testing::waker_released_on_destroy([&](Context& cx) { return rx.poll(cx); },
                                                 [&] { rx.close(); }));
  MockTask task;
  CHECK(task.poll(rx).is_ready());  // closed, nothing sent
}

// The same for the other side: a Sender that waited in closed() and then went (dropped or
// sent) leaves no waker behind while the Receiver lives on.
TEST_CASE("a dropped Sender releases its closed() waker") {
  auto pair = oneshot::channel<int>();
  std::optional<oneshot::Sender<int>> tx(std::move(pair.first));
  CHECK(weft::testing::waker_released_on_destroy([&](Context& cx) { return tx->poll_closed(cx); },
                                                 [&] { tx.reset(); }));
  CHECK(pair.second.try_recv().error() == TryRecvError::Closed);
}

TEST_CASE("send releases the sender's closed() waker") {
  auto pair = oneshot::channel<int>();
  std::optional<oneshot::Sender<int>> tx(std::move(pair.first));
  CHECK(weft::testing::waker_released_on_destroy([&](Context& cx) { return tx->poll_closed(cx); },
                                                 [&] { CHECK(std::move(*tx).send(4).is_ok()); }));
  CHECK(*pair.second.try_recv() == 4);
}

TEST_CASE("blocking_recv_until: times out, the Receiver still usable, the value not lost") {
  using namespace std::chrono_literals;
  using weft::testing::Counted;
  const long live_before = Counted::live();
  {
    auto [tx, rx] = oneshot::channel<Counted>();
    CHECK(rx.blocking_recv_for(2ms).is_err());  // Err(Elapsed): nothing sent yet
    std::thread t([tx = std::move(tx)]() mutable {
      std::this_thread::sleep_for(2ms);
      REQUIRE(std::move(tx).send(Counted(9)).is_ok());
    });
    auto got = rx.blocking_recv_until(weft::platform::deadline_after(1h));
    t.join();
    REQUIRE(got.is_ok());
    REQUIRE(got->is_ok());
    CHECK(got->value().value == 9);
  }
  {
    auto [tx, rx] = oneshot::channel<int>();
    { auto gone = std::move(tx); }
    auto closed = rx.blocking_recv_for(1h);
    REQUIRE(closed.is_ok());  // in time, with the Sender gone
    CHECK(closed->error() == RecvError{});
  }
  {
    auto [tx, rx] = oneshot::channel<Counted>();
    CHECK(rx.blocking_recv_for(0ms).is_err());
    REQUIRE(std::move(tx).send(Counted(1)).is_ok());  // after a timeout: kept for later
  }  // the Receiver destroys the value it never took
  CHECK(Counted::live() == live_before);
}

}  // namespace
