// Unit tests of RwLock<T> and its guards. Ported from tokio/tests/sync_rwlock.rs, plus
// map / try_map, downgrade / downgrade_map / into_mapped, owned variants, fairness and
// with_max_readers errors.
#include "sync/rwlock.h"

#include "sync/platform/thread.h"
#include "sync/task/mock_task.h"
#include "testing/waker_leak_check.h"
#include "testing/counted.h"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using weft::MockTask;
using weft::RwLock;
using weft::RwLockReadGuard;
using weft::RwLockWriteGuard;

TEST_CASE("into_inner") {
  RwLock<int> rwlock(42);
  CHECK(std::move(rwlock).into_inner() == 42);
}

// Multiple reads should be Ready.
TEST_CASE("read_shared") {
  RwLock<int> rwlock(100);
  MockTask t1, t2;
  auto f1 = rwlock.read();
  auto g1 = t1.poll(f1);
  CHECK(g1.is_ready());
  auto f2 = rwlock.read();
  CHECK(t2.poll(f2).is_ready());
}

// When there is an active shared owner, exclusive access should not be possible.
TEST_CASE("write_shared_pending") {
  RwLock<int> rwlock(100);
  MockTask t1, t2;
  auto f1 = rwlock.read();
  auto g1 = t1.poll(f1);
  REQUIRE(g1.is_ready());
  auto f2 = rwlock.write();
  CHECK(t2.poll(f2).is_pending());
}

// When there is an active exclusive owner, subsequent shared access should not be possible.
TEST_CASE("read_exclusive_pending") {
  RwLock<int> rwlock(100);
  MockTask t1, t2;
  auto f1 = rwlock.write();
  auto g1 = t1.poll(f1);
  REQUIRE(g1.is_ready());
  auto f2 = rwlock.read();
  CHECK(t2.poll(f2).is_pending());
}

// If the max shared access is reached, a further read is pending until one is dropped.
TEST_CASE("exhaust_reading") {
  auto rwlock = RwLock<int>::with_max_readers(100, 1024);
  std::vector<RwLockReadGuard<int>> reads;
  for (;;) {
    MockTask t;
    auto f = rwlock.read();
    auto p = t.poll(f);
    if (p.is_pending()) break;
    reads.push_back(std::move(p.value()));
  }
  CHECK(reads.size() == 1024);
  MockTask t1;
  auto f1 = rwlock.read();
  CHECK(t1.poll(f1).is_pending());
  reads.pop_back();
  CHECK(t1.is_woken());
  CHECK(t1.poll(f1).is_ready());
}

// When there is an active exclusive owner, subsequent exclusive access should not be possible.
TEST_CASE("write_exclusive_pending") {
  RwLock<int> rwlock(100);
  MockTask t1, t2;
  auto f1 = rwlock.write();
  auto g1 = t1.poll(f1);
  REQUIRE(g1.is_ready());
  auto f2 = rwlock.write();
  CHECK(t2.poll(f2).is_pending());
}

// Exclusive access is possible after the shared owner is dropped.
TEST_CASE("write_shared_drop") {
  RwLock<int> rwlock(100);
  MockTask t1, t2;
  auto f1 = rwlock.read();
  auto g1 = t1.poll(f1);
  REQUIRE(g1.is_ready());
  auto f2 = rwlock.write();
  CHECK(t2.poll(f2).is_pending());
  { auto drop = std::move(g1.value()); }
  CHECK(t2.is_woken());
  CHECK(t2.poll(f2).is_ready());
}

// A pending write gathers all permits: later reads wait behind it.
TEST_CASE("write_read_shared_pending") {
  RwLock<int> rwlock(100);
  MockTask t1, t2, t3, t4;
  auto f1 = rwlock.read();
  auto g1 = t1.poll(f1);
  REQUIRE(g1.is_ready());
  auto f2 = rwlock.read();
  auto g2 = t2.poll(f2);
  CHECK(g2.is_ready());
  auto f3 = rwlock.write();
  CHECK(t3.poll(f3).is_pending());
  auto f4 = rwlock.read();
  CHECK(t4.poll(f4).is_pending());
}

