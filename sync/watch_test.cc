// Unit tests of watch. Ported from tokio/tests/sync_watch.rs, plus wait_for, send_if_modified,
// mark_changed / mark_unchanged, weft's error paths, and counted values (every value
// destroyed exactly once).
#include "sync/watch.h"
#include "sync/platform/atomic.h"

#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/waker_leak_check.h"
#include "testing/counted.h"

#include <doctest/doctest.h>

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

using Str = std::string;

TEST_CASE("single_rx_recv") {
  auto pair = watch::channel<Str>("one");
  auto& rx = pair.second;
  {
    // Not initially notified.
    MockTask t;
    auto changed = rx.changed();
    CHECK(t.poll(changed).is_pending());
  }
  CHECK(*rx.borrow() == "one");
  {
    MockTask t;
    auto changed = rx.changed();
    CHECK(t.poll(changed).is_pending());
    CHECK(pair.first.send("two").is_ok());
    CHECK(t.is_woken());
    auto r = t.poll(changed);
    REQUIRE(r.is_ready());
    CHECK(r.value().is_ok());
  }
  CHECK(*rx.borrow() == "two");
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
  CHECK(*rx.borrow() == "two");
}

TEST_CASE("multi_rx") {
  auto [tx, rx1] = watch::channel<Str>("one");
  auto rx2 = rx1;
  {
    MockTask t1, t2;
    auto c1 = rx1.changed();
    auto c2 = rx2.changed();
    CHECK(t1.poll(c1).is_pending());
    CHECK(t2.poll(c2).is_pending());
  }
  CHECK(*rx1.borrow() == "one");
  CHECK(*rx2.borrow() == "one");
  MockTask t2;
  auto* c2 = new auto(rx2.changed());
  {
    MockTask t1;
    auto c1 = rx1.changed();
    CHECK(t1.poll(c1).is_pending());
    CHECK(t2.poll(*c2).is_pending());
    CHECK(tx.send("two").is_ok());
    CHECK(t1.is_woken());
    CHECK(t2.is_woken());
    CHECK(t1.poll(c1).is_ready());
  }
  CHECK(*rx1.borrow() == "two");
  {
    MockTask t1;
    auto c1 = rx1.changed();
    CHECK(t1.poll(c1).is_pending());
    CHECK(tx.send("three").is_ok());
    CHECK(t1.is_woken());
    CHECK(t2.is_woken());
    CHECK(t1.poll(c1).value().is_ok());
    CHECK(t2.poll(*c2).value().is_ok());
  }
  CHECK(*rx1.borrow() == "three");
  delete c2;
  CHECK(*rx2.borrow() == "three");
  {
    MockTask t1, t3;
    auto a = rx1.changed();
    auto b = rx2.changed();
    CHECK(t1.poll(a).is_pending());
    CHECK(t3.poll(b).is_pending());
    CHECK(tx.send("four").is_ok());
    CHECK(t1.poll(a).value().is_ok());
    CHECK(t3.poll(b).value().is_ok());
  }
  CHECK(*rx1.borrow() == "four");
  CHECK(*rx2.borrow() == "four");
}

TEST_CASE("rx_observes_final_value") {
  {
    auto pair = watch::channel<Str>("one");
    { auto gone = std::move(pair.first); }
    MockTask t;
    auto c = pair.second.changed();
    auto r = t.poll(c);
    REQUIRE(r.is_ready());
    CHECK(r.value().is_err());
    CHECK(*pair.second.borrow() == "one");
  }
  auto pair = watch::channel<Str>("one");
  auto& rx = pair.second;
  CHECK(pair.first.send("two").is_ok());
  {
    MockTask t;
    auto c = rx.changed();
    CHECK(t.poll(c).value().is_ok());
  }
  CHECK(*rx.borrow() == "two");
  {
    MockTask t;
    auto c = rx.changed();
    CHECK(t.poll(c).is_pending());
    CHECK(pair.first.send("three").is_ok());
    { auto gone = std::move(pair.first); }
    CHECK(t.is_woken());
    CHECK(t.poll(c).value().is_ok());
  }
  CHECK(*rx.borrow() == "three");
  {
    MockTask t;
    auto c = rx.changed();
    CHECK(t.poll(c).value().is_err());
  }
  CHECK(*rx.borrow() == "three");
}

