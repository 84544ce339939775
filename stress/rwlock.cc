// Stress test of RwLock on real threads and on ThreadPool tasks: readers check a
// multi-field invariant that writers keep (a == b, c == 2a), with a small max_readers so
// that writes gather permits piecemeal; read / write / try_* / blocking_* / owned guards /
// map / into_mapped / downgrade / downgrade_map; read and write futures cancelled after
// one or more polls; guards held across suspension points. Checked in every section: at
// most max_readers readers, never a reader beside a writer, one writer at a time; after a
// downgrade no writer slipped in. Conservation: the final value is the sum of the writes
// and every permit is back (try_write succeeds). The most readers seen inside at once is
// printed at exit (concurrent reads must really overlap; a run where the OS never
// overlapped them is reported, not failed).
// Mirrors model/rwlock.cc (concurrent_write, concurrent_read_write, downgrade,
// readers_share_writer_excludes, cancel_write_while_reader_releases) at scale.
// Seeded and bounded: see stress/stress.h (WEFT_STRESS_SEED, WEFT_STRESS_SOAK).
#include "model/harness/scenario.h"
#include "stress/stress.h"
#include "sync/platform/platform.h"
#include "sync/rwlock.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "sync/task/task.h"
#include "sync/runtime/thread_pool.h"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace platform = weft::platform;
namespace stress = weft::stress;
using weft::OwnedRwLockReadGuard;
using weft::OwnedRwLockWriteGuard;
using weft::RwLock;
using weft::RwLockReadGuard;
using weft::RwLockWriteGuard;

namespace {

const std::uint64_t seed_printed = stress::base_seed("rwlock");

// Writers keep a == b and c == 2 * a; each of the three is written separately, so a
// reader beside a writer sees them torn.
struct Fields {
  long a = 0;
  long b = 0;
  long c = 0;
};
struct State {
  Fields fields;
  long unused = 0;  // so that guards can be mapped to a proper part
};

// The most readers seen inside at once, over the whole process; printed at exit.
platform::atomic<int> most_readers{0};
struct ReportOverlap {
  ~ReportOverlap() {
    const int most = most_readers.load(std::memory_order_relaxed);
    std::printf("stress/rwlock: most readers inside at once: %d%s\n", most,
                most > 1 ? "" : "  (NOTE: reads never overlapped in this run)");
  }
} report_overlap;

// Who is inside, counted independently of the lock (relaxed: only counts; the lock's
// exclusion is what is being tested, not what orders these).
struct Occupancy {
  platform::atomic<int> readers{0};
  platform::atomic<int> writers{0};
  std::uint32_t max_readers;

  void enter_read() {
    const int now = readers.fetch_add(1, std::memory_order_relaxed) + 1;
    WEFT_INVARIANT(static_cast<std::uint32_t>(now) <= max_readers);
    WEFT_INVARIANT(writers.load(std::memory_order_relaxed) == 0);
    int seen = most_readers.load(std::memory_order_relaxed);
    while (now > seen && !most_readers.compare_exchange_weak(seen, now, std::memory_order_relaxed,
                                                             std::memory_order_relaxed)) {
    }
  }
  void exit_read() { WEFT_INVARIANT(readers.fetch_sub(1, std::memory_order_relaxed) >= 1); }
  void enter_write() {
    WEFT_INVARIANT(writers.fetch_add(1, std::memory_order_relaxed) == 0);
    WEFT_INVARIANT(readers.load(std::memory_order_relaxed) == 0);
  }
  void exit_write() { WEFT_INVARIANT(writers.fetch_sub(1, std::memory_order_relaxed) == 1); }
};

void check_fields(const Fields& f) {
  WEFT_INVARIANT(f.a == f.b);
  WEFT_INVARIANT(f.c == 2 * f.a);
}

// A read section: the invariant holds, and still holds after letting others run.
void read_section(const Fields& f, Occupancy& occ, stress::Rng& rng) {
  occ.enter_read();
  check_fields(f);
  const long seen = f.a;
  rng.jitter(2);
  check_fields(f);
  WEFT_INVARIANT(f.a == seen);  // no writer while we read
  occ.exit_read();
}

// A write section: adds d to every field, one at a time, letting others run between.
void write_section(Fields& f, long d, Occupancy& occ, stress::Rng& rng) {
  occ.enter_write();
  check_fields(f);
  f.a += d;
  if (rng.one_in(4)) platform::yield_now();
  f.b += d;
  f.c += 2 * d;
  occ.exit_write();
}

constexpr std::uint32_t max_readers = 3;
constexpr int ops_per_thread = 500;

std::shared_ptr<RwLock<State>> make_lock(std::uint32_t max) {
  return std::make_shared<RwLock<State>>(RwLock<State>::with_max_readers_tag, max);
}

// The end of a run: every permit is back (try_write succeeds: no reader, writer or
// cancelled write kept any), the fields are consistent and hold the sum of the writes.
void check_end(RwLock<State>& lock, long written) {
  auto g = lock.try_write();
  WEFT_INVARIANT(g.is_ok());
  check_fields((*g)->fields);
  WEFT_INVARIANT((*g)->fields.a == written);
}

}  // namespace

