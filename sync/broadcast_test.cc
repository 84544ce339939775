// Unit tests of broadcast. Ported from tokio/tests/sync_broadcast.rs (and the unit tests
// in tokio/src/sync/broadcast.rs), plus counted values (every value destroyed exactly
// once, including values still queued when the channel goes), weak senders, closed().
#include "sync/broadcast.h"
#include "sync/platform/atomic.h"

#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/wake_contract_check.h"
#include "testing/waker_leak_check.h"
#include "testing/counted.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using weft::Context;
using weft::MockTask;
namespace broadcast = weft::broadcast;
using broadcast::RecvError;
using broadcast::TryRecvError;

using Counted = weft::testing::Counted;

struct LiveCheck {
  LiveCheck() { REQUIRE(Counted::live() == 0); }
  ~LiveCheck() { CHECK(Counted::live() == 0); }
};

template <class T>
T recv_now(broadcast::Receiver<T>& rx) {
  auto r = rx.try_recv();
  REQUIRE(r.is_ok());
  return *std::move(r);
}
template <class T>
void check_empty(broadcast::Receiver<T>& rx) {
  auto r = rx.try_recv();
  REQUIRE(r.is_err());
  CHECK(r.error() == TryRecvError::empty());
}
template <class T>
void check_lagged(broadcast::Receiver<T>& rx, std::uint64_t n) {
  auto r = rx.try_recv();
  REQUIRE(r.is_err());
  CHECK(r.error() == TryRecvError::lagged(n));
}
template <class T>
void check_closed(broadcast::Receiver<T>& rx) {
  auto r = rx.try_recv();
  REQUIRE(r.is_err());
  CHECK(r.error() == TryRecvError::closed());
}

TEST_CASE("send_try_recv_bounded") {
  auto [tx, rx] = broadcast::channel<std::string>(16);
  check_empty(rx);
  auto n = tx.send("hello");
  REQUIRE(n.is_ok());
  CHECK(*n == 1);
  CHECK(recv_now(rx) == "hello");
  check_empty(rx);
}

TEST_CASE("send_two_recv") {
  auto [tx, rx1] = broadcast::channel<std::string>(16);
  auto rx2 = tx.subscribe();
  check_empty(rx1);
  check_empty(rx2);
  CHECK(*tx.send("hello") == 2);
  CHECK(recv_now(rx1) == "hello");
  CHECK(recv_now(rx2) == "hello");
  check_empty(rx1);
  check_empty(rx2);
}

TEST_CASE("send_recv_bounded") {
  auto [tx, rx] = broadcast::channel<std::string>(16);
  MockTask task;
  auto recv = rx.recv();
  CHECK(task.poll(recv).is_pending());
  CHECK(tx.send("hello").is_ok());
  CHECK(task.is_woken());
  auto out = task.poll(recv);
  REQUIRE(out.is_ready());
  CHECK(*out.value() == "hello");
}

TEST_CASE("send_two_recv_bounded") {
  auto [tx, rx1] = broadcast::channel<std::string>(16);
  auto rx2 = tx.subscribe();
  {
    MockTask t1, t2;
    auto recv1 = rx1.recv();
    auto recv2 = rx2.recv();
    CHECK(t1.poll(recv1).is_pending());
    CHECK(t2.poll(recv2).is_pending());
    CHECK(tx.send("hello").is_ok());
    CHECK(t1.is_woken());
    CHECK(t2.is_woken());
    CHECK(*t1.poll(recv1).value() == "hello");
    CHECK(*t2.poll(recv2).value() == "hello");
  }
  MockTask t1, t2;
  auto recv1 = rx1.recv();
  auto recv2 = rx2.recv();
  CHECK(t1.poll(recv1).is_pending());
  CHECK(tx.send("world").is_ok());
  CHECK(t1.is_woken());
  CHECK_FALSE(t2.is_woken());
  CHECK(*t1.poll(recv1).value() == "world");
  CHECK(*t2.poll(recv2).value() == "world");
}

