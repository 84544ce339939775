// Unit tests of BatchSemaphore. Ported from tokio/src/sync/tests/semaphore_batch.rs,
// plus the lock-free release path, the WAITERS bit, FIFO order, cancellation of a
// partially assigned waiter, and the error paths.
#include "sync/detail/batch_semaphore.h"

#include "sync/task/mock_task.h"
#include "testing/throwing_waker.h"
#include "testing/wake_contract_check.h"

#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace {

using weft::MockTask;
using weft::TryAcquireError;
using weft::detail::BatchSemaphore;

constexpr std::size_t MAX_PERMITS = BatchSemaphore::MAX_PERMITS;

// Polls a fresh acquire of n once, as tokio_test's task::spawn(s.acquire(n)).poll().
auto poll_once(BatchSemaphore& s, std::size_t n) {
  MockTask task;
  auto acquire = s.acquire(n);
  return task.poll(acquire);
}

bool ready_ok(const weft::Poll<weft::Result<void, weft::AcquireError>>& p) {
  return p.is_ready() && p.value().is_ok();
}
bool ready_err(const weft::Poll<weft::Result<void, weft::AcquireError>>& p) {
  return p.is_ready() && p.value().is_err();
}

TEST_CASE("poll_acquire_one_available") {
  BatchSemaphore s(100);
  CHECK(s.available_permits() == 100);
  CHECK(ready_ok(poll_once(s, 1)));
  CHECK(s.available_permits() == 99);
}

TEST_CASE("poll_acquire_many_available") {
  BatchSemaphore s(100);
  CHECK(ready_ok(poll_once(s, 5)));
  CHECK(s.available_permits() == 95);
  CHECK(ready_ok(poll_once(s, 5)));
  CHECK(s.available_permits() == 90);
}

TEST_CASE("try_acquire_one_available") {
  BatchSemaphore s(100);
  CHECK(s.try_acquire(1).is_ok());
  CHECK(s.available_permits() == 99);
  CHECK(s.try_acquire(1).is_ok());
  CHECK(s.available_permits() == 98);
}

TEST_CASE("try_acquire_many_available") {
  BatchSemaphore s(100);
  CHECK(s.try_acquire(5).is_ok());
  CHECK(s.available_permits() == 95);
  CHECK(s.try_acquire(5).is_ok());
  CHECK(s.available_permits() == 90);
}

TEST_CASE("poll_acquire_one_unavailable") {
  BatchSemaphore s(1);
  CHECK(ready_ok(poll_once(s, 1)));
  CHECK(s.available_permits() == 0);

  MockTask task2;
  auto acquire_2 = s.acquire(1);
  CHECK(task2.poll(acquire_2).is_pending());
  CHECK(s.available_permits() == 0);

  s.release(1);
  CHECK(s.available_permits() == 0);
  CHECK(task2.is_woken());
  CHECK(ready_ok(task2.poll(acquire_2)));
  CHECK(s.available_permits() == 0);

  s.release(1);
  CHECK(s.available_permits() == 1);
}

TEST_CASE("poll_acquire_many_unavailable") {
  BatchSemaphore s(5);
  CHECK(ready_ok(poll_once(s, 1)));
  CHECK(s.available_permits() == 4);

  MockTask task2;
  auto acquire_2 = s.acquire(5);
  CHECK(task2.poll(acquire_2).is_pending());
  CHECK(s.available_permits() == 0);

  MockTask task3;
  auto acquire_3 = s.acquire(3);
  CHECK(task3.poll(acquire_3).is_pending());
  CHECK(s.available_permits() == 0);

  s.release(1);
  CHECK(s.available_permits() == 0);
  CHECK(task2.is_woken());
  CHECK(ready_ok(task2.poll(acquire_2)));

  CHECK_FALSE(task3.is_woken());
  CHECK(s.available_permits() == 0);

  s.release(1);
  CHECK_FALSE(task3.is_woken());
  CHECK(s.available_permits() == 0);

  s.release(2);
  CHECK(task3.is_woken());
  CHECK(ready_ok(task3.poll(acquire_3)));
}

