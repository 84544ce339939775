// Unit tests of the unbounded mpsc channel. Ported from tokio/tests/sync_mpsc.rs (the
// unbounded cases), with counted values: every value is destroyed exactly once.
#include "sync/mpsc/unbounded.h"

#include "sync/platform/thread.h"
#include "sync/task/mock_task.h"
#include "testing/counted.h"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using weft::MockTask;
using weft::mpsc::TryRecvError;
using weft::mpsc::unbounded_channel;

// Counts its instances (testing/counted.h): back to 0 once every value was destroyed
// exactly once.
using Counted = weft::testing::MoveOnlyCounted;

TEST_CASE("header_example") {
  auto [tx, rx] = weft::mpsc::unbounded_channel<int>();
  weft::platform::thread producer([tx = std::move(tx)] {
    for (int i = 0; i < 3; ++i) (void)tx.send(i);
  });
  std::vector<int> got;
  while (std::optional<int> v = rx.blocking_recv()) got.push_back(*v);
  producer.join();
  CHECK(got == std::vector<int>{0, 1, 2});
}

TEST_CASE("send_recv_unbounded") {
  auto [tx, rx] = unbounded_channel<int>();
  MockTask task;
  CHECK(tx.send(1).is_ok());
  CHECK(tx.send(2).is_ok());
  auto r1 = rx.recv();
  CHECK(task.poll(r1).value() == 1);
  CHECK(task.poll(r1).value() == 2);
  { auto dropped = std::move(tx); }
  auto r2 = rx.recv();
  auto last = task.poll(r2);
  REQUIRE(last.is_ready());
  CHECK_FALSE(last.value().has_value());
}

TEST_CASE("async_send_recv_unbounded") {
  auto [tx, rx] = unbounded_channel<int>();
  std::thread producer([tx = std::move(tx)] {
    CHECK(tx.send(1).is_ok());
    CHECK(tx.send(2).is_ok());
  });
  CHECK(rx.blocking_recv() == 1);
  CHECK(rx.blocking_recv() == 2);
  CHECK(rx.blocking_recv() == std::nullopt);
  producer.join();
}

TEST_CASE("no_t_bounds_unbounded") {
  struct NoImpls {
    NoImpls() = default;
    NoImpls(NoImpls&&) = default;
    NoImpls(const NoImpls&) = delete;
  };
  auto [tx, rx] = unbounded_channel<NoImpls>();
  CHECK(weft::mpsc::UnboundedSender<NoImpls>(tx).send(NoImpls{}).is_ok());
  CHECK(rx.blocking_recv().has_value());
}

TEST_CASE("pending_recv_is_woken_by_send") {
  auto [tx, rx] = unbounded_channel<int>();
  MockTask task;
  auto recv = rx.recv();
  CHECK(task.poll(recv).is_pending());
  CHECK(tx.send(7).is_ok());
  CHECK(task.is_woken());
  CHECK(task.poll(recv).value() == 7);
}

TEST_CASE("pending_recv_is_woken_by_last_sender_drop") {
  auto [tx, rx] = unbounded_channel<int>();
  MockTask task;
  auto tx2 = tx;
  auto recv = rx.recv();
  CHECK(task.poll(recv).is_pending());
  { auto gone = std::move(tx); }
  CHECK_FALSE(task.is_woken());
  { auto gone = std::move(tx2); }
  CHECK(task.is_woken());
  CHECK(task.poll(recv).value() == std::nullopt);
}

TEST_CASE("recv_close_gets_none_idle") {
  auto [tx, rx] = unbounded_channel<Counted>();
  REQUIRE(Counted::live() == 0);
  rx.close();
  CHECK(rx.is_closed());
  CHECK(tx.is_closed());
  CHECK(rx.blocking_recv() == std::nullopt);
  auto r = tx.send(Counted(5));
  REQUIRE(r.is_err());
  CHECK(r.error().value.value == 5);  // the value comes back
  CHECK(Counted::live() == 1);        // in the error, not destroyed
}

TEST_CASE("close_keeps_queued_values") {
  auto [tx, rx] = unbounded_channel<int>();
  CHECK(tx.send(1).is_ok());
  CHECK(tx.send(2).is_ok());
  rx.close();
  CHECK(tx.send(3).is_err());
  CHECK(rx.blocking_recv() == 1);
  CHECK(rx.blocking_recv() == 2);
  CHECK(rx.blocking_recv() == std::nullopt);
  CHECK(rx.try_recv().error() == TryRecvError::Disconnected);
}

// A send after close() claims a slot that stays empty: len() and is_empty() count only
// the values queued before the close, across a block boundary, and the last sender's
// drop after the close changes nothing.
TEST_CASE("failed_sends_after_close_leave_no_value") {
  auto [tx, rx] = unbounded_channel<int>();
  const int queued = static_cast<int>(weft::mpsc::detail::BLOCK_CAP) - 1;
  for (int i = 0; i < queued; ++i) CHECK(tx.send(i).is_ok());
  rx.close();
  for (int i = 0; i < 3; ++i) CHECK(tx.send(100 + i).error().value == 100 + i);
  CHECK(rx.len() == static_cast<std::size_t>(queued));
  { auto gone = std::move(tx); }
  CHECK(rx.len() == static_cast<std::size_t>(queued));
  for (int i = 0; i < queued; ++i) CHECK(rx.try_recv().value() == i);
  CHECK(rx.is_empty());
  CHECK(rx.len() == 0);
  CHECK(rx.try_recv().error() == TryRecvError::Disconnected);
  CHECK(rx.blocking_recv() == std::nullopt);
}

