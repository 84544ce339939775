// weft/bench/peers/spin_ring.cc: a plain single-producer single-consumer ring of 1024
// slots that never parks (it yields the core every 128 spins): the ceiling for a bounded
// two-thread handoff, and the spin_ring column of the bounded SPSC workloads. It burns a
// core while it waits.
#include "bench/harness.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
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

}  // namespace
