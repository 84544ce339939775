// Unit tests of the weak senders of both mpsc flavours. Ported from
// tokio/tests/sync_mpsc_weak.rs (the actor examples become a sender thread), plus the
// strong / weak counts of Tokio's newer suite, with counted values.
#include "sync/mpsc/bounded.h"
#include "sync/platform/atomic.h"
#include "sync/mpsc/unbounded.h"

#include "sync/task/mock_task.h"

#include <doctest/doctest.h>

#include <optional>
#include <thread>

namespace {

using weft::mpsc::channel;
using weft::mpsc::unbounded_channel;

struct Msg {
  static inline int dropped = 0;
  bool holds = true;
  Msg() = default;
  Msg(Msg&& other) noexcept : holds(std::exchange(other.holds, false)) {}
  Msg& operator=(Msg&&) = delete;
  ~Msg() {
    if (holds) ++dropped;
  }
};

TEST_CASE("weak_sender") {
  auto [tx, rx] = channel<int>(11);
  std::optional<weft::mpsc::WeakSender<int>> tx_weak;
  std::thread producer([&, tx = std::move(tx)]() mutable {
    auto weak = weft::mpsc::Sender<int>(tx).downgrade();
    for (int i = 0; i < 10; ++i) REQUIRE(tx.blocking_send(i).is_ok());
    auto tx2 = weak.upgrade();
    REQUIRE(tx2.has_value());
    CHECK(tx2->blocking_send(20).is_ok());
    tx_weak.emplace(tx2->downgrade());
  });
  producer.join();
  for (int i = 0; i < 12; ++i) {
    auto received = rx.blocking_recv();
    if (!received) {
      CHECK(i == 11);
      break;
    }
    if (i == 10) CHECK(*received == 20);
  }
  CHECK_FALSE(tx_weak->upgrade().has_value());
}

TEST_CASE("actor_weak_sender") {
  // An actor keeps a weak handle to its own mailbox: it must not keep itself alive.
  auto [tx, rx] = channel<int>(8);
  auto self = tx.downgrade();
  weft::platform::atomic<bool> sent_to_itself{false};
  std::thread actor([rx = std::move(rx), self, &sent_to_itself]() mutable {
    int handled = 0;
    while (auto v = rx.blocking_recv()) {
      ++handled;
      if (*v == 1) {
        if (auto me = self.upgrade()) CHECK(me->try_send(2).is_ok());  // a message to itself
        sent_to_itself.store(true, std::memory_order_release);
      }
    }
    CHECK(handled == 2);
  });
  CHECK(tx.blocking_send(1).is_ok());
  // Let the actor send itself its message before our sender goes away.
  while (!sent_to_itself.load(std::memory_order_acquire)) std::this_thread::yield();
  { auto gone = std::move(tx); }
  actor.join();  // ends: only the weak handle remains
}

TEST_CASE("test_msgs_dropped_on_rx_drop") {
  Msg::dropped = 0;
  auto [tx, rx] = channel<Msg>(3);
  CHECK(tx.blocking_send(Msg{}).is_ok());
  CHECK(tx.blocking_send(Msg{}).is_ok());
  auto send = tx.send(Msg{});
  CHECK(rx.blocking_recv().has_value());
  CHECK(rx.blocking_recv().has_value());
  CHECK(weft::block_on(send).is_ok());
  { auto gone = std::move(rx); }
  CHECK(Msg::dropped == 3);
  CHECK(tx.blocking_send(Msg{}).is_err());
  CHECK(Msg::dropped == 4);
}

TEST_CASE("downgrade_upgrade_sender_success") {
  auto [tx, rx] = channel<int>(1);
  auto weak = tx.downgrade();
  CHECK(weak.upgrade().has_value());
}

TEST_CASE("downgrade_upgrade_sender_failure") {
  auto [tx, rx] = channel<int>(1);
  auto weak = tx.downgrade();
  { auto gone = std::move(tx); }
  CHECK_FALSE(weak.upgrade().has_value());
}

TEST_CASE("downgrade_drop_upgrade") {
  auto [tx, rx] = channel<int>(1);
  auto weak = weft::mpsc::Sender<int>(tx).downgrade();  // the clone is dropped at once
  { auto gone = std::move(tx); }
  CHECK_FALSE(weak.upgrade().has_value());
}

TEST_CASE("downgrade_get_permit_upgrade_no_senders") {
  auto [tx, rx] = channel<int>(1);
  auto weak = tx.downgrade();
  auto permit = weft::block_on(std::move(tx).reserve_owned());
  REQUIRE(permit.is_ok());
  CHECK(weak.upgrade().has_value());
}

TEST_CASE("downgrade_upgrade_get_permit_no_senders") {
  auto [tx, rx] = channel<int>(1);
  auto tx2 = tx;
  auto permit = weft::block_on(std::move(tx).reserve_owned());
  REQUIRE(permit.is_ok());
  auto weak = tx2.downgrade();
  { auto gone = std::move(tx2); }
  CHECK(weak.upgrade().has_value());
}

TEST_CASE("test_tx_count_weak_sender") {
  auto [tx, rx] = channel<int>(1);
  auto weak = tx.downgrade();
  auto weak2 = tx.downgrade();
  { auto gone = std::move(tx); }
  CHECK_FALSE(weak.upgrade().has_value());
  CHECK_FALSE(weak2.upgrade().has_value());
}

TEST_CASE("weak_unbounded_sender") {
  auto [tx, rx] = unbounded_channel<int>();
  auto weak = weft::mpsc::UnboundedSender<int>(tx).downgrade();
  for (int i = 0; i < 10; ++i) CHECK(tx.send(i).is_ok());
  auto tx2 = weak.upgrade();
  REQUIRE(tx2.has_value());
  CHECK(tx2->send(20).is_ok());
  auto weak2 = tx2->downgrade();
  tx2.reset();
  { auto gone = std::move(tx); }
  for (int i = 0; i < 12; ++i) {
    auto received = rx.blocking_recv();
    if (!received) {
      CHECK(i == 11);
      break;
    }
    if (i == 10) CHECK(*received == 20);
  }
  CHECK_FALSE(weak2.upgrade().has_value());
}

TEST_CASE("test_msgs_dropped_on_unbounded_rx_drop") {
  Msg::dropped = 0;
  auto [tx, rx] = unbounded_channel<Msg>();
  CHECK(tx.send(Msg{}).is_ok());
  CHECK(tx.send(Msg{}).is_ok());
  CHECK(rx.blocking_recv().has_value());
  CHECK(Msg::dropped == 1);
  { auto gone = std::move(rx); }
  CHECK(Msg::dropped == 2);
  auto r = tx.send(Msg{});
  CHECK(r.is_err());
  CHECK(Msg::dropped == 2);  // the value is in the error, not dropped
}

TEST_CASE("downgrade_upgrade_unbounded_sender") {
  auto [tx, rx] = unbounded_channel<int>();
  auto weak = tx.downgrade();
  CHECK(weak.upgrade().has_value());
  auto weak2 = weft::mpsc::UnboundedSender<int>(tx).downgrade();
  { auto gone = std::move(tx); }
  CHECK_FALSE(weak.upgrade().has_value());
  CHECK_FALSE(weak2.upgrade().has_value());
}

TEST_CASE("sender_strong_and_weak_counts") {
  auto [tx, rx] = channel<int>(1);
  CHECK(tx.strong_count() == 1);
  CHECK(tx.weak_count() == 0);
  auto tx2 = tx;
  CHECK(tx.strong_count() == 2);
  CHECK(rx.sender_strong_count() == 2);
  auto weak = tx.downgrade();
  auto weak2 = weak;
  CHECK(tx.weak_count() == 2);
  CHECK(weak.weak_count() == 2);
  CHECK(rx.sender_weak_count() == 2);
  { auto gone = std::move(weak2); }
  CHECK(tx.weak_count() == 1);
  { auto gone = std::move(tx2); }
  CHECK(weak.strong_count() == 1);
  {
    auto upgraded = weak.upgrade();
    CHECK(weak.strong_count() == 2);
  }
  { auto gone = std::move(tx); }
  CHECK(rx.sender_strong_count() == 0);
  CHECK(rx.sender_weak_count() == 1);
  CHECK(rx.is_closed());
}

TEST_CASE("unbounded_sender_strong_and_weak_counts") {
  auto [tx, rx] = unbounded_channel<int>();
  auto weak = tx.downgrade();
  CHECK(tx.strong_count() == 1);
  CHECK(tx.weak_count() == 1);
  CHECK(rx.sender_weak_count() == 1);
  { auto gone = std::move(weak); }
  CHECK(tx.weak_count() == 0);
}

}  // namespace
