// Model scenarios of watch. Ported from tokio/src/sync/tests/loom_watch.rs and the loom
// tests in tokio/src/sync/watch.rs (watch_spurious_wakeup, watch_borrow), under the same
// names, plus scenarios where the Loom suite is thin (closed() racing the last receiver,
// a borrow racing a send). Each scenario that holds a value runs on both layouts of
// sync/watch.h: `name` with an int (borrowed by copy, a seqlock) and `name_locked` with a
// value that is not trivially copyable (behind the read-write lock, as Tokio). Every send wakes
// through notify_width Notify objects, each with its own lock, so these scenarios are costly for
// Relacy: smoke (3 receivers, Loom has 5) runs at bound 1; wait_for_test (3 threads; 61 s at bound
// 1 since the value lock's fast paths became atomics) and the two multi-phase ones on PCT samples
// (at bound 1 watch_spurious_wakeup alone takes 35 s).
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "sync/watch.h"

#include <memory>
#include <optional>
#include <utility>

namespace platform = weft::platform;
namespace watch = weft::watch;

namespace {

// The value types of the two layouts: X itself (by copy), and X behind a user-provided copy
// constructor, which makes it not trivially copyable (the read-write lock).
template <class X>
using ByCopy = X;
template <class X>
struct Locked {
  Locked(X x) : v(x) {}  // NOLINT: converts as X does, so a scenario is written once
  Locked(const Locked& other) : v(other.v) {}
  Locked& operator=(const Locked& other) {
    v = other.v;
    return *this;
  }
  operator X() const { return v; }  // NOLINT
  X v;
};
static_assert(watch::detail::borrowed_by_copy<ByCopy<int>>);
static_assert(!watch::detail::borrowed_by_copy<Locked<int>>);

// Polls a changed() future once and drops it (Rust's now_or_never()).
template <class V>
void changed_now_or_never(watch::Receiver<V>& rx) {
  weft::MockTask task;
  auto fut = rx.changed();
  (void)task.poll(fut);
}

}  // namespace

