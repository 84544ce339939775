// Model scenarios of Barrier (tokio/src/sync/barrier.rs; Tokio's Loom suite has none):
// one leader per generation, everything before the arrivals visible after the release,
// and a reused barrier whose generations overlap.
#include "model/harness/scenario.h"
#include "sync/barrier.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"

#include <memory>
#include <optional>

namespace platform = weft::platform;
using weft::Barrier;
using weft::MockTask;

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
WEFT_MODEL_SCENARIO(barrier_reuse, weft::model::pct(30000, 3).on_dpor(weft::model::exhaustive()));

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
WEFT_MODEL_SCENARIO(barrier_overlapping_generations, weft::model::pct(30000, 3));

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
WEFT_MODEL_SCENARIO(barrier_cancelled_arrival,
                    weft::model::pct(30000, 3).on_dpor(weft::model::bounded(2)));

// n == 0 behaves as 1: every wait completes at once as the leader.
WEFT_MODEL_TEST(barrier_zero, weft::model::exhaustive(), 0) {
  Barrier barrier(0);
  WEFT_INVARIANT(weft::block_on(barrier.wait()).is_leader());
  WEFT_INVARIANT(weft::block_on(barrier.wait()).is_leader());
}

// Scenarios that kill mutations the ones above let survive (ci/mutations.py names them, by
// the scenario's comment). Narrow on purpose: few threads, futures polled by hand, so a
// bounded search reaches the one interleaving that matters.

// Kills barrier.generation_not_rechecked. n = 2; B has arrived for generation 0. A and C
// arrive concurrently: the first of them completes generation 0 (its leader), the second
// is alone in generation 1, which never fills up, so its future must stay pending. The
// window: the leader of generation 0 releases the lock, the generation-1 task arrives and
// requests its notification, then the leader's notify_waiters() completes that
// notification too; only the generation re-check keeps the lone task waiting.
WEFT_MODEL_TEST(barrier_lone_next_generation_stays_pending, weft::model::bounded(2), 1) {
  auto barrier = std::make_shared<Barrier>(2);
  MockTask task_b;
  auto wait_b = barrier->wait();
  WEFT_INVARIANT(task_b.poll(wait_b).is_pending());  // B arrived for generation 0

  auto a_ready = std::make_shared<platform::atomic<int>>(0);
  platform::thread a([barrier, a_ready] {
    MockTask task;
    auto wait = barrier->wait();
    // Release: pairs with the Acquire load below, after the join.
    if (task.poll(wait).is_ready()) a_ready->store(1, std::memory_order_release);
    if (task.poll(wait).is_ready()) a_ready->store(1, std::memory_order_release);
  });

  MockTask task_c;
  auto wait_c = barrier->wait();
  const bool c_first = task_c.poll(wait_c).is_ready();  // C arrives
  a.join();
  const bool c_ready = c_first || task_c.poll(wait_c).is_ready();
  const bool a_done = a_ready->load(std::memory_order_acquire) == 1;
  // Exactly one of A and C completed generation 0; the other waits alone.
  WEFT_INVARIANT(a_done != c_ready);
  WEFT_INVARIANT(task_b.poll(wait_b).is_ready());  // generation 0 is over for B
}
