// Unit tests of Semaphore's owned variants (OwnedSemaphorePermit). Ported from
// tokio/tests/sync_semaphore_owned.rs, plus split and lifetime checks.
#include "sync/semaphore.h"

#include "sync/platform/thread.h"
#include "sync/task/mock_task.h"
#include "testing/waker_leak_check.h"

#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace {

using weft::MockTask;
using weft::OwnedSemaphorePermit;
using weft::Semaphore;

TEST_CASE("try_acquire") {
  auto sem = std::make_shared<Semaphore>(1);
  {
    auto p1 = Semaphore::try_acquire_owned(sem);
    CHECK(p1.is_ok());
    auto p2 = Semaphore::try_acquire_owned(sem);
    CHECK(p2.is_err());
  }
  auto p3 = Semaphore::try_acquire_owned(sem);
  CHECK(p3.is_ok());
}

TEST_CASE("try_acquire_many") {
  auto sem = std::make_shared<Semaphore>(42);
  {
    auto p1 = Semaphore::try_acquire_many_owned(sem, 42);
    CHECK(p1.is_ok());
    auto p2 = Semaphore::try_acquire_owned(sem);
    CHECK(p2.is_err());
  }
  auto p3 = Semaphore::try_acquire_many_owned(sem, 32);
  CHECK(p3.is_ok());
  auto p4 = Semaphore::try_acquire_many_owned(sem, 10);
  CHECK(p4.is_ok());
  CHECK(Semaphore::try_acquire_owned(sem).is_err());
}

TEST_CASE("acquire") {
  auto sem = std::make_shared<Semaphore>(1);
  auto p1 = Semaphore::try_acquire_owned(sem);
  REQUIRE(p1.is_ok());
  weft::platform::thread j([sem] {
    auto p2 = Semaphore::blocking_acquire_owned(sem);
    CHECK(p2.is_ok());
  });
  { auto drop = std::move(*p1); }
  j.join();
}

TEST_CASE("acquire_many") {
  auto semaphore = std::make_shared<Semaphore>(42);
  auto permit32 = Semaphore::try_acquire_many_owned(semaphore, 32);
  REQUIRE(permit32.is_ok());
  MockTask task;
  auto fut10 = Semaphore::acquire_many_owned(semaphore, 10);
  auto p10 = task.poll(fut10);
  REQUIRE(p10.is_ready());
  REQUIRE(p10.value().is_ok());
  auto fut32 = Semaphore::acquire_many_owned(semaphore, 32);
  CHECK(task.poll(fut32).is_pending());
  { auto drop = std::move(*permit32); }
  CHECK(task.is_woken());
  auto p32 = task.poll(fut32);
  REQUIRE(p32.is_ready());
  CHECK(p32.value()->num_permits() == 32);
}

TEST_CASE("add_permits") {
  auto sem = std::make_shared<Semaphore>(0);
  weft::platform::thread j([sem] { CHECK(Semaphore::blocking_acquire_owned(sem).is_ok()); });
  sem->add_permits(1);
  j.join();
}

TEST_CASE("forget") {
  auto sem = std::make_shared<Semaphore>(1);
  {
    auto p = Semaphore::try_acquire_owned(sem);
    CHECK(sem->available_permits() == 0);
    p->forget();
    CHECK(sem->available_permits() == 0);
  }
  CHECK(sem->available_permits() == 0);
  CHECK(Semaphore::try_acquire_owned(sem).is_err());
}

TEST_CASE("merge") {
  auto sem = std::make_shared<Semaphore>(3);
  {
    auto p1 = Semaphore::try_acquire_owned(sem);
    CHECK(sem->available_permits() == 2);
    auto p2 = Semaphore::try_acquire_many_owned(sem, 2);
    CHECK(sem->available_permits() == 0);
    p1->merge(std::move(*p2));
    CHECK(sem->available_permits() == 0);
  }
  CHECK(sem->available_permits() == 3);
}

TEST_CASE("merge_unrelated_permits") {
  auto sem1 = std::make_shared<Semaphore>(3);
  auto sem2 = std::make_shared<Semaphore>(3);
  auto p1 = Semaphore::try_acquire_owned(sem1);
  auto p2 = Semaphore::try_acquire_owned(sem2);
  CHECK_THROWS_AS(p1->merge(std::move(*p2)), std::invalid_argument);
}

TEST_CASE("stress_test") {
  auto sem = std::make_shared<Semaphore>(5);
  std::vector<weft::platform::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([sem] {
      for (int k = 0; k < 500; ++k) CHECK(Semaphore::blocking_acquire_owned(sem).is_ok());
    });
  }
  for (auto& t : threads) t.join();
  std::vector<OwnedSemaphorePermit> held;
  for (int i = 0; i < 5; ++i) held.push_back(std::move(*Semaphore::try_acquire_owned(sem)));
  CHECK(Semaphore::try_acquire_owned(sem).is_err());
}