TEST_CASE("try_acquire_one_unavailable") {
  BatchSemaphore s(1);
  CHECK(s.try_acquire(1).is_ok());
  CHECK(s.available_permits() == 0);
  auto r = s.try_acquire(1);
  REQUIRE(r.is_err());
  CHECK(r.error() == TryAcquireError::NoPermits);
  s.release(1);
  CHECK(s.available_permits() == 1);
  CHECK(s.try_acquire(1).is_ok());
  s.release(1);
  CHECK(s.available_permits() == 1);
}

TEST_CASE("try_acquire_many_unavailable") {
  BatchSemaphore s(5);
  CHECK(s.try_acquire(1).is_ok());
  CHECK(s.available_permits() == 4);
  CHECK(s.try_acquire(5).is_err());
  s.release(1);
  CHECK(s.available_permits() == 5);
  CHECK(s.try_acquire(5).is_ok());
  s.release(1);
  CHECK(s.available_permits() == 1);
  s.release(1);
  CHECK(s.available_permits() == 2);
}

TEST_CASE("poll_acquire_one_zero_permits") {
  BatchSemaphore s(0);
  CHECK(s.available_permits() == 0);
  MockTask task;
  auto acquire = s.acquire(1);
  CHECK(task.poll(acquire).is_pending());
  s.release(1);
  CHECK(task.is_woken());
  CHECK(ready_ok(task.poll(acquire)));
}

TEST_CASE("max_permits_doesnt_panic") {
  BatchSemaphore s(MAX_PERMITS);
  CHECK(s.available_permits() == MAX_PERMITS);
}

TEST_CASE("validates_max_permits") {
  CHECK_THROWS_AS(BatchSemaphore(MAX_PERMITS + 1), std::length_error);
  CHECK_THROWS_WITH(BatchSemaphore(MAX_PERMITS + 1),
                    doctest::Contains("a semaphore may not have more than MAX_PERMITS permits"));
}

TEST_CASE("try_acquire_validates_max_permits") {
  BatchSemaphore s(0);
  CHECK_THROWS_AS((void)s.try_acquire(MAX_PERMITS + 1), std::invalid_argument);
  CHECK_THROWS_WITH((void)s.try_acquire(MAX_PERMITS + 1),
                    doctest::Contains("a semaphore may not have more than MAX_PERMITS permits"));
}

TEST_CASE("acquire_validates_max_permits") {
  BatchSemaphore s(0);
  CHECK_THROWS_AS((void)s.acquire(MAX_PERMITS + 1), std::invalid_argument);
  CHECK_THROWS_WITH((void)s.acquire(MAX_PERMITS + 1),
                    doctest::Contains("a semaphore may not have more than MAX_PERMITS permits"));
}

TEST_CASE("acquire_validates_top_bit_permits") {
  BatchSemaphore s(0);
  CHECK_THROWS_AS((void)s.acquire(std::size_t{1} << (sizeof(std::size_t) * 8 - 1)),
                  std::invalid_argument);
}

TEST_CASE("close_semaphore_prevents_acquire") {
  BatchSemaphore s(5);
  s.close();
  CHECK(s.is_closed());
  CHECK(s.available_permits() == 5);
  CHECK(ready_err(poll_once(s, 1)));
  CHECK(s.available_permits() == 5);
  CHECK(ready_err(poll_once(s, 1)));
  CHECK(s.available_permits() == 5);
  auto r = s.try_acquire(1);
  REQUIRE(r.is_err());
  CHECK(r.error() == TryAcquireError::Closed);
}

TEST_CASE("close_semaphore_notifies_permit1") {
  BatchSemaphore s(0);
  MockTask task;
  auto acquire = s.acquire(1);
  CHECK(task.poll(acquire).is_pending());
  s.close();
  CHECK(task.is_woken());
  CHECK(ready_err(task.poll(acquire)));
}

TEST_CASE("close_semaphore_notifies_permit2") {
  BatchSemaphore s(2);
  CHECK(ready_ok(poll_once(s, 1)));
  CHECK(ready_ok(poll_once(s, 1)));

  MockTask task3, task4;
  auto acquire3 = s.acquire(1);
  auto acquire4 = s.acquire(1);
  CHECK(task3.poll(acquire3).is_pending());
  CHECK(task4.poll(acquire4).is_pending());

  s.close();
  CHECK(task3.is_woken());
  CHECK(task4.is_woken());
  CHECK(ready_err(task3.poll(acquire3)));
  CHECK(ready_err(task4.poll(acquire4)));
  CHECK(s.available_permits() == 0);

  s.release(1);
  CHECK(s.available_permits() == 1);
  CHECK(ready_err(poll_once(s, 1)));
  s.release(1);
  CHECK(s.available_permits() == 2);
}

