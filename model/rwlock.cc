// Model scenarios of RwLock<T>. Ported from tokio/src/sync/tests/loom_rwlock.rs under the
// same names, plus weft's own. The value is a platform::cell read under read guards and
// written under write guards, so an access not ordered by the lock is a DATA RACE.
// MAX_READS is 10 in the model build (as Tokio under Loom).
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"
#include "sync/rwlock.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"

#include <chrono>
#include <memory>
#include <optional>

namespace platform = weft::platform;
using weft::RwLock;
using weft::RwLockWriteGuard;

WEFT_MODEL_TEST(concurrent_write, weft::model::bounded(1).on_dpor(weft::model::bounded(3)), 2) {
  auto rwlock = std::make_shared<RwLock<unsigned>>(0u);
  platform::thread t1([rwlock] { *weft::block_on(rwlock->write()) += 5; });
  platform::thread t2([rwlock] { *weft::block_on(rwlock->write()) += 5; });
  t1.join();
  t2.join();
  // When all threads have finished the value on the lock should be 10.
  WEFT_INVARIANT(*weft::block_on(rwlock->read()) == 10);
}

WEFT_MODEL_TEST(concurrent_read_write, weft::model::pct(40000, 3), 3) {
  auto rwlock = std::make_shared<RwLock<unsigned>>(0u);
  platform::thread t1([rwlock] { *weft::block_on(rwlock->write()) += 5; });
  platform::thread t2([rwlock] { *weft::block_on(rwlock->write()) += 5; });
  platform::thread t3([rwlock] {
    auto guard = weft::block_on(rwlock->read());
    // At this point the value may be 0, 5 or 10.
    WEFT_INVARIANT(*guard == 0 || *guard == 5 || *guard == 10);
  });
  t1.join();
  t2.join();
  t3.join();
  WEFT_INVARIANT(*weft::block_on(rwlock->read()) == 10);
}

WEFT_MODEL_TEST(downgrade, weft::model::bounded(2), 1) {
  auto lock = std::make_shared<RwLock<int>>(1);
  auto n = weft::block_on(lock->write());
  platform::thread handle([lock] { *weft::block_on(lock->write()) = 2; });
  auto r = RwLockWriteGuard<int>::downgrade(std::move(n));
  WEFT_INVARIANT(*r == 1);  // the other writer cannot slip in between
  { auto drop = std::move(r); }
  handle.join();
  WEFT_INVARIANT(*weft::block_on(lock->read()) == 2);
}

// try_downgrade_map (Tokio's RwLockWriteGuard::try_downgrade_map): refused, the writer
// keeps the lock (the reader never sees the half-written 1); accepted, the lock is shared
// at once (the reader may enter while the mapped read guard is held), never free for a
// writer in between.
WEFT_MODEL_TEST(try_downgrade_map, weft::model::bounded(2), 1) {
  auto lock = std::make_shared<RwLock<int>>(0);
  auto w = weft::block_on(lock->write());
  *w = 1;  // half-written: nobody may see it
  platform::thread reader([lock] { WEFT_INVARIANT(*weft::block_on(lock->read()) == 2); });
  auto refused = RwLockWriteGuard<int>::try_downgrade_map(
      std::move(w), [](const int&) -> const int* { return nullptr; });
  WEFT_INVARIANT(refused.is_err());
  *refused.error() = 2;
  auto r = RwLockWriteGuard<int>::try_downgrade_map(std::move(refused.error()),
                                                    [](const int& v) { return &v; });
  WEFT_INVARIANT(r.is_ok() && **r == 2);
  WEFT_INVARIANT(lock->try_write().is_err());
  { auto drop = std::move(r); }
  reader.join();
}

// ---- weft's own ----

// Two readers and a writer with max_readers 2: readers share, the writer excludes both.
WEFT_MODEL_TEST(readers_share_writer_excludes, weft::model::pct(40000, 3), 2) {
  auto lock = std::make_shared<RwLock<int>>(RwLock<int>::with_max_readers_tag, 2u, 0);
  platform::thread reader([lock] {
    auto g = lock->blocking_read();
    WEFT_INVARIANT(*g == 0 || *g == 1);
  });
  platform::thread writer([lock] { *lock->blocking_write() = 1; });
  {
    auto g = lock->blocking_read();
    WEFT_INVARIANT(*g == 0 || *g == 1);
  }
  reader.join();
  writer.join();
  WEFT_INVARIANT(*lock->blocking_read() == 1);
}

// A write future cancelled while readers release: the permits it gathered go back, and
// the lock ends up free.
WEFT_MODEL_TEST(cancel_write_while_reader_releases, weft::model::bounded(2), 1) {
  auto lock = std::make_shared<RwLock<int>>(RwLock<int>::with_max_readers_tag, 3u, 0);
  auto held = std::make_shared<std::optional<weft::RwLockReadGuard<int>>>(lock->blocking_read());
  platform::thread t([held] { held->reset(); });
  {
    weft::MockTask task;
    auto fut = lock->write();
    auto p = task.poll(fut);
    if (p.is_ready()) *p.value() = 7;
  }
  t.join();
  auto w = lock->try_write();
  WEFT_INVARIANT(w.is_ok());
}

// A timed read races the writer's release, with an untimed writer queued behind it: the
// read permit handed to the timed reader as its deadline passes is taken or given back,
// so the untimed writer always gets all permits (a lost one: DEADLOCK). A timed-out
// reader never touches the value; the value never races.
WEFT_MODEL_TEST(timed_read_races_write_unlock, weft::model::pct(20000, 3), 2) {
  auto lock = std::make_shared<RwLock<int>>(0);
  auto held = std::make_shared<std::optional<weft::RwLockWriteGuard<int>>>(lock->blocking_write());
  platform::thread timed([lock] {
    if (auto r = lock->blocking_read_for(std::chrono::milliseconds(1))) {
      WEFT_INVARIANT(**r == 1 || **r == 11);  // before or after the untimed writer
    } else {
      WEFT_REACHED("read timed out");
    }
  });
  platform::thread writer([lock] { *lock->blocking_write() += 10; });
  *held->value() = 1;
  held->reset();
  timed.join();
  writer.join();
  WEFT_INVARIANT(*lock->blocking_read() == 11);
}
WEFT_MODEL_REACHES(timed_read_races_write_unlock, "read timed out");
