// weft/bench/peers/std_sync.cc: the libstdc++ 12 peers: std::mutex, std::counting_semaphore,
// std::shared_mutex, std::promise / std::future (as a oneshot) and std::binary_semaphore
// (ping-pong). libstdc++ 12's counting_semaphore::release makes a futex wake call every
// time, which is why it is slow uncontended.
#include "bench/harness.h"

#include <cstdint>
#include <future>
#include <mutex>
#include <semaphore>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace {

using bench::sum_to;

// ---- std::mutex ----------------------------------------------------------------------

uint64_t std_mutex_uncontended(uint64_t n) {
  std::mutex m;
  uint64_t counter = 0;
  for (uint64_t i = 0; i < n; ++i) {
    m.lock();
    ++counter;
    m.unlock();
  }
  BENCH_CHECK(counter == n);
  return n;
}
BENCH_WORKLOAD("mutex_uncontended", "std_mutex", std_mutex_uncontended);

uint64_t std_mutex_contended(uint64_t n) {
  const uint64_t per = n / 4;
  std::mutex m;
  uint64_t counter = 0;
  bench::run_threads(4, [&] {
    for (uint64_t i = 0; i < per; ++i) {
      std::lock_guard<std::mutex> guard(m);
      ++counter;
    }
  });
  BENCH_CHECK(counter == 4 * per);
  return 4 * per;
}
BENCH_WORKLOAD("mutex_contended_4", "std_mutex", std_mutex_contended);
// The same on 4 threads is the peer of weft's blocking_lock.
BENCH_WORKLOAD("mutex_blocking_4", "std_mutex", std_mutex_contended);

// ---- std::counting_semaphore ---------------------------------------------------------

uint64_t std_semaphore_uncontended(uint64_t n) {
  std::counting_semaphore<> s(1);
  for (uint64_t i = 0; i < n; ++i) {
    s.acquire();
    s.release();
  }
  BENCH_CHECK(s.try_acquire());
  return n;
}
BENCH_WORKLOAD("semaphore_uncontended", "std_semaphore", std_semaphore_uncontended);

// ---- std::shared_mutex: 4 reader threads do n/4 reads each, 1 writer does n/64 writes --

uint64_t std_shared_mutex_read_heavy(uint64_t n) {
  const uint64_t reads = n / 4;
  const uint64_t writes = n / 64;
  std::shared_mutex m;
  uint64_t value = 0;
  std::vector<std::thread> threads;
  for (int r = 0; r < 4; ++r) {
    threads.emplace_back([&] {
      uint64_t last = 0;
      for (uint64_t i = 0; i < reads; ++i) {
        std::shared_lock<std::shared_mutex> guard(m);
        BENCH_CHECK(value >= last);
        last = value;
      }
    });
  }
  threads.emplace_back([&] {
    for (uint64_t i = 0; i < writes; ++i) {
      std::unique_lock<std::shared_mutex> guard(m);
      ++value;
    }
  });
  for (auto& t : threads) t.join();
  BENCH_CHECK(value == writes);
  return 4 * reads + writes;
}
BENCH_WORKLOAD("rwlock_read_heavy", "std_shared_mutex", std_shared_mutex_read_heavy);

// ---- std::shared_mutex: 4 threads, n/4 operations each, 1 in 16 a write ---------------

uint64_t std_shared_mutex_mixed(uint64_t n) {
  const uint64_t per = n / 4;
  std::shared_mutex m;
  uint64_t value = 0;
  bench::run_threads(4, [&] {
    bench::mixed_ops(
        per,
        [&] {
          std::shared_lock<std::shared_mutex> guard(m);
          return value;
        },
        [&] {
          std::unique_lock<std::shared_mutex> guard(m);
          ++value;
        });
  });
  BENCH_CHECK(value == 4 * (per / bench::kWriteEvery));
  return 4 * per;
}
BENCH_WORKLOAD("rwlock_blocking_4", "std_shared_mutex", std_shared_mutex_mixed);

// ---- std::promise / std::future as a oneshot -----------------------------------------

uint64_t std_promise_oneshot(uint64_t n) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    std::promise<uint64_t> p;
    auto f = p.get_future();
    p.set_value(i);
    sum += f.get();
  }
  BENCH_CHECK(sum == sum_to(n));
  return n;
}
BENCH_WORKLOAD("oneshot", "std_promise", std_promise_oneshot);

// ---- std::binary_semaphore ping-pong between two threads: n notifications in all ------

uint64_t std_semaphore_pingpong(uint64_t n) {
  const uint64_t rounds = n / 2;
  std::binary_semaphore ping(0);
  std::binary_semaphore pong(0);
  std::thread other([&] {
    for (uint64_t i = 0; i < rounds; ++i) {
      ping.acquire();
      pong.release();
    }
  });
  for (uint64_t i = 0; i < rounds; ++i) {
    ping.release();
    pong.acquire();
  }
  other.join();
  return 2 * rounds;
}
BENCH_WORKLOAD("notify_pingpong", "std_binary_semaphore", std_semaphore_pingpong);

}  // namespace
