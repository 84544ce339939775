// Unit tests: each fast path of the mpsc channels (try_send, try_reserve*, try_recv, a
// future's first poll) makes the checks its slow path makes, and answers as it would: a
// closed channel is Closed before it is Full, a zero-sized reservation still sees the
// close, and a receive after close() still delivers what was queued. Tokio 1.53.1's
// answers (batch_semaphore.rs try_acquire / poll_acquire check CLOSED first).
#include "sync/mpsc/bounded.h"
#include "sync/mpsc/unbounded.h"

#include "sync/task/mock_task.h"

#include <doctest/doctest.h>

#include <optional>
#include <utility>
#include <vector>

namespace {

using weft::MockTask;
using weft::mpsc::channel;
using weft::mpsc::Sender;
using weft::mpsc::TryRecvError;
using weft::mpsc::unbounded_channel;

// Polls `future` once as `task`; it must be ready (its first poll sees the close).
template <class F>
auto first_poll(MockTask& task, F& future) {
  auto p = task.poll(future);
  REQUIRE(p.is_ready());
  return std::move(p.value());
}

// Full and closed: every try_* says Closed (with the value or Sender back), and every
// future fails at its first poll, as a waiting one fails at close().
TEST_CASE("full_and_closed_is_closed") {
  auto [tx, rx] = channel<int>(1);
  REQUIRE(tx.try_send(0).is_ok());
  rx.close();
  MockTask task;
  auto sent = tx.try_send(1);
  REQUIRE(sent.is_err());
  CHECK(sent.error().is_closed());
  CHECK(sent.error().value == 1);
  CHECK(tx.try_reserve().error().is_closed());
  CHECK(tx.try_reserve_many(1).error().is_closed());
  auto owned = Sender<int>(tx).try_reserve_owned();
  REQUIRE(owned.is_err());
  CHECK(owned.error().is_closed());
  auto send = tx.send(2);
  CHECK(first_poll(task, send).error().value == 2);
  auto reserve = tx.reserve();
  CHECK(first_poll(task, reserve).is_err());
  auto many = tx.reserve_many(1);
  CHECK(first_poll(task, many).is_err());
  auto owned_future = Sender<int>(tx).reserve_owned();
  CHECK(first_poll(task, owned_future).is_err());
  CHECK(rx.try_recv().value() == 0);  // what was queued still comes
  CHECK(rx.try_recv().error() == TryRecvError::Disconnected);
}

// A reservation of nothing: Ok (an empty iterator) while open, Closed once closed, both
// for try_reserve_many(0) and reserve_many(0).
TEST_CASE("reserve_many_zero_sees_close") {
  auto [tx, rx] = channel<int>(1);
  MockTask task;
  {
    auto permits = tx.try_reserve_many(0);
    REQUIRE(permits.is_ok());
    CHECK(permits->len() == 0);
    auto many = tx.reserve_many(0);
    auto waited = first_poll(task, many);
    REQUIRE(waited.is_ok());
    CHECK(waited->len() == 0);
  }
  rx.close();
  CHECK(tx.try_reserve_many(0).error().is_closed());
  auto many = tx.reserve_many(0);
  CHECK(first_poll(task, many).is_err());
  CHECK(rx.blocking_recv() == std::nullopt);
}

// After close(), recv, recv_many and try_recv agree: queued values first, then the end.
TEST_CASE("receives_agree_after_close") {
  for (int way = 0; way < 3; ++way) {
    CAPTURE(way);
    auto [tx, rx] = unbounded_channel<int>();
    REQUIRE(tx.send(1).is_ok());
    REQUIRE(tx.send(2).is_ok());
    rx.close();
    CHECK(tx.send(3).is_err());
    std::vector<int> got;
    if (way == 0) {
      while (auto r = rx.try_recv()) got.push_back(*r);
      CHECK(rx.try_recv().error() == TryRecvError::Disconnected);
    } else if (way == 1) {
      while (auto v = rx.blocking_recv()) got.push_back(*v);
    } else {
      while (rx.blocking_recv_many(got, 1) != 0) {
      }
    }
    CHECK(got == std::vector<int>{1, 2});
    CHECK(rx.blocking_recv() == std::nullopt);
    CHECK(rx.try_recv().error() == TryRecvError::Disconnected);
  }
}

// closed() after the receiver is gone (or closed) is ready at its first poll.
TEST_CASE("closed_future_first_poll_sees_close") {
  MockTask task;
  auto [tx, rx] = channel<int>(1);
  auto [utx, urx] = unbounded_channel<int>();
  rx.close();
  { auto dropped = std::move(urx); }
  auto closed = tx.closed();
  CHECK(task.poll(closed).is_ready());
  auto uclosed = utx.closed();
  CHECK(task.poll(uclosed).is_ready());
  CHECK(tx.is_closed());
  CHECK(utx.is_closed());
  CHECK(task.waker_ref_count() == 0);
}

}  // namespace
