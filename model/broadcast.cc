// Model scenarios of broadcast. Ported from tokio/src/sync/tests/loom_broadcast.rs, under
// the same names, plus scenarios where the Loom suite is thin (a recv future cancelled
// while a send wakes it, Sender::closed() racing the last receiver, weak senders). The
// cloned-receiver scenarios (drop_cloned_rx, drop_multiple_cloned_rx_with_overflow) are
// from Tokio's newer loom_broadcast.rs.
// The Loom scenarios (several sends, two blocked threads) explore PCT samples (pct(N, 3)):
// Relacy's bounded search has no partial-order reduction; broadcast_send/two/wrap do not
// finish in minutes even at bound 1, and drop_rx / drop_multiple_rx_with_overflow take 15-35 s
// each at bound 1 under Bazel (run them with --strategy=bounded:1 when touching this file).
// On weft's DPOR checker (broadcast_dpor) those whose bounded(2) tree finishes are searched
// at bounded(2) (`.on_dpor(...)`); model/harness/README.md gives the figures of the others.
// The smaller scenarios below are searched systematically. The last group races the
// readers of one slot against each other, the sender's overwrite and a receiver's clone.
#include "model/harness/scenario.h"
#include "sync/broadcast.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/last_drop.h"

#include <cstdint>
#include <chrono>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace platform = weft::platform;
namespace broadcast = weft::broadcast;
using weft::Context;

namespace {

// Receives until closed; values plus lagged counts must add up to `expected`.
template <class T>
void count_until_closed(broadcast::Receiver<T>& rx, std::uint64_t expected) {
  std::uint64_t num = 0;
  for (;;) {
    auto r = weft::block_on(rx.recv());
    if (r.is_ok()) {
      num += 1;
    } else if (r.error().is_lagged()) {
      num += r.error().skipped();
    } else {
      break;
    }
  }
  WEFT_INVARIANT(num == expected);
}

}  // namespace

WEFT_MODEL_TEST(broadcast_send, weft::model::pct(30000, 3).on_dpor(weft::model::bounded(2)), 2) {
  auto [tx1, rx] = broadcast::channel<int>(2);
  std::optional<broadcast::Sender<int>> a(tx1);
  std::optional<broadcast::Sender<int>> b(std::move(tx1));
  platform::thread th1([&a] {
    for (int v : {1, 2, 3}) WEFT_INVARIANT(a->send(v).is_ok());
    a.reset();
  });
  platform::thread th2([&b] {
    for (int v : {11, 12, 13}) WEFT_INVARIANT(b->send(v).is_ok());
    b.reset();
  });
  count_until_closed(rx, 6);
  th1.join();
  th2.join();
}

// A heap value (shared_ptr) so the leak checker sees any value not released.
WEFT_MODEL_TEST(broadcast_two, weft::model::pct(30000, 3).on_dpor(weft::model::bounded(2)), 2) {
  auto [tx, rx1] = broadcast::channel<std::shared_ptr<int>>(16);
  auto rx2 = tx.subscribe();
  auto receive = [](broadcast::Receiver<std::shared_ptr<int>> rx) {
    auto v = weft::block_on(rx.recv());
    WEFT_INVARIANT(v.is_ok() && **v == 1);
    v = weft::block_on(rx.recv());
    WEFT_INVARIANT(v.is_ok() && **v == 2);
    v = weft::block_on(rx.recv());
    WEFT_INVARIANT(v.is_err() && v.error().is_closed());
  };
  platform::thread th1([&] { receive(std::move(rx1)); });
  platform::thread th2([&] { receive(std::move(rx2)); });
  WEFT_INVARIANT(tx.send(std::make_shared<int>(1)).is_ok());
  WEFT_INVARIANT(tx.send(std::make_shared<int>(2)).is_ok());
  { auto gone = std::move(tx); }
  th1.join();
  th2.join();
}

WEFT_MODEL_TEST(broadcast_wrap, weft::model::pct(30000, 3).on_dpor(weft::model::bounded(2)), 2) {
  auto [tx, rx1] = broadcast::channel<int>(2);
  auto rx2 = tx.subscribe();
  platform::thread th1([&] { count_until_closed(rx1, 3); });
  platform::thread th2([&] { count_until_closed(rx2, 3); });
  for (int v : {1, 2, 3}) WEFT_INVARIANT(tx.send(v).is_ok());
  { auto gone = std::move(tx); }
  th1.join();
  th2.join();
}

