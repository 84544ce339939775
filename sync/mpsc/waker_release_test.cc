// Unit tests: no mpsc handle or future keeps a task's waker after it is gone (the class
// of tokio#8095). Each registers a MockTask's waker through one entry point, ends the
// registration one way (destroyed pending, woken, failed on close), and checks that the
// channel holds no clone of the waker: MockTask::waker_ref_count() is 0.
//
// Kept on purpose, as Tokio: a recv() / recv_many() future destroyed pending leaves its
// waker with the receiver until its next poll or its drop (recv() is a view of the
// receiver, and a select loop would otherwise drop and clone the waker every round).
#include "sync/mpsc/bounded.h"
#include "sync/mpsc/unbounded.h"

#include "sync/task/mock_task.h"

#include <doctest/doctest.h>

#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using weft::MockTask;
using weft::mpsc::channel;
using weft::mpsc::Sender;
using weft::mpsc::unbounded_channel;

// A full bounded channel (capacity 1, one value queued) and a second sender, so that no
// last-sender wake can stand in for a release under test.
struct Full {
  Full() {
    auto [t, r] = channel<int>(1);
    REQUIRE(t.try_send(0).is_ok());
    tx.emplace(std::move(t));
    rx.emplace(std::move(r));
  }
  std::optional<Sender<int>> tx;
  std::optional<weft::mpsc::Receiver<int>> rx;
};

// Registers `task` through `make(full)`'s future (pending on a full channel), ends the
// wait with `end(full, future)` and checks that the channel holds no waker afterwards.
template <class Make, class End>
void check_released(Make make, End end) {
  MockTask task;
  Full full;
  {
    auto future = make(full);
    CHECK(task.poll(future).is_pending());
    CHECK(task.waker_ref_count() == 1);
    end(full, task, future);
    CHECK(task.waker_ref_count() == 0);  // released by the end itself, future alive
  }
  CHECK(task.waker_ref_count() == 0);
}

// Ends with the future alive: the receiver's drop (the waiter is woken by the close:
// Err), or a receive (the waiter is handed the capacity: Ok).
struct Closed {
  template <class F>
  void operator()(Full& full, MockTask& task, F& future) const {
    full.rx.reset();
    CHECK(task.is_woken());
    auto p = task.poll(future);
    REQUIRE(p.is_ready());
    CHECK(p.value().is_err());
  }
};
struct Served {
  template <class F>
  void operator()(Full& full, MockTask& task, F& future) const {
    CHECK(full.rx->try_recv().value() == 0);
    CHECK(task.is_woken());
    auto p = task.poll(future);
    REQUIRE(p.is_ready());
    CHECK(p.value().is_ok());
  }
};

// The three ends of a capacity wait: destroyed pending, failed on close, served.
template <class Make>
void check_every_end(Make make) {
  SUBCASE("destroyed_pending") {
    MockTask task;
    Full full;
    {
      auto future = make(full);
      CHECK(task.poll(future).is_pending());
      CHECK(task.waker_ref_count() == 1);
    }
    CHECK(task.waker_ref_count() == 0);
  }
  SUBCASE("failed_on_close") { check_released(make, Closed{}); }
  SUBCASE("served") { check_released(make, Served{}); }
}

TEST_CASE("send_future_releases_waker") {
  check_every_end([](Full& f) { return f.tx->send(1); });
}

// SendFuture::take_value() cancels the wait: the waker goes then, the future still alive.
TEST_CASE("send_future_take_value_releases_waker") {
  MockTask task;
  Full full;
  auto send = full.tx->send(1);
  CHECK(task.poll(send).is_pending());
  CHECK(send.take_value() == 1);
  CHECK(task.waker_ref_count() == 0);
}

TEST_CASE("reserve_future_releases_waker") {
  check_every_end([](Full& f) { return f.tx->reserve(); });
}

TEST_CASE("reserve_many_future_releases_waker") {
  check_every_end([](Full& f) { return f.tx->reserve_many(1); });
}

TEST_CASE("reserve_owned_future_releases_waker") {
  check_every_end([](Full& f) { return Sender<int>(*f.tx).reserve_owned(); });
}

// reserve_many(2) on a channel of 2 with 1 queued: the future holds one permit and waits
// for the other; destroyed, it gives both its permit and its waker back.
TEST_CASE("partial_reserve_many_releases_waker") {
  MockTask task;
  auto [tx, rx] = channel<int>(2);
  REQUIRE(tx.try_send(0).is_ok());
  {
    auto future = tx.reserve_many(2);
    CHECK(task.poll(future).is_pending());
    CHECK(task.waker_ref_count() == 1);
  }
  CHECK(task.waker_ref_count() == 0);
  CHECK(tx.capacity() == 1);
}

