// Unit tests of the bounded mpsc channel. Ported from tokio/tests/sync_mpsc.rs (the
// bounded cases), plus permits, reserve_many and error paths, with counted values: every
// value is destroyed exactly once.
#include "sync/mpsc/bounded.h"

#include "sync/platform/thread.h"
#include "sync/task/mock_task.h"
#include "sync/task/task.h"
#include "testing/counted.h"

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using weft::MockTask;
using weft::mpsc::channel;
using weft::mpsc::TryRecvError;

// Counts its instances (testing/counted.h): back to 0 once every value was destroyed
// exactly once.
using Counted = weft::testing::MoveOnlyCounted;

template <class F>
auto ready_value(MockTask& task, F& future) {
  auto p = task.poll(future);
  REQUIRE(p.is_ready());
  return std::move(p).value();
}

TEST_CASE("header_example") {
  auto [tx, rx] = channel<int>(16);
  auto permit = weft::block_on(tx.reserve());
  if (permit) std::move(*permit).send(-1);
  weft::platform::thread producer([tx = std::move(tx)] {
    for (int i = 0; i < 100; ++i) {
      if (!tx.blocking_send(i)) return;
    }
  });
  std::vector<int> got;
  while (std::optional<int> v = rx.blocking_recv()) got.push_back(*v);
  producer.join();
  REQUIRE(got.size() == 101);
  CHECK(got.front() == -1);
  for (int i = 0; i < 100; ++i) CHECK(got[i + 1] == i);
}

TEST_CASE("send_recv_with_buffer") {
  auto [tx, rx] = channel<int>(16);
  {
    auto permit = weft::block_on(tx.reserve());
    REQUIRE(permit.is_ok());
    std::move(*permit).send(1);
  }
  CHECK(tx.try_send(2).is_ok());
  { auto gone = std::move(tx); }
  CHECK(rx.blocking_recv() == 1);
  CHECK(rx.blocking_recv() == 2);
  CHECK(rx.blocking_recv() == std::nullopt);
}

TEST_CASE("reserve_disarm") {
  auto [tx, rx] = channel<int>(2);
  auto tx1 = tx, tx2 = tx, tx3 = tx, tx4 = tx;
  auto permit1 = weft::block_on(tx1.reserve());
  auto permit2 = weft::block_on(tx2.reserve());
  REQUIRE(permit1.is_ok());
  REQUIRE(permit2.is_ok());
  MockTask t3, t4;
  auto r3 = tx3.reserve();
  auto r4 = tx4.reserve();
  CHECK(t3.poll(r3).is_pending());
  CHECK(t4.poll(r4).is_pending());
  std::move(*permit1).send(1);
  CHECK_FALSE(t3.is_woken());  // the slot frees only when received
  CHECK(rx.blocking_recv() == 1);
  CHECK(t3.is_woken());
  CHECK_FALSE(t4.is_woken());
  { auto dropped = std::move(*permit2); }  // dropping a permit opens a slot too
  CHECK(t4.is_woken());
  auto r1 = tx1.reserve();
  MockTask t1;
  CHECK(t1.poll(r1).is_pending());
}

TEST_CASE("start_send_past_cap") {
  auto [tx1, rx] = channel<int>(1);
  auto tx2 = tx1;
  CHECK(tx1.try_send(0).is_ok());
  MockTask t1, t2;
  {
    auto r1 = std::make_unique<weft::mpsc::Sender<int>::ReserveFuture>(tx1.reserve());
    CHECK(t1.poll(*r1).is_pending());
    auto r2 = tx2.reserve();
    CHECK(t2.poll(r2).is_pending());
    r1.reset();  // cancelled: its place goes to r2
    CHECK(rx.blocking_recv().has_value());
    CHECK(t2.is_woken());
    CHECK_FALSE(t1.is_woken());
  }
  { auto a = std::move(tx1), b = std::move(tx2); }
  CHECK(rx.blocking_recv() == std::nullopt);
}

TEST_CASE("buffer_gteq_one") { CHECK_THROWS_AS(channel<int>(0), std::invalid_argument); }

TEST_CASE("send_recv_buffer_limited") {
  auto [tx, rx] = channel<int>(1);
  auto p1 = weft::block_on(tx.reserve());
  REQUIRE(p1.is_ok());
  std::move(*p1).send(1);
  MockTask t2;
  auto p2 = tx.reserve();
  CHECK(t2.poll(p2).is_pending());
  CHECK(rx.blocking_recv().has_value());
  CHECK(t2.is_woken());
  CHECK(tx.try_send(1337).is_err());
  auto permit = ready_value(t2, p2);
  REQUIRE(permit.is_ok());
  std::move(*permit).send(2);
  CHECK(rx.blocking_recv() == 2);
}

TEST_CASE("recv_close_gets_none_idle") {
  auto [tx, rx] = channel<int>(10);
  rx.close();
  CHECK(rx.blocking_recv() == std::nullopt);
  auto r = tx.blocking_send(1);
  REQUIRE(r.is_err());
  CHECK(r.error().value == 1);
}

