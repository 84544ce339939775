// Model scenarios of AtomicWaker. Ported from tokio/src/sync/tests/loom_atomic_waker.rs,
// under the same names, plus scenarios where the Loom suite is thin.
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"
#include "sync/task/atomic_waker.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/throwing_waker.h"

#include <memory>
#include <stdexcept>

namespace platform = weft::platform;
using weft::Context;
using weft::Poll;

namespace {

struct Chan {
  platform::atomic<int> num{0};
  weft::AtomicWaker task;
};

constexpr int num_notify = 2;

// Waits in block_on until both notifiers counted: a lost wakeup parks it forever.
void wait_for_notifiers(const std::shared_ptr<Chan>& chan) {
  weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
    chan->task.register_by_ref(cx.waker());
    if (chan->num.load(std::memory_order_relaxed) == num_notify) return weft::ready;
    return weft::pending;
  }));
}

std::shared_ptr<Chan> spawn_notifiers(platform::thread (&threads)[num_notify]) {
  auto chan = std::make_shared<Chan>();
  for (auto& t : threads) {
    t = platform::thread([chan] {
      chan->num.fetch_add(1, std::memory_order_relaxed);
      chan->task.wake();
    });
  }
  return chan;
}

}  // namespace

WEFT_MODEL_TEST(basic_notification, weft::model::bounded(2), num_notify) {
  platform::thread notifiers[num_notify];
  auto chan = spawn_notifiers(notifiers);
  wait_for_notifiers(chan);
  for (auto& t : notifiers) t.join();
}

WEFT_MODEL_TEST(test_panicky_waker, weft::model::bounded(2), num_notify) {
  const weft::Waker throwing = weft::testing::throwing_clone_waker();
  platform::thread notifiers[num_notify];
  auto chan = spawn_notifiers(notifiers);
  // The throw must leave the AtomicWaker usable: a racing wake (WAKING kept) included.
  try {
    chan->task.register_by_ref(throwing);
  } catch (const std::runtime_error&) {
  }
  wait_for_notifiers(chan);
  for (auto& t : notifiers) t.join();
}

// Re-registration by a task that is being woken concurrently: every wake after the
// registration that saw no event must reach the task.
WEFT_MODEL_TEST(register_while_waking, weft::model::exhaustive(), 1) {
  auto chan = std::make_shared<Chan>();
  weft::MockTask task;
  task.enter([&](Context& cx) { chan->task.register_by_ref(cx.waker()); });
  platform::thread waker([chan] {
    chan->num.store(1, std::memory_order_release);
    chan->task.wake();
  });
  bool seen = false;
  task.enter([&](Context& cx) {
    chan->task.register_by_ref(cx.waker());
    seen = chan->num.load(std::memory_order_acquire) == 1;
  });
  waker.join();
  // Either this poll saw the event, or a wake is owed to the task.
  WEFT_INVARIANT(seen || task.is_woken());
}

// take_waker from two threads at once: exactly one of them gets the registered waker.
struct two_takers {
  static constexpr int threads = 2;
  weft::AtomicWaker slot;
  weft::MockTask* task = nullptr;
  platform::atomic<int> taken{0};
  void setup() {
    task = new weft::MockTask();
    task->enter([&](Context& cx) { slot.register_by_ref(cx.waker()); });
  }
  void thread(int) {
    if (auto w = slot.take_waker()) {
      taken.fetch_add(1, std::memory_order_relaxed);
      w->wake();
    }
  }
  void check() {
    WEFT_INVARIANT(taken.load(std::memory_order_relaxed) <= 1);
    WEFT_INVARIANT(task->waker_ref_count() == 0 || taken.load(std::memory_order_relaxed) == 0);
    delete task;
  }
};
WEFT_MODEL_SCENARIO(two_takers, weft::model::exhaustive());
