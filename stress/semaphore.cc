// Stress test of Semaphore (and so BatchSemaphore) on real threads: mixed batch
// acquires, try_acquires, cancelled acquires, permit add/forget pairs and a close
// midway. Invariants: never more permits held than exist; every permit comes back.
// Seeded and bounded: see stress/stress.h (WEFT_STRESS_SEED, WEFT_STRESS_SOAK).
#include "model/harness/scenario.h"
#include "stress/stress.h"
#include "sync/platform/platform.h"
#include "sync/semaphore.h"
#include "sync/task/mock_task.h"

#include <cstdint>
#include <optional>

namespace platform = weft::platform;
namespace stress = weft::stress;
using weft::Semaphore;

namespace {

const std::uint64_t seed_printed = stress::base_seed("semaphore");

constexpr std::size_t capacity = 5;
const int ops_per_thread = stress::ops(300);

// Holds n permits for a moment and checks the bound.
void use(platform::atomic<std::size_t>& held, std::size_t n) {
  const std::size_t now = held.fetch_add(n, std::memory_order_relaxed) + n;
  WEFT_INVARIANT(now <= capacity);
  platform::yield_now();
  held.fetch_sub(n, std::memory_order_relaxed);
}

}  // namespace

struct mixed_batches {
  static constexpr int threads = 4;
  Semaphore sem{capacity};
  platform::atomic<std::size_t> held{0};
  std::uint64_t seed = stress::run_seed<mixed_batches>("mixed_batches");

  void thread(int index) {
    stress::Rng rng{seed, index};
    weft::MockTask task;
    for (int i = 0; i < ops_per_thread; ++i) {
      const std::size_t n = 1 + rng.below(3);
      switch (rng.below(5)) {
        case 0:
        case 1: {
          auto p = sem.blocking_acquire_many(n);
          WEFT_INVARIANT(p.is_ok());
          use(held, n);
          break;
        }
        case 2: {
          auto p = sem.try_acquire_many(n);
          if (p.is_ok())
            use(held, n);
          else
            WEFT_INVARIANT(p.error() == weft::TryAcquireError::NoPermits);
          break;
        }
        case 3: {  // polled once, then cancelled (or used if it was ready)
          auto fut = sem.acquire_many(n);
          auto p = task.poll(fut);
          if (p.is_ready()) {
            WEFT_INVARIANT(p.value().is_ok());
            use(held, n);
          }
          break;
        }
        default: {  // split and merge a permit
          auto p = sem.blocking_acquire_many(2);
          WEFT_INVARIANT(p.is_ok());
          auto part = p->split(1);
          WEFT_INVARIANT(part.has_value());
          use(held, 2);
          p->merge(std::move(*part));
          WEFT_INVARIANT(p->num_permits() == 2);
        }
      }
    }
  }
  void check() { WEFT_INVARIANT(sem.available_permits() == capacity); }
};
WEFT_MODEL_SCENARIO(mixed_batches, weft::model::random(1));

// Acquirers loop until the semaphore closes; one thread acquires like them until the
// others have acquired a random number of times, then closes it midway (counted in
// acquisitions, not yields: a yield loop with three busy threads on two cores took 90 ms
// a run). Everyone stops (a waiter queued at
// the close is woken with an error), and every permit handed out comes back.
struct close_midway {
  static constexpr int threads = 4;
  Semaphore sem{2};
  platform::atomic<long> progress{0};
  std::uint64_t seed = stress::run_seed<close_midway>("close_midway");

  void thread(int index) {
    stress::Rng rng{seed, index};
    if (index == 0) {
      // Until the others have acquired `target` times (bounded, in case they never run).
      const long target = static_cast<long>(rng.below(200));
      for (int rounds = 0; rounds < 100000 && progress.load(std::memory_order_relaxed) < target;
           ++rounds) {
        auto p = sem.blocking_acquire_many(1 + rng.below(2));
        WEFT_INVARIANT(p.is_ok());  // only this thread closes
      }
      sem.close();
      WEFT_INVARIANT(sem.try_acquire_many(1).is_err());
      return;
    }
    for (;;) {
      auto p = sem.blocking_acquire_many(1 + rng.below(2));
      if (p.is_err()) break;
      progress.fetch_add(1, std::memory_order_relaxed);  // only a count
    }
    WEFT_INVARIANT(sem.is_closed());
  }
  void check() { WEFT_INVARIANT(sem.available_permits() == 2); }
};
WEFT_MODEL_SCENARIO(close_midway, weft::model::random(1));

// Permits are added and forgotten concurrently with acquirers: the count is conserved.
struct add_and_forget {
  static constexpr int threads = 3;
  Semaphore sem{3};
  std::uint64_t seed = stress::run_seed<add_and_forget>("add_and_forget");
  void thread(int index) {
    stress::Rng rng{seed, index};
    for (int i = 0; i < ops_per_thread; ++i) {
      rng.jitter(1);
      if (index == 0) {
        sem.add_permits(2);
        std::size_t left = 2;
        while (left > 0) {
          left -= sem.forget_permits(left);
          if (left > 0) platform::yield_now();
        }
      } else {
        auto p = sem.blocking_acquire_many(static_cast<std::size_t>(index));
        WEFT_INVARIANT(p.is_ok());
      }
    }
  }
  void check() { WEFT_INVARIANT(sem.available_permits() == 3); }
};
WEFT_MODEL_SCENARIO(add_and_forget, weft::model::random(1));