TEST_CASE("change_tasks") {
  auto [tx, rx] = broadcast::channel<std::string>(1);
  auto recv = rx.recv();
  MockTask task1, task2;
  CHECK(task1.poll(recv).is_pending());
  CHECK(task2.poll(recv).is_pending());
  CHECK(task1.waker_ref_count() == 0);
  CHECK(task2.waker_ref_count() == 1);
  CHECK(tx.send("hello").is_ok());
  CHECK(task2.is_woken());
  CHECK_FALSE(task1.is_woken());
}

TEST_CASE("send_slow_rx") {
  auto [tx, rx1] = broadcast::channel<std::string>(16);
  auto rx2 = tx.subscribe();
  {
    MockTask t2;
    auto recv2 = rx2.recv();
    {
      MockTask t1;
      auto recv1 = rx1.recv();
      CHECK(t1.poll(recv1).is_pending());
      CHECK(t2.poll(recv2).is_pending());
      CHECK(tx.send("one").is_ok());
      CHECK(t1.is_woken());
      CHECK(t2.is_woken());
      CHECK(tx.send("two").is_ok());
      CHECK(*t1.poll(recv1).value() == "one");
    }
    CHECK(*weft::block_on(rx1.recv()) == "two");
    MockTask t1;
    auto recv1 = rx1.recv();
    CHECK(t1.poll(recv1).is_pending());
    CHECK(tx.send("three").is_ok());
    CHECK(t1.is_woken());
    CHECK(*t1.poll(recv1).value() == "three");
    CHECK(*t2.poll(recv2).value() == "one");
  }
  CHECK(recv_now(rx2) == "two");
  CHECK(recv_now(rx2) == "three");
}

TEST_CASE("drop_rx_while_values_remain") {
  LiveCheck check;
  auto [tx, rx1] = broadcast::channel<Counted>(16);
  auto rx2 = tx.subscribe();
  CHECK(tx.send(Counted(1)).is_ok());
  CHECK(tx.send(Counted(2)).is_ok());
  CHECK(recv_now(rx1).value == 1);
  CHECK(recv_now(rx2).value == 1);
  { auto gone = std::move(rx2); }
  CHECK(Counted::live() == 1);  // value 2, still owed to rx1
  { auto gone = std::move(rx1); }
  CHECK(Counted::live() == 0);
}

TEST_CASE("lagging_rx") {
  auto [tx, rx1] = broadcast::channel<std::string>(2);
  auto rx2 = tx.subscribe();
  CHECK(tx.send("one").is_ok());
  CHECK(tx.send("two").is_ok());
  CHECK(recv_now(rx1) == "one");
  CHECK(tx.send("three").is_ok());
  // Lagged too far.
  check_lagged(rx2, 1);
  // Calling again gets the next value.
  CHECK(recv_now(rx2) == "two");
  CHECK(recv_now(rx1) == "two");
  CHECK(recv_now(rx1) == "three");
  CHECK(tx.send("four").is_ok());
  CHECK(tx.send("five").is_ok());
  check_lagged(rx2, 1);
  CHECK(tx.send("six").is_ok());
  check_lagged(rx2, 1);
}

TEST_CASE("send_no_rx") {
  auto pair = broadcast::channel<std::string>(16);
  broadcast::Sender<std::string> tx = std::move(pair.first);
  { auto gone = std::move(pair.second); }
  auto r = tx.send("hello");
  REQUIRE(r.is_err());
  CHECK(r.error().value == "hello");  // the value comes back
  auto rx = tx.subscribe();
  CHECK(tx.send("world").is_ok());
  CHECK(recv_now(rx) == "world");
}

TEST_CASE("zero_capacity") {
  CHECK_THROWS_AS(broadcast::channel<int>(0), std::invalid_argument);
  CHECK_THROWS_AS(broadcast::Sender<int>(0), std::invalid_argument);
}

TEST_CASE("capacity_too_big") {
  CHECK_THROWS_AS(broadcast::channel<int>(1 + (std::numeric_limits<std::size_t>::max() >> 1)),
                  std::length_error);
}