TEST_CASE("cancel_acquire_releases_permits") {
  BatchSemaphore s(10);
  REQUIRE(s.try_acquire(4).is_ok());
  CHECK(s.available_permits() == 6);
  {
    MockTask task;
    auto acquire = s.acquire(8);
    CHECK(task.poll(acquire).is_pending());
    CHECK(s.available_permits() == 0);
  }  // cancelled: the 6 it held go back
  CHECK(s.available_permits() == 6);
  CHECK(s.try_acquire(6).is_ok());
}

TEST_CASE("forget_permits_basic") {
  BatchSemaphore s(10);
  CHECK(s.forget_permits(4) == 4);
  CHECK(s.available_permits() == 6);
  CHECK(s.forget_permits(10) == 6);
  CHECK(s.available_permits() == 0);
}

TEST_CASE("update_permits_many_times") {
  BatchSemaphore s(5);
  MockTask task;
  auto acquire = s.acquire(7);
  CHECK(task.poll(acquire).is_pending());
  s.release(5);
  CHECK(ready_ok(task.poll(acquire)));
  CHECK(s.available_permits() == 3);
  CHECK(s.forget_permits(3) == 3);
  CHECK(s.available_permits() == 0);
}

// ---- beyond Tokio's file ----

TEST_CASE("forget_permits_keeps_closed_bit") {
  BatchSemaphore s(10);
  s.close();
  CHECK(s.forget_permits(3) == 3);
  CHECK(s.is_closed());
  CHECK(s.available_permits() == 7);
  CHECK(s.try_acquire(1).error() == TryAcquireError::Closed);
}

TEST_CASE("forget_permits_zero_and_empty") {
  BatchSemaphore s(0);
  CHECK(s.forget_permits(0) == 0);
  CHECK(s.forget_permits(5) == 0);
  CHECK(s.available_permits() == 0);
}

TEST_CASE("closed_constructor") {
  BatchSemaphore s(BatchSemaphore::closed_tag);
  CHECK(s.is_closed());
  CHECK(s.available_permits() == 0);
  CHECK(ready_err(poll_once(s, 0)));
}

TEST_CASE("release_overflow_throws_and_adds_nothing") {
  BatchSemaphore s(MAX_PERMITS - 1);
  s.release(1);
  CHECK(s.available_permits() == MAX_PERMITS);
  CHECK_THROWS_AS(s.release(1), std::length_error);
  CHECK_THROWS_WITH(s.release(1), doctest::Contains("would overflow MAX_PERMITS"));
  CHECK(s.available_permits() == MAX_PERMITS);
  CHECK_THROWS_AS(s.release(MAX_PERMITS + 1), std::length_error);
}

TEST_CASE("release_max_with_waiter") {
  // The locked path: 2 of the released permits go to the waiter, the rest to the count.
  BatchSemaphore s(0);
  MockTask task;
  auto acquire = s.acquire(2);
  CHECK(task.poll(acquire).is_pending());
  s.release(MAX_PERMITS);
  CHECK(task.is_woken());
  CHECK(s.available_permits() == MAX_PERMITS - 2);
  CHECK_THROWS_AS(s.release(3), std::length_error);
  CHECK(s.available_permits() == MAX_PERMITS - 2);
  CHECK(ready_ok(task.poll(acquire)));
  s.release(2);
  CHECK(s.available_permits() == MAX_PERMITS);
}

TEST_CASE("acquire_zero_is_ready") {
  BatchSemaphore s(0);
  CHECK(ready_ok(poll_once(s, 0)));
}

