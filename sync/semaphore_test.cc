// Unit tests of Semaphore and SemaphorePermit. Ported from tokio/tests/sync_semaphore.rs
// (and release_permits_at_drop from tokio/src/sync/tests/semaphore_batch.rs), plus
// split, the error values and the blocking front end.
#include "sync/semaphore.h"

#include "sync/platform/thread.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/waker_leak_check.h"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

namespace {

using weft::MockTask;
using weft::Semaphore;
using weft::SemaphorePermit;
using weft::TryAcquireError;

TEST_CASE("no_permits") {
  Semaphore sem(0);
  CHECK(sem.available_permits() == 0);
}

TEST_CASE("try_acquire") {
  Semaphore sem(1);
  {
    auto p1 = sem.try_acquire();
    CHECK(p1.is_ok());
    auto p2 = sem.try_acquire();
    REQUIRE(p2.is_err());
    CHECK(p2.error() == TryAcquireError::NoPermits);
  }
  auto p3 = sem.try_acquire();
  CHECK(p3.is_ok());
}

TEST_CASE("acquire") {
  auto sem = std::make_shared<Semaphore>(1);
  auto p1 = sem->try_acquire();
  REQUIRE(p1.is_ok());
  weft::platform::thread j([sem] {
    auto p2 = sem->blocking_acquire();
    CHECK(p2.is_ok());
  });
  { auto drop = std::move(*p1); }
  j.join();
  CHECK(sem->available_permits() == 1);
}

TEST_CASE("add_permits") {
  auto sem = std::make_shared<Semaphore>(0);
  weft::platform::thread j([sem] {
    auto p2 = sem->blocking_acquire();
    CHECK(p2.is_ok());
  });
  sem->add_permits(1);
  j.join();
  CHECK(sem->available_permits() == 1);
}

TEST_CASE("forget") {
  Semaphore sem(1);
  {
    auto p = sem.try_acquire();
    REQUIRE(p.is_ok());
    CHECK(sem.available_permits() == 0);
    p->forget();
    CHECK(sem.available_permits() == 0);
  }
  CHECK(sem.available_permits() == 0);
  CHECK(sem.try_acquire().is_err());
}

// Tokio #8021 (tests/sync_semaphore.rs): add_permits and forget_permits change the count
// only; an open semaphore stays open and a closed one closed (forget once reopened it).
// Every size and amount from 0 to 3, on an open or a closed semaphore: the count moves,
// the closed state does not.
void check_add_permits(bool closed) {
  for (std::size_t size = 0; size < 4; ++size) {
    for (std::size_t add = 0; add < 4; ++add) {
      Semaphore sem(size);
      if (closed) sem.close();
      sem.add_permits(add);
      CHECK(sem.available_permits() == size + add);
      CHECK(sem.is_closed() == closed);
    }
  }
}

void check_forget_permits(bool closed) {
  for (std::size_t size = 0; size < 4; ++size) {
    for (std::size_t sub = 0; sub < 4; ++sub) {
      Semaphore sem(size);
      if (closed) sem.close();
      const std::size_t removed = sem.forget_permits(sub);
      const std::size_t expected = size > sub ? size - sub : 0;
      CHECK(sem.available_permits() == expected);
      CHECK(removed == size - expected);
      CHECK(sem.is_closed() == closed);
      if (closed) CHECK(sem.try_acquire().error() == TryAcquireError::Closed);
    }
  }
}

TEST_CASE("add_permits_open") { check_add_permits(false); }
TEST_CASE("add_permits_closed") { check_add_permits(true); }
TEST_CASE("forget_open") { check_forget_permits(false); }
TEST_CASE("forget_closed") { check_forget_permits(true); }

TEST_CASE("merge") {
  Semaphore sem(3);
  {
    auto p1 = sem.try_acquire();
    CHECK(sem.available_permits() == 2);
    auto p2 = sem.try_acquire_many(2);
    CHECK(sem.available_permits() == 0);
    p1->merge(std::move(*p2));
    CHECK(p1->num_permits() == 3);
    CHECK(sem.available_permits() == 0);
  }
  CHECK(sem.available_permits() == 3);
}

TEST_CASE("merge_unrelated_permits") {
  Semaphore sem1(3);
  Semaphore sem2(3);
  auto p1 = sem1.try_acquire();
  auto p2 = sem2.try_acquire();
  CHECK_THROWS_AS(p1->merge(std::move(*p2)), std::invalid_argument);
  // Nothing changed: each goes back to its own semaphore.
  CHECK(p1->num_permits() == 1);
  CHECK(p2->num_permits() == 1);
}

TEST_CASE("split") {
  Semaphore sem(5);
  {
    auto p = sem.try_acquire_many(5);
    CHECK_FALSE(p->split(6).has_value());
    std::optional<SemaphorePermit> q = p->split(2);
    REQUIRE(q.has_value());
    CHECK(q->num_permits() == 2);
    CHECK(p->num_permits() == 3);
    q.reset();
    CHECK(sem.available_permits() == 2);
  }
  CHECK(sem.available_permits() == 5);
}

TEST_CASE("stress_test") {
  // Tokio spawns 1000 tasks; here 8 threads take and return a permit 500 times each.
  auto sem = std::make_shared<Semaphore>(5);
  std::vector<weft::platform::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([sem] {
      for (int k = 0; k < 500; ++k) {
        auto p = sem->blocking_acquire();
        CHECK(p.is_ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  // There should be exactly 5 permits available now.
  std::vector<SemaphorePermit> held;
  for (int i = 0; i < 5; ++i) held.push_back(std::move(*sem->try_acquire()));
  CHECK(sem->try_acquire().is_err());
}

TEST_CASE("add_max_amount_permits") {
  Semaphore s(0);
  s.add_permits(Semaphore::MAX_PERMITS);
  CHECK(s.available_permits() == Semaphore::MAX_PERMITS);
}

TEST_CASE("add_more_than_max_amount_permits1") {
  Semaphore s(1);
  CHECK_THROWS_AS(s.add_permits(Semaphore::MAX_PERMITS), std::length_error);
  CHECK(s.available_permits() == 1);
}

TEST_CASE("add_more_than_max_amount_permits2") {
  Semaphore s(Semaphore::MAX_PERMITS - 1);
  s.add_permits(1);
  CHECK_THROWS_AS(s.add_permits(1), std::length_error);
}

TEST_CASE("panic_when_exceeds_maxpermits") {
  CHECK_THROWS_AS(Semaphore(Semaphore::MAX_PERMITS + 1), std::length_error);
}

TEST_CASE("no_panic_at_maxpermits") {
  Semaphore a(Semaphore::MAX_PERMITS);
  Semaphore s(Semaphore::MAX_PERMITS - 1);
  s.add_permits(1);
  CHECK(s.available_permits() == Semaphore::MAX_PERMITS);
}

TEST_CASE("acquire_many_more_than_max_throws") {
  Semaphore s(0);
  CHECK_THROWS_AS((void)s.acquire_many(Semaphore::MAX_PERMITS + 1), std::invalid_argument);
  CHECK_THROWS_AS((void)s.try_acquire_many(Semaphore::MAX_PERMITS + 1), std::invalid_argument);
}

// A waker that holds a permit of the same semaphore: dropping the waker (when the
// acquire re-registers a new one) releases a permit, which must not deadlock on the
// semaphore's lock. From tokio/src/sync/tests/semaphore_batch.rs.
struct ReleaseOnDrop {
  std::optional<weft::OwnedSemaphorePermit> permit;
  int refs = 1;
};
constexpr weft::RawWakerVTable release_on_drop_vtable{
    [](const void* d) {
      ++static_cast<ReleaseOnDrop*>(const_cast<void*>(d))->refs;
      return weft::RawWaker{d, &release_on_drop_vtable};
    },
    [](const void* d) {
      auto* s = static_cast<ReleaseOnDrop*>(const_cast<void*>(d));
      if (--s->refs == 0) delete s;
    },
    [](const void*) {},
    [](const void* d) noexcept {
      auto* s = static_cast<ReleaseOnDrop*>(const_cast<void*>(d));
      if (--s->refs == 0) delete s;
    },
};

TEST_CASE("release_permits_at_drop") {
  auto sem = std::make_shared<Semaphore>(1);
  auto fut = sem->acquire();
  // Second iteration shouldn't deadlock.
  for (int i = 0; i < 2; ++i) {
    auto* state = new ReleaseOnDrop{};
    auto r = Semaphore::try_acquire_owned(sem);
    if (r.is_ok()) state->permit.emplace(std::move(*r));
    const weft::Waker waker = weft::Waker::from_raw(weft::RawWaker{state, &release_on_drop_vtable});
    weft::Context cx(waker);
    CHECK(fut.poll(cx).is_pending());
  }
}

TEST_CASE("acquire_future_pending_then_ready") {
  Semaphore sem(0);
  MockTask task;
  auto fut = sem.acquire_many(2);
  CHECK(task.poll(fut).is_pending());
  sem.add_permits(1);
  CHECK_FALSE(task.is_woken());
  sem.add_permits(1);
  CHECK(task.is_woken());
  auto p = task.poll(fut);
  REQUIRE(p.is_ready());
  REQUIRE(p.value().is_ok());
  CHECK(p.value()->num_permits() == 2);
}

TEST_CASE("close_wakes_acquire_with_error") {
  Semaphore sem(0);
  MockTask task;
  auto fut = sem.acquire();
  CHECK(task.poll(fut).is_pending());
  sem.close();
  CHECK(sem.is_closed());
  CHECK(task.is_woken());
  auto p = task.poll(fut);
  REQUIRE(p.is_ready());
  CHECK(p.value().is_err());
  CHECK(sem.try_acquire().error() == TryAcquireError::Closed);
  CHECK(sem.blocking_acquire().is_err());
}

TEST_CASE("closed_constructor") {
  Semaphore sem(Semaphore::closed);
  CHECK(sem.is_closed());
  CHECK(sem.available_permits() == 0);
  CHECK(sem.try_acquire().error() == TryAcquireError::Closed);
}

TEST_CASE("forget_permits") {
  Semaphore sem(10);
  CHECK(sem.forget_permits(4) == 4);
  CHECK(sem.available_permits() == 6);
  CHECK(sem.forget_permits(10) == 6);
  CHECK(sem.available_permits() == 0);
}

TEST_CASE("permit_move_assign_releases_old") {
  Semaphore a(1), b(1);
  auto pa = a.try_acquire();
  auto pb = b.try_acquire();
  *pa = std::move(*pb);  // a's permit goes back
  CHECK(a.available_permits() == 1);
  CHECK(b.available_permits() == 0);
  CHECK(pb->num_permits() == 0);
}

TEST_CASE("cancel_pending_acquire_returns_permits") {
  Semaphore sem(3);
  auto held = sem.try_acquire();
  {
    MockTask task;
    auto fut = sem.acquire_many(5);
    CHECK(task.poll(fut).is_pending());
    CHECK(sem.available_permits() == 0);
  }
  CHECK(sem.available_permits() == 2);
}

// Give-backs past MAX_PERMITS saturate (a destructor cannot throw); add_permits and
// merge report the overflow with std::length_error. (Found by fuzz/semaphore.cc.)
TEST_CASE("permit_drop_past_max_permits_saturates") {
  Semaphore sem(2);
  {
    auto permit = sem.try_acquire_many(2);
    REQUIRE(permit.is_ok());
    sem.add_permits(Semaphore::MAX_PERMITS - 1);
    CHECK_THROWS_AS(sem.add_permits(2), std::length_error);
    CHECK(sem.available_permits() == Semaphore::MAX_PERMITS - 1);
  }  // gives 2 back: 1 fits, 1 is forgotten
  CHECK(sem.available_permits() == Semaphore::MAX_PERMITS);
}

TEST_CASE("dropped_acquire_past_max_permits_saturates") {
  Semaphore sem(1);
  MockTask task;
  {
    auto acquire = sem.acquire_many(2);
    CHECK(task.poll(acquire).is_pending());  // 1 assigned
    sem.close();
    sem.add_permits(Semaphore::MAX_PERMITS);
  }
  CHECK(sem.available_permits() == Semaphore::MAX_PERMITS);
}

TEST_CASE("merge_past_max_permits_throws") {
  Semaphore sem(Semaphore::MAX_PERMITS);
  auto a = sem.try_acquire_many(Semaphore::MAX_PERMITS);
  REQUIRE(a.is_ok());
  sem.add_permits(1);
  auto b = sem.try_acquire();
  REQUIRE(b.is_ok());
  CHECK_THROWS_AS(a->merge(std::move(*b)), std::length_error);
  CHECK(a->num_permits() == Semaphore::MAX_PERMITS);  // nothing changed
  CHECK(b->num_permits() == 1);
  auto part = a->split(1);
  REQUIRE(part.has_value());
  a->merge(std::move(*b));  // MAX_PERMITS exactly: allowed
  CHECK(a->num_permits() == Semaphore::MAX_PERMITS);
  CHECK(b->num_permits() == 0);
}

TEST_CASE("merge_unrelated_permits_changes_nothing") {
  Semaphore sem1(3);
  Semaphore sem2(3);
  auto p1 = sem1.try_acquire();
  auto p2 = sem2.try_acquire_many(2);
  CHECK_THROWS_AS(p1->merge(std::move(*p2)), std::invalid_argument);
  CHECK(p1->num_permits() == 1);
  CHECK(p2->num_permits() == 2);
}

// Class check (issue 18, after Tokio #7886): a future that stored its task's waker drops
// it when destroyed (testing/waker_leak_check.h).
TEST_CASE("destroyed acquire() and acquire_many() futures release their wakers") {
  Semaphore sem(1);
  CHECK(weft::testing::waker_released_on_destroy([&] { return sem.acquire_many(2); }));
  CHECK(sem.available_permits() == 1);  // the assigned permit went back too
  auto held = sem.try_acquire();
  REQUIRE(held.is_ok());
  CHECK(weft::testing::waker_released_on_destroy([&] { return sem.acquire(); }));
}

TEST_CASE("blocking_acquire_until: times out, then takes permits given in time; closed") {
  using namespace std::chrono_literals;
  auto sem = std::make_shared<Semaphore>(1);
  auto held = sem->try_acquire();
  REQUIRE(held.is_ok());
  CHECK(sem->blocking_acquire_for(5ms).is_err());
  CHECK(sem->blocking_acquire_many_until(1, weft::platform::clock::now()).is_err());
  CHECK(Semaphore::blocking_acquire_owned_for(sem, 1ms).is_err());
  CHECK(
      Semaphore::blocking_acquire_many_owned_until(sem, 1, weft::platform::clock::now()).is_err());
  weft::platform::thread t([&] {
    std::this_thread::sleep_for(2ms);
    { auto drop = std::move(*held); }
  });
  auto got = sem->blocking_acquire_for(std::chrono::hours(1));
  REQUIRE(got.is_ok());
  REQUIRE(got->is_ok());
  t.join();
  { auto drop = std::move(*got); }
  CHECK(sem->available_permits() == 1);  // no permit kept by a timed-out request
  CHECK(Semaphore::blocking_acquire_many_owned_for(sem, 1, 0ms).is_ok());
  sem->close();
  auto closed = sem->blocking_acquire_until(weft::platform::clock::now());
  REQUIRE(closed.is_ok());  // in time, with the acquire's own error
  CHECK(closed->is_err());
  CHECK(Semaphore::blocking_acquire_owned_until(sem, weft::platform::deadline_after(1h))->is_err());
}

}  // namespace