WEFT_MODEL_TEST(drop_rx, weft::model::pct(30000, 3).on_dpor(weft::model::bounded(2)), 2) {
  auto [tx, rx1] = broadcast::channel<int>(16);
  auto rx2 = tx.subscribe();
  platform::thread th1([&] {
    for (int expected : {1, 2, 3}) {
      auto v = weft::block_on(rx1.recv());
      WEFT_INVARIANT(v.is_ok() && *v == expected);
    }
    auto end = weft::block_on(rx1.recv());
    WEFT_INVARIANT(end.is_err() && end.error().is_closed());
  });
  platform::thread th2([&] { auto gone = std::move(rx2); });
  for (int v : {1, 2, 3}) WEFT_INVARIANT(tx.send(v).is_ok());
  { auto gone = std::move(tx); }
  th1.join();
  th2.join();
}

WEFT_MODEL_TEST(drop_multiple_rx_with_overflow, weft::model::pct(10000, 3), 2) {
  // It is essential to have multiple senders and receivers in this test case.
  auto [tx, rx] = broadcast::channel<int>(1);
  auto rx2 = tx.subscribe();
  (void)tx.send(0);
  broadcast::Sender<int> tx2 = tx;
  platform::thread th1([&] {
    for (int i = 0; i < 100; ++i) (void)tx2.send(i);
  });
  (void)tx.send(0);
  platform::thread th2([&] {
    while (weft::block_on(rx.recv()).is_ok()) {
    }
  });
  th1.join();
  th2.join();
}

// ---- beyond Loom ----

// A recv future destroyed while a send is waking it: the notifier must be done with the
// waiter before the future's memory goes (the Release/Acquire on `queued`).
WEFT_MODEL_TEST(recv_cancelled_during_send, weft::model::exhaustive(), 1) {
  auto [tx, rx] = broadcast::channel<int>(2);
  weft::MockTask task;
  auto* fut = new auto(rx.recv());
  WEFT_INVARIANT(task.poll(*fut).is_pending());
  platform::thread sender([&] { WEFT_INVARIANT(tx.send(7).is_ok()); });
  delete fut;  // cancel: the value stays for the next recv
  sender.join();
  auto r = rx.try_recv();
  WEFT_INVARIANT(r.is_ok() && *r == 7);
}

// A receiver waiting while the send happens: woken, or it saw the value on its poll.
WEFT_MODEL_TEST(recv_waits_for_send, weft::model::exhaustive(), 1) {
  auto [tx, rx] = broadcast::channel<int>(1);
  weft::MockTask task;
  auto fut = rx.recv();
  platform::thread sender([&] { WEFT_INVARIANT(tx.send(3).is_ok()); });
  auto first = task.poll(fut);
  sender.join();
  if (first.is_pending()) {
    WEFT_INVARIANT(task.is_woken());
    auto second = task.poll(fut);
    WEFT_INVARIANT(second.is_ready() && *second.value() == 3);
  } else {
    WEFT_INVARIANT(*first.value() == 3);
  }
}

// Sender::closed() racing the drop of the last receiver: no lost wakeup (block_on would
// park forever: DEADLOCK).
WEFT_MODEL_TEST(closed_races_last_rx_drop, weft::model::bounded(2), 1) {
  auto [tx, rx] = broadcast::channel<int>(1);
  platform::thread receiver([rx = std::move(rx)]() mutable { auto gone = std::move(rx); });
  weft::block_on(tx.closed());
  WEFT_INVARIANT(tx.receiver_count() == 0);
  WEFT_INVARIANT(tx.send(1).is_err());
  receiver.join();
}

// upgrade() racing the drop of the last strong Sender: either the upgrade wins (and its
// send reaches the receiver) or the channel closes; never both.
WEFT_MODEL_TEST(weak_upgrade_races_last_sender, weft::model::exhaustive(), 1) {
  auto [tx, rx] = broadcast::channel<int>(2);
  auto weak = tx.downgrade();
  platform::thread dropper([tx = std::move(tx)]() mutable { auto gone = std::move(tx); });
  bool sent = false;
  if (auto strong = weak.upgrade()) sent = strong->send(5).is_ok();
  dropper.join();
  auto r = rx.try_recv();
  if (sent) {
    WEFT_REACHED("upgrade won the race");
    WEFT_INVARIANT(r.is_ok() && *r == 5);
    r = rx.try_recv();
  } else {
    WEFT_REACHED("the channel closed first");
  }
  WEFT_INVARIANT(r.is_err() && r.error().is_closed());
  WEFT_INVARIANT(!weak.upgrade().has_value());
}
WEFT_MODEL_REACHES(weak_upgrade_races_last_sender, "upgrade won the race");
WEFT_MODEL_REACHES(weak_upgrade_races_last_sender, "the channel closed first");

