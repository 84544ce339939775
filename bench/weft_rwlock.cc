// weft/bench/weft_rwlock.cc: weft::RwLock workloads (sync/rwlock.h).
#include "bench/harness.h"
#include "bench/weft_support.h"
#include "sync/rwlock.h"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace {

weft::Task<void> reader(weft::RwLock<uint64_t>* lock, uint64_t reads, uint64_t* last) {
  for (uint64_t i = 0; i < reads; ++i) {
    auto guard = co_await lock->read();
    BENCH_CHECK(*guard >= *last);  // the value only grows
    *last = *guard;
  }
}

weft::Task<void> writer(weft::RwLock<uint64_t>* lock, uint64_t writes) {
  for (uint64_t i = 0; i < writes; ++i) {
    auto guard = co_await lock->write();
    ++*guard;
  }
}

// 4 reader tasks n/4 reads each, 1 writer task n/64 writes, on the 2-worker pool.
uint64_t weft_rwlock_read_heavy(uint64_t n) {
  const uint64_t reads = n / 4;
  const uint64_t writes = n / 64;
  weft::RwLock<uint64_t> lock(0);
  std::vector<uint64_t> last(4, 0);
  std::vector<weft::Task<void>> tasks;
  for (int r = 0; r < 4; ++r) tasks.push_back(reader(&lock, reads, &last[r]));
  tasks.push_back(writer(&lock, writes));
  bench::run_tasks(std::move(tasks));
  BENCH_CHECK(lock.get_mut() == writes);
  BENCH_CHECK(*std::max_element(last.begin(), last.end()) <= writes);
  return 4 * reads + writes;
}
BENCH_WORKLOAD("rwlock_read_heavy", "weft", weft_rwlock_read_heavy);

// One contender of the mixed workloads: `per` operations, 1 in bench::kWriteEvery a write.
weft::Task<void> mixed(weft::RwLock<uint64_t>* lock, uint64_t per) {
  uint64_t last = 0;
  for (uint64_t i = 0; i < per; ++i) {
    if (bench::is_write(i)) {
      ++*co_await lock->write();
    } else {
      auto guard = co_await lock->read();
      BENCH_CHECK(*guard >= last);
      last = *guard;
    }
  }
}

// 4 tasks on the 2-worker pool, n/4 operations each, 1 in 16 a write.
uint64_t weft_rwlock_contended(uint64_t n) {
  const uint64_t per = n / 4;
  weft::RwLock<uint64_t> lock(0);
  bench::run_tasks(4, [&] { return mixed(&lock, per); });
  BENCH_CHECK(lock.get_mut() == 4 * (per / bench::kWriteEvery));
  return 4 * per;
}
BENCH_WORKLOAD("rwlock_contended_4", "weft", weft_rwlock_contended);

// The same mix on 4 OS threads with blocking_read / blocking_write.
uint64_t weft_rwlock_blocking(uint64_t n) {
  const uint64_t per = n / 4;
  weft::RwLock<uint64_t> lock(0);
  bench::run_threads(4, [&] {
    bench::mixed_ops(
        per, [&] { return *lock.blocking_read(); }, [&] { ++*lock.blocking_write(); });
  });
  BENCH_CHECK(lock.get_mut() == 4 * (per / bench::kWriteEvery));
  return 4 * per;
}
BENCH_WORKLOAD("rwlock_blocking_4", "weft", weft_rwlock_blocking);

}  // namespace
