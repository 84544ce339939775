// Stress test of Mutex on real threads and on ThreadPool tasks: lock / try_lock /
// blocking_lock / lock_owned / mapped guards around two plain fields that must always be
// equal, lock futures cancelled after one or more polls, guards held across suspension
// points and dropped on another worker, and a FIFO spot check. Conservation: the final
// counter equals the sum of successful increments, and the lock is free at the end.
// Mirrors model/mutex.cc (mutual_exclusion, three_lockers, cancel_lock_during_unlock,
// try_lock_vs_holder, owned_guard_released_on_other_thread) at scale.
// Seeded and bounded: see stress/stress.h (WEFT_STRESS_SEED, WEFT_STRESS_SOAK).
#include "model/harness/scenario.h"
#include "stress/stress.h"
#include "sync/mutex.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "sync/task/task.h"
#include "sync/runtime/thread_pool.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace platform = weft::platform;
namespace stress = weft::stress;
using weft::Mutex;
using weft::MutexGuard;
using weft::OwnedMutexGuard;

namespace {

const std::uint64_t seed_printed = stress::base_seed("mutex");

// The protected value: a and b are plain fields, always equal outside a critical section.
// A second holder inside the section sees a != b (or loses an increment).
struct Pair {
  long a = 0;
  long b = 0;
};
struct State {
  Pair pair;
  long unused = 0;  // so that a guard can be mapped to a proper part
};

// One increment under a guard (anything with operator-> to a Pair): checks the invariant,
// lets the other threads run between the two writes, and counts who is inside.
template <class G>
void increment(G& pair, platform::atomic<int>& inside, stress::Rng& rng) {
  // Relaxed: only counts; exclusion is what is being tested, not what orders this.
  WEFT_INVARIANT(inside.fetch_add(1, std::memory_order_relaxed) == 0);
  WEFT_INVARIANT(pair->a == pair->b);
  pair->a += 1;
  if (rng.one_in(8)) platform::yield_now();
  pair->b += 1;
  WEFT_INVARIANT(inside.fetch_sub(1, std::memory_order_relaxed) == 1);
}

// Pair access through a guard of the whole State.
struct PairOf {
  State* s;
  Pair* operator->() const { return &s->pair; }
};

constexpr int ops_per_thread = 600;

// The end of a run: the lock is free (nobody holds it, no waiter or cancelled lock
// future left it taken) and both fields hold the sum of the increments.
void check_end(Mutex<State>& m, long increments) {
  auto g = m.try_lock();
  WEFT_INVARIANT(g.is_ok());
  WEFT_INVARIANT((*g)->pair.a == increments);
  WEFT_INVARIANT((*g)->pair.b == increments);
}

}  // namespace

// Threads lock the mutex every way there is; each counts its successful increments.
struct mutex_mixed_threads {
  static constexpr int threads = 4;
  std::shared_ptr<Mutex<State>> m = std::make_shared<Mutex<State>>();
  platform::atomic<int> inside{0};
  stress::Tally increments;
  std::uint64_t seed = stress::run_seed<mutex_mixed_threads>("mutex_mixed_threads");