TEST_CASE("recv_close_gets_none_reserved") {
  auto [tx1, rx] = channel<int>(1);
  auto tx2 = tx1;
  auto permit1 = weft::block_on(tx1.reserve());
  REQUIRE(permit1.is_ok());
  MockTask t2;
  auto permit2 = tx2.reserve();
  CHECK(t2.poll(permit2).is_pending());
  rx.close();
  CHECK(t2.is_woken());
  CHECK(ready_value(t2, permit2).is_err());
  {
    MockTask tr;
    auto recv = rx.recv();
    CHECK(tr.poll(recv).is_pending());
    std::move(*permit1).send(123);
    CHECK(tr.is_woken());
    CHECK(ready_value(tr, recv) == 123);
  }
  CHECK(rx.blocking_recv() == std::nullopt);
}

TEST_CASE("tx_close_gets_none") {
  auto [tx, rx] = channel<int>(10);
  { auto gone = std::move(tx); }
  CHECK(rx.blocking_recv() == std::nullopt);
}

TEST_CASE("try_send_fail") {
  auto [tx, rx] = channel<std::string>(1);
  CHECK(tx.try_send("hello").is_ok());
  auto failed = tx.try_send("fail");
  REQUIRE(failed.is_err());
  CHECK(failed.error().is_full());
  CHECK(failed.error().value == "fail");
  CHECK(rx.blocking_recv() == "hello");
  CHECK(tx.try_send("goodbye").is_ok());
  { auto gone = std::move(tx); }
  CHECK(rx.blocking_recv() == "goodbye");
  CHECK(rx.blocking_recv() == std::nullopt);
}

TEST_CASE("try_send_fail_with_try_recv") {
  auto [tx, rx] = channel<std::string>(1);
  CHECK(tx.try_send("hello").is_ok());
  CHECK(tx.try_send("fail").error().is_full());
  CHECK(*rx.try_recv() == "hello");
  CHECK(tx.try_send("goodbye").is_ok());
  { auto gone = std::move(tx); }
  CHECK(*rx.try_recv() == "goodbye");
  CHECK(rx.try_recv().error() == TryRecvError::Disconnected);
}

TEST_CASE("try_reserve_fails") {
  auto [tx, rx] = channel<std::string>(1);
  {
    auto permit = tx.try_reserve();
    REQUIRE(permit.is_ok());
    CHECK(tx.try_reserve().error().is_full());
    std::move(*permit).send("foo");
  }
  CHECK(rx.blocking_recv() == "foo");
  {
    auto permit = tx.try_reserve();
    CHECK(permit.is_ok());
  }  // dropped: released
  CHECK(tx.try_reserve().is_ok());
}

TEST_CASE("drop_permit_releases_permit") {
  auto [tx1, rx] = channel<int>(1);
  auto tx2 = tx1;
  auto permit = weft::block_on(tx1.reserve());
  MockTask t2;
  auto reserve2 = tx2.reserve();
  CHECK(t2.poll(reserve2).is_pending());
  { auto dropped = std::move(*permit); }
  CHECK(t2.is_woken());
  CHECK(ready_value(t2, reserve2).is_ok());
}

TEST_CASE("dropping_rx_closes_channel") {
  REQUIRE(Counted::live() == 0);
  auto [tx, rx] = channel<Counted>(100);
  CHECK(tx.try_send(Counted(1)).is_ok());
  { auto gone = std::move(rx); }
  CHECK(Counted::live() == 0);
  CHECK(weft::block_on(tx.reserve()).is_err());
}

TEST_CASE("dropping_rx_closes_channel_for_try") {
  REQUIRE(Counted::live() == 0);
  auto [tx, rx] = channel<Counted>(100);
  CHECK(tx.try_send(Counted(1)).is_ok());
  { auto gone = std::move(rx); }
  auto r = tx.try_send(Counted(2));
  REQUIRE(r.is_err());
  CHECK(r.error().is_closed());
  CHECK(r.error().value.value == 2);
  CHECK(tx.try_reserve().error().is_closed());
  auto owned = weft::mpsc::Sender<Counted>(tx).try_reserve_owned();
  REQUIRE(owned.is_err());
  CHECK(owned.error().is_closed());
  CHECK(owned.error().value.same_channel(tx));  // the sender comes back
  CHECK(Counted::live() == 1);                  // only r's value
}