TEST_CASE("poll_close") {
  auto pair = watch::channel<Str>("one");
  auto& tx = pair.first;
  {
    MockTask t;
    auto closed = tx.closed();
    CHECK(t.poll(closed).is_pending());
    { auto gone = std::move(pair.second); }
    CHECK(t.is_woken());
    CHECK(t.poll(closed).is_ready());
  }
  auto r = tx.send("two");
  REQUIRE(r.is_err());
  CHECK(r.error().value == "two");  // the value comes back
}

TEST_CASE("borrow_and_update") {
  auto pair = watch::channel<Str>("one");
  auto& rx = pair.second;
  MockTask t;
  CHECK_FALSE(*rx.has_changed());
  CHECK(pair.first.send("two").is_ok());
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
  CHECK(pair.first.send("three").is_ok());
  CHECK(*rx.has_changed());
  CHECK(*rx.borrow_and_update() == "three");
  {
    auto c = rx.changed();
    CHECK(t.poll(c).is_pending());
  }
  CHECK_FALSE(*rx.has_changed());
  { auto gone = std::move(pair.first); }
  CHECK(*rx.borrow_and_update() == "three");
  {
    auto c = rx.changed();
    CHECK(t.poll(c).value().is_err());
  }
  CHECK(rx.has_changed().is_err());
}

