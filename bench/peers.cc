// weft/bench/peers.cc: the C++ peers of weft's workloads, all from Debian's packages:
// std::mutex, std::counting_semaphore, std::shared_mutex, std::promise, std::binary_semaphore
// (libstdc++), moodycamel::BlockingConcurrentQueue (libconcurrentqueue-dev),
// boost::fibers::buffered_channel (libboost-fiber-dev), asio::experimental::concurrent_channel
// and asio::thread_pool (libasio-dev), and a plain spin ring: the ceiling for a bounded
// two-thread handoff (no parking at all, so it burns a core while it waits).
#include "bench/harness.h"

#include <asio.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <boost/fiber/buffered_channel.hpp>
#include <boost/fiber/channel_op_status.hpp>
#include <concurrentqueue/blockingconcurrentqueue.h>

#include <atomic>
#include <cstddef>
#include <future>
#include <memory>
#include <mutex>
#include <new>
#include <semaphore>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace {

using bench::kCapacity;
using bench::sum_to;

// ---- the spin ring: single producer, single consumer, bounded, never parks ------------

class SpinRing {
 public:
  explicit SpinRing(std::size_t capacity) : mask_(capacity - 1), slots_(capacity) {}

  void push(uint64_t v) {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    unsigned spins = 0;
    while (tail - head_cache_ > mask_) {
      // Acquire: pairs with the Release store of head_ in pop (the slot is free to reuse).
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) relax(spins);
    }
    slots_[tail & mask_] = v;
    // Release: pairs with the Acquire load of tail_ in pop (publishes the slot).
    tail_.store(tail + 1, std::memory_order_release);
  }

  uint64_t pop() {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    unsigned spins = 0;
    while (head == tail_cache_) {
      // Acquire: pairs with the Release store of tail_ in push.
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) relax(spins);
    }
    const uint64_t v = slots_[head & mask_];
    // Release: pairs with the Acquire load of head_ in push.
    head_.store(head + 1, std::memory_order_release);
    return v;
  }

 private:
  // Spin, and give the core away now and then: on a shared 2-core machine a ring that
  // never yields can spin out its whole time slice waiting for a descheduled peer.
  static void relax(unsigned& spins) {
    if (++spins % 128 == 0) {
      std::this_thread::yield();
    } else {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
  }

  const std::size_t mask_;
  std::vector<uint64_t> slots_;
  alignas(64) std::atomic<std::size_t> head_{0};  // next slot to read; written by pop
  std::size_t tail_cache_ = 0;                    // consumer's copy of tail_
  alignas(64) std::atomic<std::size_t> tail_{0};  // next slot to write; written by push
  std::size_t head_cache_ = 0;                    // producer's copy of head_
};

uint64_t spin_ring_spsc(uint64_t n) {
  SpinRing ring(kCapacity);
  std::thread producer([&] {
    for (uint64_t i = 0; i < n; ++i) ring.push(i);
  });
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) sum += ring.pop();
  producer.join();
  BENCH_CHECK(sum == sum_to(n));
  return n;
}
BENCH_WORKLOAD("mpsc_bounded_spsc_blocking", "spin_ring", spin_ring_spsc);
BENCH_WORKLOAD("mpsc_bounded_spsc_async", "spin_ring", spin_ring_spsc);

// ---- moodycamel::BlockingConcurrentQueue (unbounded: it grows instead of blocking) ------

uint64_t moodycamel_spsc(uint64_t n) {
  moodycamel::BlockingConcurrentQueue<uint64_t> q(kCapacity);
  std::thread producer([&] {
    moodycamel::ProducerToken token(q);
    for (uint64_t i = 0; i < n; ++i) q.enqueue(token, i);
  });
  moodycamel::ConsumerToken token(q);
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t v = 0;
    q.wait_dequeue(token, v);
    sum += v;
  }
  producer.join();
  BENCH_CHECK(sum == sum_to(n));
  return n;
}
BENCH_WORKLOAD("mpsc_bounded_spsc_blocking", "moodycamel", moodycamel_spsc);
BENCH_WORKLOAD("mpsc_unbounded_spsc", "moodycamel", moodycamel_spsc);

