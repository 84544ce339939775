// Model scenarios of Barrier (tokio/src/sync/barrier.rs; Tokio's Loom suite has none):
// one leader per generation, everything before the arrivals visible after the release,
// and a reused barrier whose generations overlap.
#include "model/harness/scenario.h"
#include "sync/barrier.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"

#include <memory>

namespace platform = weft::platform;
using weft::Barrier;

namespace {

// One slot of plain data per task, written before the barrier, read by the others after.
struct Slots {
  platform::cell<int> slot[3];
  platform::atomic<int> leaders{0};
  void write(int i, int v) {
    slot[i].with_mut([v](int& x) { x = v; });
  }
  int read(int i) const {
    return slot[i].with([](const int& x) { return x; });
  }
};

}  // namespace

// Two tasks, one generation: exactly one leader, and each sees the other's write.
struct barrier_two_tasks {
  static constexpr int threads = 2;
  Barrier barrier{2};
  Slots slots;
  void thread(int index) {
    slots.write(index, index + 1);
    if (weft::block_on(barrier.wait()).is_leader()) {
      slots.leaders.fetch_add(1, std::memory_order_relaxed);
    }
    WEFT_INVARIANT(slots.read(1 - index) == 2 - index);
  }
  void check() { WEFT_INVARIANT(slots.leaders.load(std::memory_order_relaxed) == 1); }
};
WEFT_MODEL_SCENARIO(barrier_two_tasks, weft::model::bounded(2));

// Two tasks, two generations: a task may arrive for the second generation before the
// first generation's release reached the other task; nobody is released early or twice.
struct barrier_reuse {
  static constexpr int threads = 2;
  Barrier barrier{2};
  platform::cell<int> slot[2][2];  // [round][task], written before that round's arrival
  platform::atomic<int> leaders{0};
  void thread(int index) {
    for (int round = 0; round < 2; ++round) {
      slot[round][index].with_mut([](int& x) { x = 1; });
      if (weft::block_on(barrier.wait()).is_leader()) {
        leaders.fetch_add(1, std::memory_order_relaxed);
      }
      slot[round][1 - index].with([](const int& x) { WEFT_INVARIANT(x == 1); });
    }
  }
  void check() { WEFT_INVARIANT(leaders.load(std::memory_order_relaxed) == 2); }
};
WEFT_MODEL_SCENARIO(barrier_reuse, weft::model::random(30000));

// Four tasks, n = 2: a task of the second generation may arrive after the first leader
// released the lock but before its notify_waiters(), which then completes that task's
// future too early; the generation re-check must send it back to wait. Released tasks
// never outnumber the arrivals of completed generations.
struct barrier_overlapping_generations {
  static constexpr int threads = 4;
  Barrier barrier{2};
  platform::atomic<int> arrivals{0};
  platform::atomic<int> releases{0};
  platform::atomic<int> leaders{0};
  void thread(int) {
    // AcqRel: the RMWs on each counter form one release sequence, so every count read
    // below happens-after the arrivals it counts.
    arrivals.fetch_add(1, std::memory_order_acq_rel);
    if (weft::block_on(barrier.wait()).is_leader()) leaders.fetch_add(1, std::memory_order_relaxed);
    const int released = releases.fetch_add(1, std::memory_order_acq_rel) + 1;
    const int arrived = arrivals.fetch_add(0, std::memory_order_acq_rel);
    WEFT_INVARIANT(released <= arrived / 2 * 2);
  }
  void check() { WEFT_INVARIANT(leaders.load(std::memory_order_relaxed) == 2); }
};
WEFT_MODEL_SCENARIO(barrier_overlapping_generations, weft::model::random(30000));

// Three tasks, one of which arrives and gives up (a cancelled wait still counts): the
// other two are released, one leader among the three arrivals' results that completed.
struct barrier_cancelled_arrival {
  static constexpr int threads = 3;
  Barrier barrier{3};
  platform::atomic<int> leaders{0};
  void thread(int index) {
    if (index == 2) {
      weft::MockTask task;
      auto w = barrier.wait();
      auto r = task.poll(w);
      if (r.is_ready() && r.value().is_leader()) leaders.fetch_add(1, std::memory_order_relaxed);
      return;  // w destroyed: arrived, maybe not released yet
    }
    if (weft::block_on(barrier.wait()).is_leader()) leaders.fetch_add(1, std::memory_order_relaxed);
  }
  void check() { WEFT_INVARIANT(leaders.load(std::memory_order_relaxed) == 1); }
};
WEFT_MODEL_SCENARIO(barrier_cancelled_arrival, weft::model::random(30000));

// n == 0 behaves as 1: every wait completes at once as the leader.
WEFT_MODEL_TEST(barrier_zero, weft::model::exhaustive(), 0) {
  Barrier barrier(0);
  WEFT_INVARIANT(weft::block_on(barrier.wait()).is_leader());
  WEFT_INVARIANT(weft::block_on(barrier.wait()).is_leader());
}