// A lagging receiver dropped while a sender overwrites its slots: every value released
// exactly once (heap values: a leak or double free is reported).
WEFT_MODEL_TEST(drop_lagging_rx_during_send, weft::model::bounded(2), 1) {
  auto [tx, rx1] = broadcast::channel<std::shared_ptr<int>>(1);
  auto rx2 = tx.subscribe();
  WEFT_INVARIANT(tx.send(std::make_shared<int>(1)).is_ok());
  WEFT_INVARIANT(tx.send(std::make_shared<int>(2)).is_ok());
  platform::thread dropper([rx2 = std::move(rx2)]() mutable { auto gone = std::move(rx2); });
  WEFT_INVARIANT(tx.send(std::make_shared<int>(3)).is_ok());
  auto r = rx1.try_recv();
  WEFT_INVARIANT(r.is_err() && r.error().is_lagged());
  dropper.join();
  auto v = rx1.try_recv();
  WEFT_INVARIANT(v.is_ok() && **v == 3);
  WEFT_INVARIANT(tx.is_empty());
}

WEFT_MODEL_TEST(drop_cloned_rx, weft::model::pct(30000, 3).on_dpor(weft::model::bounded(2)), 2) {
  auto [tx, rx1] = broadcast::channel<int>(16);
  auto rx2 = rx1;
  platform::thread th1([&] {
    for (int expected : {1, 2, 3}) {
      auto v = weft::block_on(rx1.recv());
      WEFT_INVARIANT(v.is_ok() && *v == expected);
    }
    auto end = weft::block_on(rx1.recv());
    WEFT_INVARIANT(end.is_err() && end.error().is_closed());
  });
  platform::thread th2([&] { auto gone = std::move(rx2); });
  for (int v : {1, 2, 3}) WEFT_INVARIANT(tx.send(v).is_ok());
  { auto gone = std::move(tx); }
  th1.join();
  th2.join();
}

WEFT_MODEL_TEST(drop_multiple_cloned_rx_with_overflow, weft::model::pct(10000, 3), 2) {
  // It is essential to have multiple senders and receivers in this test case.
  auto [tx, rx] = broadcast::channel<int>(1);
  auto rx2 = rx;
  (void)tx.send(0);
  broadcast::Sender<int> tx2 = tx;
  platform::thread th1([&] {
    for (int i = 0; i < 100; ++i) (void)tx2.send(i);
  });
  (void)tx.send(0);
  platform::thread th2([&] {
    while (weft::block_on(rx.recv()).is_ok()) {
    }
  });
  th1.join();
  th2.join();
}

// ---- readers of one slot ----

// Receives the value 1 that the scenarios below send first.
static void receive_the_value(broadcast::Receiver<std::shared_ptr<int>>& rx) {
  auto r = rx.try_recv();
  WEFT_INVARIANT(r.is_ok() && **r == 1);
}

// A receiver copies a value while the sender overwrites that slot: the copy and the
// overwrite never race, and the receiver sees either the value or Lagged. Heap values: a
// lost or doubled value is a leak or a double free.
WEFT_MODEL_TEST(send_overwrites_slot_being_read, weft::model::bounded(2), 1) {
  auto [tx, rx] = broadcast::channel<std::shared_ptr<int>>(1);
  WEFT_INVARIANT(tx.send(std::make_shared<int>(1)).is_ok());
  platform::thread receiver([rx = std::move(rx)]() mutable {
    auto r = rx.try_recv();
    if (r.is_ok()) {
      WEFT_INVARIANT(**r == 1);
    } else {
      WEFT_INVARIANT(r.error().is_lagged() && r.error().skipped() == 1);
    }
    auto v = weft::block_on(rx.recv());
    WEFT_INVARIANT(v.is_ok() && **v == 2);
  });
  WEFT_INVARIANT(tx.send(std::make_shared<int>(2)).is_ok());
  receiver.join();
}

// Two receivers read one value at once: the one that takes rem to 0 releases the value
// while the other may still be copying it, and the value is released exactly once.
WEFT_MODEL_TEST(last_reader_releases_value, weft::model::bounded(2), 1) {
  auto [tx, rx1] = broadcast::channel<std::shared_ptr<int>>(2);
  auto rx2 = tx.subscribe();
  WEFT_INVARIANT(tx.send(std::make_shared<int>(1)).is_ok());
  platform::thread other([rx2 = std::move(rx2)]() mutable { receive_the_value(rx2); });
  receive_the_value(rx1);
  other.join();
  WEFT_INVARIANT(tx.is_empty() && tx.len() == 0);
}

