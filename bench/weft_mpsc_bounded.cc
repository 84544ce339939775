// weft/bench/weft_mpsc_bounded.cc: weft::mpsc bounded channel workloads
// (sync/mpsc/bounded.h), capacity 1024.
#include "bench/harness.h"
#include "bench/weft_support.h"
#include "sync/mpsc/bounded.h"

#include <cstdint>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace {

using Sender = weft::mpsc::Sender<uint64_t>;
using Receiver = weft::mpsc::Receiver<uint64_t>;

weft::Task<void> produce(Sender tx, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) BENCH_CHECK((co_await tx.send(i)).is_ok());
  co_return;  // tx goes with the frame
}

weft::Task<void> consume(Receiver* rx, uint64_t* sum) {
  for (;;) {
    std::optional<uint64_t> v = co_await rx->recv();
    if (!v) break;
    *sum += *v;
  }
}

// 1 producer task -> 1 consumer task, send().await / recv().await.
uint64_t weft_bounded_spsc_async(uint64_t n) {
  auto [tx, rx] = weft::mpsc::channel<uint64_t>(bench::kCapacity);
  uint64_t sum = 0;
  std::vector<weft::Task<void>> tasks;
  tasks.push_back(consume(&rx, &sum));
  tasks.push_back(produce(std::move(tx), n));
  bench::run_tasks(std::move(tasks));
  BENCH_CHECK(sum == bench::sum_to(n));
  return n;
}
BENCH_WORKLOAD("mpsc_bounded_spsc_async", "weft", weft_bounded_spsc_async);

// blocking_send / blocking_recv on 2 OS threads.
uint64_t weft_bounded_spsc_blocking(uint64_t n) {
  auto [tx, rx] = weft::mpsc::channel<uint64_t>(bench::kCapacity);
  std::thread producer([tx = std::move(tx), n] {
    for (uint64_t i = 0; i < n; ++i) BENCH_CHECK(tx.blocking_send(i).is_ok());
  });
  uint64_t sum = 0;
  while (std::optional<uint64_t> v = rx.blocking_recv()) sum += *v;
  producer.join();
  BENCH_CHECK(sum == bench::sum_to(n));
  return n;
}
BENCH_WORKLOAD("mpsc_bounded_spsc_blocking", "weft", weft_bounded_spsc_blocking);

// 4 producer tasks -> 1 consumer task; ops = messages.
uint64_t weft_bounded_4p1c(uint64_t n) {
  const uint64_t per = n / 4;
  auto [tx, rx] = weft::mpsc::channel<uint64_t>(bench::kCapacity);
  uint64_t sum = 0;
  std::vector<weft::Task<void>> tasks;
  tasks.push_back(consume(&rx, &sum));
  for (int p = 0; p < 3; ++p) tasks.push_back(produce(tx, per));
  tasks.push_back(produce(std::move(tx), per));
  bench::run_tasks(std::move(tasks));
  BENCH_CHECK(sum == 4 * bench::sum_to(per));
  return 4 * per;
}
BENCH_WORKLOAD("mpsc_bounded_4p1c", "weft", weft_bounded_4p1c);

}  // namespace
