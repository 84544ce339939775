// weft/bench/weft_watch.cc: weft::watch workloads (sync/watch.h).
#include "bench/harness.h"
#include "bench/weft_support.h"
#include "sync/watch.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace {

weft::Task<void> send_all(weft::watch::Sender<uint64_t> tx, uint64_t n) {
  for (uint64_t i = 1; i <= n; ++i) BENCH_CHECK(tx.send(i).is_ok());
  co_return;
}

// Waits for changes until it has seen n; values only grow.
weft::Task<void> watch_until(weft::watch::Receiver<uint64_t> rx, uint64_t n, uint64_t* last) {
  while (*last < n) {
    if ((co_await rx.changed()).is_err()) break;
    const uint64_t v = *rx.borrow();
    BENCH_CHECK(v >= *last);
    *last = v;
  }
}

// 1 sender task sends 1..n; 4 receiver tasks wait for changes; ops = sends.
uint64_t weft_watch_4rx(uint64_t n) {
  auto [tx, rx] = weft::watch::channel<uint64_t>(0);
  std::vector<uint64_t> last(4, 0);
  std::vector<weft::Task<void>> tasks;
  for (int r = 0; r < 4; ++r) tasks.push_back(watch_until(rx, n, &last[r]));
  { auto unused = std::move(rx); }  // only the 4 copies stay subscribed
  tasks.push_back(send_all(std::move(tx), n));
  bench::run_tasks(std::move(tasks));
  for (uint64_t v : last) BENCH_CHECK(v == n);
  return n;
}
BENCH_WORKLOAD("watch_4rx", "weft", weft_watch_4rx);

}  // namespace