// Reading is possible after the pending exclusive access is dropped.
TEST_CASE("write_read_shared_drop_pending") {
  RwLock<int> rwlock(100);
  MockTask t1, t2, t3;
  auto f1 = rwlock.read();
  auto g1 = t1.poll(f1);
  REQUIRE(g1.is_ready());
  auto f3 = rwlock.read();
  {
    auto f2 = rwlock.write();
    CHECK(t2.poll(f2).is_pending());
    CHECK(t3.poll(f3).is_pending());
  }  // the writer is cancelled
  CHECK(t3.is_woken());
  CHECK(t3.poll(f3).is_ready());
}

TEST_CASE("read_uncontested") {
  RwLock<int> rwlock(100);
  CHECK(*rwlock.blocking_read() == 100);
}

TEST_CASE("write_uncontested") {
  RwLock<int> rwlock(100);
  auto result = rwlock.blocking_write();
  *result += 50;
  CHECK(*result == 150);
}

// RwLocks are acquired in the order their futures are first polled.
TEST_CASE("write_order") {
  RwLock<std::vector<int>> rwlock;
  auto held = rwlock.try_write();
  MockTask t1, t2;
  auto fut2 = rwlock.write();
  auto fut1 = rwlock.write();
  CHECK(t1.poll(fut1).is_pending());
  CHECK(t2.poll(fut2).is_pending());
  { auto drop = std::move(*held); }
  {
    auto g = t1.poll(fut1);
    REQUIRE(g.is_ready());
    g.value()->push_back(1);
  }
  {
    auto g = t2.poll(fut2);
    REQUIRE(g.is_ready());
    g.value()->push_back(2);
  }
  CHECK(*rwlock.blocking_read() == std::vector<int>{1, 2});
}

// A single RwLock contested by threads.
TEST_CASE("multithreaded") {
  auto rwlock = std::make_shared<RwLock<unsigned>>(0u);
  std::vector<weft::platform::thread> threads;
  for (unsigned add : {2u, 3u, 5u, 7u}) {
    threads.emplace_back([rwlock, add] {
      for (int i = 0; i < 1000; ++i) *rwlock->blocking_write() += add;
    });
  }
  threads.emplace_back([rwlock] {
    for (int i = 0; i < 1000; ++i) {
      unsigned v = *rwlock->blocking_read();
      CHECK(v <= 17000u);
    }
  });
  for (auto& t : threads) t.join();
  CHECK(*rwlock->blocking_read() == 17000u);
}

TEST_CASE("try_write") {
  RwLock<int> lock(0);
  {
    auto read_guard = lock.blocking_read();
    CHECK(lock.try_write().is_err());
  }
  CHECK(lock.try_write().is_ok());
}

TEST_CASE("try_read_try_write") {
  RwLock<std::size_t> lock(15);
  {
    auto rg1 = lock.try_read();
    REQUIRE(rg1.is_ok());
    CHECK(**rg1 == 15);
    CHECK(lock.try_write().is_err());
    auto rg2 = lock.try_read();
    REQUIRE(rg2.is_ok());
    CHECK(**rg2 == 15);
  }
  {
    auto wg = lock.try_write();
    REQUIRE(wg.is_ok());
    **wg = 1515;
    CHECK(lock.try_read().is_err());
  }
  CHECK(**lock.try_read() == 1515);
}