TEST_CASE("reopened_after_subscribe") {
  auto pair = watch::channel<Str>("one");
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

TEST_CASE("send_modify_panic") {
  auto [tx, rx] = watch::channel<Str>("one");
  tx.send_modify([](Str& old) { old = "two"; });
  CHECK(*rx.borrow_and_update() == "two");
  auto rx2 = rx;
  CHECK(*rx2.borrow_and_update() == "two");
  MockTask task;
  auto c = rx2.changed();
  CHECK_THROWS_AS(tx.send_modify([](Str& old) {
    old = "panicked";
    throw std::runtime_error("modify");
  }),
                  std::runtime_error);
  CHECK(task.poll(c).is_pending());
  CHECK(*rx.borrow() == "panicked");
  tx.send_modify([](Str& old) { old = "three"; });
  CHECK(task.poll(c).value().is_ok());
  CHECK(*rx.borrow_and_update() == "three");
}

TEST_CASE("send_if_modified") {
  auto [tx, rx] = watch::channel<int>(1);
  auto inc_if_odd = [](int& v) {
    if (v % 2 == 1) {
      v += 1;
      return true;
    }
    return false;
  };
  CHECK(*rx.borrow() == 1);
  CHECK_FALSE(*rx.has_changed());
  CHECK(tx.send_if_modified(inc_if_odd));
  CHECK(*rx.has_changed());
  CHECK(*rx.borrow_and_update() == 2);
  CHECK_FALSE(tx.send_if_modified(inc_if_odd));
  CHECK_FALSE(*rx.has_changed());
}

TEST_CASE("send_replace and send without receivers") {
  auto [tx, rx] = watch::channel<int>(1);
  CHECK(tx.send_replace(2) == 1);
  CHECK(tx.send_replace(3) == 2);
  { auto gone = std::move(rx); }
  CHECK(tx.send(4).is_err());
  CHECK(tx.send_replace(5) == 3);  // stores anyway
  CHECK(*tx.borrow() == 5);
  auto rx2 = tx.subscribe();
  CHECK(*rx2.borrow() == 5);
  CHECK_FALSE(*rx2.has_changed());  // subscribe marks the current value seen
}

TEST_CASE("Sender::new has no receiver") {
  watch::Sender<int> tx(0);
  CHECK(tx.send(3).is_err());
  auto rx = tx.subscribe();
  CHECK(tx.send(4).is_ok());
  CHECK(*rx.borrow() == 4);
}

TEST_CASE("borrow reports has_changed; the sender's never does") {
  auto pair = watch::channel<Str>("hello");
  auto& rx = pair.second;
  CHECK(pair.first.send("goodbye").is_ok());
  CHECK_FALSE(pair.first.borrow().has_changed());
  { auto gone = std::move(pair.first); }
  CHECK(rx.has_changed().is_err());
  CHECK(*rx.borrow() == "goodbye");
  CHECK(rx.borrow().has_changed());
  {
    auto received = rx.borrow_and_update();
    CHECK(*received == "goodbye");
    CHECK(received.has_changed());
  }
  CHECK_FALSE(rx.borrow().has_changed());
}

TEST_CASE("mark_changed and mark_unchanged") {
  auto [tx, rx] = watch::channel<int>(0);
  MockTask t;
  rx.mark_changed();
  CHECK(*rx.has_changed());
  {
    auto c = rx.changed();
    CHECK(t.poll(c).value().is_ok());
  }
  CHECK_FALSE(*rx.has_changed());
  CHECK(tx.send(1).is_ok());
  CHECK(*rx.has_changed());
  rx.mark_unchanged();
  CHECK_FALSE(*rx.has_changed());
  auto c = rx.changed();
  CHECK(t.poll(c).is_pending());
}

TEST_CASE("wait_for") {
  auto [tx, rx] = watch::channel<int>(0);
  MockTask t;
  {
    // Already satisfied by the current (seen) value.
    auto w = rx.wait_for([](int v) { return v == 0; });
    auto r = t.poll(w);
    REQUIRE(r.is_ready());
    CHECK(**r.value() == 0);
  }
  auto w = rx.wait_for([](int v) { return v == 2; });
  CHECK(t.poll(w).is_pending());
  CHECK(tx.send(1).is_ok());
  CHECK(t.is_woken());
  CHECK(t.poll(w).is_pending());
  CHECK(tx.send(2).is_ok());
  auto r = t.poll(w);
  REQUIRE(r.is_ready());
  REQUIRE(r.value().is_ok());
  CHECK(*r.value().value() == 2);
}

TEST_CASE("wait_for fails once closed with the predicate false") {
  auto pair = watch::channel<int>(0);
  MockTask t;
  auto w = pair.second.wait_for([](int v) { return v == 9; });
  CHECK(t.poll(w).is_pending());
  CHECK(pair.first.send(1).is_ok());
  { auto gone = std::move(pair.first); }
  auto r = t.poll(w);
  REQUIRE(r.is_ready());
  CHECK(r.value().is_err());
  CHECK(*pair.second.borrow() == 1);
}

TEST_CASE("wait_for sees the last value sent before closing") {
  auto pair = watch::channel<int>(0);
  MockTask t;
  auto w = pair.second.wait_for([](int v) { return v == 9; });
  CHECK(t.poll(w).is_pending());
  CHECK(pair.first.send(9).is_ok());
  { auto gone = std::move(pair.first); }
  auto r = t.poll(w);
  REQUIRE(r.is_ready());
  REQUIRE(r.value().is_ok());
  CHECK(*r.value().value() == 9);
}

TEST_CASE("a throwing wait_for predicate releases the read lock") {
  auto [tx, rx] = watch::channel<int>(0);
  MockTask t;
  auto w = rx.wait_for([](int) -> bool { throw std::runtime_error("f"); });
  CHECK_THROWS_AS((void)t.poll(w), std::runtime_error);
  CHECK(tx.send(1).is_ok());  // would block forever with the lock held
}

TEST_CASE("counts and same_channel") {
  auto [tx, rx] = watch::channel<int>(0);
  CHECK(tx.receiver_count() == 1);
  CHECK(tx.sender_count() == 1);
  auto tx2 = tx;
  auto rx2 = rx;
  CHECK(tx.sender_count() == 2);
  CHECK(tx.receiver_count() == 2);
  CHECK(tx.same_channel(tx2));
  CHECK(rx.same_channel(rx2));
  auto [tx3, rx3] = watch::channel<int>(0);
  CHECK_FALSE(tx3.same_channel(tx2));
  CHECK_FALSE(rx3.same_channel(rx2));
}

TEST_CASE("the channel closes only when the last sender goes") {
  auto [tx, rx] = watch::channel<int>(0);
  std::optional<watch::Sender<int>> a(tx), b(std::move(tx));
  a.reset();
  CHECK(rx.has_changed().is_ok());
  b.reset();
  CHECK(rx.has_changed().is_err());
}

TEST_CASE("closed() with several receivers and resubscribe") {
  auto pair = watch::channel<int>(0);
  auto& tx = pair.first;
  std::optional<watch::Receiver<int>> rx2(pair.second);
  MockTask t;
  auto closed = tx.closed();
  CHECK(t.poll(closed).is_pending());
  { auto gone = std::move(pair.second); }
  CHECK(t.poll(closed).is_pending());
  rx2.reset();
  CHECK(t.is_woken());
  CHECK(t.poll(closed).is_ready());
}

TEST_CASE("changed across threads") {
  auto [tx, rx] = watch::channel<int>(0);
  std::thread t([rx = std::move(rx)]() mutable {
    int last = 0;
    while (weft::block_on(rx.changed()).is_ok()) {
      const int v = *rx.borrow_and_update();
      CHECK(v > last);
      last = v;
    }
    CHECK(last == 1000);
  });
  for (int i = 1; i <= 1000; ++i) CHECK(tx.send_replace(i) == i - 1);
  { auto gone = std::move(tx); }
  t.join();
}

TEST_CASE("moved-from handles are misuse") {
  auto [tx, rx] = watch::channel<int>(0);
  auto tx2 = std::move(tx);
  CHECK_THROWS_AS((void)tx.send(1), std::invalid_argument);
  auto rx2 = std::move(rx);
  CHECK_THROWS_AS((void)rx.borrow(), std::invalid_argument);
  CHECK(tx2.send(1).is_ok());
  CHECK(*rx2.borrow() == 1);
}

TEST_CASE("counted: replaced and final values are destroyed exactly once") {
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

// Class check (issue 18, after Tokio #7886): a future that stored its task's waker drops
// it when destroyed (testing/waker_leak_check.h).
TEST_CASE("destroyed changed(), wait_for() and closed() futures release their wakers") {
  auto pair = watch::channel<int>(0);
  auto& [tx, rx] = pair;
  CHECK(weft::testing::waker_released_on_destroy([&] { return pair.second.changed(); }));
  CHECK(weft::testing::waker_released_on_destroy(
      [&] { return pair.second.wait_for([](const int& v) { return v == 1; }); }));
  CHECK(weft::testing::waker_released_on_destroy([&] { return pair.first.closed(); }));
  CHECK(tx.send(1).is_ok());
  CHECK(*rx.borrow() == 1);
}

// Tokio's Default for Sender<T: Default> (tokio/src/sync/watch.rs).
TEST_CASE("a default Sender holds T{} and has no receiver until subscribe") {
  weft::watch::Sender<std::string> tx;
  CHECK(*tx.borrow() == "");
  CHECK(tx.is_closed());
  CHECK(tx.send("lost").is_err());  // no receiver: the value comes back
  auto rx = tx.subscribe();
  CHECK(tx.send("seen").is_ok());
  CHECK(*rx.borrow() == "seen");
  static_assert(!std::is_default_constructible_v<weft::watch::Sender<NoDefault>>);
}

}  // namespace