  void thread(int index) {
    stress::Rng rng{seed, index};
    long mine = 0;
    const int n = stress::ops(ops_per_thread);
    for (int i = 0; i < n; ++i) {
      switch (rng.below(7)) {
        case 0: {
          auto g = m->blocking_lock();
          PairOf p{&*g};
          increment(p, inside, rng);
          ++mine;
          break;
        }
        case 1: {  // try_lock: fails only while someone holds or waits
          auto g = m->try_lock();
          if (g.is_ok()) {
            PairOf p{&**g};
            increment(p, inside, rng);
            ++mine;
          } else {
            WEFT_INVARIANT(g.error() == weft::TryLockError{});
          }
          break;
        }
        case 2: {  // lock() polled a few times, then cancelled if still pending
          auto g = stress::poll_then_cancel(m->lock(), 1 + static_cast<int>(rng.below(3)));
          if (g) {
            PairOf p{&**g};
            increment(p, inside, rng);
            ++mine;
          }
          break;
        }
        case 3: {  // owned guard, via blocking_lock_owned or try_lock_owned
          if (rng.one_in(2)) {
            OwnedMutexGuard<State> g = Mutex<State>::blocking_lock_owned(m);
            PairOf p{&*g};
            increment(p, inside, rng);
            ++mine;
          } else if (auto g = Mutex<State>::try_lock_owned(m); g.is_ok()) {
            PairOf p{&**g};
            increment(p, inside, rng);
            ++mine;
          }
          break;
        }
        case 4: {  // lock_owned() future, cancelled after a poll or completed
          auto g = stress::poll_then_cancel(Mutex<State>::lock_owned(m),
                                            1 + static_cast<int>(rng.below(2)));
          if (g) {
            PairOf p{&**g};
            increment(p, inside, rng);
            ++mine;
          }
          break;
        }
        case 5: {  // mapped guards: map, map again, try_map (refused, then accepted), owned
          if (rng.one_in(2)) {
            auto whole =
                MutexGuard<State>::map(m->blocking_lock(), [](State& s) -> State& { return s; });
            auto refused =
                decltype(whole)::try_map(std::move(whole), [](State&) -> Pair* { return nullptr; });
            WEFT_INVARIANT(refused.is_err());  // the guard comes back, still locked
            auto pair = decltype(whole)::try_map(std::move(refused.error()),
                                                 [](State& s) -> Pair* { return &s.pair; });
            WEFT_INVARIANT(pair.is_ok());
            increment(*pair, inside, rng);
          } else {
            auto g = OwnedMutexGuard<State>::map(Mutex<State>::blocking_lock_owned(m),
                                                 [](State& s) -> Pair& { return s.pair; });
            increment(g, inside, rng);
          }
          ++mine;
          break;
        }
        default: {  // blocking_lock with the guard moved around before it unlocks
          std::optional<MutexGuard<State>> held;
          held.emplace(m->blocking_lock());
          MutexGuard<State> moved = std::move(*held);
          held.reset();  // a moved-from guard unlocks nothing
          PairOf p{&*moved};
          increment(p, inside, rng);
          ++mine;
        }
      }
    }
    increments.add(mine);
  }
  void check() { check_end(*m, increments.total()); }
};
WEFT_MODEL_SCENARIO(mutex_mixed_threads, weft::model::random(1));

namespace {

// One task of mutex_pool_tasks: the guard held across suspension points (stress::YieldNow:
// it may resume on the other worker), lock with a timeout (stress::GiveUpAfter), owned
// lock, try_lock. Returns its successful increments.
weft::Task<long> locker_task(std::shared_ptr<Mutex<State>> m, platform::atomic<int>* inside,
                             std::uint64_t seed, int index, int n) {
  stress::Rng rng{seed, index};
  long mine = 0;
  for (int i = 0; i < n; ++i) {
    switch (rng.below(4)) {
      case 0: {  // hold the guard across suspension points
        auto g = co_await m->lock();
        WEFT_INVARIANT(inside->fetch_add(1, std::memory_order_relaxed) == 0);
        WEFT_INVARIANT(g->pair.a == g->pair.b);
        g->pair.a += 1;
        stress::YieldNow y;
        co_await y;  // may resume on the other worker, still holding the lock
        g->pair.b += 1;
        WEFT_INVARIANT(inside->fetch_sub(1, std::memory_order_relaxed) == 1);
        ++mine;
        break;
      }
      case 1: {  // a lock with a timeout: cancelled while queued, maybe while handed over
        stress::GiveUpAfter<Mutex<State>::Lock> f(m->lock(), 1 + static_cast<int>(rng.below(3)));
        auto g = co_await f;
        if (g) {
          PairOf p{&**g};
          increment(p, *inside, rng);
          ++mine;
        }
        break;
      }
      case 2: {
        auto g = co_await Mutex<State>::lock_owned(m);
        PairOf p{&*g};
        increment(p, *inside, rng);
        ++mine;
        break;
      }
      default: {
        if (auto g = m->try_lock(); g.is_ok()) {
          PairOf p{&**g};
          increment(p, *inside, rng);
          ++mine;
        }
        stress::YieldNow y;
        co_await y;
      }
    }
  }
  co_return mine;
}

}  // namespace