// Tokio #8076 (tests/sync_rwlock.rs zero_max_readers): a lock with 0 readers could
// never be written (a write takes max_readers permits, 0 of them); it is refused.
TEST_CASE("zero_max_readers") {
  auto message_of = [](auto&& make) -> std::string {
    try {
      make();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "no exception";
  };
  const std::string expected = "a RwLock may not be created with 0 readers";
  CHECK(message_of([] { (void)RwLock<int>::with_max_readers(100, 0); }).find(expected) == 0);
  CHECK(message_of([] {
          RwLock<int> lock(RwLock<int>::with_max_readers_tag, 0, 100);
        }).find(expected) == 0);
}

// ---- beyond Tokio's file ----

// The fairness Tokio #7919 words: a read is not granted until every write requested
// before it has been granted and released, wherever those writes stand in the queue.
TEST_CASE("a read waits for every write queued before it") {
  RwLock<int> rwlock(0);
  MockTask tr1, tw1, tr2, tw2, tr3;
  auto r1 = rwlock.read();
  auto held_r1 = tr1.poll(r1);
  REQUIRE(held_r1.is_ready());
  auto w1 = rwlock.write();
  auto r2 = rwlock.read();
  auto w2 = rwlock.write();
  auto r3 = rwlock.read();
  CHECK(tw1.poll(w1).is_pending());
  CHECK(tr2.poll(r2).is_pending());
  CHECK(tw2.poll(w2).is_pending());
  CHECK(tr3.poll(r3).is_pending());
  { auto gone = std::move(held_r1); }
  auto held_w1 = tw1.poll(w1);
  REQUIRE(held_w1.is_ready());
  CHECK(tr2.poll(r2).is_pending());
  { auto gone = std::move(held_w1); }
  auto held_r2 = tr2.poll(r2);
  REQUIRE(held_r2.is_ready());
  CHECK(tw2.poll(w2).is_pending());
  CHECK(tr3.poll(r3).is_pending());  // behind w2, though a read holds the lock
  { auto gone = std::move(held_r2); }
  auto held_w2 = tw2.poll(w2);
  REQUIRE(held_w2.is_ready());
  CHECK(tr3.poll(r3).is_pending());
  { auto gone = std::move(held_w2); }
  CHECK(tr3.poll(r3).is_ready());
}

TEST_CASE("with_max_readers_validates") {
  CHECK_THROWS_AS(RwLock<int>::with_max_readers(1, 0), std::invalid_argument);
  CHECK_THROWS_AS(RwLock<int>::with_max_readers(1, RwLock<int>::MAX_READS + 1),
                  std::invalid_argument);
  auto ok = RwLock<int>::with_max_readers(1, RwLock<int>::MAX_READS);
  CHECK(ok.max_readers() == RwLock<int>::MAX_READS);
}

TEST_CASE("downgrade") {
  RwLock<int> lock(1);
  auto w = lock.blocking_write();
  *w = 2;
  MockTask tw;
  auto other_write = lock.write();
  CHECK(tw.poll(other_write).is_pending());
  auto r = RwLockWriteGuard<int>::downgrade(std::move(w));
  CHECK(*r == 2);
  CHECK_FALSE(tw.is_woken());  // a reader remains
  CHECK(lock.try_write().is_err());
  // A new reader queues behind the waiting writer (write-preferring).
  CHECK(lock.try_read().is_err());
  { auto drop = std::move(r); }
  CHECK(tw.is_woken());
  CHECK(tw.poll(other_write).is_ready());
}

TEST_CASE("downgrade_lets_readers_in") {
  RwLock<int> lock(1);
  auto r = RwLockWriteGuard<int>::downgrade(lock.blocking_write());
  auto r2 = lock.try_read();
  CHECK(r2.is_ok());
  CHECK(lock.try_write().is_err());
}

struct Pair {
  int a;
  std::string b;
};

TEST_CASE("read_map_and_try_map") {
  RwLock<Pair> lock(Pair{1, "x"});
  auto a = RwLockReadGuard<Pair>::map(lock.blocking_read(),
                                      [](const Pair& p) -> const int& { return p.a; });
  CHECK(*a == 1);
  auto none = RwLockReadGuard<Pair>::try_map(
      lock.blocking_read(), [](const Pair&) -> const std::string* { return nullptr; });
  REQUIRE(none.is_err());
  CHECK(none.error()->b == "x");
  auto b = RwLockReadGuard<Pair>::try_map(std::move(none.error()),
                                          [](const Pair& p) -> const std::string* { return &p.b; });
  REQUIRE(b.is_ok());
  CHECK(**b == "x");
  CHECK(lock.try_write().is_err());
}

TEST_CASE("write_map_into_mapped_downgrade_map") {
  RwLock<Pair> lock(Pair{1, "x"});
  {
    auto m = RwLockWriteGuard<Pair>::map(lock.blocking_write(),
                                         [](Pair& p) -> std::string& { return p.b; });
    *m = "y";
    CHECK(lock.try_read().is_err());
    auto r = weft::RwLockMappedWriteGuard<std::string>::downgrade(std::move(m));
    CHECK(*r == "y");
    CHECK(lock.try_read().is_ok());
  }
  {
    auto all = RwLockWriteGuard<Pair>::into_mapped(lock.blocking_write());
    all->a = 5;
    auto t = weft::RwLockMappedWriteGuard<Pair>::try_map(std::move(all),
                                                         [](Pair&) -> int* { return nullptr; });
    REQUIRE(t.is_err());
    CHECK(lock.try_read().is_err());
  }
  auto r = RwLockWriteGuard<Pair>::downgrade_map(lock.blocking_write(),
                                                 [](const Pair& p) -> const int& { return p.a; });
  CHECK(*r == 5);
  CHECK(lock.try_read().is_ok());
  CHECK(lock.try_write().is_err());
}

// Tokio's RwLockWriteGuard::try_downgrade_map (tokio/src/sync/rwlock/write_guard.rs).
TEST_CASE("try_downgrade_map") {
  RwLock<Pair> lock(Pair{1, "x"});
  MockTask tw;
  std::optional<weft::RwLock<Pair>::Write> other_write;
  auto w = lock.blocking_write();
  other_write.emplace(lock.write());
  CHECK(tw.poll(*other_write).is_pending());
  // Refused: the write guard comes back, neither unlocked nor downgraded.
  auto refused = RwLockWriteGuard<Pair>::try_downgrade_map(
      std::move(w), [](const Pair&) -> const std::string* { return nullptr; });
  REQUIRE(refused.is_err());
  refused.error()->b = "y";  // still exclusive
  CHECK(lock.try_read().is_err());
  CHECK_FALSE(tw.is_woken());
  // Accepted: a read guard of the part, no writer can slip in, other readers could.
  auto r = RwLockWriteGuard<Pair>::try_downgrade_map(
      std::move(refused.error()), [](const Pair& p) -> const std::string* { return &p.b; });
  REQUIRE(r.is_ok());
  CHECK(**r == "y");
  CHECK_FALSE(tw.is_woken());  // a reader remains
  CHECK(lock.try_write().is_err());
  { auto drop = std::move(r); }
  CHECK(tw.is_woken());
  CHECK(tw.poll(*other_write).is_ready());
}

TEST_CASE("owned try_downgrade_map") {
  auto lock = std::make_shared<RwLock<Pair>>(Pair{1, "x"});
  auto refused = weft::OwnedRwLockWriteGuard<Pair>::try_downgrade_map(
      RwLock<Pair>::blocking_write_owned(lock), [](const Pair&) -> const int* { return nullptr; });
  REQUIRE(refused.is_err());
  CHECK(refused.error().rwlock() == lock);
  refused.error()->a = 2;
  CHECK(RwLock<Pair>::try_read_owned(lock).is_err());
  auto r = weft::OwnedRwLockWriteGuard<Pair>::try_downgrade_map(
      std::move(refused.error()), [](const Pair& p) -> const int* { return &p.a; });
  REQUIRE(r.is_ok());
  CHECK(**r == 2);
  CHECK(RwLock<Pair>::try_read_owned(lock).is_ok());
  CHECK(RwLock<Pair>::try_write_owned(lock).is_err());
  std::weak_ptr<RwLock<Pair>> weak = lock;
  lock.reset();
  CHECK_FALSE(weak.expired());  // the mapped guard keeps the lock alive
}

TEST_CASE("owned_guards") {
  auto lock = std::make_shared<RwLock<Pair>>(Pair{1, "x"});
  std::weak_ptr<RwLock<Pair>> weak = lock;
  {
    auto w = RwLock<Pair>::blocking_write_owned(lock);
    w->a = 2;
    CHECK(RwLock<Pair>::try_read_owned(lock).is_err());
    auto r = weft::OwnedRwLockWriteGuard<Pair>::downgrade(std::move(w));
    CHECK(r->a == 2);
    CHECK(r.rwlock() == lock);
    auto r2 = RwLock<Pair>::try_read_owned(lock);
    REQUIRE(r2.is_ok());
    auto mapped = weft::OwnedRwLockReadGuard<Pair>::map(
        std::move(*r2), [](const Pair& p) -> const std::string& { return p.b; });
    CHECK(*mapped == "x");
  }
  {
    auto m = weft::OwnedRwLockWriteGuard<Pair>::map(RwLock<Pair>::blocking_write_owned(lock),
                                                    [](Pair& p) -> int& { return p.a; });
    *m = 3;
    auto d = weft::OwnedRwLockMappedWriteGuard<Pair, int>::downgrade(std::move(m));
    CHECK(*d == 3);
  }
  {
    auto dm = weft::OwnedRwLockWriteGuard<Pair>::downgrade_map(
        RwLock<Pair>::blocking_write_owned(lock), [](const Pair& p) -> const int& { return p.a; });
    CHECK(*dm == 3);
    CHECK(RwLock<Pair>::try_write_owned(lock).is_err());  // a reader is still held
  }
  {
    auto im = weft::OwnedRwLockWriteGuard<Pair>::into_mapped(
        std::move(*RwLock<Pair>::try_write_owned(lock)));
    im->a = 9;
    CHECK(RwLock<Pair>::try_read_owned(lock).is_err());
  }
  CHECK(RwLock<Pair>::blocking_read_owned(lock)->a == 9);
}

TEST_CASE("owned_guard_keeps_lock_alive") {
  std::weak_ptr<RwLock<int>> weak;
  std::optional<weft::OwnedRwLockReadGuard<int>> guard;
  {
    auto lock = std::make_shared<RwLock<int>>(4);
    weak = lock;
    MockTask t;
    auto f = RwLock<int>::read_owned(lock);
    auto p = t.poll(f);
    REQUIRE(p.is_ready());
    guard.emplace(std::move(p.value()));
  }
  REQUIRE_FALSE(weak.expired());
  CHECK(**guard == 4);
  guard.reset();
  CHECK(weak.expired());
}

using Counted = weft::testing::MoveOnlyCounted;

TEST_CASE("counted_value_destroyed_once") {
  {
    RwLock<Counted> lock(1);
    lock.blocking_write()->value = 2;
    CHECK(lock.get_mut().value == 2);
    Counted out = std::move(lock).into_inner();
    CHECK(out.value == 2);
  }
  CHECK(Counted::live() == 0);
}

// Class check (issue 18, after Tokio #7886): a future that stored its task's waker drops
// it when destroyed (testing/waker_leak_check.h).
TEST_CASE("destroyed read, write and owned futures release their wakers") {
  auto lock = std::make_shared<RwLock<int>>(0);
  {
    auto writer = lock->try_write();
    REQUIRE(writer.is_ok());
    CHECK(weft::testing::waker_released_on_destroy([&] { return lock->read(); }));
    CHECK(weft::testing::waker_released_on_destroy([&] { return RwLock<int>::read_owned(lock); }));
  }
  auto reader = lock->try_read();
  REQUIRE(reader.is_ok());
  CHECK(weft::testing::waker_released_on_destroy([&] { return lock->write(); }));
  CHECK(weft::testing::waker_released_on_destroy([&] { return RwLock<int>::write_owned(lock); }));
}

TEST_CASE("blocking_read_until / blocking_write_until: time out, take what is given in time") {
  using namespace std::chrono_literals;
  auto lock = std::make_shared<RwLock<int>>(0);
  {
    auto w = lock->try_write();
    REQUIRE(w.is_ok());
    CHECK(lock->blocking_read_for(5ms).is_err());
    CHECK(lock->blocking_write_until(weft::platform::clock::now()).is_err());
    CHECK(RwLock<int>::blocking_read_owned_for(lock, 1ms).is_err());
    CHECK(RwLock<int>::blocking_write_owned_until(lock, weft::platform::clock::now()).is_err());
    weft::platform::thread t([&] {
      std::this_thread::sleep_for(2ms);
      **w = 5;
      { auto drop = std::move(*w); }
    });
    auto r = lock->blocking_read_for(std::chrono::hours(1));
    REQUIRE(r.is_ok());
    CHECK(**r == 5);
    CHECK(lock->blocking_write_for(1ms).is_err());  // a reader holds it
    t.join();
  }
  // Nothing leaked by the timed-out requests: both kinds succeed at once now.
  CHECK(lock->blocking_write_for(0ms).is_ok());
  CHECK(RwLock<int>::blocking_read_owned_until(lock, weft::platform::clock::now()).is_ok());
  CHECK(RwLock<int>::blocking_write_owned_for(lock, 0ms).is_ok());
}

}  // namespace
