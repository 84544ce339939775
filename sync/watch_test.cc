// Unit tests of watch. Ported from tokio/tests/sync_watch.rs, plus wait_for, send_if_modified,
// mark_changed / mark_unchanged, weft's error paths, and counted values (every value
// destroyed exactly once).
//
// The API's tests run on both layouts of the value (sync/watch.h): int is borrowed by copy
// (a seqlock whose writers take a bit in the state word), std::string under the read-write
// lock. Then what only the by-copy layout does (a Ref is a copy: holding one blocks no
// send) and where it stops (64 bytes copied, 72 locked).
#include "sync/watch.h"
#include "sync/platform/atomic.h"

#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/waker_leak_check.h"
#include "testing/counted.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>

namespace {

using weft::MockTask;
namespace watch = weft::watch;

using Counted = weft::testing::Counted;

struct NoDefault {
  explicit NoDefault(int) {}
};

struct LiveCheck {
  LiveCheck() { REQUIRE(Counted::live() == 0); }
  ~LiveCheck() { CHECK(Counted::live() == 0); }
};

// The layouts the TEST_CASE_TEMPLATEs below run on (T: int, std::string), and value n in
// either, so that one test body serves both.
static_assert(watch::detail::borrowed_by_copy<int>);
static_assert(!watch::detail::borrowed_by_copy<std::string>);

template <class T>
T val(int n) {
  if constexpr (std::is_same_v<T, std::string>) {
    return std::to_string(n);
  } else {
    return T(n);
  }
}
int num(int v) { return v; }
int num(const std::string& v) { return std::stoi(v); }

TEST_CASE_TEMPLATE("single_rx_recv", T, int, std::string) {
  auto pair = watch::channel<T>(val<T>(1));
  auto& rx = pair.second;
  {
    // Not initially notified.
    MockTask t;
    auto changed = rx.changed();
    CHECK(t.poll(changed).is_pending());
  }
  CHECK(*rx.borrow() == val<T>(1));
  {
    MockTask t;
    auto changed = rx.changed();
    CHECK(t.poll(changed).is_pending());
    CHECK(pair.first.send(val<T>(2)).is_ok());
    CHECK(t.is_woken());
    auto r = t.poll(changed);
    REQUIRE(r.is_ready());
    CHECK(r.value().is_ok());
  }
  CHECK(*rx.borrow() == val<T>(2));
  {
    MockTask t;
    auto changed = rx.changed();
    CHECK(t.poll(changed).is_pending());
    { auto gone = std::move(pair.first); }
    CHECK(t.is_woken());
    auto r = t.poll(changed);
    REQUIRE(r.is_ready());
    CHECK(r.value().is_err());
  }
  CHECK(*rx.borrow() == val<T>(2));
}

TEST_CASE_TEMPLATE("multi_rx", T, int, std::string) {
  auto [tx, rx1] = watch::channel<T>(val<T>(1));
  auto rx2 = rx1;
  {
    MockTask t1, t2;
    auto c1 = rx1.changed();
    auto c2 = rx2.changed();
    CHECK(t1.poll(c1).is_pending());
    CHECK(t2.poll(c2).is_pending());
  }
  CHECK(*rx1.borrow() == val<T>(1));
  CHECK(*rx2.borrow() == val<T>(1));
  MockTask t2;
  auto* c2 = new auto(rx2.changed());
  {
    MockTask t1;
    auto c1 = rx1.changed();
    CHECK(t1.poll(c1).is_pending());
    CHECK(t2.poll(*c2).is_pending());
    CHECK(tx.send(val<T>(2)).is_ok());
    CHECK(t1.is_woken());
    CHECK(t2.is_woken());
    CHECK(t1.poll(c1).is_ready());
  }
  CHECK(*rx1.borrow() == val<T>(2));
  {
    MockTask t1;
    auto c1 = rx1.changed();
    CHECK(t1.poll(c1).is_pending());
    CHECK(tx.send(val<T>(3)).is_ok());
    CHECK(t1.is_woken());
    CHECK(t2.is_woken());
    CHECK(t1.poll(c1).value().is_ok());
    CHECK(t2.poll(*c2).value().is_ok());
  }
  CHECK(*rx1.borrow() == val<T>(3));
  delete c2;
  CHECK(*rx2.borrow() == val<T>(3));
  {
    MockTask t1, t3;
    auto a = rx1.changed();
    auto b = rx2.changed();
    CHECK(t1.poll(a).is_pending());
    CHECK(t3.poll(b).is_pending());
    CHECK(tx.send(val<T>(4)).is_ok());
    CHECK(t1.poll(a).value().is_ok());
    CHECK(t3.poll(b).value().is_ok());
  }
  CHECK(*rx1.borrow() == val<T>(4));
  CHECK(*rx2.borrow() == val<T>(4));
}

TEST_CASE_TEMPLATE("rx_observes_final_value", T, int, std::string) {
  {
    auto pair = watch::channel<T>(val<T>(1));
    { auto gone = std::move(pair.first); }
    MockTask t;
    auto c = pair.second.changed();
    auto r = t.poll(c);
    REQUIRE(r.is_ready());
    CHECK(r.value().is_err());
    CHECK(*pair.second.borrow() == val<T>(1));
  }
  auto pair = watch::channel<T>(val<T>(1));
  auto& rx = pair.second;
  CHECK(pair.first.send(val<T>(2)).is_ok());
  {
    MockTask t;
    auto c = rx.changed();
    CHECK(t.poll(c).value().is_ok());
  }
  CHECK(*rx.borrow() == val<T>(2));
  {
    MockTask t;
    auto c = rx.changed();
    CHECK(t.poll(c).is_pending());
    CHECK(pair.first.send(val<T>(3)).is_ok());
    { auto gone = std::move(pair.first); }
    CHECK(t.is_woken());
    CHECK(t.poll(c).value().is_ok());
  }
  CHECK(*rx.borrow() == val<T>(3));
  {
    MockTask t;
    auto c = rx.changed();
    CHECK(t.poll(c).value().is_err());
  }
  CHECK(*rx.borrow() == val<T>(3));
}

TEST_CASE_TEMPLATE("poll_close", T, int, std::string) {
  auto pair = watch::channel<T>(val<T>(1));
  auto& tx = pair.first;
  {
    MockTask t;
    auto closed = tx.closed();
    CHECK(t.poll(closed).is_pending());
    { auto gone = std::move(pair.second); }
    CHECK(t.is_woken());
    CHECK(t.poll(closed).is_ready());
  }
  auto r = tx.send(val<T>(2));
  REQUIRE(r.is_err());
  CHECK(r.error().value == val<T>(2));  // the value comes back
  CHECK(*tx.borrow() == val<T>(1));     // and is not stored
}

TEST_CASE_TEMPLATE("borrow_and_update", T, int, std::string) {
  auto pair = watch::channel<T>(val<T>(1));
  auto& rx = pair.second;
  MockTask t;
  CHECK_FALSE(*rx.has_changed());
  CHECK(pair.first.send(val<T>(2)).is_ok());
  CHECK(*rx.has_changed());
  {
    auto c = rx.changed();
    CHECK(t.poll(c).value().is_ok());
  }
  {
    auto c = rx.changed();
    CHECK(t.poll(c).is_pending());
  }
  CHECK_FALSE(*rx.has_changed());
  CHECK(pair.first.send(val<T>(3)).is_ok());
  CHECK(*rx.has_changed());
  CHECK(*rx.borrow_and_update() == val<T>(3));
  {
    auto c = rx.changed();
    CHECK(t.poll(c).is_pending());
  }
  CHECK_FALSE(*rx.has_changed());
  { auto gone = std::move(pair.first); }
  CHECK(*rx.borrow_and_update() == val<T>(3));
  {
    auto c = rx.changed();
    CHECK(t.poll(c).value().is_err());
  }
  CHECK(rx.has_changed().is_err());
}

TEST_CASE_TEMPLATE("reopened_after_subscribe", T, int, std::string) {
  auto pair = watch::channel<T>(val<T>(1));
  auto& tx = pair.first;
  CHECK_FALSE(tx.is_closed());
  { auto gone = std::move(pair.second); }
  CHECK(tx.is_closed());
  {
    auto rx = tx.subscribe();
    CHECK_FALSE(tx.is_closed());
  }
  CHECK(tx.is_closed());
}

TEST_CASE_TEMPLATE("send_modify_panic", T, int, std::string) {
  auto [tx, rx] = watch::channel<T>(val<T>(1));
  tx.send_modify([](T& old) { old = val<T>(2); });
  CHECK(*rx.borrow_and_update() == val<T>(2));
  auto rx2 = rx;
  CHECK(*rx2.borrow_and_update() == val<T>(2));
  MockTask task;
  auto c = rx2.changed();
  CHECK_THROWS_AS(tx.send_modify([](T& old) {
    old = val<T>(-1);
    throw std::runtime_error("modify");
  }),
                  std::runtime_error);
  CHECK(task.poll(c).is_pending());
  CHECK(*rx.borrow() == val<T>(-1));
  tx.send_modify([](T& old) { old = val<T>(3); });
  CHECK(task.poll(c).value().is_ok());
  CHECK(*rx.borrow_and_update() == val<T>(3));
}

TEST_CASE_TEMPLATE("send_if_modified", T, int, std::string) {
  auto [tx, rx] = watch::channel<T>(val<T>(1));
  auto inc_if_odd = [](T& v) {
    if (num(v) % 2 == 1) {
      v = val<T>(num(v) + 1);
      return true;
    }
    return false;
  };
  CHECK(*rx.borrow() == val<T>(1));
  CHECK_FALSE(*rx.has_changed());
  CHECK(tx.send_if_modified(inc_if_odd));
  CHECK(*rx.has_changed());
  CHECK(*rx.borrow_and_update() == val<T>(2));
  CHECK_FALSE(tx.send_if_modified(inc_if_odd));
  CHECK_FALSE(*rx.has_changed());
  CHECK(*rx.borrow() == val<T>(2));
}

TEST_CASE_TEMPLATE("send_replace and send without receivers", T, int, std::string) {
  auto [tx, rx] = watch::channel<T>(val<T>(1));
  CHECK(tx.send_replace(val<T>(2)) == val<T>(1));
  CHECK(tx.send_replace(val<T>(3)) == val<T>(2));
  { auto gone = std::move(rx); }
  CHECK(tx.send(val<T>(4)).is_err());
  CHECK(tx.send_replace(val<T>(5)) == val<T>(3));  // stores anyway
  CHECK(*tx.borrow() == val<T>(5));
  auto rx2 = tx.subscribe();
  CHECK(*rx2.borrow() == val<T>(5));
  CHECK_FALSE(*rx2.has_changed());  // subscribe marks the current value seen
}

TEST_CASE_TEMPLATE("Sender::new has no receiver", T, int, std::string) {
  watch::Sender<T> tx(val<T>(0));
  CHECK(tx.send(val<T>(3)).is_err());
  auto rx = tx.subscribe();
  CHECK(tx.send(val<T>(4)).is_ok());
  CHECK(*rx.borrow() == val<T>(4));
}

TEST_CASE_TEMPLATE("borrow reports has_changed; the sender's never does", T, int, std::string) {
  auto pair = watch::channel<T>(val<T>(1));
  auto& rx = pair.second;
  CHECK(pair.first.send(val<T>(2)).is_ok());
  CHECK_FALSE(pair.first.borrow().has_changed());
  { auto gone = std::move(pair.first); }
  CHECK(rx.has_changed().is_err());
  CHECK(*rx.borrow() == val<T>(2));
  CHECK(rx.borrow().has_changed());
  {
    auto received = rx.borrow_and_update();
    CHECK(*received == val<T>(2));
    CHECK(received.has_changed());
  }
  CHECK_FALSE(rx.borrow().has_changed());
}

TEST_CASE_TEMPLATE("mark_changed and mark_unchanged", T, int, std::string) {
  auto [tx, rx] = watch::channel<T>(val<T>(0));
  MockTask t;
  rx.mark_changed();
  CHECK(*rx.has_changed());
  {
    auto c = rx.changed();
    CHECK(t.poll(c).value().is_ok());
  }
  CHECK_FALSE(*rx.has_changed());
  CHECK(tx.send(val<T>(1)).is_ok());
  CHECK(*rx.has_changed());
  rx.mark_unchanged();
  CHECK_FALSE(*rx.has_changed());
  auto c = rx.changed();
  CHECK(t.poll(c).is_pending());
}

TEST_CASE_TEMPLATE("mark_changed and mark_unchanged round trips", T, int, std::string) {
  auto pair = watch::channel<T>(val<T>(0));
  auto& [tx, rx] = pair;
  MockTask t;
  rx.mark_changed();
  CHECK(*rx.has_changed());
  CHECK(rx.borrow().has_changed());
  rx.mark_unchanged();
  CHECK_FALSE(*rx.has_changed());
  CHECK_FALSE(rx.borrow().has_changed());
  // Marked changed twice is still one unseen value: changed() once, then nothing.
  rx.mark_changed();
  rx.mark_changed();
  {
    auto c = rx.changed();
    CHECK(t.poll(c).value().is_ok());
  }
  {
    auto c = rx.changed();
    CHECK(t.poll(c).is_pending());
  }
  // borrow_and_update reports the value marked changed, and marks it seen.
  rx.mark_changed();
  {
    auto ref = rx.borrow_and_update();
    CHECK(*ref == val<T>(0));
    CHECK(ref.has_changed());
  }
  CHECK_FALSE(*rx.has_changed());
  // A sent value marked seen without a borrow; the next send is new again.
  CHECK(tx.send(val<T>(1)).is_ok());
  rx.mark_unchanged();
  CHECK_FALSE(*rx.has_changed());
  CHECK_FALSE(rx.borrow().has_changed());
  rx.mark_changed();
  CHECK(rx.borrow().has_changed());
  rx.mark_unchanged();
  CHECK(tx.send(val<T>(2)).is_ok());
  CHECK(*rx.has_changed());
  CHECK(*rx.borrow_and_update() == val<T>(2));
  // Once closed, has_changed() fails, but a value marked changed is still given once.
  { auto gone = std::move(pair.first); }
  rx.mark_changed();
  CHECK(rx.has_changed().is_err());
  {
    auto c = rx.changed();
    CHECK(t.poll(c).value().is_ok());
  }
  auto c = rx.changed();
  CHECK(t.poll(c).value().is_err());
}

TEST_CASE_TEMPLATE("borrow_and_update marks the value it returns seen", T, int, std::string) {
  auto [tx, rx] = watch::channel<T>(val<T>(0));
  auto other = rx;  // keeps a seen version of its own
  CHECK(tx.send(val<T>(1)).is_ok());
  {
    auto ref = rx.borrow_and_update();
    CHECK(*ref == val<T>(1));
    CHECK(ref.has_changed());
    CHECK_FALSE(*rx.has_changed());  // already while the Ref is held
  }
  CHECK_FALSE(*rx.has_changed());
  CHECK_FALSE(rx.borrow().has_changed());
  CHECK_FALSE(rx.borrow_and_update().has_changed());
  MockTask t;
  {
    auto c = rx.changed();
    CHECK(t.poll(c).is_pending());
  }
  CHECK(*other.has_changed());
  CHECK(other.borrow().has_changed());
  CHECK(tx.send(val<T>(2)).is_ok());
  CHECK(*rx.has_changed());
  CHECK(*rx.borrow_and_update() == val<T>(2));
  CHECK_FALSE(*rx.has_changed());
}

// Tokio documents that a send_if_modified closure which changes the value and returns false
// leaves the change in place, unannounced. On the by-copy layout the closure runs on a copy,
// which must be stored all the same, with one Sender and with two.
TEST_CASE_TEMPLATE("send_if_modified returning false keeps its change, unannounced", T, int,
                   std::string) {
  auto pair = watch::channel<T>(val<T>(1));
  auto& [tx, rx] = pair;
  std::optional<watch::Sender<T>> second;
  SUBCASE("lone sender") {}
  SUBCASE("two senders") { second.emplace(tx); }
  MockTask t;
  auto c = rx.changed();
  CHECK(t.poll(c).is_pending());
  CHECK_FALSE(tx.send_if_modified([](T& v) {
    v = val<T>(2);
    return false;
  }));
  CHECK(*rx.borrow() == val<T>(2));
  CHECK(*tx.borrow() == val<T>(2));
  CHECK_FALSE(rx.borrow().has_changed());
  CHECK_FALSE(*rx.has_changed());
  CHECK_FALSE(t.is_woken());
  CHECK(t.poll(c).is_pending());
  // The next announced change starts from the silent one.
  CHECK(tx.send_if_modified([](T& v) {
    const bool saw_silent_change = v == val<T>(2);
    v = val<T>(3);
    return saw_silent_change;
  }));
  CHECK(t.is_woken());
  CHECK(t.poll(c).value().is_ok());
  CHECK(*rx.borrow_and_update() == val<T>(3));
}

// The same for a closure that throws after changing the value (Tokio's send_modify panic):
// the exception propagates, the change stays, no version, no wake; the senders' lock, if
// taken, is released (the send after it would hang).
TEST_CASE_TEMPLATE("a modify that throws keeps its change without a new version", T, int,
                   std::string) {
  auto pair = watch::channel<T>(val<T>(1));
  auto& [tx, rx] = pair;
  std::optional<watch::Sender<T>> second;
  SUBCASE("lone sender") {}
  SUBCASE("two senders") { second.emplace(tx); }
  MockTask t;
  auto c = rx.changed();
  CHECK(t.poll(c).is_pending());
  CHECK_THROWS_AS(tx.send_modify([](T& v) {
    v = val<T>(2);
    throw std::runtime_error("modify");
  }),
                  std::runtime_error);
  CHECK(*rx.borrow() == val<T>(2));
  CHECK_FALSE(rx.borrow().has_changed());
  CHECK_FALSE(*rx.has_changed());
  CHECK_THROWS_AS((void)tx.send_if_modified([](T& v) -> bool {
    v = val<T>(3);
    throw std::runtime_error("modify");
  }),
                  std::runtime_error);
  CHECK(*rx.borrow() == val<T>(3));
  CHECK_FALSE(*rx.has_changed());
  // A throw before any change leaves the value as it was.
  CHECK_THROWS_AS(tx.send_modify([](T&) { throw std::runtime_error("modify"); }),
                  std::runtime_error);
  CHECK(*rx.borrow() == val<T>(3));
  CHECK_FALSE(t.is_woken());
  CHECK(t.poll(c).is_pending());
  CHECK(tx.send(val<T>(4)).is_ok());
  CHECK(t.poll(c).value().is_ok());
  CHECK(*rx.borrow_and_update() == val<T>(4));
}

TEST_CASE_TEMPLATE("Sender::borrow sees every store and never reports a change", T, int,
                   std::string) {
  auto [tx, rx] = watch::channel<T>(val<T>(0));
  CHECK(*tx.borrow() == val<T>(0));
  auto tx2 = tx;
  CHECK(tx2.send(val<T>(1)).is_ok());
  CHECK(*tx.borrow() == val<T>(1));
  CHECK_FALSE(tx.borrow().has_changed());
  tx.send_modify([](T& v) { v = val<T>(2); });
  CHECK(*tx2.borrow() == val<T>(2));
  CHECK_FALSE(tx2.borrow().has_changed());
  { auto gone = std::move(rx); }
  CHECK(tx.send(val<T>(3)).is_err());
  CHECK(*tx.borrow() == val<T>(2));  // a refused send stores nothing
  CHECK(tx.send_replace(val<T>(4)) == val<T>(2));
  CHECK(*tx2.borrow() == val<T>(4));
  { auto gone = std::move(tx2); }
  tx.send_modify([](T& v) { v = val<T>(5); });  // a lone Sender again
  CHECK(*tx.borrow() == val<T>(5));
  CHECK_FALSE(tx.borrow().has_changed());
}

TEST_CASE_TEMPLATE("wait_for", T, int, std::string) {
  auto [tx, rx] = watch::channel<T>(val<T>(0));
  MockTask t;
  {
    // Already satisfied by the current (seen) value.
    auto w = rx.wait_for([](const T& v) { return v == val<T>(0); });
    auto r = t.poll(w);
    REQUIRE(r.is_ready());
    CHECK(**r.value() == val<T>(0));
  }
  auto w = rx.wait_for([](const T& v) { return v == val<T>(2); });
  CHECK(t.poll(w).is_pending());
  CHECK(tx.send(val<T>(1)).is_ok());
  CHECK(t.is_woken());
  CHECK(t.poll(w).is_pending());
  CHECK(tx.send(val<T>(2)).is_ok());
  auto r = t.poll(w);
  REQUIRE(r.is_ready());
  REQUIRE(r.value().is_ok());
  CHECK(*r.value().value() == val<T>(2));
}

TEST_CASE_TEMPLATE("wait_for fails once closed with the predicate false", T, int, std::string) {
  auto pair = watch::channel<T>(val<T>(0));
  MockTask t;
  auto w = pair.second.wait_for([](const T& v) { return v == val<T>(9); });
  CHECK(t.poll(w).is_pending());
  CHECK(pair.first.send(val<T>(1)).is_ok());
  { auto gone = std::move(pair.first); }
  auto r = t.poll(w);
  REQUIRE(r.is_ready());
  CHECK(r.value().is_err());
  CHECK(*pair.second.borrow() == val<T>(1));
}

TEST_CASE_TEMPLATE("wait_for sees the last value sent before closing", T, int, std::string) {
  auto pair = watch::channel<T>(val<T>(0));
  MockTask t;
  auto w = pair.second.wait_for([](const T& v) { return v == val<T>(9); });
  CHECK(t.poll(w).is_pending());
  CHECK(pair.first.send(val<T>(9)).is_ok());
  { auto gone = std::move(pair.first); }
  auto r = t.poll(w);
  REQUIRE(r.is_ready());
  REQUIRE(r.value().is_ok());
  CHECK(*r.value().value() == val<T>(9));
}

TEST_CASE_TEMPLATE("a throwing wait_for predicate leaves the channel usable", T, int, std::string) {
  auto [tx, rx] = watch::channel<T>(val<T>(0));
  MockTask t;
  auto w = rx.wait_for([](const T&) -> bool { throw std::runtime_error("f"); });
  CHECK_THROWS_AS((void)t.poll(w), std::runtime_error);
  CHECK(tx.send(val<T>(1)).is_ok());  // would block forever with the read lock held
}

TEST_CASE_TEMPLATE("counts and same_channel", T, int, std::string) {
  auto [tx, rx] = watch::channel<T>(val<T>(0));
  CHECK(tx.receiver_count() == 1);
  CHECK(tx.sender_count() == 1);
  auto tx2 = tx;
  auto rx2 = rx;
  CHECK(tx.sender_count() == 2);
  CHECK(tx.receiver_count() == 2);
  CHECK(tx.same_channel(tx2));
  CHECK(rx.same_channel(rx2));
  auto [tx3, rx3] = watch::channel<T>(val<T>(0));
  CHECK_FALSE(tx3.same_channel(tx2));
  CHECK_FALSE(rx3.same_channel(rx2));
}

TEST_CASE_TEMPLATE("the channel closes only when the last sender goes", T, int, std::string) {
  auto [tx, rx] = watch::channel<T>(val<T>(0));
  std::optional<watch::Sender<T>> a(tx), b(std::move(tx));
  a.reset();
  CHECK(rx.has_changed().is_ok());
  b.reset();
  CHECK(rx.has_changed().is_err());
}

TEST_CASE_TEMPLATE("closed() with several receivers and resubscribe", T, int, std::string) {
  auto pair = watch::channel<T>(val<T>(0));
  auto& tx = pair.first;
  std::optional<watch::Receiver<T>> rx2(pair.second);
  MockTask t;
  auto closed = tx.closed();
  CHECK(t.poll(closed).is_pending());
  { auto gone = std::move(pair.second); }
  CHECK(t.poll(closed).is_pending());
  rx2.reset();
  CHECK(t.is_woken());
  CHECK(t.poll(closed).is_ready());
}

TEST_CASE_TEMPLATE("changed across threads", T, int, std::string) {
  auto [tx, rx] = watch::channel<T>(val<T>(0));
  std::thread t([rx = std::move(rx)]() mutable {
    int last = 0;
    while (weft::block_on(rx.changed()).is_ok()) {
      const int v = num(*rx.borrow_and_update());
      CHECK(v > last);
      last = v;
    }
    CHECK(last == 1000);
  });
  for (int i = 1; i <= 1000; ++i) CHECK(tx.send_replace(val<T>(i)) == val<T>(i - 1));
  { auto gone = std::move(tx); }
  t.join();
}

// Two Sender copies bump the value on two threads (the write lock; on the by-copy layout
// send_lock and the WRITING bit) while a receiver follows it. An increment lost to a race
// shows in the final value.
TEST_CASE_TEMPLATE("two senders on two threads: values only grow, no increment lost", T, int,
                   std::string) {
  constexpr int bumps = 2000;
  auto pair = watch::channel<T>(val<T>(0));
  auto& rx = pair.second;
  std::optional<watch::Sender<T>> tx[2];
  tx[0].emplace(pair.first);
  tx[1].emplace(std::move(pair.first));
  weft::platform::atomic<int> shrank{0};  // Sender::borrow below a value this sender stored
  weft::platform::atomic<int> started{0};
  auto bump = [&](int index) {
    // Both start at once: a thread's 2000 sends take less than another thread's start.
    started.fetch_add(1, std::memory_order_relaxed);
    while (started.load(std::memory_order_relaxed) < 2) std::this_thread::yield();
    int last = 0;
    for (int i = 0; i < bumps; ++i) {
      tx[index]->send_modify([](T& v) { v = val<T>(num(v) + 1); });
      const int now = num(*tx[index]->borrow());
      if (now <= last) shrank.fetch_add(1, std::memory_order_relaxed);
      last = now;
    }
    tx[index].reset();
  };
  std::thread first(bump, 0);
  std::thread second(bump, 1);
  int last = 0;
  int shrank_at_receiver = 0;
  while (weft::block_on(rx.changed()).is_ok()) {
    const int v = num(*rx.borrow_and_update());
    if (v <= last) ++shrank_at_receiver;
    last = v;
  }
  first.join();
  second.join();
  CHECK(shrank.load(std::memory_order_relaxed) == 0);
  CHECK(shrank_at_receiver == 0);
  CHECK(last == 2 * bumps);
  CHECK(*rx.borrow() == val<T>(2 * bumps));
}

// One Sender object used by two threads at once (its methods are const, as Tokio's take
// &self), while a third copies it: every value sent comes back exactly once, from a later
// send_replace or as the final value, so no two stores overlapped.
TEST_CASE_TEMPLATE("one Sender shared by threads: each replaced value comes back once", T, int,
                   std::string) {
  constexpr int per_thread = 3000;
  auto [tx, rx] = watch::channel<T>(val<T>(0));
  const watch::Sender<T>& shared = tx;
  weft::platform::atomic<bool> done{false};
  std::thread copier([&] {
    while (!done.load(std::memory_order_relaxed)) {
      watch::Sender<T> copy = shared;  // the count of Senders moves under the writers
      (void)copy;
    }
  });
  long long returned[2] = {0, 0};
  auto replace_all = [&](int index) {
    for (int i = 1; i <= per_thread; ++i) {
      returned[index] += num(shared.send_replace(val<T>(index * per_thread + i)));
    }
  };
  std::thread first(replace_all, 0);
  std::thread second(replace_all, 1);
  first.join();
  second.join();
  done.store(true, std::memory_order_relaxed);
  copier.join();
  const long long n = 2 * per_thread;
  CHECK(returned[0] + returned[1] + num(*rx.borrow()) == n * (n + 1) / 2);
}

TEST_CASE_TEMPLATE("moved-from handles are misuse", T, int, std::string) {
  auto [tx, rx] = watch::channel<T>(val<T>(0));
  auto tx2 = std::move(tx);
  CHECK_THROWS_AS((void)tx.send(val<T>(1)), std::invalid_argument);
  CHECK_THROWS_AS((void)tx.send_replace(val<T>(1)), std::invalid_argument);
  CHECK_THROWS_AS(tx.send_modify([](T&) {}), std::invalid_argument);
  CHECK_THROWS_AS((void)tx.borrow(), std::invalid_argument);
  CHECK_THROWS_AS((void)tx.subscribe(), std::invalid_argument);
  CHECK_THROWS_AS((void)tx.receiver_count(), std::invalid_argument);
  CHECK_THROWS_AS((void)watch::Sender<T>(tx), std::invalid_argument);
  MockTask t;
  {
    auto closed = tx.closed();
    CHECK_THROWS_AS((void)t.poll(closed), std::invalid_argument);
  }
  auto rx2 = std::move(rx);
  CHECK_THROWS_AS((void)rx.borrow(), std::invalid_argument);
  CHECK_THROWS_AS((void)rx.borrow_and_update(), std::invalid_argument);
  CHECK_THROWS_AS((void)rx.has_changed(), std::invalid_argument);
  CHECK_THROWS_AS(rx.mark_unchanged(), std::invalid_argument);
  CHECK_THROWS_AS((void)watch::Receiver<T>(rx), std::invalid_argument);
  {
    auto c = rx.changed();
    CHECK_THROWS_AS((void)t.poll(c), std::invalid_argument);
  }
  {
    auto w = rx.wait_for([](const T&) { return true; });
    CHECK_THROWS_AS((void)t.poll(w), std::invalid_argument);
  }
  CHECK(tx2.send(val<T>(1)).is_ok());
  CHECK(*rx2.borrow() == val<T>(1));
}

// Class check (issue 18, after Tokio #7886): a future that stored its task's waker drops
// it when destroyed (testing/waker_leak_check.h).
TEST_CASE_TEMPLATE("destroyed changed(), wait_for() and closed() futures release their wakers", T,
                   int, std::string) {
  auto pair = watch::channel<T>(val<T>(0));
  auto& [tx, rx] = pair;
  CHECK(weft::testing::waker_released_on_destroy([&] { return pair.second.changed(); }));
  CHECK(weft::testing::waker_released_on_destroy(
      [&] { return pair.second.wait_for([](const T& v) { return v == val<T>(1); }); }));
  CHECK(weft::testing::waker_released_on_destroy([&] { return pair.first.closed(); }));
  CHECK(tx.send(val<T>(1)).is_ok());
  CHECK(*rx.borrow() == val<T>(1));
}

// Tokio's Default for Sender<T: Default> (tokio/src/sync/watch.rs).
TEST_CASE_TEMPLATE("a default Sender holds T{} and has no receiver until subscribe", T, int,
                   std::string) {
  weft::watch::Sender<T> tx;
  CHECK(*tx.borrow() == T{});
  CHECK(tx.is_closed());
  CHECK(tx.send(val<T>(1)).is_err());  // no receiver: the value comes back
  auto rx = tx.subscribe();
  CHECK(tx.send(val<T>(2)).is_ok());
  CHECK(*rx.borrow() == val<T>(2));
  static_assert(!std::is_default_constructible_v<weft::watch::Sender<NoDefault>>);
}

TEST_CASE("counted: replaced and final values are destroyed exactly once") {
  static_assert(!watch::detail::borrowed_by_copy<Counted>);
  LiveCheck check;
  {
    auto [tx, rx] = watch::channel<Counted>(Counted(0));
    CHECK(Counted::live() == 1);
    for (int i = 1; i < 5; ++i) CHECK(tx.send(Counted(i)).is_ok());
    CHECK(Counted::live() == 1);
    {
      Counted old = tx.send_replace(Counted(9));
      CHECK(old.value == 4);
    }
    CHECK(Counted::live() == 1);
    auto rx2 = rx;
    { auto gone = std::move(rx); }
    { auto gone = std::move(rx2); }
    auto r = tx.send(Counted(10));
    REQUIRE(r.is_err());
    CHECK(r.error().value.value == 10);
    CHECK(Counted::live() == 2);
  }
}

// By copy only. -----------------------------------------------------------------------------

// A Ref is a copy: sends complete while it is held (under the read lock they would wait,
// here forever: one thread), and it keeps the value and has_changed() it was borrowed with.
TEST_CASE("by copy: a Ref held across sends keeps its value and has_changed()") {
  auto [tx, rx] = watch::channel<int>(0);
  std::optional<watch::Sender<int>> second;
  SUBCASE("lone sender") {}
  SUBCASE("two senders") { second.emplace(tx); }
  auto before = rx.borrow();
  CHECK(tx.send(1).is_ok());
  auto after = rx.borrow();
  tx.send_modify([](int& v) { v = 2; });
  CHECK(tx.send_replace(3) == 2);
  auto from_sender = tx.borrow();
  CHECK_FALSE(tx.send_if_modified([](int& v) {
    v = 4;  // stored silently
    return false;
  }));
  CHECK(*before == 0);
  CHECK_FALSE(before.has_changed());
  CHECK(*after == 1);
  CHECK(after.has_changed());
  CHECK(*from_sender == 3);
  {
    auto now = rx.borrow_and_update();
    CHECK(*now == 4);
    CHECK(now.has_changed());
  }
  CHECK_FALSE(*rx.has_changed());
  CHECK(after.has_changed());  // fixed when borrowed
  auto moved = std::move(after);
  CHECK(*moved == 1);
  CHECK(moved.has_changed());
}

// Where the copy stops: 64 bytes are copied, 72 (still trivially copyable) locked. Every word
// differs, so a word the seqlock's copy lost or misplaced shows.
template <std::size_t N>
struct Words {
  std::uint64_t w[N];
  static Words of(std::uint64_t n) {
    Words v{};
    for (std::size_t i = 0; i < N; ++i) v.w[i] = n * 100 + i;
    return v;
  }
  bool operator==(const Words&) const = default;
};
using Words64 = Words<8>;
using Words72 = Words<9>;
static_assert(sizeof(Words64) == 64 && watch::detail::borrowed_by_copy<Words64>);
static_assert(sizeof(Words72) == 72 && std::is_trivially_copyable_v<Words72> &&
              !watch::detail::borrowed_by_copy<Words72>);

TEST_CASE_TEMPLATE("64 and 72 bytes: every word stored arrives", W, Words64, Words72) {
  auto [tx, rx] = watch::channel<W>(W::of(0));
  for (std::uint64_t n = 1; n <= 3; ++n) {
    CHECK(tx.send(W::of(n)).is_ok());
    CHECK(*rx.borrow_and_update() == W::of(n));
  }
  tx.send_modify([](W& v) { v = W::of(4); });
  CHECK(*rx.borrow() == W::of(4));
  CHECK(*tx.borrow() == W::of(4));
  CHECK(tx.send_replace(W::of(5)) == W::of(4));
  CHECK(*rx.borrow() == W::of(5));
}

TEST_CASE("64 bytes: a Ref held across a send is a copy") {
  auto [tx, rx] = watch::channel<Words64>(Words64::of(0));
  auto held = rx.borrow();
  CHECK(tx.send(Words64::of(1)).is_ok());  // no read lock to wait for
  CHECK(*held == Words64::of(0));
  CHECK(*rx.borrow() == Words64::of(1));
}

TEST_CASE("72 bytes: a send waits for a held Ref (the read lock)") {
  auto pair = watch::channel<Words72>(Words72::of(0));
  auto& tx = pair.first;
  std::optional<watch::Ref<Words72>> held;
  held.emplace(pair.second.borrow());
  weft::platform::atomic<bool> sent{false};
  std::thread sender([&] {
    CHECK(tx.send(Words72::of(1)).is_ok());
    sent.store(true, std::memory_order_release);
  });
  // Sound, not exhaustive: a send that completes now is a bug; a slow one just passes.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(sent.load(std::memory_order_acquire));
  CHECK(**held == Words72::of(0));
  held.reset();
  sender.join();
  CHECK(sent.load(std::memory_order_acquire));
  CHECK(*pair.second.borrow() == Words72::of(1));
}

}  // namespace
