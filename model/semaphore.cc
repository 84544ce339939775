// Model scenarios of Semaphore (the public API over BatchSemaphore): permits order the
// data they guard, owned permits cross threads, close reaches a blocked acquirer.
// Tokio's Loom suite checks Semaphore through loom_semaphore_batch.rs only (see
// model/semaphore_batch.cc); these are weft's own.
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"
#include "sync/semaphore.h"

#include <chrono>
#include <memory>
#include <optional>

namespace platform = weft::platform;
using weft::Semaphore;

namespace {
struct Guarded {
  Semaphore sem{1};
  platform::cell<int> data{0};  // protected by the semaphore's one permit
};
}  // namespace

// The permit is the only thing ordering the two writes: a release/acquire missing on
// either the lock-free or the queued path is a DATA RACE on `data`.
WEFT_MODEL_TEST(permit_guards_data, weft::model::bounded(2), 1) {
  auto g = std::make_shared<Guarded>();
  platform::thread t([g] {
    auto permit = g->sem.blocking_acquire();
    WEFT_INVARIANT(permit.is_ok());
    g->data.with_mut([](int& d) { ++d; });
  });
  {
    auto permit = g->sem.blocking_acquire();
    WEFT_INVARIANT(permit.is_ok());
    g->data.with_mut([](int& d) { ++d; });
  }
  t.join();
  g->data.with([](const int& d) { WEFT_INVARIANT(d == 2); });
  WEFT_INVARIANT(g->sem.available_permits() == 1);
}

// An owned permit taken on one thread and dropped on another wakes a waiter there.
WEFT_MODEL_TEST(owned_permit_moves_across_threads, weft::model::bounded(2), 1) {
  auto sem = std::make_shared<Semaphore>(1);
  auto first = Semaphore::try_acquire_owned(sem);
  WEFT_INVARIANT(first.is_ok());
  auto moved = std::make_shared<std::optional<weft::OwnedSemaphorePermit>>(std::move(*first));
  platform::thread t([moved] { moved->reset(); });
  auto second = Semaphore::blocking_acquire_owned(sem);
  WEFT_INVARIANT(second.is_ok());
  t.join();
  WEFT_INVARIANT(sem->available_permits() == 0);
}

// close() reaches an acquirer blocked (or about to block) for more permits than exist.
WEFT_MODEL_TEST(close_wakes_blocking_acquire, weft::model::bounded(2), 1) {
  auto sem = std::make_shared<Semaphore>(1);
  platform::thread t([sem] {
    auto r = sem->blocking_acquire_many(2);
    WEFT_INVARIANT(r.is_err());
  });
  sem->close();
  t.join();
  WEFT_INVARIANT(sem->available_permits() == 1);  // the partial permit came back
}

// A merged permit gives all its permits back at once, to a waiter for two.
WEFT_MODEL_TEST(merged_permit_serves_batch_waiter, weft::model::bounded(2), 1) {
  auto sem = std::make_shared<Semaphore>(2);
  auto a = Semaphore::try_acquire_owned(sem);
  auto b = Semaphore::try_acquire_owned(sem);
  WEFT_INVARIANT(a.is_ok() && b.is_ok());
  a->merge(std::move(*b));
  auto held = std::make_shared<std::optional<weft::OwnedSemaphorePermit>>(std::move(*a));
  platform::thread t([held] { held->reset(); });
  auto two = Semaphore::blocking_acquire_many_owned(sem, 2);
  WEFT_INVARIANT(two.is_ok() && two->num_permits() == 2);
  t.join();
}

// Tokio #8119 (1.53 documents Semaphore's memory ordering): a failed acquisition, and
// available_permits() / is_closed(), behave like an Acquire load. A thread that forgot
// the last permit (or closed the semaphore) after writing data publishes that write to
// whoever sees the result: NoPermits, a count of 0, Closed. A relaxed read on any of
// these paths is a DATA RACE on `data`.
namespace {
struct Published {
  Semaphore sem{1};
  platform::cell<int> data{0};
  void write() {
    data.with_mut([](int& d) { d = 1; });
  }
  void read_written() {
    data.with([](const int& d) { WEFT_INVARIANT(d == 1); });
  }
};
}  // namespace

WEFT_MODEL_TEST(failed_try_acquire_is_acquire, weft::model::bounded(2), 1) {
  auto p = std::make_shared<Published>();
  platform::thread t([p] {
    p->write();
    (void)p->sem.forget_permits(1);
  });
  auto permit = p->sem.try_acquire();
  if (permit.is_err()) {
    WEFT_INVARIANT(permit.error() == weft::TryAcquireError::NoPermits);
    p->read_written();
  }
  t.join();
}

WEFT_MODEL_TEST(closed_try_acquire_is_acquire, weft::model::bounded(2), 1) {
  auto p = std::make_shared<Published>();
  platform::thread t([p] {
    p->write();
    p->sem.close();
  });
  if (p->sem.is_closed()) p->read_written();
  auto permit = p->sem.try_acquire();
  if (permit.is_err()) p->read_written();  // Closed: only close() makes it fail here
  t.join();
}

WEFT_MODEL_TEST(available_permits_is_acquire, weft::model::bounded(2), 1) {
  auto p = std::make_shared<Published>();
  platform::thread t([p] {
    p->write();
    (void)p->sem.forget_permits(1);
  });
  if (p->sem.available_permits() == 0) p->read_written();
  t.join();
}

// Scenarios that kill mutations the ones above let survive (ci/mutations.py names them, by
// the scenario's comment).

// Kills semaphore.acquire_many_counts_one: two tasks each take both permits with
// acquire_many(2). Each permit must hold 2 and give 2 back, or the other task waits for a
// permit that never comes back (and the count ends short).
WEFT_MODEL_TEST(acquire_many_permit_holds_all, weft::model::bounded(2), 1) {
  auto sem = std::make_shared<Semaphore>(2);
  platform::thread t([sem] {
    auto permit = sem->blocking_acquire_many(2);
    WEFT_INVARIANT(permit.is_ok() && permit->num_permits() == 2);
  });
  {
    auto permit = sem->blocking_acquire_many(2);
    WEFT_INVARIANT(permit.is_ok() && permit->num_permits() == 2);
  }
  t.join();
  WEFT_INVARIANT(sem->available_permits() == 2);
}

// A timed acquire races the release that hands it the permit, with an untimed acquirer
// queued behind: a permit handed to the timed waiter as its deadline passes is taken or
// passed on, never lost (a lost permit leaves the untimed acquirer parked: DEADLOCK), and
// every permit is back at the end.
WEFT_MODEL_TEST(timed_acquire_races_release, weft::model::pct(20000, 3), 2) {
  auto sem = std::make_shared<Semaphore>(0);
  platform::thread timed([sem] {
    auto r = sem->blocking_acquire_for(std::chrono::milliseconds(1));
    if (r.is_err()) WEFT_REACHED("acquire timed out");
  });
  platform::thread waiter([sem] { WEFT_INVARIANT(sem->blocking_acquire().is_ok()); });
  sem->add_permits(1);
  timed.join();
  waiter.join();
  WEFT_INVARIANT(sem->available_permits() == 1);
}
WEFT_MODEL_REACHES(timed_acquire_races_release, "acquire timed out");
