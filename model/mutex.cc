// Model scenarios of Mutex<T>. Tokio's Loom suite has none for Mutex (it is checked
// through loom_semaphore_batch.rs); these are weft's own. The guarded value is a
// platform::cell, so any access not ordered by the lock is reported as a DATA RACE.
#include "model/harness/scenario.h"
#include "sync/mutex.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"

#include <chrono>
#include <memory>
#include <optional>

namespace platform = weft::platform;
using weft::Mutex;

// Two lockers increment under the lock; the count is exact and no access races.
WEFT_MODEL_TEST(mutual_exclusion, weft::model::bounded(2), 1) {
  auto m = std::make_shared<Mutex<int>>(0);
  platform::thread t([m] { *m->blocking_lock() += 1; });
  *m->blocking_lock() += 1;
  t.join();
  WEFT_INVARIANT(*m->blocking_lock() == 2);
}

// Both lockers go through lock() futures (block_on), not try_lock first: the first
// poll's one-CAS fast path (BatchSemaphore::try_take) races with the other's unlock and
// with the queued slow path. A fast path that took the lock without Acquire would race
// on the cell.
WEFT_MODEL_TEST(async_lock_fast_path, weft::model::bounded(2), 1) {
  auto m = std::make_shared<Mutex<int>>(0);
  platform::thread t([m] { *weft::block_on(m->lock()) += 1; });
  *weft::block_on(m->lock()) += 1;
  t.join();
  WEFT_INVARIANT(*weft::block_on(m->lock()) == 2);
}

// Three lockers (a queue of two behind the holder): FIFO hand-off keeps exclusion.
WEFT_MODEL_TEST(three_lockers, weft::model::pct(20000, 3).on_dpor(weft::model::bounded(2)), 2) {
  auto m = std::make_shared<Mutex<int>>(0);
  platform::thread a([m] { *m->blocking_lock() += 1; });
  platform::thread b([m] { *m->blocking_lock() += 1; });
  *m->blocking_lock() += 1;
  a.join();
  b.join();
  WEFT_INVARIANT(*m->blocking_lock() == 3);
}

// A lock future polled once and then dropped while the holder unlocks concurrently:
// the lock is never lost (handed to the cancelled future and passed back).
WEFT_MODEL_TEST(cancel_lock_during_unlock, weft::model::bounded(2), 1) {
  auto m = std::make_shared<Mutex<int>>(0);
  auto held = std::make_shared<std::optional<weft::MutexGuard<int>>>(m->blocking_lock());
  platform::thread t([held] {
    *held->value() += 1;
    held->reset();
  });
  {
    weft::MockTask task;
    auto fut = m->lock();
    auto p = task.poll(fut);
    if (p.is_ready()) *p.value() += 1;
  }
  t.join();
  auto g = m->try_lock();
  WEFT_INVARIANT(g.is_ok());
  WEFT_INVARIANT(**g >= 1);
}

// try_lock against a holder on another thread: it fails or gets the lock exclusively
// (a success while the other holds it would race on the cell), and the mutex is free
// once both are done.
WEFT_MODEL_TEST(try_lock_vs_holder, weft::model::bounded(2), 1) {
  auto m = std::make_shared<Mutex<int>>(0);
  platform::thread t([m] { *m->blocking_lock() = 1; });
  {
    auto g = m->try_lock();
    if (g.is_ok()) **g += 10;
  }
  t.join();
  auto g = m->try_lock();
  WEFT_INVARIANT(g.is_ok());
  WEFT_INVARIANT(**g == 1 || **g == 11);
}

// An owned guard taken on one thread and released on another hands the lock over.
WEFT_MODEL_TEST(owned_guard_released_on_other_thread, weft::model::bounded(2), 1) {
  auto m = std::make_shared<Mutex<int>>(0);
  auto guard = std::make_shared<std::optional<weft::OwnedMutexGuard<int>>>(
      Mutex<int>::blocking_lock_owned(m));
  platform::thread t([guard] {
    *guard->value() = 5;
    guard->reset();
  });
  auto g = Mutex<int>::blocking_lock_owned(m);
  WEFT_INVARIANT(*g == 5);
  t.join();
}

// A timed blocking_lock races the unlock that hands it the lock, and an untimed waiter
// queues behind it: a lock handed to the timed waiter as its deadline passes is taken or
// passed on to the next waiter, never lost (a lost lock leaves the untimed waiter parked:
// DEADLOCK). A timed-out waiter never touches the value.
WEFT_MODEL_TEST(timed_lock_races_unlock,
                weft::model::pct(20000, 3).on_dpor(weft::model::bounded(2)), 2) {
  auto m = std::make_shared<Mutex<int>>(0);
  auto held = std::make_shared<std::optional<weft::MutexGuard<int>>>(m->blocking_lock());
  platform::thread timed([m] {
    if (auto g = m->blocking_lock_for(std::chrono::milliseconds(1))) {
      **g += 1;
    } else {
      WEFT_REACHED("lock timed out");
    }
  });
  platform::thread waiter([m] { *m->blocking_lock() += 10; });
  *held->value() += 100;
  held->reset();
  timed.join();
  waiter.join();
  const int v = *m->blocking_lock();
  WEFT_INVARIANT(v == 110 || v == 111);
}
WEFT_MODEL_REACHES(timed_lock_races_unlock, "lock timed out");