// Threads use every way in; each counts what it added.
struct rwlock_mixed_threads {
  static constexpr int threads = 5;
  std::shared_ptr<RwLock<State>> lock = make_lock(max_readers);
  Occupancy occ{.max_readers = max_readers};
  stress::Tally written;
  std::uint64_t seed = stress::run_seed<rwlock_mixed_threads>("rwlock_mixed_threads");

  void thread(int index) {
    stress::Rng rng{seed, index};
    long mine = 0;
    const int n = stress::ops(ops_per_thread);
    for (int i = 0; i < n; ++i) {
      const long d = 1 + static_cast<long>(rng.below(3));
      switch (rng.below(12)) {
        case 0:
        case 1: {
          auto g = lock->blocking_read();
          read_section(g->fields, occ, rng);
          break;
        }
        case 2: {  // try_read: fails only while a writer holds or waits
          if (auto g = lock->try_read(); g.is_ok()) read_section((*g)->fields, occ, rng);
          break;
        }
        case 3: {  // owned reads, mapped
          if (rng.one_in(2)) {
            auto g = OwnedRwLockReadGuard<State>::map(
                RwLock<State>::blocking_read_owned(lock),
                [](const State& s) -> const Fields& { return s.fields; });
            read_section(*g, occ, rng);
          } else if (auto g = RwLock<State>::try_read_owned(lock); g.is_ok()) {
            read_section((*g)->fields, occ, rng);
          }
          break;
        }
        case 4: {  // read() / read_owned() futures, cancelled if still pending
          const int polls = 1 + static_cast<int>(rng.below(3));
          if (rng.one_in(2)) {
            if (auto g = stress::poll_then_cancel(lock->read(), polls)) {
              read_section((*g)->fields, occ, rng);
            }
          } else if (auto g = stress::poll_then_cancel(RwLock<State>::read_owned(lock), polls)) {
            read_section((*g)->fields, occ, rng);
          }
          break;
        }
        case 5: {  // a mapped read guard
          auto g = RwLockReadGuard<State>::map(
              lock->blocking_read(), [](const State& s) -> const Fields& { return s.fields; });
          read_section(*g, occ, rng);
          break;
        }
        case 6: {
          auto g = lock->blocking_write();
          write_section(g->fields, d, occ, rng);
          mine += d;
          break;
        }
        case 7: {  // try_write / try_write_owned
          if (rng.one_in(2)) {
            if (auto g = lock->try_write(); g.is_ok()) {
              write_section((*g)->fields, d, occ, rng);
              mine += d;
            }
          } else if (auto g = RwLock<State>::try_write_owned(lock); g.is_ok()) {
            write_section((*g)->fields, d, occ, rng);
            mine += d;
          }
          break;
        }
        case 8: {  // write() / write_owned() futures, cancelled halfway (permits gathered
                   // so far go back)
          const int polls = 1 + static_cast<int>(rng.below(3));
          if (rng.one_in(2)) {
            if (auto g = stress::poll_then_cancel(lock->write(), polls)) {
              write_section((*g)->fields, d, occ, rng);
              mine += d;
            }
          } else if (auto g = stress::poll_then_cancel(RwLock<State>::write_owned(lock), polls)) {
            write_section((*g)->fields, d, occ, rng);
            mine += d;
          }
          break;
        }
        case 9: {  // downgrade: no writer slips in between the write and the read
          auto w = lock->blocking_write();
          write_section(w->fields, d, occ, rng);
          mine += d;
          const long mine_now = w->fields.a;
          occ.readers.fetch_add(1, std::memory_order_relaxed);  // becoming a reader
          auto r = RwLockWriteGuard<State>::downgrade(std::move(w));
          rng.jitter(2);
          WEFT_INVARIANT(r->fields.a == mine_now);
          occ.exit_read();
          read_section(r->fields, occ, rng);
          break;
        }
        case 10: {  // owned write, into_mapped / map, then downgrade_map or downgrade
          if (rng.one_in(2)) {
            auto w = RwLock<State>::blocking_write_owned(lock);
            write_section(w->fields, d, occ, rng);
            mine += d;
            auto r = OwnedRwLockWriteGuard<State>::downgrade_map(
                std::move(w), [](const State& s) -> const Fields& { return s.fields; });
            read_section(*r, occ, rng);
          } else {
            auto w = RwLockWriteGuard<State>::into_mapped(lock->blocking_write());
            auto f = decltype(w)::map(std::move(w), [](State& s) -> Fields& { return s.fields; });
            write_section(*f, d, occ, rng);
            mine += d;
            auto r = decltype(f)::downgrade(std::move(f));
            read_section(*r, occ, rng);
          }
          break;
        }
        default: {  // a mapped write guard: try_map refused (guard back), then accepted
          auto w = RwLockWriteGuard<State>::try_map(lock->blocking_write(),
                                                    [](State&) -> Fields* { return nullptr; });
          WEFT_INVARIANT(w.is_err());
          auto f = RwLockWriteGuard<State>::try_map(std::move(w.error()),
                                                    [](State& s) -> Fields* { return &s.fields; });
          WEFT_INVARIANT(f.is_ok());
          write_section(**f, d, occ, rng);
          mine += d;
        }
      }
    }
    written.add(mine);
  }
  void check() { check_end(*lock, written.total()); }
};
WEFT_MODEL_SCENARIO(rwlock_mixed_threads, weft::model::random(1));

