// Unit tests of Mutex<T>, MutexGuard and MappedMutexGuard. Ported from
// tokio/tests/sync_mutex.rs, plus map / try_map, fairness, get_mut / into_inner and a
// counted value (every T constructed is destroyed exactly once).
#include "sync/mutex.h"

#include "sync/platform/thread.h"
#include "sync/task/mock_task.h"
#include "testing/counted.h"
#include "testing/waker_leak_check.h"

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using weft::MockTask;
using weft::Mutex;
using weft::MutexGuard;

TEST_CASE("straight_execution") {
  Mutex<int> l(100);
  {
    MockTask t;
    auto fut = l.lock();
    auto p = t.poll(fut);
    REQUIRE(p.is_ready());
    auto& g = p.value();
    CHECK(*g == 100);
    *g = 99;
  }
  {
    MockTask t;
    auto fut = l.lock();
    auto p = t.poll(fut);
    REQUIRE(p.is_ready());
    CHECK(*p.value() == 99);
    *p.value() = 98;
  }
  {
    MockTask t;
    auto fut = l.lock();
    auto p = t.poll(fut);
    REQUIRE(p.is_ready());
    CHECK(*p.value() == 98);
  }
}

TEST_CASE("readiness") {
  auto l1 = std::make_shared<Mutex<int>>(100);
  auto l2 = l1;
  MockTask t1, t2;
  auto f1 = l1->lock();
  auto f2 = l2->lock();
  auto g = t1.poll(f1);
  REQUIRE(g.is_ready());
  // We can't now acquire the lease since it's already held in g.
  CHECK(t2.poll(f2).is_pending());
  // But once g unlocks, we can acquire it.
  { auto drop = std::move(g.value()); }
  CHECK(t2.is_woken());
  CHECK(t2.poll(f2).is_ready());
}

// Ensure a mutex is unlocked if a future holding the lock is aborted prematurely.
TEST_CASE("aborted_future_1") {
  Mutex<std::size_t> m1(0);
  {
    MockTask t;
    auto fut = m1.lock();
    auto p = t.poll(fut);
    REQUIRE(p.is_ready());
    // The task is dropped while it holds the guard (as by a timeout).
  }
  CHECK(m1.try_lock().is_ok());
}

// As aborted_future_1, but the aborted future is waiting for the lock.
TEST_CASE("aborted_future_2") {
  Mutex<std::size_t> m1(0);
  {
    auto lock = m1.try_lock();
    REQUIRE(lock.is_ok());
    {
      MockTask t;
      auto fut = m1.lock();
      CHECK(t.poll(fut).is_pending());
    }  // aborted while queued
  }
  CHECK(m1.try_lock().is_ok());
}

TEST_CASE("try_lock") {
  Mutex<std::size_t> m(0);
  {
    auto g1 = m.try_lock();
    CHECK(g1.is_ok());
    auto g2 = m.try_lock();
    REQUIRE(g2.is_err());
    CHECK(g2.error() == weft::TryLockError{});
  }
  auto g3 = m.try_lock();
  CHECK(g3.is_ok());
}

TEST_CASE("debug_format") {
  // Tokio checks Debug of the guard; here the guard gives the same value.
  const std::string s = "debug";
  Mutex<std::string> m(s);
  CHECK(*m.blocking_lock() == s);
}

// ---- beyond Tokio's file ----