// Three receivers at one value: whoever reads it last releases it, once.
WEFT_MODEL_TEST(three_receivers_one_value,
                weft::model::pct(40000, 3).on_dpor(weft::model::exhaustive()), 2) {
  auto [tx, rx1] = broadcast::channel<std::shared_ptr<int>>(2);
  auto rx2 = tx.subscribe();
  auto rx3 = tx.subscribe();
  WEFT_INVARIANT(tx.send(std::make_shared<int>(1)).is_ok());
  platform::thread a([rx2 = std::move(rx2)]() mutable { receive_the_value(rx2); });
  platform::thread b([rx3 = std::move(rx3)]() mutable { receive_the_value(rx3); });
  receive_the_value(rx1);
  a.join();
  b.join();
  WEFT_INVARIANT(tx.is_empty());
}

// A receiver copied (add_receiver_at raises rem under the tail lock) while another
// receiver reads the same value: neither count is lost, the copy still gets the value,
// and it is released once, by the last reader.
WEFT_MODEL_TEST(clone_races_receive, weft::model::bounded(2), 1) {
  auto [tx, rx1] = broadcast::channel<std::shared_ptr<int>>(2);
  auto rx2 = tx.subscribe();
  WEFT_INVARIANT(tx.send(std::make_shared<int>(1)).is_ok());
  platform::thread other([rx2 = std::move(rx2)]() mutable { receive_the_value(rx2); });
  auto copy = rx1;
  receive_the_value(rx1);
  other.join();
  WEFT_INVARIANT(!tx.is_empty() && tx.len() == 1);  // still owed to `copy`
  receive_the_value(copy);
  WEFT_INVARIANT(tx.is_empty());
}

// Scenarios that kill mutations the ones above let survive (ci/mutations.py names them, by
// the scenario's comment).

// Kills broadcast.sender_count_relaxed: the drop of every Sender happens-before the recv
// that reports closed. Two Senders write plain data and go away; whichever is last closes
// the channel, and the other's write reaches the receiver only through the AcqRel
// decrements of the sender count (one release sequence).
WEFT_MODEL_TEST(senders_writes_ordered_before_closed, weft::model::bounded(2), 2) {
  auto [tx, rx] = broadcast::channel<int>(1);
  weft::testing::writes_ordered_before_last_drop(std::move(tx), [&] {
    auto r = weft::block_on(rx.recv());
    WEFT_INVARIANT(r.is_err() && r.error().is_closed());
  });
}

// A timed blocking_recv races send(): the value is received in time, or stays for the
// next receive; it is never lost.
WEFT_MODEL_TEST(timed_recv_races_send, weft::model::bounded(2), 1) {
  auto [tx, rx] = broadcast::channel<int>(2);
  platform::thread t([tx = tx] { WEFT_INVARIANT(tx.send(5).is_ok()); });
  auto got = rx.blocking_recv_for(std::chrono::milliseconds(1));
  if (got.is_err()) {
    WEFT_REACHED("recv timed out");
    WEFT_INVARIANT(rx.blocking_recv().value() == 5);
  } else {
    WEFT_INVARIANT(got->value() == 5);
  }
  t.join();
}
WEFT_MODEL_REACHES(timed_recv_races_send, "recv timed out");

// ---- the seqlock slot (a trivially copyable T: receivers read without writing) ----

namespace {

// Two words, the second a function of the first: a copy torn between two sends shows.
struct Wide {
  std::uint64_t a;
  std::uint64_t b;
  static Wide of(std::uint64_t v) { return Wide{v, v * 3 + 1}; }
  bool whole(std::uint64_t v) const { return a == v && b == v * 3 + 1; }
};
static_assert(std::is_trivially_copyable_v<Wide> && sizeof(Wide) == 16);

}  // namespace

// A receiver copies a value while the sender overwrites its slot (capacity 1): the copy
// is the value it checked the stamp for, never a mix of two, else Lagged. Then its recv
// races the write of the next value: it never returns the words before that write.
WEFT_MODEL_TEST(seq_send_overwrites_slot_being_read, weft::model::bounded(2), 1) {
  auto [tx, rx] = broadcast::channel<Wide>(1);
  WEFT_INVARIANT(tx.send(Wide::of(1)).is_ok());
  platform::thread receiver([rx = std::move(rx)]() mutable {
    auto r = rx.try_recv();
    if (r.is_ok()) {
      WEFT_INVARIANT(r->whole(1));
    } else {
      WEFT_INVARIANT(r.error().is_lagged() && r.error().skipped() == 1);
    }
    auto v = weft::block_on(rx.recv());
    WEFT_INVARIANT(v.is_ok() && v->whole(2));
  });
  WEFT_INVARIANT(tx.send(Wide::of(2)).is_ok());
  receiver.join();
}