TEST_CASE("tx_close_gets_none") {
  auto [tx, rx] = unbounded_channel<int>();
  { auto gone = std::move(tx); }
  CHECK(rx.is_closed());
  CHECK(rx.blocking_recv() == std::nullopt);
}

TEST_CASE("try_recv_unbounded") {
  for (int num = 0; num < 100; ++num) {
    auto [tx, rx] = unbounded_channel<int>();
    for (int i = 0; i < num; ++i) CHECK(tx.send(i).is_ok());
    for (int i = 0; i < num; ++i) {
      auto r = rx.try_recv();
      REQUIRE(r.is_ok());
      CHECK(*r == i);
    }
    CHECK(rx.try_recv().error() == TryRecvError::Empty);
    { auto gone = std::move(tx); }
    CHECK(rx.try_recv().error() == TryRecvError::Disconnected);
  }
}

TEST_CASE("try_recv_close_while_empty_unbounded") {
  auto [tx, rx] = unbounded_channel<int>();
  CHECK(rx.try_recv().error() == TryRecvError::Empty);
  { auto gone = std::move(tx); }
  CHECK(rx.try_recv().error() == TryRecvError::Disconnected);
}

TEST_CASE("unconsumed_messages_are_dropped") {
  REQUIRE(Counted::live() == 0);
  {
    auto [tx, rx] = unbounded_channel<Counted>();
    for (int i = 0; i < 100; ++i) CHECK(tx.send(Counted(i)).is_ok());
    CHECK(Counted::live() == 100);
    auto r = rx.try_recv();
    CHECK(r->value == 0);
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("dropping_rx_destroys_queued_values_at_once") {
  REQUIRE(Counted::live() == 0);
  auto [tx, rx] = unbounded_channel<Counted>();
  for (int i = 0; i < 40; ++i) CHECK(tx.send(Counted(i)).is_ok());
  { auto gone = std::move(rx); }
  CHECK(Counted::live() == 0);  // while the sender still exists
  CHECK(tx.is_closed());
  auto r = tx.send(Counted(99));
  REQUIRE(r.is_err());
  CHECK(std::move(r.error()).into_inner().value == 99);
  CHECK(Counted::live() == 1);  // only r's instance, moved from
}

TEST_CASE("len_and_is_empty") {
  auto [tx, rx] = unbounded_channel<int>();
  CHECK(rx.is_empty());
  CHECK(rx.len() == 0);
  for (int i = 0; i < 70; ++i) CHECK(tx.send(i).is_ok());  // crosses blocks
  CHECK_FALSE(rx.is_empty());
  CHECK(rx.len() == 70);
  for (int i = 0; i < 70; ++i) {
    CHECK(*rx.try_recv() == i);
    CHECK(rx.len() == static_cast<std::size_t>(69 - i));
  }
  CHECK(rx.is_empty());
  { auto gone = std::move(tx); }
  CHECK(rx.len() == 0);  // the close slot is not a value
  CHECK(rx.is_empty());
}

TEST_CASE("recv_many") {
  auto [tx, rx] = unbounded_channel<std::string>();
  MockTask task;
  std::vector<std::string> buffer;
  {
    auto fut = rx.recv_many(buffer, 2);
    CHECK(task.poll(fut).is_pending());
  }
  CHECK(tx.send("first").is_ok());
  CHECK(tx.send("second").is_ok());
  CHECK(tx.send("third").is_ok());
  CHECK(rx.blocking_recv_many(buffer, 2) == 2);
  CHECK(buffer == std::vector<std::string>{"first", "second"});
  CHECK(rx.blocking_recv_many(buffer, 0) == 0);
  CHECK(rx.blocking_recv_many(buffer, 10) == 1);
  CHECK(buffer.back() == "third");
  { auto gone = std::move(tx); }
  CHECK(rx.blocking_recv_many(buffer, 10) == 0);
  CHECK(buffer.size() == 3);
}

TEST_CASE("recv_many_across_blocks_counts_values") {
  REQUIRE(Counted::live() == 0);
  {
    auto [tx, rx] = unbounded_channel<Counted>();
    for (int i = 0; i < 100; ++i) CHECK(tx.send(Counted(i)).is_ok());
    std::vector<Counted> buffer;
    CHECK(rx.blocking_recv_many(buffer, 64) == 64);
    for (int i = 0; i < 64; ++i) CHECK(buffer[i].value == i);
    CHECK(rx.len() == 36);
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("closed_future") {
  auto [tx, rx] = unbounded_channel<int>();
  MockTask t1, t2;
  auto tx2 = tx;
  auto c1 = tx.closed();
  auto c2 = tx2.closed();
  CHECK(t1.poll(c1).is_pending());
  CHECK(t2.poll(c2).is_pending());
  {
    auto cancelled = tx.closed();  // a third, polled and dropped: unlinks itself
    MockTask t3;
    CHECK(t3.poll(cancelled).is_pending());
  }
  { auto gone = std::move(rx); }
  CHECK(t1.is_woken());
  CHECK(t2.is_woken());
  CHECK(t1.poll(c1).is_ready());
  CHECK(t2.poll(c2).is_ready());
  CHECK(t1.waker_ref_count() == 0);  // no waker kept
  weft::block_on(tx.closed());       // already closed: ready at once
}

TEST_CASE("weak_sender") {
  auto [tx, rx] = unbounded_channel<int>();
  CHECK(tx.strong_count() == 1);
  CHECK(tx.weak_count() == 0);
  auto weak = tx.downgrade();
  CHECK(tx.weak_count() == 1);
  CHECK(rx.sender_weak_count() == 1);
  {
    auto upgraded = weak.upgrade();
    REQUIRE(upgraded.has_value());
    CHECK(upgraded->same_channel(tx));
    CHECK(tx.strong_count() == 2);
    CHECK(upgraded->send(1).is_ok());
  }
  CHECK(tx.strong_count() == 1);
  { auto gone = std::move(tx); }
  CHECK(weak.strong_count() == 0);
  CHECK_FALSE(weak.upgrade().has_value());
  CHECK(rx.blocking_recv() == 1);
  CHECK(rx.blocking_recv() == std::nullopt);  // weak senders do not keep it open
}

TEST_CASE("same_channel") {
  auto [tx1, rx1] = unbounded_channel<int>();
  auto [tx2, rx2] = unbounded_channel<int>();
  auto tx3 = tx1;
  CHECK(tx1.same_channel(tx3));
  CHECK_FALSE(tx1.same_channel(tx2));
}

TEST_CASE("many_threads_conservation") {
  constexpr int senders = 4;
  constexpr int per_sender = 5000;
  auto [tx, rx] = unbounded_channel<std::pair<int, int>>();
  std::vector<std::thread> threads;
  for (int s = 0; s < senders; ++s) {
    threads.emplace_back([tx, s] {
      for (int i = 0; i < per_sender; ++i) CHECK(tx.send({s, i}).is_ok());
    });
  }
  { auto gone = std::move(tx); }
  std::vector<int> next(senders, 0);
  int received = 0;
  while (auto v = rx.blocking_recv()) {
    REQUIRE(v->second == next[v->first]);
    ++next[v->first];
    ++received;
  }
  CHECK(received == senders * per_sender);
  for (auto& t : threads) t.join();
}

}  // namespace

// ---- Tokio 1.49 to 1.53.1: the regression tests of tokio/tests/sync_mpsc.rs ----

// tokio#7686: after close(), an empty channel reports Disconnected.
TEST_CASE("try_recv_after_receiver_close") {
  auto [tx, rx] = unbounded_channel<int>();
  CHECK(rx.try_recv().error() == TryRecvError::Empty);
  rx.close();
  CHECK(rx.try_recv().error() == TryRecvError::Disconnected);
}

// tokio#7991: recv_many on a closed, drained channel returns 0 and leaves what the
// buffer already held.
TEST_CASE("recv_many_with_non_empty_buffer_unbounded_rx_closed_and_idle") {
  auto [tx, rx] = unbounded_channel<int>();
  std::vector<int> buffer{1};
  rx.close();
  CHECK(rx.blocking_recv_many(buffer, 1) == 0);
  CHECK(buffer == std::vector<int>{1});
}

// tokio#8095: the receiver's waker goes with the receiver, even while senders remain.
TEST_CASE("release_waker_on_rx_drop") {
  MockTask task;
  auto [tx, rx] = unbounded_channel<int>();
  auto held = std::make_optional(std::move(rx));
  CHECK(task.enter([&](weft::Context& cx) { return held->poll_recv(cx); }).is_pending());
  CHECK(task.waker_ref_count() == 1);
  held.reset();
  CHECK(task.waker_ref_count() == 0);
}

TEST_CASE("unbounded blocking_recv_until: times out empty, takes a value sent in time") {
  using namespace std::chrono_literals;
  auto [tx, rx] = unbounded_channel<int>();
  CHECK(rx.blocking_recv_for(2ms).is_err());
  weft::platform::thread t([tx = tx] {
    std::this_thread::sleep_for(2ms);
    REQUIRE(tx.send(7).is_ok());
  });
  auto got = rx.blocking_recv_until(weft::platform::deadline_after(1h));
  t.join();
  REQUIRE(got.is_ok());
  CHECK(*got == std::optional<int>(7));
  std::vector<int> buffer;
  CHECK(rx.blocking_recv_many_for(buffer, 2, 0ms).is_err());
  REQUIRE(tx.send(8).is_ok());
  CHECK(*rx.blocking_recv_many_for(buffer, 2, 0ms) == 1);
}
