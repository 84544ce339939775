// weft/bench/peers/moodycamel.cc: moodycamel::BlockingConcurrentQueue
// (libconcurrentqueue-dev) with producer and consumer tokens. It is unbounded (it grows
// instead of blocking a producer), so in the bounded rows it is a reference, not a
// like-for-like peer.
#include "bench/harness.h"

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

using bench::kCapacity;
using bench::sum_to;

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

}  // namespace
