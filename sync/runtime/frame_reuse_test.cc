// Spawned tasks' frame blocks are reused (sync/task/frame_cache.h): a task spawning on one
// worker while the other worker runs and frees the tasks makes almost no allocation once
// warm (testing/counting_new.h counts the calls of the global operator new).
#include "sync/runtime/thread_pool.h"
#include "sync/task/frame_cache.h"
#include "sync/task/task.h"
#include "testing/counting_new.h"
#include "testing/yield_now.h"

#include <doctest/doctest.h>

#include "sync/platform/atomic.h"

namespace {

using weft::Task;
using weft::ThreadPool;

Task<void> trivial(weft::platform::atomic<int>* left) {
  left->fetch_sub(1, std::memory_order_acq_rel);
  co_return;
}

// `waves` rounds of `per_wave` detached spawns, each round waiting for the previous one
// to finish (so the frees of one round can serve the next, whatever the machine's load).
Task<void> spawner(ThreadPool* pool, int waves, int per_wave, weft::platform::atomic<int>* left) {
  for (int w = 0; w < waves; ++w) {
    for (int i = 0; i < per_wave; ++i) (void)pool->spawn(trivial(left));
    while (left->load(std::memory_order_acquire) > (waves - w - 1) * per_wave) {
      co_await weft::testing::YieldNow{};
    }
  }
}

void spawn_waves(ThreadPool& pool, int waves, int per_wave) {
  weft::platform::atomic<int> left{waves * per_wave};
  CHECK(pool.spawn(spawner(&pool, waves, per_wave, &left)).blocking_join().is_ok());
  // Acquire: pairs with the tasks' AcqRel decrements in trivial() (the join orders them too).
  CHECK(left.load(std::memory_order_acquire) == 0);
}

}  // namespace

TEST_CASE("frames_of_spawned_tasks_are_reused") {
  if (!weft::detail::FrameCache::enabled) {
    MESSAGE("FrameCache is off in this build (model or AddressSanitizer)");
    return;
  }
  ThreadPool pool(2);
  constexpr int waves = 40;
  constexpr int per_wave = 500;
  spawn_waves(pool, 4, per_wave);  // warm: the workers' lists and the shared stack fill
  const long before = weft::testing::allocations();
  spawn_waves(pool, waves, per_wave);
  const long made = weft::testing::allocations() - before;
  // Without the cache every spawn allocates its frame (20,000 calls); with it, only what
  // a burst needs beyond the blocks already in circulation.
  CHECK(made < waves * per_wave / 10);
}