TEST_CASE("capacity is rounded up to a power of two") {
  auto [tx, rx] = broadcast::channel<int>(3);
  for (int i = 0; i < 4; ++i) CHECK(tx.send(i).is_ok());
  CHECK(recv_now(rx) == 0);  // 4 kept, nothing lost
  for (int i = 4; i < 9; ++i) CHECK(tx.send(i).is_ok());
  check_lagged(rx, 4);  // positions 1..4 overwritten; the oldest kept is 5
  CHECK(recv_now(rx) == 5);
}

// A copy that throws, as Tokio's panicking clone: the value is skipped for this receiver.
struct Fussy {
  int value;
  explicit Fussy(int v) : value(v) {}
  Fussy(const Fussy& o) : value(o.value) {
    if (o.value == 0) throw std::runtime_error("clone");
  }
  Fussy(Fussy&&) noexcept = default;
};

TEST_CASE("panic_in_clone") {
  auto [tx, rx] = broadcast::channel<Fussy>(16);
  CHECK(tx.send(Fussy(0)).is_ok());
  CHECK(tx.send(Fussy(1)).is_ok());
  CHECK_THROWS_AS((void)rx.try_recv(), std::runtime_error);
  CHECK(recv_now(rx).value == 1);
  CHECK(tx.is_empty());  // the throwing copy still released the receiver's share
}

TEST_CASE("dropping_tx_notifies_rx") {
  auto [tx, rx1] = broadcast::channel<int>(16);
  auto rx2 = tx.subscribe();
  std::optional<broadcast::Sender<int>> tx1(std::move(tx));
  std::optional<broadcast::Sender<int>> tx2(*tx1);
  MockTask t1, t2;
  auto recv1 = rx1.recv();
  auto recv2 = rx2.recv();
  CHECK(t1.poll(recv1).is_pending());
  CHECK(t2.poll(recv2).is_pending());
  tx1.reset();
  CHECK(t1.poll(recv1).is_pending());
  CHECK(t2.poll(recv2).is_pending());
  tx2.reset();
  CHECK(t1.is_woken());
  CHECK(t2.is_woken());
  auto e1 = t1.poll(recv1);
  REQUIRE(e1.is_ready());
  CHECK(e1.value().error() == RecvError::closed());
  auto e2 = t2.poll(recv2);
  REQUIRE(e2.is_ready());
  CHECK(e2.value().error().is_closed());
}

TEST_CASE("unconsumed_messages_are_dropped") {
  auto [tx, rx] = broadcast::channel<std::shared_ptr<int>>(16);
  auto msg = std::make_shared<int>(0);
  CHECK(tx.send(msg).is_ok());
  CHECK(msg.use_count() == 2);
  { auto gone = std::move(rx); }
  CHECK(msg.use_count() == 1);
}

TEST_CASE("single_capacity_recvs") {
  auto [tx, rx] = broadcast::channel<int>(1);
  CHECK(tx.send(1).is_ok());
  CHECK(recv_now(rx) == 1);
  check_empty(rx);
}

TEST_CASE("single_capacity_recvs_after_drop_1") {
  auto pair = broadcast::channel<int>(1);
  auto& rx = pair.second;
  CHECK(pair.first.send(1).is_ok());
  { auto gone = std::move(pair.first); }
  CHECK(recv_now(rx) == 1);
  check_closed(rx);
}

TEST_CASE("single_capacity_recvs_after_drop_2") {
  auto pair = broadcast::channel<int>(1);
  auto& rx = pair.second;
  CHECK(pair.first.send(1).is_ok());
  CHECK(pair.first.send(2).is_ok());
  { auto gone = std::move(pair.first); }
  check_lagged(rx, 1);
  CHECK(recv_now(rx) == 2);
  check_closed(rx);
}

TEST_CASE("dropping_sender_does_not_overwrite") {
  auto pair = broadcast::channel<int>(2);
  auto& rx = pair.second;
  CHECK(pair.first.send(1).is_ok());
  CHECK(pair.first.send(2).is_ok());
  { auto gone = std::move(pair.first); }
  CHECK(recv_now(rx) == 1);
  CHECK(recv_now(rx) == 2);
  check_closed(rx);
}

