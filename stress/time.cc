// Stress test of the timers on real threads: a thread registers, re-polls and drops sleeps
// with deadlines a few microseconds out while another fires the driver non-stop; and a
// receiver wraps every recv in a short timeout while a sender sends. Every sleep waited
// for is woken once and the heap ends empty; every value sent is received once, in order,
// whatever timed out. Seeded and bounded: see stress/stress.h.
#include "model/harness/scenario.h"
#include "stress/stress.h"
#include "sync/mpsc/bounded.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "sync/time/sleep.h"
#include "sync/time/timeout.h"
#include "sync/time/timer_driver.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

namespace platform = weft::platform;
namespace stress = weft::stress;
using weft::MockTask;
using weft::TimerDriver;
using weft::TimerScope;

namespace {

const std::uint64_t seed_printed = stress::base_seed("time");

// Thread 0 owns the sleeps; thread 1 fires the shared driver until thread 0 is done.
struct fire_races_owner {
  static constexpr int threads = 2;
  std::uint64_t seed = stress::run_seed<fire_races_owner>("fire_races_owner");
  TimerDriver* driver = TimerDriver::create();
  platform::atomic<bool> done{false};
  ~fire_races_owner() { driver->release(); }

  void thread(int index) {
    stress::Rng rng{seed, index};
    if (index == 1) {
      // Relaxed: only ends the loop; the join orders the rest.
      while (!done.load(std::memory_order_relaxed)) {
        (void)driver->fire_due();
        platform::yield_now();
      }
      return;
    }
    const TimerScope scope(*driver);
    for (int i = 0, n = stress::ops(200); i < n; ++i) {
      MockTask first, second;
      auto sleep =
          std::make_unique<weft::Sleep>(weft::sleep(std::chrono::microseconds(rng.below(40))));
      if (first.poll(*sleep).is_ready()) continue;
      switch (rng.below(3)) {
        case 0:  // drop while the driver may be firing it
          if (rng.one_in(2)) platform::yield_now();
          sleep.reset();
          break;
        case 1: {  // re-poll with another task's waker, then wait for whichever was left
          const bool ready = second.poll(*sleep).is_ready();
          if (!ready) {
            while (!second.is_woken()) platform::yield_now();
            WEFT_INVARIANT(second.poll(*sleep).is_ready());
          }
          WEFT_INVARIANT(first.wake_count() + second.wake_count() <= 1);
          break;
        }
        default:  // wait for the wake, then it must be ready
          while (!first.is_woken()) platform::yield_now();
          WEFT_INVARIANT(first.poll(*sleep).is_ready());
          WEFT_INVARIANT(first.wake_count() == 1);
          break;
      }
    }
    // Relaxed: see the loop above.
    done.store(true, std::memory_order_relaxed);
  }
  void check() { WEFT_INVARIANT(driver->size() == 0); }
};

// Thread 0 sends 0, 1, 2 ...; thread 1 receives each through block_on(timeout(recv, a
// few microseconds)), retrying after Elapsed: the values come once each, in order.
struct timeout_recv_keeps_order {
  static constexpr int threads = 2;
  std::uint64_t seed = stress::run_seed<timeout_recv_keeps_order>("timeout_recv_keeps_order");
  int count = stress::ops(500);
  std::shared_ptr<weft::mpsc::Sender<int>> tx;
  std::shared_ptr<weft::mpsc::Receiver<int>> rx;
  long elapsed = 0;

  void setup() {
    auto [s, r] = weft::mpsc::channel<int>(2);
    tx = std::make_shared<weft::mpsc::Sender<int>>(std::move(s));
    rx = std::make_shared<weft::mpsc::Receiver<int>>(std::move(r));
  }
  void thread(int index) {
    stress::Rng rng{seed, index};
    if (index == 0) {
      for (int i = 0; i < count; ++i) {
        if (rng.one_in(4)) platform::yield_now();
        WEFT_INVARIANT(tx->blocking_send(i).is_ok());
      }
      return;
    }
    for (int next = 0; next < count;) {
      auto got =
          weft::block_on(weft::timeout(rx->recv(), std::chrono::microseconds(rng.below(20))));
      if (!got) {
        ++elapsed;
        continue;
      }
      WEFT_INVARIANT(*got == std::optional<int>(next));
      ++next;
    }
  }
  void check() { WEFT_INVARIANT(rx->try_recv().is_err()); }
};

}  // namespace

WEFT_MODEL_SCENARIO(fire_races_owner, weft::model::random(1));
WEFT_MODEL_SCENARIO(timeout_recv_keeps_order, weft::model::random(1));
