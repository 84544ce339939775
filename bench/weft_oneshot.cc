// weft/bench/weft_oneshot.cc: weft::oneshot workloads (sync/oneshot.h).
#include "bench/harness.h"
#include "bench/weft_support.h"
#include "sync/oneshot.h"

#include <cstdint>
#include <utility>

namespace {

weft::Task<uint64_t> create_send_recv(uint64_t n) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    auto [tx, rx] = weft::oneshot::channel<uint64_t>();
    BENCH_CHECK(std::move(tx).send(i).is_ok());
    auto got = co_await rx;
    BENCH_CHECK(got.is_ok());
    sum += got.value();
  }
  co_return sum;
}

// create + send + receive (co_await), n times, in one task on the calling thread.
uint64_t weft_oneshot(uint64_t n) {
  BENCH_CHECK(weft::block_on(create_send_recv(n)) == bench::sum_to(n));
  return n;
}
BENCH_WORKLOAD("oneshot", "weft", weft_oneshot);

}  // namespace