TEST_CASE("unconsumed_messages_are_dropped") {
  REQUIRE(Counted::live() == 0);
  {
    auto [tx, rx] = channel<Counted>(100);
    CHECK(tx.try_send(Counted(1)).is_ok());
    CHECK(Counted::live() == 1);
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("blocking_recv_and_send") {
  auto [tx, rx] = channel<int>(1);
  std::thread receiver([rx = std::move(rx)]() mutable {
    CHECK(rx.blocking_recv() == 10);
    CHECK(rx.blocking_recv() == 11);
  });
  CHECK(tx.blocking_send(10).is_ok());
  CHECK(tx.blocking_send(11).is_ok());
  receiver.join();
}

TEST_CASE("ready_close_cancel_bounded") {
  auto [tx, rx] = channel<int>(100);
  auto tx2 = tx;
  auto permit = weft::block_on(tx.reserve());
  rx.close();
  MockTask t;
  auto recv = rx.recv();
  CHECK(t.poll(recv).is_pending());
  { auto dropped = std::move(*permit); }
  CHECK(t.is_woken());
  CHECK(ready_value(t, recv) == std::nullopt);
}

TEST_CASE("permit_available_not_acquired_close") {
  auto [tx1, rx] = channel<int>(1);
  auto tx2 = tx1;
  auto permit1 = weft::block_on(tx1.reserve());
  MockTask t2;
  {
    auto permit2 = tx2.reserve();
    CHECK(t2.poll(permit2).is_pending());
    rx.close();
    { auto dropped = std::move(*permit1); }
    CHECK(t2.is_woken());
  }
  CHECK(rx.blocking_recv() == std::nullopt);
}

TEST_CASE("try_recv_bounded") {
  auto [tx, rx] = channel<std::string>(5);
  for (int i = 0; i < 5; ++i) CHECK(tx.try_send("hello").is_ok());
  CHECK(tx.try_send("hello").is_err());
  for (int i = 0; i < 5; ++i) CHECK(*rx.try_recv() == "hello");
  CHECK(rx.try_recv().error() == TryRecvError::Empty);
  for (int i = 0; i < 4; ++i) CHECK(tx.try_send("hello").is_ok());
  CHECK(*rx.try_recv() == "hello");
  CHECK(tx.try_send("hello").is_ok());
  CHECK(tx.try_send("hello").is_ok());
  CHECK(tx.try_send("hello").is_err());
  for (int i = 0; i < 5; ++i) CHECK(*rx.try_recv() == "hello");
  CHECK(rx.try_recv().error() == TryRecvError::Empty);
  for (int i = 0; i < 3; ++i) CHECK(tx.try_send("hello").is_ok());
  { auto gone = std::move(tx); }
  for (int i = 0; i < 3; ++i) CHECK(*rx.try_recv() == "hello");
  CHECK(rx.try_recv().error() == TryRecvError::Disconnected);
}

TEST_CASE("try_recv_close_while_empty_bounded") {
  auto [tx, rx] = channel<int>(5);
  CHECK(rx.try_recv().error() == TryRecvError::Empty);
  { auto gone = std::move(tx); }
  CHECK(rx.try_recv().error() == TryRecvError::Disconnected);
}

TEST_CASE("try_recv_after_close_with_permit_out") {
  auto [tx, rx] = channel<int>(5);
  auto permit = tx.try_reserve();
  rx.close();
  CHECK(rx.try_recv().error() == TryRecvError::Empty);  // the permit may still send
  std::move(*permit).send(3);
  CHECK(*rx.try_recv() == 3);
  CHECK(rx.try_recv().error() == TryRecvError::Disconnected);
}

TEST_CASE("test_tx_capacity") {
  auto [tx, rx] = channel<int>(10);
  CHECK(tx.capacity() == 10);
  CHECK(tx.max_capacity() == 10);
  auto permit = weft::block_on(tx.reserve());
  CHECK(tx.capacity() == 9);
  CHECK(rx.capacity() == 9);
  CHECK(tx.max_capacity() == 10);
  CHECK(tx.blocking_send(1).is_ok());
  CHECK(tx.capacity() == 8);
  CHECK(rx.len() == 1);
  CHECK(rx.max_capacity() == 10);
}

TEST_CASE("reserve_many") {
  auto [tx, rx] = channel<int>(2);
  auto permits = weft::block_on(tx.reserve_many(2));
  REQUIRE(permits.is_ok());
  CHECK(permits->len() == 2);
  CHECK(tx.try_send(123).is_err());
  std::move(*permits->next()).send(456);
  std::move(*permits->next()).send(457);
  CHECK_FALSE(permits->next().has_value());
  CHECK(rx.blocking_recv() == 456);
  CHECK(rx.blocking_recv() == 457);
  CHECK(weft::block_on(tx.reserve_many(3)).is_err());  // more than the bound
}

TEST_CASE("try_reserve_many") {
  auto [tx, rx] = channel<int>(2);
  {
    auto permits = tx.try_reserve_many(2);
    REQUIRE(permits.is_ok());
    CHECK(tx.try_send(123).is_err());
    CHECK(tx.try_reserve().error().is_full());
    std::move(*permits->next()).send(456);
    // one permit left, released with the iterator
  }
  CHECK(tx.capacity() == 1);
  CHECK(rx.blocking_recv() == 456);
  CHECK(tx.capacity() == 2);
  auto none = tx.try_reserve_many(0);
  REQUIRE(none.is_ok());
  CHECK_FALSE(none->next().has_value());
  CHECK(tx.try_reserve_many(3).error().is_full());
  { auto gone = std::move(rx); }
  CHECK(tx.try_reserve_many(1).error().is_closed());
  CHECK(tx.try_reserve_many(0).error().is_closed());
}

TEST_CASE("reserve_many_waits_for_all") {
  auto [tx, rx] = channel<int>(3);
  CHECK(tx.try_send(1).is_ok());
  CHECK(tx.try_send(2).is_ok());
  MockTask t;
  auto many = tx.reserve_many(3);
  CHECK(t.poll(many).is_pending());
  CHECK(rx.blocking_recv() == 1);
  CHECK(t.poll(many).is_pending());  // has 2 of 3
  CHECK(rx.blocking_recv() == 2);
  auto permits = ready_value(t, many);
  REQUIRE(permits.is_ok());
  CHECK(permits->len() == 3);
  CHECK(tx.capacity() == 0);
}

// The receiver's give-back is a count the senders harvest (bounded_capacity.h): every
// path that asks for capacity sees the values received since the last harvest.
TEST_CASE("received_capacity_is_harvested_by_every_path") {
  auto [tx, rx] = channel<int>(4);
  for (int i = 0; i < 4; ++i) CHECK(tx.try_send(i).is_ok());
  for (int i = 0; i < 4; ++i) CHECK(rx.try_recv().value() == i);
  CHECK(tx.capacity() == 4);  // received, not harvested yet
  CHECK(rx.capacity() == 4);
  {
    auto permits = tx.try_reserve_many(4);  // harvests all four at once
    REQUIRE(permits.is_ok());
    CHECK(tx.capacity() == 0);
    CHECK(tx.try_send(9).error().is_full());
  }
  CHECK(tx.capacity() == 4);
  for (int i = 0; i < 4; ++i) CHECK(tx.try_send(i).is_ok());
  CHECK(rx.try_recv().value() == 0);
  MockTask t;
  auto reserve = tx.reserve();  // the first poll harvests: no wait
  auto permit = ready_value(t, reserve);
  REQUIRE(permit.is_ok());
  CHECK(rx.try_recv().value() == 1);
  auto owned = weft::mpsc::Sender<int>(tx).try_reserve_owned();
  CHECK(owned.is_ok());
  CHECK(tx.capacity() == 0);
}

// A try that fails after harvesting keeps what it harvested in the semaphore: the next
// try finds it there (its own harvest then finds nothing new) and a Full is only
// reported when the count and the unharvested values together fall short.
TEST_CASE("failed_try_leaves_its_harvest_for_the_next") {
  auto [tx, rx] = channel<int>(2);
  CHECK(tx.try_send(1).is_ok());
  CHECK(tx.try_send(2).is_ok());
  CHECK(rx.try_recv().value() == 1);
  CHECK(tx.try_reserve_many(2).error().is_full());  // harvested 1, needs 2
  CHECK(tx.capacity() == 1);
  CHECK(tx.try_send(3).is_ok());
  CHECK(tx.try_send(4).error().is_full());
  CHECK(tx.capacity() == 0);
}

// Waiters are served in the order they queued, one slot per receive, whether the
// receiver or a sender harvests it.
TEST_CASE("harvested_capacity_goes_to_waiters_in_order") {
  auto [tx, rx] = channel<int>(1);
  CHECK(tx.try_send(0).is_ok());
  MockTask first_task;
  MockTask second_task;
  auto first = tx.send(1);
  auto second = tx.send(2);
  CHECK(first_task.poll(first).is_pending());
  CHECK(second_task.poll(second).is_pending());
  CHECK(rx.try_recv().value() == 0);  // the receiver harvests for the queue
  CHECK(first_task.is_woken());
  CHECK_FALSE(second_task.is_woken());
  CHECK(tx.try_send(9).error().is_full());  // no overtaking: the slot is the first's
  CHECK(ready_value(first_task, first).is_ok());
  CHECK(second_task.poll(second).is_pending());
  CHECK(rx.try_recv().value() == 1);
  CHECK(second_task.is_woken());
  CHECK(ready_value(second_task, second).is_ok());
  CHECK(rx.try_recv().value() == 2);
  CHECK(tx.capacity() == 1);
}

TEST_CASE("reserve_many_cancelled_gives_back_partial") {
  auto [tx, rx] = channel<int>(3);
  CHECK(tx.try_send(1).is_ok());
  {
    MockTask t;
    auto many = tx.reserve_many(3);
    CHECK(t.poll(many).is_pending());  // took the 2 free permits
  }
  CHECK(tx.capacity() == 2);
  CHECK(rx.blocking_recv() == 1);
  CHECK(tx.capacity() == 3);
}

TEST_CASE("reserve_owned") {
  auto [tx, rx] = channel<int>(1);
  auto permit = weft::block_on(weft::mpsc::Sender<int>(tx).reserve_owned());
  REQUIRE(permit.is_ok());
  CHECK(tx.try_send(123).is_err());
  auto tx2 = std::move(*permit).send(456);
  CHECK(tx2.same_channel(tx));
  CHECK(rx.blocking_recv() == 456);
  auto permit2 = weft::mpsc::Sender<int>(tx).try_reserve_owned();
  REQUIRE(permit2.is_ok());
  CHECK(tx.capacity() == 0);
  auto tx3 = std::move(*permit2).release();
  CHECK(tx.capacity() == 1);
  CHECK(tx.strong_count() == 3);
  auto full = weft::mpsc::Sender<int>(tx);
  auto p3 = std::move(full).try_reserve_owned();
  auto p4 = weft::mpsc::Sender<int>(tx).try_reserve_owned();
  REQUIRE(p4.is_err());
  CHECK(p4.error().is_full());
}

TEST_CASE("owned_permit_keeps_channel_open") {
  auto [tx, rx] = channel<int>(1);
  auto permit = weft::block_on(std::move(tx).reserve_owned());
  REQUIRE(permit.is_ok());
  CHECK_FALSE(rx.is_closed());  // the permit holds the only sender
  MockTask t;
  auto recv = rx.recv();
  CHECK(t.poll(recv).is_pending());
  { auto dropped = std::move(*permit); }
  CHECK(t.is_woken());
  CHECK(ready_value(t, recv) == std::nullopt);
}

TEST_CASE("send_future_cancel_and_take_value") {
  REQUIRE(Counted::live() == 0);
  {
    auto [tx, rx] = channel<Counted>(1);
    CHECK(tx.try_send(Counted(0)).is_ok());
    MockTask t;
    {
      auto send = tx.send(Counted(1));
      CHECK(t.poll(send).is_pending());
      auto back = send.take_value();
      REQUIRE(back.has_value());
      CHECK(back->value == 1);
    }
    CHECK(Counted::live() == 1);  // only the queued 0
    {
      auto send = tx.send(Counted(2));
      CHECK(t.poll(send).is_pending());
    }  // dropped: the value is destroyed with the future, as in Tokio
    CHECK(Counted::live() == 1);
    auto send = tx.send(Counted(3));
    CHECK(t.poll(send).is_pending());
    rx.close();
    CHECK(t.is_woken());
    auto r = ready_value(t, send);
    REQUIRE(r.is_err());
    CHECK(r.error().value.value == 3);  // the value comes back in the error
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("closed_future_bounded") {
  auto [tx1, rx] = channel<int>(1);
  auto tx2 = tx1;
  MockTask t1, t2;
  auto c1 = tx1.closed();
  auto c2 = tx2.closed();
  CHECK(t1.poll(c1).is_pending());
  CHECK(t2.poll(c2).is_pending());
  CHECK_FALSE(tx1.is_closed());
  { auto gone = std::move(rx); }
  CHECK(tx1.is_closed());
  CHECK(t1.is_woken());
  CHECK(t2.is_woken());
  CHECK(t1.poll(c1).is_ready());
  CHECK(t2.poll(c2).is_ready());
}

TEST_CASE("recv_many_bounded_frees_capacity") {
  auto [tx, rx] = channel<int>(4);
  for (int i = 0; i < 4; ++i) CHECK(tx.try_send(i).is_ok());
  std::vector<int> buffer;
  CHECK(rx.blocking_recv_many(buffer, 3) == 3);
  CHECK(tx.capacity() == 3);
  CHECK(buffer == std::vector<int>{0, 1, 2});
  CHECK(rx.blocking_recv_many(buffer, 3) == 1);
  CHECK(tx.capacity() == 4);
}

TEST_CASE("values_queued_through_permit_after_receiver_drop_are_destroyed") {
  REQUIRE(Counted::live() == 0);
  {
    auto [tx, rx] = channel<Counted>(2);
    auto permit = tx.try_reserve();
    { auto gone = std::move(rx); }
    std::move(*permit).send(Counted(1));  // never fails, never received
    CHECK(Counted::live() == 1);
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("many_threads_bounded_conservation") {
  constexpr int senders = 4;
  constexpr int per_sender = 5000;
  auto [tx, rx] = channel<std::pair<int, int>>(8);
  std::vector<std::thread> threads;
  for (int s = 0; s < senders; ++s) {
    threads.emplace_back([tx, s] {
      for (int i = 0; i < per_sender; ++i) CHECK(tx.blocking_send({s, i}).is_ok());
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

weft::Task<int> sum_all(weft::mpsc::Receiver<int>& rx) {
  int sum = 0;
  while (auto v = co_await rx.recv()) sum += *v;
  co_return sum;
}

weft::Task<void> produce(weft::mpsc::Sender<int> tx, int count) {
  for (int i = 1; i <= count; ++i) {
    auto permit = co_await tx.reserve();
    if (!permit) co_return;
    std::move(*permit).send(i);
  }
}

TEST_CASE("coroutines_send_and_recv") {
  auto [tx, rx] = channel<int>(2);
  std::thread producer(
      [tx = std::move(tx)]() mutable { weft::block_on(produce(std::move(tx), 100)); });
  CHECK(weft::block_on(sum_all(rx)) == 5050);
  producer.join();
}

TEST_CASE("assignment_of_handles") {
  auto [tx1, rx1] = channel<int>(1);
  auto [tx2, rx2] = channel<int>(1);
  auto a = tx1;
  a = tx2;  // copy-assign: tx1's channel loses a sender, tx2's gains one
  CHECK(tx1.strong_count() == 1);
  CHECK(tx2.strong_count() == 2);
  a = std::move(tx1);  // move-assign: the last sender of channel 1 now lives in `a`
  CHECK(a.strong_count() == 1);
  CHECK(tx2.strong_count() == 1);
  rx2 = std::move(rx1);  // the old receiver of channel 2 is dropped: it closes
  CHECK(tx2.is_closed());
  CHECK_FALSE(a.is_closed());
  CHECK(a.try_send(1).is_ok());
  CHECK(rx2.blocking_recv() == 1);
}

// Tokio's OwnedPermit::same_channel_as_sender (tokio/src/sync/mpsc/bounded.rs).
TEST_CASE("same_channel_as_sender") {
  auto [tx, rx] = channel<int>(1);
  auto [tx2, rx2] = channel<int>(1);
  auto permit = std::move(*weft::mpsc::Sender<int>(tx).try_reserve_owned());
  CHECK(permit.same_channel_as_sender(tx));
  CHECK_FALSE(permit.same_channel_as_sender(tx2));
  auto moved = std::move(permit);
  CHECK(moved.same_channel_as_sender(tx));
  CHECK_FALSE(permit.same_channel_as_sender(tx));  // NOLINT(bugprone-use-after-move): none left
}

}  // namespace

// ---- capacity given back by a future after close() wakes the receiver (tokio#8260) ----

// A send future handed the only permit by a receive, then cancelled after close() (by
// its drop, or by take_value()): the permit it gives back is the last one out, and the
// pending recv() must be woken.
TEST_CASE("cancelled_send_wakes_closed_receiver") {
  auto [tx, rx] = channel<int>(1);
  REQUIRE(tx.try_send(1).is_ok());
  MockTask ts, tr;
  auto send = std::make_unique<weft::mpsc::Sender<int>::SendFuture>(tx.send(2));
  CHECK(ts.poll(*send).is_pending());
  CHECK(rx.try_recv().value() == 1);  // its permit goes to the queued send
  rx.close();
  auto recv = rx.recv();
  CHECK(tr.poll(recv).is_pending());  // the send future still holds the permit
  SUBCASE("dropped") { send.reset(); }
  SUBCASE("take_value") { CHECK(send->take_value() == 2); }
  CHECK(tr.is_woken());
  CHECK(ready_value(tr, recv) == std::nullopt);
}

// reserve_many(2) holds one permit and waits for the other when close() comes; whether it
// then fails (polled: Err) or is cancelled (dropped pending), the permit it gives back is
// the last one out and must wake the receiver (Tokio's failed_ / cancelled_ pair).
TEST_CASE("failed_or_cancelled_reserve_many_wakes_closed_receiver") {
  auto [tx, rx] = channel<int>(2);
  REQUIRE(tx.try_send(1).is_ok());
  MockTask ts, tr;
  auto reserve = std::make_unique<weft::mpsc::Sender<int>::ReserveManyFuture>(tx.reserve_many(2));
  CHECK(ts.poll(*reserve).is_pending());  // took 1 of 2
  CHECK(rx.try_recv().value() == 1);      // its permit goes to the reservation
  rx.close();
  CHECK(ts.is_woken());
  auto recv = rx.recv();
  CHECK(tr.poll(recv).is_pending());
  SUBCASE("failed_reserve_many_wakes_closed_receiver") {
    CHECK(ready_value(ts, *reserve).is_err());  // the failing poll gives back both
    CHECK(tr.is_woken());
    reserve.reset();
  }
  SUBCASE("cancelled_reserve_many_wakes_closed_receiver") { reserve.reset(); }
  CHECK(tr.is_woken());
  CHECK(ready_value(tr, recv) == std::nullopt);
  CHECK(rx.capacity() == 2);
}

// reserve() and reserve_owned() waiting on a full channel when it closes: they fail and
// hold nothing, and the receiver's end does not wait for them.
TEST_CASE("failed_reserve_and_reserve_owned_after_close") {
  auto [tx, rx] = channel<int>(1);
  REQUIRE(tx.try_send(1).is_ok());
  MockTask t1, t2, tr;
  auto reserve = tx.reserve();
  auto owned = weft::mpsc::Sender<int>(tx).reserve_owned();
  CHECK(t1.poll(reserve).is_pending());
  CHECK(t2.poll(owned).is_pending());
  rx.close();
  CHECK(ready_value(t1, reserve).is_err());
  CHECK(ready_value(t2, owned).is_err());
  CHECK(ready_value(tr, *std::make_unique<weft::mpsc::Receiver<int>::RecvFuture>(rx.recv())) == 1);
  auto recv = rx.recv();
  CHECK(ready_value(tr, recv) == std::nullopt);
}

// ---- futures polled again after they completed: std::invalid_argument (a logic_error) ----

TEST_CASE("send_future_polled_after_completion_throws") {
  auto [tx, rx] = channel<int>(1);
  MockTask t;
  auto ok = tx.send(1);
  CHECK(ready_value(t, ok).is_ok());
  CHECK_THROWS_AS((void)t.poll(ok), std::invalid_argument);
  CHECK_THROWS_AS((void)t.poll(ok), std::logic_error);
  rx.close();
  auto failed = tx.send(2);
  auto r = ready_value(t, failed);
  REQUIRE(r.is_err());
  CHECK(r.error().value == 2);
  CHECK_THROWS_WITH_AS((void)t.poll(failed), "mpsc::Sender::send future polled after completion",
                       std::logic_error);
  auto taken = tx.send(3);
  CHECK(taken.take_value() == 3);
  CHECK_THROWS_AS((void)t.poll(taken), std::invalid_argument);  // cancelled: done too
  CHECK(rx.blocking_recv() == 1);
}

TEST_CASE("reserve_future_polled_after_completion_throws") {
  auto [tx, rx] = channel<int>(2);
  MockTask t;
  auto reserve = tx.reserve();
  auto permit = ready_value(t, reserve);
  REQUIRE(permit.is_ok());
  CHECK_THROWS_AS((void)t.poll(reserve), std::invalid_argument);
  CHECK(tx.capacity() == 1);  // the second poll took no permit
  CHECK_THROWS_WITH_AS((void)t.poll(reserve),
                       "mpsc::Sender::reserve future polled after completion", std::logic_error);
  rx.close();
  auto failed = tx.reserve();
  CHECK(ready_value(t, failed).is_err());
  CHECK_THROWS_AS((void)t.poll(failed), std::invalid_argument);
}

TEST_CASE("reserve_many_future_polled_after_completion_throws") {
  auto [tx, rx] = channel<int>(2);
  MockTask t;
  auto reserve = tx.reserve_many(2);
  auto permits = ready_value(t, reserve);
  REQUIRE(permits.is_ok());
  CHECK_THROWS_AS((void)t.poll(reserve), std::invalid_argument);
  CHECK(tx.capacity() == 0);
  auto too_many = tx.reserve_many(3);  // more than the bound: fails at once, once
  CHECK(ready_value(t, too_many).is_err());
  CHECK_THROWS_WITH_AS((void)t.poll(too_many),
                       "mpsc::Sender::reserve_many future polled after completion",
                       std::logic_error);
}

TEST_CASE("reserve_owned_future_polled_after_completion_throws") {
  auto [tx, rx] = channel<int>(1);
  MockTask t;
  auto owned = weft::mpsc::Sender<int>(tx).reserve_owned();
  auto permit = ready_value(t, owned);
  REQUIRE(permit.is_ok());
  CHECK_THROWS_AS((void)t.poll(owned), std::invalid_argument);
  { auto released = std::move(*permit).release(); }
  rx.close();
  auto failed = weft::mpsc::Sender<int>(tx).reserve_owned();
  CHECK(ready_value(t, failed).is_err());
  CHECK_THROWS_WITH_AS((void)t.poll(failed),
                       "mpsc::Sender::reserve_owned future polled after completion",
                       std::logic_error);
}

// ---- Tokio 1.49 to 1.53.1: the regression tests of tokio/tests/sync_mpsc.rs ----

// tokio#7686, refined by tokio#8074: after close(), an empty channel reports
// Disconnected, unless a permit taken before close() may still send (then Empty, and
// Disconnected once it is gone).
TEST_CASE("try_recv_after_receiver_close") {
  auto [tx, rx] = channel<int>(5);
  CHECK(rx.try_recv().error() == TryRecvError::Empty);
  rx.close();
  CHECK(rx.try_recv().error() == TryRecvError::Disconnected);
}

TEST_CASE("try_recv_after_receiver_close_with_permit") {
  auto [tx, rx] = channel<int>(5);
  auto permit = tx.try_reserve();
  REQUIRE(permit.is_ok());
  CHECK(rx.try_recv().error() == TryRecvError::Empty);
  rx.close();
  CHECK(rx.try_recv().error() == TryRecvError::Empty);
  { auto dropped = std::move(*permit); }
  CHECK(rx.try_recv().error() == TryRecvError::Disconnected);
}

// tokio#7991: recv_many on a closed, drained channel returns 0 and leaves what the
// buffer already held.
TEST_CASE("recv_many_with_non_empty_buffer_bounded_rx_closed_and_idle") {
  auto [tx, rx] = channel<int>(1);
  std::vector<int> buffer{1};
  rx.close();
  CHECK(rx.blocking_recv_many(buffer, 1) == 0);
  CHECK(buffer == std::vector<int>{1});
}

// tokio#8075: after close(), the receiver waits for the last permit; every way a permit
// ends (dropped, sent, released; plain, owned, from an iterator) wakes it.
TEST_CASE("last_permit_wakes_closed_receiver") {
  auto [tx, rx] = channel<int>(100);
  MockTask tr;
  auto recv = rx.recv();
  auto closed_and_pending = [&] {
    rx.close();
    CHECK(tr.poll(recv).is_pending());
  };
  std::optional<weft::mpsc::Sender<int>> inert;
  SUBCASE("dropping_last_permit_wakes_closed_receiver") {
    auto permit = tx.try_reserve();
    closed_and_pending();
    { auto dropped = std::move(*permit); }
  }
  SUBCASE("dropping_last_owned_permit_wakes_closed_receiver") {
    auto permit = weft::mpsc::Sender<int>(tx).try_reserve_owned();
    closed_and_pending();
    { auto dropped = std::move(*permit); }
  }
  SUBCASE("dropping_last_permit_iterator_wakes_closed_receiver") {
    auto permits = tx.try_reserve_many(1);
    closed_and_pending();
    { auto dropped = std::move(*permits); }
  }
  SUBCASE("sending_last_permit_wakes_closed_receiver") {
    auto permit = tx.try_reserve();
    closed_and_pending();
    std::move(*permit).send(1);
  }
  SUBCASE("sending_last_owned_permit_wakes_closed_receiver") {
    auto permit = weft::mpsc::Sender<int>(tx).try_reserve_owned();
    closed_and_pending();
    inert.emplace(std::move(*permit).send(1));
  }
  SUBCASE("releasing_last_owned_permit_wakes_closed_receiver") {
    auto permit = weft::mpsc::Sender<int>(tx).try_reserve_owned();
    closed_and_pending();
    inert.emplace(std::move(*permit).release());
  }
  CHECK(tr.is_woken());
  CHECK(tr.poll(recv).is_ready());
}

// tokio#8095: the receiver's waker goes with the receiver, even while senders remain.
TEST_CASE("release_waker_on_rx_drop") {
  MockTask task;
  auto [tx, rx] = channel<int>(1);
  auto held = std::make_optional(std::move(rx));
  CHECK(task.enter([&](weft::Context& cx) { return held->poll_recv(cx); }).is_pending());
  CHECK(task.waker_ref_count() == 1);
  held.reset();
  CHECK(task.waker_ref_count() == 0);
}

// tokio#8260 (the single-permit pair; the reserve_many pair is above): a reserve() that
// was handed the last permit and then fails on close(), or is cancelled, gives that
// permit back and must wake the receiver waiting for the end.
TEST_CASE("failed_or_cancelled_reserve_wakes_closed_receiver") {
  auto [tx, rx] = channel<int>(1);
  auto permit = tx.try_reserve();
  MockTask ts, tr;
  auto reserve = std::make_unique<weft::mpsc::Sender<int>::ReserveFuture>(tx.reserve());
  CHECK(ts.poll(*reserve).is_pending());
  { auto dropped = std::move(*permit); }  // the slot goes to the queued reservation
  CHECK(ts.is_woken());
  rx.close();
  auto recv = rx.recv();
  CHECK(tr.poll(recv).is_pending());
  SUBCASE("failed_reserve_wakes_closed_receiver") { CHECK(ready_value(ts, *reserve).is_err()); }
  SUBCASE("cancelled_reserve_wakes_closed_receiver") { reserve.reset(); }
  CHECK(tr.is_woken());
  CHECK(ready_value(tr, recv) == std::nullopt);
}

TEST_CASE("blocking_send_until / blocking_recv_until: timeouts give the value back, lose nothing") {
  using namespace std::chrono_literals;
  using weft::testing::Counted;
  const long live_before = Counted::live();
  {
    auto [tx, rx] = channel<Counted>(1);
    REQUIRE(tx.blocking_send_for(Counted(1), 1h).is_ok());  // capacity: at once
    auto full = tx.blocking_send_for(Counted(2), 5ms);      // no capacity in time
    REQUIRE(full.is_err());
    CHECK(full.error().is_timeout());
    CHECK(full.error().value.value == 2);  // the value, back
    auto first = rx.blocking_recv_for(1h);
    REQUIRE(first.is_ok());
    CHECK((*first)->value == 1);
    auto empty = rx.blocking_recv_until(weft::platform::deadline_after(5ms));
    CHECK(empty.is_err());  // Err(Elapsed): nothing sent
    // A value sent before the deadline, from another thread, is received.
    weft::platform::thread t([tx = tx] {
      std::this_thread::sleep_for(2ms);
      REQUIRE(tx.blocking_send_until(Counted(3), weft::platform::deadline_after(1h)).is_ok());
    });
    auto third = rx.blocking_recv_for(1h);
    t.join();
    REQUIRE(third.is_ok());
    REQUIRE(third->has_value());
    CHECK((*third)->value == 3);
    // recv_many: a timeout appends nothing; values sent are taken.
    std::vector<Counted> buffer;
    CHECK(rx.blocking_recv_many_for(buffer, 4, 1ms).is_err());
    CHECK(buffer.empty());
    REQUIRE(tx.try_send(Counted(4)).is_ok());
    auto many = rx.blocking_recv_many_until(buffer, 4, weft::platform::clock::now());
    REQUIRE(many.is_ok());
    CHECK(*many == 1);
    // Closed: the receiver gone, the value comes back as Closed, at once.
    rx.close();
    auto closed = tx.blocking_send_for(Counted(5), 1h);
    REQUIRE(closed.is_err());
    CHECK(closed.error().is_closed());
    CHECK(std::move(closed.error()).into_inner().value == 5);
    auto drained = rx.blocking_recv_for(1h);
    REQUIRE(drained.is_ok());
    CHECK(*drained == std::nullopt);  // closed and empty: in time, no value
  }
  CHECK(Counted::live() == live_before);  // nothing leaked by a timed-out send or recv
}
