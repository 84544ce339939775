// Stress test of Semaphore (and so BatchSemaphore) on real threads: mixed batch
// acquires, try_acquires, cancelled acquires, permit add/forget pairs and a close
// midway. Invariants: never more permits held than exist; every permit comes back.
// Seeded: WEFT_STRESS_SEED=N replays a run; the seed is printed at start.
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"
#include "sync/semaphore.h"
#include "sync/task/mock_task.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

namespace platform = weft::platform;
using weft::Semaphore;

namespace {

std::uint64_t base_seed() {
  static const std::uint64_t seed = [] {
    const char* env = std::getenv("WEFT_STRESS_SEED");
    const std::uint64_t s =
        env != nullptr ? std::strtoull(env, nullptr, 10)
                       : static_cast<std::uint64_t>(
                             std::chrono::steady_clock::now().time_since_epoch().count());
    std::printf("stress/semaphore: WEFT_STRESS_SEED=%llu\n", static_cast<unsigned long long>(s));
    return s;
  }();
  return seed;
}
const std::uint64_t seed_printed = base_seed();
platform::atomic<std::uint64_t> run_counter{0};

struct Rng {
  std::uint64_t state;
  std::uint32_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>(state >> 33);
  }
};

constexpr std::size_t capacity = 5;
constexpr int ops_per_thread = 300;

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
  std::uint64_t seed = base_seed() + run_counter.fetch_add(1, std::memory_order_relaxed);

  void thread(int index) {
    Rng rng{seed * 31 + static_cast<std::uint64_t>(index)};
    weft::MockTask task;
    for (int i = 0; i < ops_per_thread; ++i) {
      const std::size_t n = 1 + rng.next() % 3;
      switch (rng.next() % 5) {
        case 0:
        case 1: {
          auto p = sem.blocking_acquire_many(n);
          WEFT_INVARIANT(p.is_ok());
          use(held, n);
          break;
        }
        case 2: {
          auto p = sem.try_acquire_many(n);
          if (p.is_ok()) use(held, n);
          else WEFT_INVARIANT(p.error() == weft::TryAcquireError::NoPermits);
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

// Acquirers loop until the semaphore closes; one thread closes it midway. Everyone
// stops, and every permit handed out comes back.
struct close_midway {
  static constexpr int threads = 4;
  Semaphore sem{2};
  std::uint64_t seed = base_seed() + run_counter.fetch_add(1, std::memory_order_relaxed);

  void thread(int index) {
    Rng rng{seed * 17 + static_cast<std::uint64_t>(index)};
    if (index == 0) {
      for (std::uint32_t spins = rng.next() % 200; spins > 0; --spins) platform::yield_now();
      sem.close();
      return;
    }
    for (;;) {
      auto p = sem.blocking_acquire_many(1 + rng.next() % 2);
      if (p.is_err()) break;
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
  void thread(int index) {
    for (int i = 0; i < ops_per_thread; ++i) {
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