// Sender::closed(): destroyed pending, or completed by the receiver's close() or drop
// (`close_by_drop`; the future still alive).
template <class Channel>
void check_closed_future_releases(Channel make_channel, bool close_by_drop) {
  MockTask task;
  auto [tx, rx] = make_channel();
  std::optional<std::decay_t<decltype(rx)>> held(std::move(rx));
  {
    auto closed = tx.closed();
    CHECK(task.poll(closed).is_pending());
    CHECK(task.waker_ref_count() == 1);
  }
  CHECK(task.waker_ref_count() == 0);
  auto closed = tx.closed();
  CHECK(task.poll(closed).is_pending());
  if (close_by_drop) {
    held.reset();
  } else {
    held->close();
  }
  CHECK(task.waker_ref_count() == 0);
  CHECK(task.poll(closed).is_ready());
}

TEST_CASE("closed_future_releases_waker") {
  for (bool close_by_drop : {false, true}) {
    check_closed_future_releases([] { return channel<int>(1); }, close_by_drop);
    check_closed_future_releases([] { return unbounded_channel<int>(); }, close_by_drop);
  }
}

// recv() and recv_many(): the receiver's drop releases the waker (a sender keeps the
// channel), and so does the wake of a send or of the last sender's drop.
enum class RecvEnd { ReceiverDropped, WokenBySend, WokenByLastSenderDrop };

template <class Channel>
void check_receiver_releases(Channel make_channel, bool many, RecvEnd end) {
  CAPTURE(many);
  CAPTURE(static_cast<int>(end));
  MockTask task;
  auto [tx, rx] = make_channel();
  std::optional<std::decay_t<decltype(rx)>> held(std::move(rx));
  std::vector<int> buffer;
  if (many) {
    auto recv = held->recv_many(buffer, 4);
    CHECK(task.poll(recv).is_pending());
  } else {
    auto recv = held->recv();
    CHECK(task.poll(recv).is_pending());
  }
  CHECK(task.waker_ref_count() == 1);  // kept by the receiver (see the top)
  switch (end) {
    case RecvEnd::ReceiverDropped: held.reset(); break;
    case RecvEnd::WokenBySend:
      if constexpr (requires { tx.try_send(1); }) {
        REQUIRE(tx.try_send(1).is_ok());
      } else {
        REQUIRE(tx.send(1).is_ok());
      }
      CHECK(task.is_woken());
      break;
    case RecvEnd::WokenByLastSenderDrop: {
      auto dropped = std::move(tx);
    }
      CHECK(task.is_woken());
      break;
  }
  CHECK(task.waker_ref_count() == 0);
}

template <class Channel>
void check_receiver_releases(Channel make_channel) {
  for (bool many : {false, true}) {
    for (RecvEnd end :
         {RecvEnd::ReceiverDropped, RecvEnd::WokenBySend, RecvEnd::WokenByLastSenderDrop}) {
      check_receiver_releases(make_channel, many, end);
    }
  }
}

// A receive that is ready at once registers nothing: once close() ran and the channel is
// drained, recv() / recv_many() answer the end before they register (as Tokio's
// Rx::recv checks rx_closed && is_idle before register_by_ref), so the receiver keeps no
// waker of a task that will not wait.
template <class Channel>
void check_ready_end_registers_nothing(Channel make_channel) {
  MockTask task;
  std::vector<int> buffer;
  auto [tx, rx] = make_channel();
  rx.close();
  auto recv = rx.recv();
  CHECK(task.poll(recv).value() == std::nullopt);
  auto many = rx.recv_many(buffer, 2);
  CHECK(task.poll(many).value() == 0);
  CHECK(task.waker_ref_count() == 0);
}

TEST_CASE("ready_end_registers_no_waker") {
  check_ready_end_registers_nothing([] { return channel<int>(1); });
  check_ready_end_registers_nothing([] { return unbounded_channel<int>(); });
}

TEST_CASE("bounded_receiver_releases_waker") {
  check_receiver_releases([] { return channel<int>(4); });
}

TEST_CASE("unbounded_receiver_releases_waker") {
  check_receiver_releases([] { return unbounded_channel<int>(); });
}

}  // namespace
