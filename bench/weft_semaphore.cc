// weft/bench/weft_semaphore.cc: weft::Semaphore workloads (sync/semaphore.h).
#include "bench/harness.h"
#include "bench/weft_support.h"
#include "sync/semaphore.h"

#include <cstdint>

namespace {

weft::Task<uint64_t> acquire_release(weft::Semaphore* sem, uint64_t n) {
  uint64_t got = 0;
  for (uint64_t i = 0; i < n; ++i) {
    auto permit = co_await sem->acquire();
    got += permit.is_ok() ? 1 : 0;
  }  // each permit goes back at the end of its iteration
  co_return got;
}

// acquire(1) (co_await) + release, n times, in one task on the calling thread.
uint64_t weft_semaphore_uncontended(uint64_t n) {
  weft::Semaphore sem(1);
  BENCH_CHECK(weft::block_on(acquire_release(&sem, n)) == n);
  BENCH_CHECK(sem.available_permits() == 1);
  return n;
}
BENCH_WORKLOAD("semaphore_uncontended", "weft", weft_semaphore_uncontended);

}  // namespace