// What the sender wrote before send(v) happens-before the receive of v, on the lock-free
// path too (the Release store of the stamp, the Acquire load of it): a plain write read
// after the receive (a race otherwise).
WEFT_MODEL_TEST(seq_send_publishes_prior_writes, weft::model::bounded(2), 1) {
  auto [tx, rx] = broadcast::channel<int>(2);
  platform::cell<int> data{0};
  platform::thread sender([&, tx = std::move(tx)] {
    data.with_mut([](int& d) { d = 42; });
    WEFT_INVARIANT(tx.send(7).is_ok());
  });
  auto r = weft::block_on(rx.recv());
  WEFT_INVARIANT(r.is_ok() && *r == 7);
  WEFT_INVARIANT(data.with([](const int& d) { return d; }) == 42);
  sender.join();
}

// Two senders lap a receiver of a one-slot channel: every copy it gets is whole, in order
// per sender, and values plus lagged counts add up.
WEFT_MODEL_TEST(seq_two_senders_lap_reader,
                weft::model::pct(20000, 3).on_dpor(weft::model::bounded(2)), 2) {
  auto [tx1, rx] = broadcast::channel<Wide>(1);
  broadcast::Sender<Wide> tx2 = tx1;
  platform::thread a([tx = std::move(tx1)] {
    for (std::uint64_t v : {1, 2}) WEFT_INVARIANT(tx.send(Wide::of(v)).is_ok());
  });
  platform::thread b([tx = std::move(tx2)] {
    for (std::uint64_t v : {11, 12}) WEFT_INVARIANT(tx.send(Wide::of(v)).is_ok());
  });
  std::uint64_t accounted = 0;
  std::uint64_t last_a = 0;
  std::uint64_t last_b = 10;
  for (;;) {
    auto r = weft::block_on(rx.recv());
    if (r.is_ok()) {
      const std::uint64_t v = r->a;
      WEFT_INVARIANT(r->whole(v));
      std::uint64_t& last = v > 10 ? last_b : last_a;
      WEFT_INVARIANT(v > last);
      last = v;
      accounted += 1;
    } else if (r.error().is_lagged()) {
      accounted += r.error().skipped();
    } else {
      break;
    }
  }
  WEFT_INVARIANT(accounted == 4);
  a.join();
  b.join();
}

// len() counts a value until every receiver subscribed at its send has read it: with no
// per-slot count, the lowest receiver position. Receives, a copy made at a receiver's
// position and a drop race len(), which never counts more than was sent nor a value
// every receiver has passed.
WEFT_MODEL_TEST(seq_len_races_receive_and_clone, weft::model::bounded(2), 1) {
  auto [tx, rx1] = broadcast::channel<int>(2);
  auto rx2 = tx.subscribe();
  WEFT_INVARIANT(tx.send(1).is_ok());
  platform::thread other([rx2 = std::move(rx2)]() mutable {
    auto r = rx2.try_recv();
    WEFT_INVARIANT(r.is_ok() && *r == 1);
  });  // rx2 goes: its position no longer counts
  auto copy = rx1;
  WEFT_INVARIANT(tx.len() <= 1);
  auto r = rx1.try_recv();
  WEFT_INVARIANT(r.is_ok() && *r == 1);
  other.join();
  WEFT_INVARIANT(!tx.is_empty() && tx.len() == 1);  // still owed to `copy`
  auto c = copy.try_recv();
  WEFT_INVARIANT(c.is_ok() && *c == 1);
  WEFT_INVARIANT(tx.is_empty() && tx.len() == 0);
}

// A lagging receiver dropped while the sender overwrites its slots: len() counts only the
// values the remaining receiver has yet to read.
WEFT_MODEL_TEST(seq_drop_lagging_rx_during_send, weft::model::bounded(2), 1) {
  auto [tx, rx1] = broadcast::channel<int>(1);
  auto rx2 = tx.subscribe();
  WEFT_INVARIANT(tx.send(1).is_ok());
  WEFT_INVARIANT(tx.send(2).is_ok());
  platform::thread dropper([rx2 = std::move(rx2)]() mutable { auto gone = std::move(rx2); });
  WEFT_INVARIANT(tx.send(3).is_ok());
  WEFT_INVARIANT(tx.len() == 1);
  auto r = rx1.try_recv();
  WEFT_INVARIANT(r.is_err() && r.error().is_lagged() && r.error().skipped() == 2);
  dropper.join();
  auto v = rx1.try_recv();
  WEFT_INVARIANT(v.is_ok() && *v == 3);
  WEFT_INVARIANT(tx.is_empty());
}