// ---- beyond Tokio's file ----

TEST_CASE("permit_keeps_semaphore_alive") {
  std::weak_ptr<Semaphore> weak;
  std::optional<OwnedSemaphorePermit> permit;
  {
    auto sem = std::make_shared<Semaphore>(2);
    weak = sem;
    permit.emplace(std::move(*Semaphore::try_acquire_owned(sem)));
  }
  REQUIRE_FALSE(weak.expired());
  CHECK(permit->semaphore()->available_permits() == 1);
  permit.reset();
  CHECK(weak.expired());
}

TEST_CASE("future_keeps_semaphore_alive") {
  std::weak_ptr<Semaphore> weak;
  MockTask task;
  std::optional<Semaphore::AcquireOwned> fut;
  {
    auto sem = std::make_shared<Semaphore>(0);
    weak = sem;
    fut.emplace(Semaphore::acquire_owned(sem));
  }
  CHECK(task.poll(*fut).is_pending());
  REQUIRE_FALSE(weak.expired());
  weak.lock()->add_permits(1);
  CHECK(task.is_woken());
  auto p = task.poll(*fut);
  REQUIRE(p.is_ready());
  fut.reset();
  CHECK_FALSE(weak.expired());  // the permit holds it
  { auto drop = std::move(p.value().value()); }
  CHECK(weak.expired());
}

TEST_CASE("split") {
  auto sem = std::make_shared<Semaphore>(4);
  auto p = Semaphore::try_acquire_many_owned(sem, 4);
  auto q = p->split(3);
  REQUIRE(q.has_value());
  CHECK(q->semaphore() == sem);
  CHECK(p->num_permits() == 1);
  CHECK_FALSE(p->split(2).has_value());
  q.reset();
  CHECK(sem->available_permits() == 3);
}

TEST_CASE("close_fails_owned_acquire") {
  auto sem = std::make_shared<Semaphore>(0);
  MockTask task;
  auto fut = Semaphore::acquire_owned(sem);
  CHECK(task.poll(fut).is_pending());
  sem->close();
  auto p = task.poll(fut);
  REQUIRE(p.is_ready());
  CHECK(p.value().is_err());
  CHECK(Semaphore::try_acquire_owned(sem).error() == weft::TryAcquireError::Closed);
}

// As in semaphore_test.cc: give-backs saturate, merge checks the total.
TEST_CASE("permit_drop_past_max_permits_saturates") {
  auto sem = std::make_shared<Semaphore>(1);
  {
    auto permit = Semaphore::try_acquire_owned(sem);
    REQUIRE(permit.is_ok());
    sem->add_permits(Semaphore::MAX_PERMITS);
  }
  CHECK(sem->available_permits() == Semaphore::MAX_PERMITS);
}

TEST_CASE("merge_past_max_permits_throws") {
  auto sem = std::make_shared<Semaphore>(Semaphore::MAX_PERMITS);
  auto a = Semaphore::try_acquire_many_owned(sem, Semaphore::MAX_PERMITS);
  REQUIRE(a.is_ok());
  sem->add_permits(2);
  auto b = Semaphore::try_acquire_many_owned(sem, 2);
  REQUIRE(b.is_ok());
  CHECK_THROWS_AS(a->merge(std::move(*b)), std::length_error);
  CHECK(a->num_permits() == Semaphore::MAX_PERMITS);
  CHECK(b->num_permits() == 2);
}

TEST_CASE("merge_moved_from_permit_throws") {
  auto sem = std::make_shared<Semaphore>(3);
  auto a = Semaphore::try_acquire_owned(sem);
  auto b = Semaphore::try_acquire_owned(sem);
  OwnedSemaphorePermit c = std::move(*b);  // *b belongs to no semaphore now
  CHECK_THROWS_AS(a->merge(std::move(*b)), std::invalid_argument);
  CHECK(a->num_permits() == 1);
}

// Class check (issue 18, after Tokio #7886): a future that stored its task's waker drops
// it when destroyed (testing/waker_leak_check.h).
TEST_CASE("destroyed acquire_owned() futures release their wakers") {
  auto sem = std::make_shared<Semaphore>(0);
  CHECK(weft::testing::waker_released_on_destroy([&] { return Semaphore::acquire_owned(sem); }));
  CHECK(weft::testing::waker_released_on_destroy(
      [&] { return Semaphore::acquire_many_owned(sem, 2); }));
  CHECK(sem.use_count() == 1);
}

}  // namespace
