// weft/bench/peers/asio.cc: asio (libasio-dev 1.22): experimental::concurrent_channel
// between two C++20 coroutines on a 2-thread asio::thread_pool (asio_channel), and
// asio::post of trivial handlers on the same pool (asio_thread_pool, the spawn peer).
#include "bench/harness.h"

#include <asio.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <atomic>
#include <cstdint>
#include <future>

namespace {

using bench::kCapacity;
using bench::sum_to;

// ---- asio::experimental::concurrent_channel on a 2-thread asio::thread_pool ----------

using AsioChannel = asio::experimental::concurrent_channel<void(asio::error_code, uint64_t)>;

// Coroutines take their state as parameters (copied into the frame), never as lambda
// captures: a lambda coroutine's captures die with the lambda object.
asio::awaitable<void> asio_produce(AsioChannel* ch, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i)
    co_await ch->async_send(asio::error_code{}, i, asio::use_awaitable);
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
// The same run against weft inside asio coroutines (bench/weft_asio.cc).
BENCH_WORKLOAD("asio_spsc", "asio_channel", asio_channel_spsc);

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