// Tasks on a ThreadPool(2) and plain threads contend for the same mutex. Every task
// completes (none lost) and the counter is the sum of what each reports.
struct mutex_pool_tasks {
  static constexpr int threads = 2;
  static constexpr int tasks = 6;
  std::shared_ptr<Mutex<State>> m = std::make_shared<Mutex<State>>();
  platform::atomic<int> inside{0};
  stress::Tally increments;
  std::uint64_t seed = stress::run_seed<mutex_pool_tasks>("mutex_pool_tasks");

  void thread(int index) {
    stress::Rng rng{seed, 100 + index};
    const int n = stress::ops(ops_per_thread / 8);
    if (index == 0) {
      increments.add(stress::join_pool_tasks(
          2, tasks, [&](int t) { return locker_task(m, &inside, seed, t, n); }));
    } else {
      long mine = 0;
      for (int i = 0; i < n * 2; ++i) {
        auto g = m->blocking_lock();
        PairOf p{&*g};
        increment(p, inside, rng);
        ++mine;
      }
      increments.add(mine);
    }
  }
  void check() { check_end(*m, increments.total()); }
};
WEFT_MODEL_SCENARIO(mutex_pool_tasks, weft::model::random(1));

// Cancellation storm (model: cancel_lock_during_unlock at scale): one thread locks and
// unlocks in a loop while the others enqueue lock futures and drop them after a random
// number of polls, often just as the unlock hands them the lock. A lock handed to a
// cancelled future must be passed on: the holder never hangs and the lock ends free.
struct mutex_cancel_storm {
  static constexpr int threads = 4;
  Mutex<State> m;
  platform::atomic<int> inside{0};
  stress::Tally increments;
  std::uint64_t seed = stress::run_seed<mutex_cancel_storm>("mutex_cancel_storm");

  void thread(int index) {
    stress::Rng rng{seed, index};
    const int n = stress::ops(ops_per_thread);
    long mine = 0;
    for (int i = 0; i < n; ++i) {
      if (index == 0) {
        auto g = m.blocking_lock();
        PairOf p{&*g};
        increment(p, inside, rng);
        ++mine;
        rng.jitter(2);
      } else if (auto g =
                     stress::poll_then_cancel(m.lock(), 1 + static_cast<int>(rng.below(3)), &rng)) {
        PairOf p{&**g};
        increment(p, inside, rng);
        ++mine;
      }  // else the lock future was dropped pending: cancelled
    }
    increments.add(mine);
  }
  void check() { check_end(m, increments.total()); }
};
WEFT_MODEL_SCENARIO(mutex_cancel_storm, weft::model::random(1));

// FIFO spot check: while thread 0 holds the lock, thread 1 queues `waiters` lock futures
// in order and then tells thread 0, which releases and queues behind them with
// blocking_lock. Thread 1 takes the guards in queue order: while it holds guard i, guard
// i + 1 is not ready and try_lock fails (nobody barges). Thread 0 gets the lock only
// after every earlier waiter was served.
struct mutex_fifo {
  static constexpr int threads = 2;
  static constexpr int waiters = 8;
  Mutex<long> m{0};
  std::optional<MutexGuard<long>> first;
  platform::atomic<int> queued{0};
  std::uint64_t seed = stress::run_seed<mutex_fifo>("mutex_fifo");

  void setup() { first.emplace(m.blocking_lock()); }
  void thread(int index) {
    stress::Rng rng{seed, index};
    if (index == 0) {
      // Acquire: pairs with the Release store below (thread 1's futures are queued).
      while (queued.load(std::memory_order_acquire) == 0) platform::yield_now();
      rng.jitter(3);
      first.reset();
      auto g = m.blocking_lock();  // queued behind every waiter
      WEFT_INVARIANT(*g == waiters);
      return;
    }
    std::vector<weft::MockTask> tasks(waiters);
    std::vector<std::optional<Mutex<long>::Lock>> futs(waiters);
    for (int i = 0; i < waiters; ++i) {
      futs[i].emplace(m.lock());
      WEFT_INVARIANT(tasks[i].poll(*futs[i]).is_pending());  // `first` is held
    }
    queued.store(1, std::memory_order_release);  // Release: pairs with the Acquire above
    for (int i = 0; i < waiters; ++i) {
      MutexGuard<long> g = weft::block_on(*futs[i]);
      WEFT_INVARIANT(*g == i);
      *g += 1;
      if (i + 1 < waiters) {
        WEFT_INVARIANT(tasks[i + 1].poll(*futs[i + 1]).is_pending());
        WEFT_INVARIANT(m.try_lock().is_err());
      }
      rng.jitter(2);
    }
  }
  void check() {
    auto g = m.try_lock();
    WEFT_INVARIANT(g.is_ok() && **g == waiters);
  }
};
WEFT_MODEL_SCENARIO(mutex_fifo, weft::model::random(1));

