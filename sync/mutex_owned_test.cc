// Unit tests of Mutex<T>'s owned variants (OwnedMutexGuard, OwnedMappedMutexGuard).
// Ported from tokio/tests/sync_mutex_owned.rs, plus map / try_map and lifetimes.
#include "sync/mutex.h"

#include "sync/platform/thread.h"
#include "sync/task/mock_task.h"
#include "testing/waker_leak_check.h"

#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace {

using weft::MockTask;
using weft::Mutex;
using weft::OwnedMutexGuard;

TEST_CASE("straight_execution") {
  auto l = std::make_shared<Mutex<int>>(100);
  for (int expected : {100, 99, 98}) {
    MockTask t;
    auto fut = Mutex<int>::lock_owned(l);
    auto p = t.poll(fut);
    REQUIRE(p.is_ready());
    CHECK(*p.value() == expected);
    *p.value() = expected - 1;
  }
}

TEST_CASE("readiness") {
  auto l = std::make_shared<Mutex<int>>(100);
  MockTask t1, t2;
  auto f1 = Mutex<int>::lock_owned(l);
  auto f2 = Mutex<int>::lock_owned(l);
  auto g = t1.poll(f1);
  REQUIRE(g.is_ready());
  CHECK(t2.poll(f2).is_pending());
  { auto drop = std::move(g.value()); }
  CHECK(t2.is_woken());
  CHECK(t2.poll(f2).is_ready());
}

TEST_CASE("aborted_future_1") {
  auto m1 = std::make_shared<Mutex<std::size_t>>(0);
  {
    MockTask t;
    auto fut = Mutex<std::size_t>::lock_owned(m1);
    auto p = t.poll(fut);
    REQUIRE(p.is_ready());
  }
  CHECK(Mutex<std::size_t>::try_lock_owned(m1).is_ok());
}

TEST_CASE("aborted_future_2") {
  auto m1 = std::make_shared<Mutex<std::size_t>>(0);
  {
    auto lock = Mutex<std::size_t>::try_lock_owned(m1);
    REQUIRE(lock.is_ok());
    {
      MockTask t;
      auto fut = Mutex<std::size_t>::lock_owned(m1);
      CHECK(t.poll(fut).is_pending());
    }
  }
  CHECK(Mutex<std::size_t>::try_lock_owned(m1).is_ok());
}

TEST_CASE("try_lock_owned") {
  auto m = std::make_shared<Mutex<std::size_t>>(0);
  {
    auto g1 = Mutex<std::size_t>::try_lock_owned(m);
    CHECK(g1.is_ok());
    auto g2 = Mutex<std::size_t>::try_lock_owned(m);
    CHECK(g2.is_err());
  }
  CHECK(Mutex<std::size_t>::try_lock_owned(m).is_ok());
}

TEST_CASE("debug_format") {
  auto m = std::make_shared<Mutex<std::string>>("debug");
  CHECK(*Mutex<std::string>::blocking_lock_owned(m) == "debug");
}

// ---- beyond Tokio's file ----

TEST_CASE("guard_keeps_mutex_alive") {
  std::weak_ptr<Mutex<int>> weak;
  std::optional<OwnedMutexGuard<int>> guard;
  {
    auto m = std::make_shared<Mutex<int>>(3);
    weak = m;
    guard.emplace(Mutex<int>::blocking_lock_owned(m));
  }
  REQUIRE_FALSE(weak.expired());
  CHECK(**guard == 3);
  CHECK(guard->mutex() == weak.lock());
  guard.reset();
  CHECK(weak.expired());
}

TEST_CASE("owned_map_and_try_map") {
  struct Pair {
    int a;
    int b;
  };
  auto m = std::make_shared<Mutex<Pair>>(Pair{1, 2});
  {
    auto mapped = OwnedMutexGuard<Pair>::map(Mutex<Pair>::blocking_lock_owned(m),
                                             [](Pair& p) -> int& { return p.b; });
    *mapped = 20;
    CHECK(Mutex<Pair>::try_lock_owned(m).is_err());
    CHECK(mapped.mutex() == m);
  }
  CHECK(Mutex<Pair>::blocking_lock_owned(m)->b == 20);
  auto fail = OwnedMutexGuard<Pair>::try_map(Mutex<Pair>::blocking_lock_owned(m),
                                             [](Pair&) -> int* { return nullptr; });
  REQUIRE(fail.is_err());
  CHECK(fail.error()->a == 1);
  auto ok =
      OwnedMutexGuard<Pair>::try_map(std::move(fail.error()), [](Pair& p) -> int* { return &p.a; });
  REQUIRE(ok.is_ok());
  CHECK(**ok == 1);
}

TEST_CASE("mapped_guard_outlives_last_shared_ptr") {
  std::weak_ptr<Mutex<int>> weak;
  {
    auto m = std::make_shared<Mutex<int>>(9);
    weak = m;
    auto mapped = OwnedMutexGuard<int>::map(Mutex<int>::blocking_lock_owned(std::move(m)),
                                            [](int& v) -> int& { return v; });
    CHECK_FALSE(weak.expired());
    CHECK(*mapped == 9);
  }
  CHECK(weak.expired());
}

TEST_CASE("owned_across_threads") {
  auto m = std::make_shared<Mutex<int>>(0);
  weft::platform::thread t([m] {
    for (int i = 0; i < 1000; ++i) *Mutex<int>::blocking_lock_owned(m) += 1;
  });
  for (int i = 0; i < 1000; ++i) *Mutex<int>::blocking_lock_owned(m) += 1;
  t.join();
  CHECK(*m->blocking_lock() == 2000);
}

// Class check (issue 18, after Tokio #7886): a future that stored its task's waker drops
// it when destroyed (testing/waker_leak_check.h).
TEST_CASE("a destroyed lock_owned() future releases its waker") {
  auto m = std::make_shared<Mutex<int>>(0);
  auto held = m->try_lock();
  REQUIRE(held.is_ok());
  CHECK(weft::testing::waker_released_on_destroy([&] { return Mutex<int>::lock_owned(m); }));
}

}  // namespace