TEST_CASE("fifo_order_across_sizes") {
  // A big waiter at the head blocks later small ones (no barging): fairness.
  BatchSemaphore s(0);
  MockTask big_task, small_task;
  auto big = s.acquire(3);
  auto small = s.acquire(1);
  CHECK(big_task.poll(big).is_pending());
  CHECK(small_task.poll(small).is_pending());
  s.release(2);
  CHECK_FALSE(big_task.is_woken());
  CHECK_FALSE(small_task.is_woken());
  CHECK(s.try_acquire(1).error() == TryAcquireError::NoPermits);
  s.release(2);
  CHECK(big_task.is_woken());
  CHECK(small_task.is_woken());
  CHECK(ready_ok(big_task.poll(big)));
  CHECK(ready_ok(small_task.poll(small)));
  CHECK(s.available_permits() == 0);
}

TEST_CASE("cancel_head_waiter_passes_permits_on") {
  BatchSemaphore s(0);
  MockTask t1, t2;
  auto a2 = s.acquire(2);
  {
    auto a1 = s.acquire(3);
    CHECK(t1.poll(a1).is_pending());
    CHECK(t2.poll(a2).is_pending());
    s.release(2);  // partially assigned to a1
    CHECK_FALSE(t1.is_woken());
  }  // a1 cancelled: its 2 go to a2
  CHECK(t2.is_woken());
  CHECK(ready_ok(t2.poll(a2)));
  CHECK(s.available_permits() == 0);
  s.release(1);  // queue empty again: lock-free path counts it
  CHECK(s.available_permits() == 1);
}

TEST_CASE("repoll_with_new_waker_reregisters") {
  BatchSemaphore s(0);
  MockTask t1, t2;
  auto a = s.acquire(1);
  CHECK(t1.poll(a).is_pending());
  CHECK(t2.poll(a).is_pending());    // moved to another task
  CHECK(t1.waker_ref_count() == 0);  // old waker dropped
  s.release(1);
  CHECK_FALSE(t1.is_woken());
  CHECK(t2.is_woken());
  CHECK(ready_ok(t2.poll(a)));
}

TEST_CASE("repoll_same_waker_keeps_one_clone") {
  BatchSemaphore s(0);
  MockTask t;
  auto a = s.acquire(1);
  CHECK(t.poll(a).is_pending());
  CHECK(t.poll(a).is_pending());
  CHECK(t.waker_ref_count() == 1);
  s.release(1);
  CHECK(t.wake_count() == 1);
  CHECK(ready_ok(t.poll(a)));
  CHECK(t.waker_ref_count() == 0);
}

TEST_CASE("many_waiters_more_than_one_wake_list") {
  BatchSemaphore s(0);
  constexpr int n = 100;  // > WakeList::capacity
  std::vector<std::unique_ptr<MockTask>> tasks;
  std::vector<std::unique_ptr<BatchSemaphore::Acquire>> acquires;
  for (int i = 0; i < n; ++i) {
    tasks.push_back(std::make_unique<MockTask>());
    acquires.push_back(std::make_unique<BatchSemaphore::Acquire>(s.acquire(1)));
    CHECK(tasks.back()->poll(*acquires.back()).is_pending());
  }
  s.release(n + 5);
  for (int i = 0; i < n; ++i) {
    CHECK(tasks[i]->is_woken());
    CHECK(ready_ok(tasks[i]->poll(*acquires[i])));
  }
  CHECK(s.available_permits() == 5);
}

TEST_CASE("close_wakes_more_than_one_wake_list") {
  BatchSemaphore s(0);
  constexpr int n = 70;
  std::vector<std::unique_ptr<MockTask>> tasks;
  std::vector<std::unique_ptr<BatchSemaphore::Acquire>> acquires;
  for (int i = 0; i < n; ++i) {
    tasks.push_back(std::make_unique<MockTask>());
    acquires.push_back(std::make_unique<BatchSemaphore::Acquire>(s.acquire(2)));
    CHECK(tasks.back()->poll(*acquires.back()).is_pending());
  }
  s.release(1);  // partially assigned to the first
  s.close();
  for (int i = 0; i < n; ++i) {
    CHECK(tasks[i]->is_woken());
    CHECK(ready_err(tasks[i]->poll(*acquires[i])));
  }
  acquires.clear();  // the first gives its partial permit back
  CHECK(s.available_permits() == 1);
}

TEST_CASE("move_before_poll") {
  BatchSemaphore s(1);
  auto a = s.acquire(1);
  BatchSemaphore::Acquire b(std::move(a));
  MockTask t;
  CHECK(ready_ok(t.poll(b)));
  CHECK(s.available_permits() == 0);
}

