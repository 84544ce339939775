// weft/bench/peers/boost_fiber.cc: boost::fibers::buffered_channel (libboost-fiber-dev),
// capacity 1024 (it holds 1023), one fiber (the main one) per OS thread.
#include "bench/harness.h"

#include <boost/fiber/buffered_channel.hpp>
#include <boost/fiber/channel_op_status.hpp>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

using bench::kCapacity;
using bench::sum_to;

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

}  // namespace