TEST_CASE("lagging_receiver_recovers_after_wrap_closed_1") {
  auto pair = broadcast::channel<int>(2);
  auto& rx = pair.second;
  for (int i = 1; i <= 3; ++i) CHECK(pair.first.send(i).is_ok());
  { auto gone = std::move(pair.first); }
  check_lagged(rx, 1);
  CHECK(recv_now(rx) == 2);
  CHECK(recv_now(rx) == 3);
  check_closed(rx);
}

TEST_CASE("lagging_receiver_recovers_after_wrap_closed_2") {
  auto pair = broadcast::channel<int>(2);
  auto& rx = pair.second;
  for (int i = 1; i <= 4; ++i) CHECK(pair.first.send(i).is_ok());
  { auto gone = std::move(pair.first); }
  check_lagged(rx, 2);
  CHECK(recv_now(rx) == 3);
  CHECK(recv_now(rx) == 4);
  check_closed(rx);
}

TEST_CASE("lagging_receiver_recovers_after_wrap_open") {
  auto [tx, rx] = broadcast::channel<int>(2);
  for (int i = 1; i <= 3; ++i) CHECK(tx.send(i).is_ok());
  check_lagged(rx, 1);
  CHECK(recv_now(rx) == 2);
  CHECK(recv_now(rx) == 3);
  check_empty(rx);
}

TEST_CASE("receiver_len_with_lagged") {
  auto [tx, rx] = broadcast::channel<int>(3);
  for (int v : {10, 20, 30, 40}) CHECK(tx.send(v).is_ok());
  CHECK(rx.len() == 4);
  CHECK(recv_now(rx) == 10);
  CHECK(tx.send(50).is_ok());
  CHECK(tx.send(60).is_ok());
  CHECK(rx.len() == 5);
  check_lagged(rx, 1);
}

TEST_CASE("resubscribe_points_to_tail") {
  auto [tx, rx] = broadcast::channel<int>(3);
  CHECK(tx.send(1).is_ok());
  auto rx_resub = rx.resubscribe();
  check_empty(rx_resub);
  CHECK(tx.send(2).is_ok());
  CHECK(recv_now(rx) == 1);
  CHECK(recv_now(rx) == 2);
  CHECK(recv_now(rx_resub) == 2);
}

TEST_CASE("resubscribe_lagged") {
  auto [tx, rx] = broadcast::channel<int>(1);
  CHECK(tx.send(1).is_ok());
  CHECK(tx.send(2).is_ok());
  auto rx_resub = rx.resubscribe();
  check_lagged(rx, 1);
  check_empty(rx_resub);
  CHECK(recv_now(rx) == 2);
  check_empty(rx);
  check_empty(rx_resub);
}

TEST_CASE("resubscribe_to_closed_channel") {
  auto pair = broadcast::channel<int>(2);
  { auto gone = std::move(pair.first); }
  auto rx_resub = pair.second.resubscribe();
  check_closed(rx_resub);
}

// Both slot layouts (sync/broadcast.h): int is copied by the seqlock receive and counted
// by the receivers' positions, std::string under the slot lock and counted per slot.
template <class T>
T value_of(int i) {
  if constexpr (std::is_same_v<T, std::string>) {
    return std::to_string(i);
  } else {
    return T(i);
  }
}
static_assert(broadcast::detail::seq_readable<int>);
static_assert(!broadcast::detail::seq_readable<std::string>);