TEST_CASE("throwing_waker_clone_leaves_semaphore_consistent") {
  BatchSemaphore s(1);
  REQUIRE(s.try_acquire(1).is_ok());
  const weft::Waker throwing = weft::testing::throwing_clone_waker();
  weft::Context cx(throwing);
  {
    auto a = s.acquire(1);
    CHECK_THROWS_AS((void)a.poll(cx), std::runtime_error);
    // Dropped while queued without a waker: must unlink.
  }
  s.release(1);
  CHECK(s.available_permits() == 1);
  auto b = s.acquire(1);
  CHECK(ready_ok(b.poll(cx)));  // permits there: no waker is cloned
}

// Overflow on give-back (see "Overflow on give-back" in batch_semaphore.h): the explicit
// release() throws and adds nothing past MAX_PERMITS; release_saturating() and the
// give-backs of dropped futures never throw and stop at MAX_PERMITS.

TEST_CASE("release_overflow_throws_and_adds_nothing") {
  BatchSemaphore s(MAX_PERMITS - 1);
  CHECK_THROWS_AS(s.release(2), std::length_error);
  CHECK(s.available_permits() == MAX_PERMITS - 1);
  CHECK_THROWS_AS(s.release(MAX_PERMITS + 1), std::length_error);
  s.release(1);
  CHECK(s.available_permits() == MAX_PERMITS);
}

TEST_CASE("release_saturating_stops_at_max_permits") {
  BatchSemaphore s(MAX_PERMITS - 1);
  static_assert(noexcept(s.release_saturating(1)));
  s.release_saturating(5);
  CHECK(s.available_permits() == MAX_PERMITS);
  s.release_saturating(SIZE_MAX);  // even more than MAX_PERMITS at once
  CHECK(s.available_permits() == MAX_PERMITS);
  s.release_saturating(0);
  CHECK(s.available_permits() == MAX_PERMITS);
  CHECK(s.try_acquire(MAX_PERMITS).is_ok());
  CHECK(s.available_permits() == 0);
}

TEST_CASE("release_saturating_serves_waiters_first") {
  BatchSemaphore s(0);
  MockTask task;
  auto acquire = s.acquire(3);
  CHECK(task.poll(acquire).is_pending());
  s.release_saturating(SIZE_MAX);  // 3 to the waiter, the count saturates
  CHECK(task.is_woken());
  CHECK(s.available_permits() == MAX_PERMITS);
  CHECK(ready_ok(task.poll(acquire)));
}

TEST_CASE("release_saturating_keeps_closed") {
  BatchSemaphore s(MAX_PERMITS);
  s.close();
  s.release_saturating(1);
  CHECK(s.is_closed());
  CHECK(s.available_permits() == MAX_PERMITS);
}

TEST_CASE("dropped_acquire_give_back_saturates") {
  BatchSemaphore s(5);
  MockTask task;
  {
    auto acquire = s.acquire(10);
    CHECK(task.poll(acquire).is_pending());  // holds 5 assigned permits
    s.close();
    s.release(MAX_PERMITS);  // counted after close; nothing left for the 5 to go back to
    CHECK(ready_err(task.poll(acquire)));
  }  // ~Acquire: 5 back past MAX_PERMITS, saturates instead of terminating
  CHECK(s.available_permits() == MAX_PERMITS);
}

// usually_idle (Mutex's semaphore): the fast paths guess the word; every wrong guess
// must fall back to the ordinary path with the same outcome.
TEST_CASE("usually_idle_guesses_right_and_wrong") {
  BatchSemaphore s(2, BatchSemaphore::usually_idle);
  CHECK(s.try_acquire(2).is_ok());  // right guess: idle word
  CHECK(s.available_permits() == 0);
  CHECK(s.try_acquire(1).error() == TryAcquireError::NoPermits);  // wrong guess
  s.release(2);  // right guess: only these 2 were out
  CHECK(s.available_permits() == 2);
  CHECK(s.try_acquire(1).is_ok());  // right guess
  CHECK(s.try_acquire(1).is_ok());  // wrong guess (1 left): ordinary path
  CHECK(s.available_permits() == 0);
  s.release(1);  // wrong guess (1 still out)
  CHECK(s.available_permits() == 1);
  s.release(1);  // right guess
  CHECK(s.available_permits() == 2);
  s.release(3);  // more than the idle count: no guess
  CHECK(s.available_permits() == 5);
  CHECK(ready_ok(poll_once(s, 3)));  // wrong guess (5 in), ordinary fast path
  CHECK(s.available_permits() == 2);
  CHECK(s.try_acquire(3).error() == TryAcquireError::NoPermits);  // more than idle: no guess
}