// Guards released on another thread (model: owned_guard_released_on_other_thread at
// scale): producers lock (plain or owned), do the first half of an increment, and hand
// the guard through a mailbox; the consumer finishes the increment and drops the guard
// on its own thread. The lock passes on each time; no increment is lost.
struct mutex_guard_handoff {
  static constexpr int threads = 3;
  static constexpr int producers = 2;
  std::shared_ptr<Mutex<State>> m = std::make_shared<Mutex<State>>();
  platform::mutex mailbox_lock;
  // Protected by mailbox_lock: at most one guard in flight (the mutex is held meanwhile).
  std::optional<MutexGuard<State>> plain_box;
  std::optional<OwnedMutexGuard<State>> owned_box;
  platform::atomic<int> inside{0};
  platform::atomic<int> producers_done{0};
  stress::Tally increments;
  std::uint64_t seed = stress::run_seed<mutex_guard_handoff>("mutex_guard_handoff");

  void thread(int index) {
    stress::Rng rng{seed, index};
    const int n = stress::ops(ops_per_thread / 8);
    if (index < producers) {
      for (int i = 0; i < n; ++i) {
        const bool owned = rng.one_in(2);
        std::optional<MutexGuard<State>> g;
        std::optional<OwnedMutexGuard<State>> og;
        State* s;
        if (owned) {
          og.emplace(Mutex<State>::blocking_lock_owned(m));
          s = &**og;
        } else {
          g.emplace(m->blocking_lock());
          s = &**g;
        }
        // Relaxed: a count; exclusion is what is checked.
        WEFT_INVARIANT(inside.fetch_add(1, std::memory_order_relaxed) == 0);
        WEFT_INVARIANT(s->pair.a == s->pair.b);
        s->pair.a += 1;
        platform::mutex_guard box(mailbox_lock);
        if (owned) {
          WEFT_INVARIANT(!owned_box.has_value());
          owned_box = std::move(og);
        } else {
          WEFT_INVARIANT(!plain_box.has_value());
          plain_box = std::move(g);
        }
      }
      // Release: pairs with the Acquire load below (the consumer's): all guards are boxed.
      producers_done.fetch_add(1, std::memory_order_release);
      return;
    }
    long finished = 0;
    for (;;) {
      std::optional<MutexGuard<State>> g;
      std::optional<OwnedMutexGuard<State>> og;
      // Acquire: pairs with the producers' Release above (read before looking in the box).
      const bool last = producers_done.load(std::memory_order_acquire) == producers;
      {
        platform::mutex_guard box(mailbox_lock);
        g = std::move(plain_box);
        plain_box.reset();
        og = std::move(owned_box);
        owned_box.reset();
      }
      WEFT_INVARIANT(!(g && og));  // the mutex is held by one of them at most
      State* s = g ? &**g : og ? &**og : nullptr;
      if (s == nullptr) {
        if (last) break;
        platform::yield_now();
        continue;
      }
      rng.jitter(1);
      s->pair.b += 1;
      WEFT_INVARIANT(inside.fetch_sub(1, std::memory_order_relaxed) == 1);
      ++finished;
      // g / og unlock here, on this thread
    }
    increments.add(finished);
  }
  void check() {
    const long total = increments.total();
    WEFT_INVARIANT(total == producers * stress::ops(ops_per_thread / 8));
    check_end(*m, total);
  }
};
WEFT_MODEL_SCENARIO(mutex_guard_handoff, weft::model::random(1));
