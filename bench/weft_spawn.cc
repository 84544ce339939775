// weft/bench/weft_spawn.cc: task spawn + complete on weft::ThreadPool
// (sync/runtime/thread_pool.h).
#include "bench/harness.h"
#include "bench/weft_support.h"
#include "sync/notify.h"
#include "sync/runtime/thread_pool.h"

#include "sync/platform/atomic.h"
#include <cstdint>

namespace {

weft::Task<void> trivial(weft::platform::atomic<uint64_t>* left, weft::Notify* done) {
  // AcqRel: the last decrement sees every earlier task's effects.
  if (left->fetch_sub(1, std::memory_order_acq_rel) == 1) done->notify_one();
  co_return;
}

// Spawns from inside a task, as Tokio's workload spawns from a worker; each JoinHandle is
// dropped at once (the task is detached, as in Tokio).
weft::Task<void> spawner(weft::ThreadPool* pool, uint64_t n, weft::platform::atomic<uint64_t>* left,
                         weft::Notify* done) {
  for (uint64_t i = 0; i < n; ++i) (void)pool->spawn(trivial(left, done));
  co_return;
}

// n trivial tasks on a 2-worker pool, timed until the last one has run.
uint64_t weft_spawn(uint64_t n) {
  weft::ThreadPool pool(bench::kWorkers);
  weft::platform::atomic<uint64_t> left{n};
  weft::Notify done;
  (void)pool.spawn(spawner(&pool, n, &left, &done));
  // Acquire: pairs with the AcqRel decrements in trivial().
  while (left.load(std::memory_order_acquire) != 0) weft::block_on(done.notified());
  return n;
}
BENCH_WORKLOAD("spawn", "weft", weft_spawn);

}  // namespace