namespace {

// One task of rwlock_pool_tasks: reads and writes held across suspension points
// (stress::YieldNow: they may resume on the other worker), reads and writes with a
// timeout (stress::GiveUpAfter), plain reads. Returns what its writes added.
weft::Task<long> rw_task(std::shared_ptr<RwLock<State>> lock, Occupancy* occ, std::uint64_t seed,
                         int index, int n) {
  stress::Rng rng{seed, index};
  long mine = 0;
  for (int i = 0; i < n; ++i) {
    const long d = 1 + static_cast<long>(rng.below(3));
    switch (rng.below(5)) {
      case 0: {  // a read held across a suspension point (may resume on the other worker)
        auto g = co_await lock->read();
        occ->enter_read();
        check_fields(g->fields);
        stress::YieldNow y;
        co_await y;
        check_fields(g->fields);
        occ->exit_read();
        break;
      }
      case 1: {  // a write held across a suspension point, between two field updates
        auto g = co_await RwLock<State>::write_owned(lock);
        occ->enter_write();
        check_fields(g->fields);
        g->fields.a += d;
        g->fields.b += d;
        stress::YieldNow y;
        co_await y;
        g->fields.c += 2 * d;
        occ->exit_write();
        mine += d;
        break;
      }
      case 2: {  // a read with a timeout
        stress::GiveUpAfter<RwLock<State>::Read> f(lock->read(),
                                                   1 + static_cast<int>(rng.below(2)));
        if (auto g = co_await f) read_section((*g)->fields, *occ, rng);
        break;
      }
      case 3: {  // a write with a timeout: cancelled with some permits gathered
        stress::GiveUpAfter<RwLock<State>::Write> f(lock->write(),
                                                    1 + static_cast<int>(rng.below(3)));
        if (auto g = co_await f) {
          write_section((*g)->fields, d, *occ, rng);
          mine += d;
        }
        break;
      }
      default: {
        auto g = co_await lock->read();
        read_section(g->fields, *occ, rng);
      }
    }
  }
  co_return mine;
}

}  // namespace

// Tasks on a ThreadPool(2) and a plain thread share the lock; every task completes and
// the value is the sum of what they report.
struct rwlock_pool_tasks {
  static constexpr int threads = 2;
  static constexpr int tasks = 6;
  std::shared_ptr<RwLock<State>> lock = make_lock(max_readers);
  Occupancy occ{.max_readers = max_readers};
  stress::Tally written;
  std::uint64_t seed = stress::run_seed<rwlock_pool_tasks>("rwlock_pool_tasks");

  void thread(int index) {
    stress::Rng rng{seed, 100 + index};
    const int n = stress::ops(ops_per_thread / 8);
    if (index == 0) {
      written.add(stress::join_pool_tasks(2, tasks,
                                          [&](int t) { return rw_task(lock, &occ, seed, t, n); }));
    } else {
      long mine = 0;
      for (int i = 0; i < n * 2; ++i) {
        if (rng.one_in(3)) {
          auto g = lock->blocking_write();
          write_section(g->fields, 1, occ, rng);
          mine += 1;
        } else {
          auto g = lock->blocking_read();
          read_section(g->fields, occ, rng);
        }
      }
      written.add(mine);
    }
  }
  void check() { check_end(*lock, written.total()); }
};
WEFT_MODEL_SCENARIO(rwlock_pool_tasks, weft::model::random(1));