TEST_CASE("blocking_lock_across_threads") {
  auto m = std::make_shared<Mutex<int>>(0);
  std::vector<weft::platform::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([m] {
      for (int k = 0; k < 1000; ++k) {
        auto g = m->blocking_lock();
        *g += 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(*m->blocking_lock() == 4000);
}

TEST_CASE("fifo_handoff") {
  Mutex<int> m(0);
  auto held = m.try_lock();
  MockTask ta, tb;
  auto fa = m.lock();
  auto fb = m.lock();
  CHECK(ta.poll(fa).is_pending());
  CHECK(tb.poll(fb).is_pending());
  { auto drop = std::move(*held); }
  CHECK(ta.is_woken());
  CHECK_FALSE(tb.is_woken());
  CHECK(m.try_lock().is_err());  // handed to a, no barging
  {
    auto ga = ta.poll(fa);
    REQUIRE(ga.is_ready());
  }
  CHECK(tb.is_woken());
  CHECK(tb.poll(fb).is_ready());
}

TEST_CASE("cancel_after_handoff_passes_lock_on") {
  Mutex<int> m(0);
  auto held = m.try_lock();
  MockTask ta, tb;
  auto fb = m.lock();
  {
    auto fa = m.lock();
    CHECK(ta.poll(fa).is_pending());
    CHECK(tb.poll(fb).is_pending());
    { auto drop = std::move(*held); }  // handed to a
    CHECK(ta.is_woken());
  }  // a cancelled before polling again: the lock goes to b
  CHECK(tb.is_woken());
  CHECK(tb.poll(fb).is_ready());
}

struct Pair {
  int first;
  std::string second;
};

TEST_CASE("map_and_try_map") {
  Mutex<Pair> m(Pair{1, "one"});
  {
    auto mapped = MutexGuard<Pair>::map(m.blocking_lock(), [](Pair& p) -> int& { return p.first; });
    *mapped = 7;
    CHECK(m.try_lock().is_err());  // still locked
    auto again =
        weft::MappedMutexGuard<int>::map(std::move(mapped), [](int& v) -> int& { return v; });
    CHECK(*again == 7);
  }
  CHECK(m.try_lock().is_ok());
  {
    auto r = MutexGuard<Pair>::try_map(m.blocking_lock(), [](Pair& p) -> std::string* {
      return p.second.empty() ? nullptr : &p.second;
    });
    REQUIRE(r.is_ok());
    CHECK(**r == "one");
    CHECK(r->operator->()->size() == 3);
  }
  {
    auto r = MutexGuard<Pair>::try_map(m.blocking_lock(), [](Pair&) -> int* { return nullptr; });
    REQUIRE(r.is_err());
    CHECK(r.error()->first == 7);  // the original guard, still locked
    CHECK(m.try_lock().is_err());
  }
  CHECK(m.try_lock().is_ok());
}

TEST_CASE("counted_value_destroyed_once") {
  using Counted = weft::testing::MoveOnlyCounted;
  REQUIRE(Counted::live() == 0);
  {
    Mutex<Counted> m(5);
    CHECK(Counted::live() == 1);
    m.blocking_lock()->value = 6;
    CHECK(m.get_mut().value == 6);
    Counted out = std::move(m).into_inner();
    CHECK(out.value == 6);
    CHECK(Counted::live() == 2);  // the moved-from one still lives in the mutex
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("get_mut") {
  Mutex<int> m(1);
  m.get_mut() = 2;
  CHECK(*m.blocking_lock() == 2);
}

TEST_CASE("guard_move_assign_unlocks_old") {
  Mutex<int> a(1), b(2);
  auto ga = a.blocking_lock();
  auto gb = b.blocking_lock();
  ga = std::move(gb);  // a unlocked
  CHECK(a.try_lock().is_ok());
  CHECK(b.try_lock().is_err());
  CHECK(*ga == 2);
}

// Class check (issue 18, after Tokio #7886): a future that stored its task's waker drops
// it when destroyed (testing/waker_leak_check.h).
TEST_CASE("a destroyed lock() future releases its waker") {
  Mutex<int> m(0);
  auto held = m.try_lock();
  REQUIRE(held.is_ok());
  CHECK(weft::testing::waker_released_on_destroy([&] { return m.lock(); }));
}

TEST_CASE("blocking_lock_until: times out while held, takes the lock given in time") {
  using namespace std::chrono_literals;
  auto m = std::make_shared<Mutex<int>>(0);
  auto held = m->try_lock();
  REQUIRE(held.is_ok());
  auto late = m->blocking_lock_for(10ms);
  REQUIRE(late.is_err());
  CHECK(late.error() == weft::Elapsed{});
  CHECK(Mutex<int>::blocking_lock_owned_until(m, weft::platform::clock::now()).is_err());
  weft::platform::thread t([&] {
    std::this_thread::sleep_for(2ms);
    **held = 1;
    { auto drop = std::move(*held); }
  });
  auto got = m->blocking_lock_for(std::chrono::hours(1));
  REQUIRE(got.is_ok());
  CHECK(**got == 1);
  t.join();
  { auto drop = std::move(*got); }
  // Uncontended: taken at once, even with a deadline already passed.
  CHECK(m->blocking_lock_until(weft::platform::clock::now() - 1s).is_ok());
  CHECK(Mutex<int>::blocking_lock_owned_for(m, 0ms).is_ok());
}

TEST_CASE("blocking_lock_for: timed-out waiters never keep the lock") {
  using namespace std::chrono_literals;
  auto m = std::make_shared<Mutex<int>>(0);
  std::vector<weft::platform::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([m, i] {
      for (int k = 0; k < 300; ++k) {
        if (auto g = m->blocking_lock_for(std::chrono::microseconds(i * 20))) **g += 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(m->try_lock().is_ok());  // no lock leaked by a timed-out waiter
}

}  // namespace
