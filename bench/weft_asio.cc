// weft/bench/weft_asio.cc: weft's bounded(1024) mpsc channel between two asio::awaitable
// coroutines on a 2-thread asio::thread_pool, through the asio adapter
// (interop/asio_ops.h): the asio_spsc workload, whose peer is asio's own
// experimental::concurrent_channel on the same pool (bench/peers/asio.cc).
#include "bench/harness.h"
#include "interop/asio_ops.h"
#include "sync/mpsc/bounded.h"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdint>
#include <future>
#include <optional>
#include <utility>

namespace {

// Coroutines take their state as parameters (copied into the frame), never as lambda
// captures: a lambda coroutine's captures die with the lambda object.
asio::awaitable<void> produce(weft::mpsc::Sender<uint64_t> tx, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    BENCH_CHECK((co_await weft::interop::async_send(tx, i, asio::use_awaitable)).is_ok());
  }
}

asio::awaitable<void> consume(weft::mpsc::Receiver<uint64_t> rx, std::promise<uint64_t>* done) {
  uint64_t sum = 0;
  while (std::optional<uint64_t> v = co_await weft::interop::async_recv(rx, asio::use_awaitable)) {
    sum += *v;
  }
  done->set_value(sum);
}

uint64_t weft_asio_spsc(uint64_t n) {
  asio::thread_pool pool(2);
  auto [tx, rx] = weft::mpsc::channel<uint64_t>(bench::kCapacity);
  std::promise<uint64_t> done;
  auto result = done.get_future();
  asio::co_spawn(pool, consume(std::move(rx), &done), asio::detached);
  asio::co_spawn(pool, produce(std::move(tx), n), asio::detached);
  BENCH_CHECK(result.get() == bench::sum_to(n));
  pool.join();
  return n;
}

}  // namespace

BENCH_WORKLOAD("asio_spsc", "weft", weft_asio_spsc);
