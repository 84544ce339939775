// weft/bench/weft_mpsc_unbounded.cc: weft::mpsc unbounded channel workloads
// (sync/mpsc/unbounded.h).
#include "bench/harness.h"
#include "bench/weft_support.h"
#include "sync/mpsc/unbounded.h"

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace {

weft::Task<void> produce(weft::mpsc::UnboundedSender<uint64_t> tx, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) BENCH_CHECK(tx.send(i).is_ok());
  co_return;  // tx goes with the frame: the channel closes for the consumer
}

weft::Task<void> consume(weft::mpsc::UnboundedReceiver<uint64_t>* rx, uint64_t* sum) {
  for (;;) {
    std::optional<uint64_t> v = co_await rx->recv();
    if (!v) break;
    *sum += *v;
  }
}

// 1 producer task -> 1 consumer task, n values.
uint64_t weft_unbounded_spsc(uint64_t n) {
  auto [tx, rx] = weft::mpsc::unbounded_channel<uint64_t>();
  uint64_t sum = 0;
  std::vector<weft::Task<void>> tasks;
  tasks.push_back(consume(&rx, &sum));
  tasks.push_back(produce(std::move(tx), n));
  bench::run_tasks(std::move(tasks));
  BENCH_CHECK(sum == bench::sum_to(n));
  return n;
}
BENCH_WORKLOAD("mpsc_unbounded_spsc", "weft", weft_unbounded_spsc);

}  // namespace