TEST_CASE_TEMPLATE("sender_len", T, int, std::string) {
  auto [tx, rx1] = broadcast::channel<T>(4);
  auto rx2 = tx.subscribe();
  CHECK(tx.len() == 0);
  CHECK(tx.is_empty());
  for (int i = 0; i < 3; ++i) CHECK(tx.send(value_of<T>(i)).is_ok());
  CHECK(tx.len() == 3);
  CHECK_FALSE(tx.is_empty());
  (void)recv_now(rx1);
  CHECK(tx.len() == 3);  // rx2 has not seen the first
  (void)recv_now(rx2);
  CHECK(tx.len() == 2);
  {
    auto copy = rx2;  // owes what rx2 owes
    CHECK(tx.len() == 2);
    (void)recv_now(rx1);
    (void)recv_now(rx1);
    (void)recv_now(rx2);
    (void)recv_now(rx2);
    CHECK(tx.len() == 2);  // still owed to the copy
  }
  CHECK(tx.len() == 0);
  CHECK(tx.is_empty());
  for (int i = 0; i < 4; ++i) CHECK(tx.send(value_of<T>(i)).is_ok());
  CHECK(tx.len() == 4);
  (void)recv_now(rx1);
  for (int i = 0; i < 2; ++i) CHECK(tx.send(value_of<T>(i)).is_ok());
  CHECK(tx.len() == 4);  // values overwritten before being seen are not counted
  { auto gone = std::move(rx1); }
  CHECK(tx.len() == 4);
  { auto gone = std::move(rx2); }
  CHECK(tx.len() == 0);
  CHECK(tx.is_empty());
  auto late = tx.subscribe();  // values sent before it do not count for it
  CHECK(tx.is_empty());
  CHECK(tx.send(value_of<T>(9)).is_ok());
  CHECK(tx.len() == 1);
  CHECK(recv_now(late) == value_of<T>(9));
  CHECK(tx.is_empty());
}

// A trivially copyable value of several words, one not a multiple of 8 bytes: the seqlock
// slot copies every byte.
struct Wide {
  std::uint64_t a;
  std::uint32_t b;
  char c[9];
  bool operator==(const Wide&) const = default;
};
static_assert(broadcast::detail::seq_readable<Wide> && sizeof(Wide) > 16);

TEST_CASE("seqlock slot: wide values, lag, resubscribe, copies") {
  auto [tx, rx] = broadcast::channel<Wide>(2);
  auto make = [](int i) {
    Wide w{~static_cast<std::uint64_t>(i), static_cast<std::uint32_t>(i) * 7, "abcdefgh"};
    w.c[i % 8] = 'z';
    return w;
  };
  CHECK(tx.send(make(0)).is_ok());
  auto copy = rx;
  CHECK(recv_now(rx) == make(0));
  for (int i = 1; i < 5; ++i) CHECK(tx.send(make(i)).is_ok());
  check_lagged(rx, 2);
  CHECK(recv_now(rx) == make(3));
  auto fresh = rx.resubscribe();
  check_empty(fresh);
  CHECK(recv_now(rx) == make(4));
  check_empty(rx);
  check_lagged(copy, 3);  // it had 0 to 4 to read; 0 to 2 are gone
  CHECK(tx.len() == 2);   // 3 and 4, owed to the copy
  CHECK(recv_now(copy) == make(3));
  CHECK(recv_now(copy) == make(4));
  CHECK(tx.is_empty());
  CHECK(tx.send(make(5)).is_ok());
  CHECK(recv_now(fresh) == make(5));
  { auto gone = std::move(tx); }
  CHECK(recv_now(rx) == make(5));
  check_closed(rx);
  CHECK(recv_now(copy) == make(5));
  check_closed(copy);
  check_closed(fresh);
}

TEST_CASE("receiver_count_on_sender_constructor") {
  broadcast::Sender<int> sender(16);
  CHECK(sender.receiver_count() == 0);
  std::optional<broadcast::Receiver<int>> rx1(sender.subscribe());
  CHECK(sender.receiver_count() == 1);
  std::optional<broadcast::Receiver<int>> rx2(rx1->resubscribe());
  CHECK(sender.receiver_count() == 2);
  std::optional<broadcast::Receiver<int>> rx3(sender.subscribe());
  CHECK(sender.receiver_count() == 3);
  rx3.reset();
  rx1.reset();
  CHECK(sender.receiver_count() == 1);
  rx2.reset();
  CHECK(sender.receiver_count() == 0);
}

