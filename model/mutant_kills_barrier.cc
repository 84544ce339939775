// Model scenarios that kill mutations of sync/barrier.h the main suite (model/barrier.cc)
// lets survive (ci/mutations.py names them). Narrow on purpose: few threads, futures polled
// by hand, so a bounded search reaches the one interleaving that matters.
#include "model/harness/scenario.h"
#include "sync/barrier.h"
#include "sync/platform/platform.h"
#include "sync/task/mock_task.h"

#include <memory>
#include <optional>

namespace platform = weft::platform;
using weft::Barrier;
using weft::MockTask;

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
