// weft/bench/weft_broadcast.cc: weft::broadcast workloads (sync/broadcast.h).
#include "bench/harness.h"
#include "bench/weft_support.h"
#include "sync/broadcast.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace {

using Sender = weft::broadcast::Sender<uint64_t>;
using Receiver = weft::broadcast::Receiver<uint64_t>;

weft::Task<void> send_all(Sender tx, uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) BENCH_CHECK(tx.send(i).is_ok());
  co_return;  // tx goes with the frame: the last Sender, so receivers see closed
}

// Receives until closed; a lagged receiver counts the values it skipped, so every
// receiver accounts for all n.
weft::Task<void> receive_all(Receiver rx, uint64_t* seen) {
  for (;;) {
    auto got = co_await rx.recv();
    if (got.is_ok()) {
      ++*seen;
    } else if (got.error().is_lagged()) {
      *seen += got.error().skipped();
    } else {
      break;
    }
  }
}

// Capacity 1024, 1 sender task -> 4 receiver tasks; ops = values sent.
uint64_t weft_broadcast_1to4(uint64_t n) {
  auto [tx, rx] = weft::broadcast::channel<uint64_t>(bench::kCapacity);
  std::vector<uint64_t> seen(4, 0);
  std::vector<weft::Task<void>> tasks;
  tasks.push_back(receive_all(std::move(rx), &seen[0]));
  for (int r = 1; r < 4; ++r) tasks.push_back(receive_all(tx.subscribe(), &seen[r]));
  tasks.push_back(send_all(std::move(tx), n));
  bench::run_tasks(std::move(tasks));
  for (uint64_t s : seen) BENCH_CHECK(s == n);
  return n;
}
BENCH_WORKLOAD("broadcast_1to4", "weft", weft_broadcast_1to4);

}  // namespace