TEST_CASE("receiver_count_on_channel_constructor") {
  auto [sender, rx] = broadcast::channel<int>(16);
  CHECK(sender.receiver_count() == 1);
  auto rx2 = rx.resubscribe();
  CHECK(sender.receiver_count() == 2);
}

TEST_CASE("broadcast_sender_new_must_be_closed") {
  broadcast::Sender<int> tx(16);
  MockTask task;
  auto closed = tx.closed();
  CHECK(task.poll(closed).is_ready());
  auto rx = tx.subscribe();
  auto closed2 = tx.closed();
  CHECK(task.poll(closed2).is_pending());
}

TEST_CASE("broadcast_sender_closed") {
  auto [tx, rx] = broadcast::channel<int>(1);
  auto rx2 = rx.resubscribe();
  MockTask task;
  auto closed = tx.closed();
  CHECK(task.poll(closed).is_pending());
  { auto gone = std::move(rx); }
  CHECK_FALSE(task.is_woken());
  CHECK(task.poll(closed).is_pending());
  { auto gone = std::move(rx2); }
  CHECK(task.is_woken());
  CHECK(task.poll(closed).is_ready());
}

TEST_CASE("broadcast_sender_closed_with_extra_subscribe") {
  auto [tx, rx] = broadcast::channel<int>(1);
  MockTask task;
  auto closed = tx.closed();
  CHECK(task.poll(closed).is_pending());
  { auto gone = std::move(rx); }
  CHECK(task.is_woken());
  auto rx2 = tx.subscribe();  // re-opens; a later closed() waits again
  auto closed2 = tx.closed();
  CHECK(task.poll(closed2).is_pending());
  { auto gone = std::move(rx2); }
  CHECK(task.is_woken());
  CHECK(task.poll(closed2).is_ready());
}

TEST_CASE("closed future dropped while queued unlinks") {
  auto [tx, rx] = broadcast::channel<int>(1);
  MockTask task;
  {
    auto closed = tx.closed();
    CHECK(task.poll(closed).is_pending());
  }
  CHECK(task.waker_ref_count() == 0);
  { auto gone = std::move(rx); }
  CHECK_FALSE(task.is_woken());
}

TEST_CASE("recv future dropped while queued unlinks and releases its waker") {
  auto [tx, rx] = broadcast::channel<int>(2);
  MockTask task;
  {
    auto recv = rx.recv();
    CHECK(task.poll(recv).is_pending());
    CHECK(task.waker_ref_count() == 1);
  }
  CHECK(task.waker_ref_count() == 0);
  CHECK(tx.send(1).is_ok());
  CHECK_FALSE(task.is_woken());
  CHECK(recv_now(rx) == 1);  // cancel-safe: nothing was taken
}

TEST_CASE("many waiters are woken in batches") {
  auto [tx, rx] = broadcast::channel<int>(2);
  constexpr int n = 100;  // more than one WakeList batch (32)
  std::vector<broadcast::Receiver<int>> rxs;
  for (int i = 0; i < n; ++i) rxs.push_back(tx.subscribe());
  std::vector<std::unique_ptr<MockTask>> tasks;
  std::vector<std::unique_ptr<broadcast::Receiver<int>::Recv>> futs;
  for (int i = 0; i < n; ++i) {
    tasks.push_back(std::make_unique<MockTask>());
    futs.emplace_back(new auto(rxs[i].recv()));
    CHECK(tasks[i]->poll(*futs[i]).is_pending());
  }
  CHECK(*tx.send(5) == static_cast<std::size_t>(n + 1));
  for (int i = 0; i < n; ++i) {
    CHECK(tasks[i]->is_woken());
    CHECK(*tasks[i]->poll(*futs[i]).value() == 5);
  }
}