TEST_CASE("usually_idle_waiter_and_close") {
  BatchSemaphore s(1, BatchSemaphore::usually_idle);
  MockTask task;
  CHECK(s.try_acquire(1).is_ok());
  auto acquire = s.acquire(1);
  CHECK(task.poll(acquire).is_pending());  // WAITERS set: guesses fail
  s.release(1);                            // handed to the waiter, not to the count
  CHECK(task.is_woken());
  CHECK(s.available_permits() == 0);
  CHECK(ready_ok(task.poll(acquire)));
  s.release(1);
  CHECK(s.available_permits() == 1);
  s.close();
  CHECK(s.try_acquire(1).error() == TryAcquireError::Closed);  // CLOSED: guess fails
  CHECK(ready_err(poll_once(s, 1)));
  CHECK(s.available_permits() == 1);
}

// Class check (issue 18, after Tokio #8021: forget_permits rebuilt the word and reopened a
// closed semaphore): CLOSED survives every operation that rewrites the permit word, on
// the lock-free paths (try_acquire, release with no waiter, forget, the usually_idle
// guesses) and on the locked ones (a waiter served, a partly served waiter cancelled).
TEST_CASE("the closed bit survives every read-modify-write of the permit word") {
  for (const bool idle : {false, true}) {
    CAPTURE(idle);
    auto sem = idle ? std::make_unique<BatchSemaphore>(2, BatchSemaphore::usually_idle)
                    : std::make_unique<BatchSemaphore>(2);
    MockTask task;
    {
      auto partly = sem->acquire(3);  // takes 2, queues for 1 more: WAITERS set
      CHECK(task.poll(partly).is_pending());
      sem->close();  // wakes it with the error
      CHECK(task.poll(partly).value().is_err());
    }  // gives the 2 back, through the lock
    CHECK(sem->is_closed());
    CHECK(sem->available_permits() == 2);
    sem->release(1);  // lock-free add (the idle guess fails)
    CHECK(sem->is_closed());
    sem->release_saturating(1);
    CHECK(sem->is_closed());
    CHECK(sem->forget_permits(1) == 1);
    CHECK(sem->is_closed());
    CHECK(sem->try_acquire(1).error() == TryAcquireError::Closed);
    CHECK(sem->forget_permits(10) == 3);  // the count reaches 0: the word is CLOSED alone
    CHECK(sem->is_closed());
    sem->release(2);  // exactly the idle word's count, plus CLOSED
    CHECK(sem->is_closed());
    auto late = sem->acquire(1);
    CHECK(task.poll(late).value().is_err());
    CHECK(sem->available_permits() == 2);
  }
}

// The wake policy (sync/task/waker.h), on each path that wakes waiters: a throwing wake is
// a failed invariant. release_saturating() is noexcept (permit and guard destructors call
// it): before the policy, a throwing waker there was std::terminate with no report.
namespace {
template <class Fire>
bool throwing_waiter_woken_by(Fire fire) {
  return weft::testing::aborts_on_throwing_wake([&] {
    BatchSemaphore sem(0);
    auto acquire = sem.acquire(1);
    const weft::Waker bad = weft::testing::throwing_wake_waker();
    weft::Context cx(bad);
    (void)acquire.poll(cx);
    fire(sem);
  });
}
}  // namespace

TEST_CASE("a throwing wake is a failed invariant: release, release_saturating, close") {
  CHECK(throwing_waiter_woken_by([](BatchSemaphore& s) { s.release(1); }));
  CHECK(throwing_waiter_woken_by([](BatchSemaphore& s) { s.release_saturating(1); }));
  CHECK(throwing_waiter_woken_by([](BatchSemaphore& s) { s.close(); }));
}

}  // namespace
