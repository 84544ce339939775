// Stress test of Notify on real threads: producers push items into a locked queue and call
// notify_one or notify_last at random, consumers take them with the enable() pattern and
// sometimes cancel a future after one poll (which forwards a notification it received),
// and a third party calls notify_waiters now and then. Every item is taken exactly once
// and nobody sleeps forever (a lost wakeup hangs the test until its timeout).
// Seeded and bounded: see stress/stress.h (WEFT_STRESS_SEED, WEFT_STRESS_SOAK).
#include "model/harness/scenario.h"
#include "stress/stress.h"
#include "sync/notify.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"

#include <cstdint>

namespace platform = weft::platform;
namespace stress = weft::stress;
using weft::Notified;
using weft::Notify;

namespace {

const std::uint64_t seed_printed = stress::base_seed("notify");

constexpr int producers = 2;
constexpr int consumers = 3;
const int items_per_producer = stress::ops(300);
const int total_items = producers * items_per_producer;

}  // namespace

struct notify_queue {
  static constexpr int threads = producers + consumers + 1;
  Notify notify;
  platform::mutex lock;
  platform::cell<int> queued{0};  // protected by lock
  platform::atomic<int> taken{0};
  platform::atomic<int> done{0};
  std::uint64_t seed = stress::run_seed<notify_queue>("notify_queue");

  bool try_take() {
    platform::mutex_guard guard(lock);
    return queued.with_mut([](int& n) { return n > 0 ? (--n, true) : false; });
  }

  void thread(int index) {
    stress::Rng rng{seed, index};
    if (index < producers) {
      for (int i = 0; i < items_per_producer; ++i) {
        {
          platform::mutex_guard guard(lock);
          queued.with_mut([](int& n) { ++n; });
        }
        if (rng.below(2) == 0) {
          notify.notify_one();
        } else {
          notify.notify_last();
        }
      }
    } else if (index < producers + consumers) {
      for (;;) {
        Notified fut = notify.notified();
        fut.enable();
        if (try_take()) {
          // AcqRel: the last taker's done store follows every take.
          if (taken.fetch_add(1, std::memory_order_acq_rel) + 1 == total_items) {
            // Release: pairs with the Acquire load below.
            done.store(1, std::memory_order_release);
            notify.notify_waiters();  // wake the consumers still waiting
          }
          continue;
        }
        // Acquire: pairs with the Release store above.
        if (done.load(std::memory_order_acquire) == 1) return;
        if (rng.below(4) == 0) {
          weft::MockTask task;
          (void)task.poll(fut);  // then cancel: a notification it got moves on
          platform::yield_now();
        } else {
          weft::block_on(fut);
        }
      }
    } else {
      // A bystander: notify_waiters stores no permit and must not disturb the count.
      for (int i = 0; i < 50 && done.load(std::memory_order_acquire) == 0; ++i) {
        notify.notify_waiters();
        platform::yield_now();
      }
    }
  }
  void check() {
    WEFT_INVARIANT(taken.load(std::memory_order_relaxed) == total_items);
    queued.with([](const int& n) { WEFT_INVARIANT(n == 0); });
  }
};
WEFT_MODEL_SCENARIO(notify_queue, weft::model::random(1));

// Many waiters enqueued (more than one notify_waiters batch), completed by notify_waiters
// racing their own cancellation and re-polls.
struct notify_waiters_crowd {
  static constexpr int threads = 4;
  Notify notify;
  platform::atomic<int> ready{0};
  std::uint64_t seed = stress::run_seed<notify_waiters_crowd>("notify_waiters_crowd");

  void thread(int index) {
    if (index == 0) {
      // Relaxed spin with yields: only a start signal, the Notify orders the rest.
      while (ready.load(std::memory_order_acquire) < threads - 1) platform::yield_now();
      notify.notify_waiters();
      return;
    }
    stress::Rng rng{seed, index};
    constexpr int per_thread = 40;
    weft::MockTask tasks[per_thread];
    std::optional<Notified> futs[per_thread];
    for (int i = 0; i < per_thread; ++i) {
      futs[i].emplace(notify.notified());
      (void)tasks[i].poll(*futs[i]);
    }
    // Release: pairs with the Acquire load above (the notifier's).
    ready.fetch_add(1, std::memory_order_release);
    for (int i = 0; i < per_thread; ++i) {
      if (rng.below(5) == 0) {
        futs[i].reset();  // cancelled, maybe while in the call's guarded list
      } else {
        weft::block_on(*futs[i]);
      }
    }
  }
};
WEFT_MODEL_SCENARIO(notify_waiters_crowd, weft::model::random(1));