TEST_CASE("weak sender: downgrade, upgrade, counts") {
  auto [tx, rx] = broadcast::channel<int>(4);
  CHECK(tx.strong_count() == 1);
  CHECK(tx.weak_count() == 0);
  auto weak = tx.downgrade();
  CHECK(tx.weak_count() == 1);
  CHECK(rx.sender_weak_count() == 1);
  {
    auto strong = weak.upgrade();
    REQUIRE(strong.has_value());
    CHECK(tx.strong_count() == 2);
    CHECK(strong->same_channel(tx));
    CHECK(strong->send(1).is_ok());
  }
  CHECK(weak.strong_count() == 1);
  auto weak2 = weak;
  CHECK(weak.weak_count() == 2);
  { auto gone = std::move(tx); }
  CHECK(rx.is_closed());
  CHECK_FALSE(weak.upgrade().has_value());  // a weak sender does not keep it open
  CHECK(recv_now(rx) == 1);
  check_closed(rx);
}

TEST_CASE("same_channel") {
  auto [tx, rx] = broadcast::channel<int>(16);
  auto tx2 = tx;
  CHECK(tx.same_channel(tx2));
  auto rx2 = tx.subscribe();
  CHECK(rx.same_channel(rx2));
  auto [tx3, rx3] = broadcast::channel<int>(16);
  CHECK_FALSE(tx3.same_channel(tx2));
  CHECK_FALSE(rx3.same_channel(rx2));
}

TEST_CASE("receiver is_closed and is_empty") {
  auto [tx, rx] = broadcast::channel<int>(10);
  CHECK_FALSE(rx.is_closed());
  CHECK(rx.is_empty());
  CHECK(tx.send(1).is_ok());
  CHECK_FALSE(rx.is_empty());
  CHECK(rx.len() == 1);
  { auto gone = std::move(tx); }
  CHECK(rx.is_closed());
  CHECK(recv_now(rx) == 1);
  CHECK(rx.is_empty());
}

TEST_CASE("blocking_recv across threads") {
  auto [tx, rx] = broadcast::channel<int>(16);
  std::thread t([rx = std::move(rx)]() mutable {
    auto r = rx.blocking_recv();
    CHECK((r.is_ok() && *r == 10));
    auto end = rx.blocking_recv();
    CHECK((end.is_err() && end.error().is_closed()));
  });
  CHECK(tx.send(10).is_ok());
  { auto gone = std::move(tx); }
  t.join();
}

TEST_CASE("moved-from handles are misuse") {
  auto [tx, rx] = broadcast::channel<int>(16);
  auto tx2 = std::move(tx);
  CHECK_THROWS_AS((void)tx.send(1), std::invalid_argument);
  auto rx2 = std::move(rx);
  CHECK_THROWS_AS((void)rx.try_recv(), std::invalid_argument);
  CHECK(tx2.send(1).is_ok());
  CHECK(recv_now(rx2) == 1);
}

TEST_CASE("receiver_same_position_as_cloned") {
  auto pair = broadcast::channel<int>(3);
  auto& tx = pair.first;
  auto& rx = pair.second;
  std::optional<broadcast::Receiver<int>> rx_clone(rx);
  // The receiver count includes the copy.
  CHECK(tx.receiver_count() == 2);
  // The copy may receive before the original.
  CHECK(tx.send(1).is_ok());
  CHECK(recv_now(*rx_clone) == 1);
  rx_clone.reset();
  CHECK(tx.send(2).is_ok());
  CHECK(tx.send(3).is_ok());
  // rx: [1, 2, 3]; the original may receive before the copy.
  rx_clone.emplace(rx);
  CHECK(recv_now(rx) == 1);
  CHECK(recv_now(*rx_clone) == 1);
  // The dropped copy releases its interest in every position it had not read.
  rx_clone.reset();
  CHECK(tx.send(4).is_ok());  // rx: [2, 3, 4]
  rx_clone.emplace(rx);
  // The copy registered interest in 2, 3 and 4: they stay after rx reads them.
  CHECK(recv_now(rx) == 2);
  CHECK(recv_now(rx) == 3);
  CHECK(recv_now(*rx_clone) == 2);
  CHECK(recv_now(*rx_clone) == 3);
  CHECK(recv_now(*rx_clone) == 4);
  CHECK(recv_now(rx) == 4);
  CHECK(tx.send(5).is_ok());
  { auto gone = std::move(pair.first); }
  CHECK(recv_now(rx) == 5);
  CHECK(recv_now(*rx_clone) == 5);
  check_closed(rx);
  check_closed(*rx_clone);
}

