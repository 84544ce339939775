// weft/bench/weft_broadcast.cc: weft::broadcast workloads (sync/broadcast.h).
#include "bench/harness.h"
#include "bench/weft_support.h"
#include "sync/broadcast.h"
#include "sync/platform/atomic.h"
#include "sync/platform/cache_padded.h"
#include "sync/task/yield_now.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace {

// How far each receiver got, for the sender's pacing (the rule: bench/harness.h).
class BroadcastProgress {
 public:
  // Receiver `r` has received `count` values; published every kBroadcastPace, and last.
  void received(int r, uint64_t count, bool last = false) {
    // Relaxed: a pacing hint; the values themselves travel through the channel.
    if (last || count % bench::kBroadcastPace == 0)
      counts_[r]->store(count, std::memory_order_relaxed);
  }
  // Whether `sent` values are more than kBroadcastAhead ahead of the slowest receiver.
  bool too_far_ahead(uint64_t sent) const {
    for (const auto& c : counts_) {
      // Relaxed: as in received().
      if (sent - c->load(std::memory_order_relaxed) > bench::kBroadcastAhead) return true;
    }
    return false;
  }
  uint64_t count(int r) const { return counts_[r]->load(std::memory_order_relaxed); }

 private:
  weft::platform::cache_padded<weft::platform::atomic<uint64_t>>
      counts_[bench::kBroadcastReceivers];
};

using Sender = weft::broadcast::Sender<uint64_t>;
using Receiver = weft::broadcast::Receiver<uint64_t>;

// Sends 0..n-1, never more than bench::kBroadcastAhead values ahead of the slowest
// receiver (looked at every bench::kBroadcastPace sends; yields while too far ahead).
weft::Task<void> send_all(Sender tx, uint64_t n, const BroadcastProgress* progress) {
  for (uint64_t i = 0; i < n; ++i) {
    BENCH_CHECK(tx.send(i).is_ok());
    if (i % bench::kBroadcastPace == 0) {
      while (progress->too_far_ahead(i + 1)) co_await weft::yield_now();
    }
  }
  co_return;  // tx goes with the frame: the last Sender, so receivers see closed
}

// Receives until closed, every value in order (a lag fails the run), and reports its count.
weft::Task<void> receive_all(Receiver rx, BroadcastProgress* progress, int me) {
  uint64_t next = 0;
  for (;;) {
    auto got = co_await rx.recv();
    if (got.is_err()) {
      BENCH_CHECK(!got.error().is_lagged());
      break;
    }
    BENCH_CHECK(*got == next);
    progress->received(me, ++next);
  }
  progress->received(me, next, /*last=*/true);
}

// Capacity 1024, 1 sender task -> 4 receiver tasks, each receiving every value (the
// sender paces itself, bench/harness.h); ops = values sent.
uint64_t weft_broadcast_1to4(uint64_t n) {
  auto [tx, rx] = weft::broadcast::channel<uint64_t>(bench::kCapacity);
  BroadcastProgress progress;
  std::vector<weft::Task<void>> tasks;
  tasks.push_back(receive_all(std::move(rx), &progress, 0));
  for (int r = 1; r < bench::kBroadcastReceivers; ++r) {
    tasks.push_back(receive_all(tx.subscribe(), &progress, r));
  }
  tasks.push_back(send_all(std::move(tx), n, &progress));
  bench::run_tasks(std::move(tasks));
  for (int r = 0; r < bench::kBroadcastReceivers; ++r) BENCH_CHECK(progress.count(r) == n);
  return n;
}
BENCH_WORKLOAD("broadcast_1to4", "weft", weft_broadcast_1to4);

}  // namespace
