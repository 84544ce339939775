// Stress test of the timed blocking forms (sync/deadline.h) on real threads: timeouts of
// 0 to 50 us race sends, receives, unlocks and releases. Conservation: a send that timed
// out hands its value back (the sender retries it), a recv that timed out loses nothing,
// so every message arrives exactly once and in per-sender order and every value is
// destroyed once; a lock or permit given to a waiter as it times out is never lost (the
// count under the lock equals the successful locks, every permit is back at the end).
// Seeded: see stress/stress.h.
#include "model/harness/scenario.h"
#include "stress/stress.h"
#include "sync/mpsc/bounded.h"
#include "sync/mutex.h"
#include "sync/platform/platform.h"
#include "sync/semaphore.h"
#include "testing/counted.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

namespace platform = weft::platform;
namespace stress = weft::stress;
using weft::testing::MoveOnlyCounted;

namespace {

const std::uint64_t seed_printed = stress::base_seed("timeouts");

std::chrono::microseconds short_timeout(stress::Rng& rng) {
  return std::chrono::microseconds(rng.below(51));
}

}  // namespace

// Two senders and a receiver on a channel of capacity 2, every send and recv timed.
struct timed_send_recv {
  static constexpr int threads = 3;
  static constexpr int senders = 2;
  MoveOnlyCounted::Count live{0};
  std::optional<weft::mpsc::Sender<MoveOnlyCounted>> tx[senders];
  std::optional<weft::mpsc::Receiver<MoveOnlyCounted>> rx;
  stress::Tally timeouts;
  int n = stress::ops(400);
  std::uint64_t seed = stress::run_seed<timed_send_recv>("timed_send_recv");

  timed_send_recv() {
    auto [s, r] = weft::mpsc::channel<MoveOnlyCounted>(2);
    tx[1].emplace(s);
    tx[0].emplace(std::move(s));
    rx.emplace(std::move(r));
  }

  void thread(int index) {
    stress::Rng rng{seed, index};
    if (index < senders) {
      for (int i = 0; i < n; ++i) {
        MoveOnlyCounted value(&live, index * n + i);
        for (;;) {
          auto sent = tx[index]->blocking_send_for(std::move(value), short_timeout(rng));
          if (sent.is_ok()) break;
          WEFT_INVARIANT(sent.error().is_timeout());
          WEFT_INVARIANT(sent.error().value.value == index * n + i);  // handed back
          value = std::move(sent.error()).into_inner();
          timeouts.add(1);
        }
      }
      tx[index].reset();
      return;
    }
    int next[senders] = {0, 0};
    for (;;) {
      auto got = rx->blocking_recv_for(short_timeout(rng));
      if (got.is_err()) {
        timeouts.add(1);
        continue;
      }
      if (!got->has_value()) break;  // both senders gone, everything received
      const long v = (*got)->value;
      const int from = static_cast<int>(v / n);
      WEFT_INVARIANT(v % n == next[from]);  // exactly once, in order
      ++next[from];
    }
    WEFT_INVARIANT(next[0] == n && next[1] == n);
  }
  void check() {
    rx.reset();
    WEFT_INVARIANT(live.load(std::memory_order_relaxed) == 0);
  }
};
WEFT_MODEL_SCENARIO(timed_send_recv, weft::model::random(1));

// Three threads take a mutex and a semaphore of 2 permits with short timeouts.
struct timed_lock_acquire {
  static constexpr int threads = 3;
  weft::Mutex<long> m{0};
  weft::Semaphore sem{2};
  platform::atomic<int> holding{0};
  stress::Tally locked;
  int n = stress::ops(400);
  std::uint64_t seed = stress::run_seed<timed_lock_acquire>("timed_lock_acquire");

  void thread(int index) {
    stress::Rng rng{seed, index};
    long mine = 0;
    for (int i = 0; i < n; ++i) {
      if (rng.one_in(2)) {
        if (auto g = m.blocking_lock_for(short_timeout(rng))) {
          **g += 1;
          ++mine;
        }
      } else if (auto p = sem.blocking_acquire_for(short_timeout(rng))) {
        WEFT_INVARIANT(p->is_ok());
        // Relaxed: only counts; the semaphore's bound is what is tested.
        WEFT_INVARIANT(holding.fetch_add(1, std::memory_order_relaxed) < 2);
        if (rng.one_in(4)) platform::yield_now();
        holding.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    locked.add(mine);
  }
  void check() {
    auto g = m.try_lock();
    WEFT_INVARIANT(g.is_ok());
    WEFT_INVARIANT(**g == locked.total());
    WEFT_INVARIANT(sem.available_permits() == 2);
  }
};
WEFT_MODEL_SCENARIO(timed_lock_acquire, weft::model::random(1));