TEST_CASE("counted: a copied receiver releases what it did not read") {
  LiveCheck check;
  auto [tx, rx] = broadcast::channel<Counted>(4);
  CHECK(tx.send(Counted(1)).is_ok());
  CHECK(tx.send(Counted(2)).is_ok());
  {
    auto copy = rx;
    CHECK(recv_now(copy).value == 1);
    CHECK(recv_now(rx).value == 1);
    CHECK(Counted::live() == 1);
  }
  CHECK(Counted::live() == 1);  // 2 is still owed to rx
  CHECK(recv_now(rx).value == 2);
  CHECK(Counted::live() == 0);
  CHECK(tx.is_empty());
}

// ---- counted values ----

TEST_CASE("counted: values still queued when the channel goes are destroyed") {
  LiveCheck check;
  {
    auto [tx, rx] = broadcast::channel<Counted>(4);
    auto rx2 = tx.subscribe();
    for (int i = 0; i < 3; ++i) CHECK(tx.send(Counted(i)).is_ok());
    CHECK(Counted::live() == 3);
    CHECK(recv_now(rx).value == 0);
  }
}

TEST_CASE("counted: a value seen by every receiver is released") {
  LiveCheck check;
  auto [tx, rx1] = broadcast::channel<Counted>(4);
  auto rx2 = tx.subscribe();
  CHECK(tx.send(Counted(1)).is_ok());
  CHECK(recv_now(rx1).value == 1);
  CHECK(Counted::live() == 1);
  CHECK(recv_now(rx2).value == 1);
  CHECK(Counted::live() == 0);
}

TEST_CASE("counted: overwritten values are destroyed, refused ones come back") {
  LiveCheck check;
  broadcast::Sender<Counted> tx(2);
  {
    auto r = tx.send(Counted(7));
    REQUIRE(r.is_err());
    CHECK(r.error().value.value == 7);
    CHECK(Counted::live() == 1);
  }
  auto rx = tx.subscribe();
  for (int i = 0; i < 10; ++i) CHECK(tx.send(Counted(i)).is_ok());
  CHECK(Counted::live() == 2);  // only the capacity is kept
  check_lagged(rx, 8);
  CHECK(recv_now(rx).value == 8);
  CHECK(recv_now(rx).value == 9);
  CHECK(Counted::live() == 0);
}

TEST_CASE("counted: a lagging receiver dropped releases its shares") {
  LiveCheck check;
  auto [tx, rx1] = broadcast::channel<Counted>(2);
  std::optional<broadcast::Receiver<Counted>> rx2(tx.subscribe());
  for (int i = 0; i < 5; ++i) CHECK(tx.send(Counted(i)).is_ok());
  check_lagged(rx1, 3);
  CHECK(recv_now(rx1).value == 3);
  CHECK(recv_now(rx1).value == 4);
  CHECK(Counted::live() == 2);  // still owed to rx2
  rx2.reset();
  CHECK(Counted::live() == 0);
  CHECK(tx.is_empty());
}

TEST_CASE("blocking_recv_until: times out empty, takes what is sent in time") {
  using namespace std::chrono_literals;
  const long live_before = Counted::live();
  {
    auto [tx, rx] = broadcast::channel<Counted>(4);
    CHECK(rx.blocking_recv_for(2ms).is_err());
    std::thread t([tx = tx] {
      std::this_thread::sleep_for(2ms);
      REQUIRE(tx.send(Counted(4)).is_ok());
    });
    auto got = rx.blocking_recv_until(weft::platform::deadline_after(1h));
    t.join();
    REQUIRE(got.is_ok());
    REQUIRE(got->is_ok());
    CHECK(got->value().value == 4);
    REQUIRE(tx.send(Counted(5)).is_ok());
    CHECK(rx.blocking_recv_for(0ms)->value().value == 5);  // a deadline passed: still polled
  }
  CHECK(Counted::live() == live_before);
}

}  // namespace