// Scenario `name` on the by-copy layout and `name_locked` on the lock layout, from one body
// written against W<X> (W = ByCopy or Locked).
#define WATCH_MODEL_TEST(name, strategy, max_spawned)                              \
  template <template <class> class W>                                              \
  static void name##_body();                                                       \
  WEFT_MODEL_TEST(name, strategy, max_spawned) { name##_body<ByCopy>(); }          \
  WEFT_MODEL_TEST(name##_locked, strategy, max_spawned) { name##_body<Locked>(); } \
  template <template <class> class W>                                              \
  static void name##_body()

WATCH_MODEL_TEST(smoke, weft::model::bounded(1).on_dpor(weft::model::exhaustive()), 1) {
  auto [tx, rx1] = watch::channel<W<int>>(1);
  auto rx2 = rx1;
  auto rx3 = rx1;
  platform::thread th([tx = std::move(tx)] { WEFT_INVARIANT(tx.send(2).is_ok()); });
  for (watch::Receiver<W<int>>* rx : {&rx1, &rx2, &rx3}) {
    WEFT_INVARIANT(weft::block_on(rx->changed()).is_ok());
    WEFT_INVARIANT(*rx->borrow() == 2);
  }
  th.join();
}

WATCH_MODEL_TEST(wait_for_test, weft::model::pct(200000, 3), 2) {
  auto [tx, rx] = watch::channel<W<bool>>(false);
  auto tx1 = tx;
  auto tx2 = std::move(tx);
  platform::thread th1([tx1 = std::move(tx1)] {
    for (int i = 0; i < 2; ++i) tx1.send_modify([](auto&) {});
  });
  platform::thread th2([tx2 = std::move(tx2)] { WEFT_INVARIANT(tx2.send(true).is_ok()); });
  {
    auto r = weft::block_on(rx.wait_for([](bool x) { return x; }));
    WEFT_INVARIANT(r.is_ok() && static_cast<bool>(**r));
  }
  th1.join();
  th2.join();
}

WATCH_MODEL_TEST(wait_for_returns_correct_value, weft::model::bounded(2), 1) {
  auto [tx, rx] = watch::channel<W<int>>(0);
  platform::thread jh([tx = std::move(tx)] {
    for (int v : {1, 2, 3}) WEFT_INVARIANT(tx.send(v).is_ok());
  });
  // Stop at the first value we are called at.
  int stopped_at = -1;
  {
    auto r = weft::block_on(rx.wait_for([&](int x) {
      stopped_at = x;
      return true;
    }));
    // It returned the same value as the one we returned true for.
    WEFT_INVARIANT(r.is_ok() && **r == stopped_at);
  }
  jh.join();
}

WATCH_MODEL_TEST(multiple_sender_drop_concurrently, weft::model::bounded(2), 2) {
  auto [tx1, rx] = watch::channel<W<int>>(0);
  auto tx2 = tx1;
  platform::thread th1([tx1 = std::move(tx1)]() mutable { auto gone = std::move(tx1); });
  platform::thread th2([tx2 = std::move(tx2)]() mutable { auto gone = std::move(tx2); });
  // Only once both are gone is the channel closed: changed() must end with RecvError.
  WEFT_INVARIANT(weft::block_on(rx.changed()).is_err());
  th1.join();
  th2.join();
}

// tokio-rs/tokio#3168: a changed() future dropped after a poll must not leave a waiter
// behind that later sends trip over.
WATCH_MODEL_TEST(watch_spurious_wakeup, weft::model::pct(50000, 3).on_dpor(weft::model::bounded(3)),
                 3) {
  auto [send, recv] = watch::channel<W<int>>(0);
  WEFT_INVARIANT(send.send(1).is_ok());
  auto shared_send = std::make_shared<std::optional<watch::Sender<W<int>>>>(std::move(send));
  {
    platform::thread send_thread(
        [shared_send] { WEFT_INVARIANT((*shared_send)->send(2).is_ok()); });
    changed_now_or_never(recv);
    send_thread.join();
  }
  {
    platform::thread recv_thread([&recv] {
      changed_now_or_never(recv);
      changed_now_or_never(recv);
    });
    WEFT_INVARIANT((*shared_send)->send(3).is_ok());
    recv_thread.join();
  }
  {
    platform::thread send_thread(
        [shared_send] { WEFT_INVARIANT((*shared_send)->send(2).is_ok()); });
    changed_now_or_never(recv);
    send_thread.join();
  }
}

WATCH_MODEL_TEST(watch_borrow, weft::model::pct(50000, 3).on_dpor(weft::model::bounded(3)), 3) {
  auto [send, recv] = watch::channel<W<int>>(0);
  WEFT_INVARIANT(*send.borrow() == 0 && *recv.borrow() == 0);
  WEFT_INVARIANT(send.send(1).is_ok());
  WEFT_INVARIANT(*send.borrow() == 1);
  {
    platform::thread send_thread([&send] { WEFT_INVARIANT(send.send(2).is_ok()); });
    changed_now_or_never(recv);
    send_thread.join();
  }
  {
    platform::thread recv_thread([&recv] {
      changed_now_or_never(recv);
      changed_now_or_never(recv);
    });
    WEFT_INVARIANT(send.send(3).is_ok());
    recv_thread.join();
  }
  WEFT_INVARIANT(*recv.borrow() == 3 && *send.borrow() == 3);
  WEFT_INVARIANT(send.send(2).is_ok());
  platform::thread reader([&recv] { WEFT_INVARIANT(*recv.borrow() == 2); });
  WEFT_INVARIANT(*send.borrow() == 2);
  reader.join();
}

// ---- beyond Loom ----

// Sender::closed() racing the drop of the last receiver: a lost wakeup parks forever.
WATCH_MODEL_TEST(closed_races_last_rx_drop, weft::model::bounded(2), 1) {
  auto [tx, rx] = watch::channel<W<int>>(0);
  platform::thread dropper([rx = std::move(rx)]() mutable { auto gone = std::move(rx); });
  weft::block_on(tx.closed());
  WEFT_INVARIANT(tx.is_closed());
  dropper.join();
}

// A borrow racing a send sees the old or the new value whole, and its has_changed() says
// which (value and version come from one store: read under the read lock, or in one
// seqlock copy, retried while the lone Sender's store overlaps it).
WATCH_MODEL_TEST(borrow_races_send, weft::model::bounded(2), 1) {
  auto [tx, rx] = watch::channel<W<int>>(0);
  platform::thread sender([&tx] { WEFT_INVARIANT(tx.send(5).is_ok()); });
  {
    auto seen = rx.borrow_and_update();
    WEFT_INVARIANT((*seen == 0 && !seen.has_changed()) || (*seen == 5 && seen.has_changed()));
  }
  sender.join();
  WEFT_INVARIANT(*rx.borrow() == 5);
}

// Scenarios that kill mutations the ones above let survive (ci/mutations.py names them, by
// the scenario's comment). In the main suite the senders go away right after sending, and
// the close notification hides a send that forgot to notify.

// Kills watch.send_no_notify: a receiver waiting in changed() is woken by the send itself,
// while a Sender is still alive (so no close can wake it instead).
WATCH_MODEL_TEST(send_wakes_with_sender_alive,
                 weft::model::bounded(1).on_dpor(weft::model::exhaustive()), 1) {
  auto [tx, rx] = watch::channel<W<int>>(0);
  platform::thread sender([tx] { WEFT_INVARIANT(tx.send(1).is_ok()); });  // a copy of tx
  WEFT_INVARIANT(weft::block_on(rx.changed()).is_ok());
  WEFT_INVARIANT(*rx.borrow() == 1);
  sender.join();
}

// A send wakes only the receivers enqueued when it looks at their shard; one that enqueues
// just after must see the version itself (ChangedWait's check after the enqueue). Here the
// receiver waits through two sends, so it enqueues again after the first wake while the
// second send looks. Kills watch.changed_no_recheck_after_enqueue, watch.recheck_acquire,
// watch.version_release, notify.enqueue_cas_acquire and notify.has_enqueued_acquire.
WATCH_MODEL_TEST(changed_waits_through_two_sends, weft::model::bounded(2), 1) {
  auto [tx, rx] = watch::channel<W<int>>(0);
  platform::thread sender([tx] {
    WEFT_INVARIANT(tx.send(1).is_ok());
    WEFT_INVARIANT(tx.send(2).is_ok());
  });
  while (*rx.borrow_and_update() != 2) WEFT_INVARIANT(weft::block_on(rx.changed()).is_ok());
  sender.join();
}

namespace {
struct Note {
  platform::cell<int> value{0};
};
}  // namespace

// Kills watch.version_relaxed: what the sender did before send() happens-before the
// changed() that observes the new version, even when changed() sees the version directly
// (before the sender's notify_waiters, which would otherwise order it).
WATCH_MODEL_TEST(changed_orders_sender_writes, weft::model::bounded(2), 1) {
  auto [tx, rx] = watch::channel<W<int>>(0);
  auto note = std::make_shared<Note>();
  platform::thread sender([tx, note] {
    note->value.with_mut([](int& v) { v = 7; });  // plain data, outside the value lock
    WEFT_INVARIANT(tx.send(1).is_ok());
  });
  WEFT_INVARIANT(weft::block_on(rx.changed()).is_ok());
  note->value.with([](const int& v) { WEFT_INVARIANT(v == 7); });
  sender.join();
}

// Two Senders on two threads each add 1 with send_modify, then drop: no increment is lost
// (each closure runs on the value the other stored: the write lock, or send_lock and the
// WRITING bit, whose CAS acquires the last writer's stores).
WATCH_MODEL_TEST(concurrent_send_modify, weft::model::bounded(2), 2) {
  auto [tx, rx] = watch::channel<W<int>>(0);
  auto copy = tx;
  const auto add_one = [](watch::Sender<W<int>>& sender) {
    sender.send_modify([](W<int>& v) { v = static_cast<int>(v) + 1; });
    auto gone = std::move(sender);
  };
  platform::thread first([&add_one, tx = std::move(tx)]() mutable { add_one(tx); });
  platform::thread second([&add_one, copy = std::move(copy)]() mutable { add_one(copy); });
  first.join();
  second.join();
  WEFT_INVARIANT(*rx.borrow() == 2);
}

// One Sender object used from two threads at once (its methods are const, as Tokio's take
// &self): the two send_replace calls store one after the other, so each value comes back
// exactly once, from the other call or as the final value. Kills watch.writing_bit_ignored.
WATCH_MODEL_TEST(one_sender_shared_by_two_threads, weft::model::bounded(2), 1) {
  auto [tx, rx] = watch::channel<W<int>>(0);
  int first = -1;
  platform::thread other([&tx, &first] { first = tx.send_replace(1); });
  const int second = tx.send_replace(2);
  other.join();
  const int last = *rx.borrow();
  WEFT_INVARIANT(first + second + last == 3 && first != second && last != 0);
}

// A receiver that has seen the last value sent is told of no change, only of the close. A
// value stored by send_modify carries its version and can be copied before the state
// word's bump, so the receiver's version may be ahead of that word: versions compare as
// serial numbers, not for equality. Kills watch.changed_by_equality.
WATCH_MODEL_TEST(changed_after_last_value, weft::model::bounded(2), 1) {
  auto [tx, rx] = watch::channel<W<int>>(0);
  platform::thread sender([tx = std::move(tx)]() mutable {
    tx.send_modify([](W<int>& v) { v = 1; });
    auto gone = std::move(tx);
  });
  const bool saw_last = *rx.borrow_and_update() == 1;
  const bool changed = weft::block_on(rx.changed()).is_ok();
  WEFT_INVARIANT(changed != saw_last);
  sender.join();
}

// send_if_modified whose modify changes the value but returns false: the change is stored
// unannounced (Tokio's documented "silent modification"), and a borrow racing it sees the
// old or the new value. Kills watch.silent_store_dropped.
WATCH_MODEL_TEST(silent_modification_is_kept, weft::model::bounded(2), 1) {
  auto [tx, rx] = watch::channel<W<int>>(0);
  platform::thread sender([&tx] {
    WEFT_INVARIANT(!tx.send_if_modified([](W<int>& v) {
      v = 4;
      return false;
    }));
  });
  {
    auto seen = rx.borrow();
    WEFT_INVARIANT((*seen == 0 || *seen == 4) && !seen.has_changed());
  }
  sender.join();
  WEFT_INVARIANT(*rx.borrow() == 4 && !rx.has_changed().value());
}

// Kills watch.shard_beyond_width: a BigNotify narrower than notify_width (a machine with
// fewer cores) hands out only shards its notify_waiters() reaches. Two waiters, on their
// own threads, take the two next shards; each requests a notification before it checks the
// flag (as ChangedWait) and must be woken by the one notify_waiters() after the flag is set.
WEFT_MODEL_TEST(big_notify_narrow_width, weft::model::bounded(1).on_dpor(weft::model::bounded(2)),
                2) {
  watch::detail::BigNotify notify(1);
  platform::atomic<bool> sent{false};
  auto wait_sent = [&](std::size_t shard) {
    for (;;) {
      auto fut = notify.notified(shard);
      // Acquire: pairs with the Release store below.
      if (sent.load(std::memory_order_acquire)) return;
      weft::block_on(fut);
    }
  };
  const std::size_t first = notify.next_shard();
  const std::size_t second = notify.next_shard();
  platform::thread waiter([&] { wait_sent(first); });
  platform::thread sender([&] {
    // Release: pairs with the Acquire load above.
    sent.store(true, std::memory_order_release);
    notify.notify_waiters();
  });
  wait_sent(second);
  waiter.join();
  sender.join();
}
