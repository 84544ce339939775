// weft/bench/weft_mutex.cc: weft::Mutex workloads (sync/mutex.h).
#include "bench/harness.h"
#include "bench/weft_support.h"
#include "sync/mutex.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace {

weft::Task<void> lock_increment(weft::Mutex<uint64_t>* m, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    auto guard = co_await m->lock();
    ++*guard;
  }  // unlocked at the end of each iteration
}

// lock (co_await) + increment + unlock, n times, in one task on the calling thread.
uint64_t weft_mutex_uncontended(uint64_t n) {
  weft::Mutex<uint64_t> m(0);
  weft::block_on(lock_increment(&m, n));
  BENCH_CHECK(m.get_mut() == n);
  return n;
}
BENCH_WORKLOAD("mutex_uncontended", "weft", weft_mutex_uncontended);

// 4 tasks each lock + increment + unlock n/4 times.
uint64_t weft_mutex_contended(uint64_t n) {
  const uint64_t per = n / 4;
  weft::Mutex<uint64_t> m(0);
  bench::run_tasks(4, [&] { return lock_increment(&m, per); });
  BENCH_CHECK(m.get_mut() == 4 * per);
  return 4 * per;
}
BENCH_WORKLOAD("mutex_contended_4", "weft", weft_mutex_contended);

// 4 OS threads each blocking_lock + increment + unlock n/4 times.
uint64_t weft_mutex_blocking(uint64_t n) {
  const uint64_t per = n / 4;
  weft::Mutex<uint64_t> m(0);
  bench::run_threads(4, [&] {
    for (uint64_t i = 0; i < per; ++i) ++*m.blocking_lock();
  });
  BENCH_CHECK(m.get_mut() == 4 * per);
  return 4 * per;
}
BENCH_WORKLOAD("mutex_blocking_4", "weft", weft_mutex_blocking);

}  // namespace