// Cancellation storm (model: cancel_write_while_reader_releases at scale): readers come
// and go while other threads queue write futures and drop them after a few polls, each
// having gathered part of the max_readers permits from the readers' releases. One thread
// writes for real. Permits must all come back: no reader or writer hangs, and the lock
// ends free with the value equal to the real writes.
struct rwlock_write_cancel_storm {
  static constexpr int threads = 4;
  static constexpr std::uint32_t max = 4;
  RwLock<State> lock{RwLock<State>::with_max_readers_tag, max};
  Occupancy occ{.max_readers = max};
  stress::Tally written;
  std::uint64_t seed = stress::run_seed<rwlock_write_cancel_storm>("rwlock_write_cancel_storm");

  void thread(int index) {
    stress::Rng rng{seed, index};
    const int n = stress::ops(ops_per_thread);
    long mine = 0;
    for (int i = 0; i < n; ++i) {
      if (index < 2) {  // readers, holding for a moment
        auto g = lock.blocking_read();
        read_section(g->fields, occ, rng);
      } else if (index == 2 && rng.one_in(4)) {  // the real writer
        auto g = lock.blocking_write();
        write_section(g->fields, 1, occ, rng);
        mine += 1;
      } else {  // cancelled writes (completed ones count)
        if (auto g = stress::poll_then_cancel(lock.write(), 1 + static_cast<int>(rng.below(3)))) {
          write_section((*g)->fields, 1, occ, rng);
          mine += 1;
        }
      }
    }
    written.add(mine);
  }
  void check() { check_end(lock, written.total()); }
};
WEFT_MODEL_SCENARIO(rwlock_write_cancel_storm, weft::model::random(1));

// Write preference and FIFO, spot check: while a read guard is held, thread 1 queues a
// write; from then on try_read fails and a new read() waits, and when the reader
// leaves, the writer goes first: the later read sees its value.
struct rwlock_write_preferring {
  static constexpr int threads = 2;
  RwLock<long> lock{0L};
  std::optional<RwLockReadGuard<long>> held;
  platform::atomic<int> queued{0};
  std::uint64_t seed = stress::run_seed<rwlock_write_preferring>("rwlock_write_preferring");

  void setup() { held.emplace(lock.blocking_read()); }
  void thread(int index) {
    stress::Rng rng{seed, index};
    if (index == 1) {
      weft::MockTask task;
      auto w = lock.write();
      WEFT_INVARIANT(task.poll(w).is_pending());   // `held` is a reader
      queued.store(1, std::memory_order_release);  // Release: pairs with the Acquire below
      rng.jitter(3);
      auto g = weft::block_on(w);
      *g = 42;
      return;
    }
    // Acquire: pairs with the Release store above (the write is queued).
    while (queued.load(std::memory_order_acquire) == 0) platform::yield_now();
    WEFT_INVARIANT(lock.try_read().is_err());  // a writer waits: no new readers
    weft::MockTask task;
    auto r = lock.read();
    WEFT_INVARIANT(task.poll(r).is_pending());
    rng.jitter(3);
    held.reset();  // the writer goes first
    auto g = weft::block_on(r);
    WEFT_INVARIANT(*g == 42);
  }
  void check() { WEFT_INVARIANT(lock.try_write().is_ok()); }
};
WEFT_MODEL_SCENARIO(rwlock_write_preferring, weft::model::random(1));

// Read-heavy, with the default max_readers (MAX_READS, about 5e8 permits): a write takes
// them all, gathered from the count and from every departing reader; cancelled writes
// must give back exactly what they gathered. Readers overlap freely.
struct rwlock_default_max {
  static constexpr int threads = 4;
  RwLock<State> lock;
  Occupancy occ{.max_readers = RwLock<State>::MAX_READS};
  stress::Tally written;
  std::uint64_t seed = stress::run_seed<rwlock_default_max>("rwlock_default_max");

  void thread(int index) {
    stress::Rng rng{seed, index};
    const int n = stress::ops(ops_per_thread / 2);
    long mine = 0;
    for (int i = 0; i < n; ++i) {
      if (index != 3 || rng.one_in(2)) {
        if (rng.one_in(4)) {
          if (auto g = lock.try_read(); g.is_ok()) read_section((*g)->fields, occ, rng);
        } else {
          auto g = lock.blocking_read();
          read_section(g->fields, occ, rng);
        }
      } else if (rng.one_in(3)) {
        if (auto g = stress::poll_then_cancel(lock.write(), 1 + static_cast<int>(rng.below(2)))) {
          write_section((*g)->fields, 1, occ, rng);
          mine += 1;
        }
      } else {
        auto g = lock.blocking_write();
        write_section(g->fields, 1, occ, rng);
        mine += 1;
      }
    }
    written.add(mine);
  }
  void check() { check_end(lock, written.total()); }
};
WEFT_MODEL_SCENARIO(rwlock_default_max, weft::model::random(1));