uint64_t moodycamel_4p1c(uint64_t n) {
  const uint64_t per = n / 4;
  moodycamel::BlockingConcurrentQueue<uint64_t> q(kCapacity);
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&] {
      moodycamel::ProducerToken token(q);
      for (uint64_t i = 0; i < per; ++i) q.enqueue(token, i);
    });
  }
  moodycamel::ConsumerToken token(q);
  uint64_t sum = 0;
  for (uint64_t i = 0; i < 4 * per; ++i) {
    uint64_t v = 0;
    q.wait_dequeue(token, v);
    sum += v;
  }
  for (auto& t : producers) t.join();
  BENCH_CHECK(sum == 4 * sum_to(per));
  return 4 * per;
}
BENCH_WORKLOAD("mpsc_bounded_4p1c", "moodycamel", moodycamel_4p1c);

// ---- boost::fibers::buffered_channel (capacity a power of two; holds capacity - 1) -----
// Each OS thread runs one fiber (its main one); a full or empty channel suspends it.

uint64_t boost_fiber_spsc(uint64_t n) {
  boost::fibers::buffered_channel<uint64_t> ch(kCapacity);
  std::thread producer([&] {
    for (uint64_t i = 0; i < n; ++i) ch.push(i);
    ch.close();
  });
  uint64_t sum = 0;
  uint64_t v = 0;
  while (ch.pop(v) == boost::fibers::channel_op_status::success) sum += v;
  producer.join();
  BENCH_CHECK(sum == sum_to(n));
  return n;
}
BENCH_WORKLOAD("mpsc_bounded_spsc_async", "boost_fiber", boost_fiber_spsc);

uint64_t boost_fiber_4p1c(uint64_t n) {
  const uint64_t per = n / 4;
  boost::fibers::buffered_channel<uint64_t> ch(kCapacity);
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&] {
      for (uint64_t i = 0; i < per; ++i) ch.push(i);
    });
  }
  uint64_t sum = 0;
  for (uint64_t i = 0; i < 4 * per; ++i) {
    uint64_t v = 0;
    BENCH_CHECK(ch.pop(v) == boost::fibers::channel_op_status::success);
    sum += v;
  }
  for (auto& t : producers) t.join();
  BENCH_CHECK(sum == 4 * sum_to(per));
  return 4 * per;
}
BENCH_WORKLOAD("mpsc_bounded_4p1c", "boost_fiber", boost_fiber_4p1c);

// ---- asio::experimental::concurrent_channel on a 2-thread asio::thread_pool ----------

using AsioChannel = asio::experimental::concurrent_channel<void(asio::error_code, uint64_t)>;

// Coroutines take their state as parameters (copied into the frame), never as lambda
// captures: a lambda coroutine's captures die with the lambda object.
asio::awaitable<void> asio_produce(AsioChannel* ch, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) co_await ch->async_send(asio::error_code{}, i, asio::use_awaitable);
}

asio::awaitable<void> asio_consume(AsioChannel* ch, uint64_t n, std::promise<uint64_t>* done) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) sum += co_await ch->async_receive(asio::use_awaitable);
  done->set_value(sum);
}

uint64_t asio_channel_spsc(uint64_t n) {
  asio::thread_pool pool(2);
  AsioChannel ch(pool.get_executor(), kCapacity);
  std::promise<uint64_t> done;
  auto result = done.get_future();
  asio::co_spawn(pool, asio_consume(&ch, n, &done), asio::detached);
  asio::co_spawn(pool, asio_produce(&ch, n), asio::detached);
  BENCH_CHECK(result.get() == sum_to(n));
  pool.join();
  return n;
}
BENCH_WORKLOAD("mpsc_bounded_spsc_async", "asio_channel", asio_channel_spsc);

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
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (uint64_t i = 0; i < per; ++i) {
        std::lock_guard<std::mutex> guard(m);
        ++counter;
      }
    });
  }
  for (auto& t : threads) t.join();
  BENCH_CHECK(counter == 4 * per);
  return 4 * per;
}
BENCH_WORKLOAD("mutex_contended_4", "std_mutex", std_mutex_contended);

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

// ---- asio::thread_pool(2): n trivial handlers posted from a pool thread ----------------

uint64_t asio_thread_pool_spawn(uint64_t n) {
  asio::thread_pool pool(2);
  std::atomic<uint64_t> left{n};
  std::promise<void> done;
  auto finished = done.get_future();
  asio::post(pool, [&] {
    for (uint64_t i = 0; i < n; ++i) {
      asio::post(pool, [&] {
        // AcqRel: the last decrement sees every earlier handler's effects.
        if (left.fetch_sub(1, std::memory_order_acq_rel) == 1) done.set_value();
      });
    }
  });
  finished.get();
  pool.join();
  return n;
}
BENCH_WORKLOAD("spawn", "asio_thread_pool", asio_thread_pool_spawn);

}  // namespace
