// Model scenarios of OnceCell (tokio/src/sync/once_cell.rs; Tokio's Loom suite has none):
// racing initializers, a cancelled or failing initializer handing over to the next
// waiter, and set() racing get_or_init. Built on Semaphore, so these also exercise it.
#include "model/harness/scenario.h"
#include "sync/once_cell.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"

#include <memory>

namespace platform = weft::platform;
using weft::Context;
using weft::OnceCell;
using weft::Poll;

namespace {

// A value whose payload lives in a cell: reading it without happens-before is a race.
struct Boxed {
  std::unique_ptr<platform::cell<int>> payload;
  explicit Boxed(int v) : payload(std::make_unique<platform::cell<int>>(v)) {}
  int read() const {
    return payload->with([](const int& x) { return x; });
  }
};

// An initializer future that is pending on its first poll (and wakes itself).
struct PendingOnce {
  int value;
  bool polled = false;
  Poll<Boxed> poll(Context& cx) {
    if (!polled) {
      polled = true;
      cx.waker().wake_by_ref();
      return weft::pending;
    }
    return Boxed(value);
  }
};

}  // namespace

// Two tasks race get_or_init: one initializer runs, both see its value (and its payload).
struct once_cell_two_initializers {
  static constexpr int threads = 2;
  OnceCell<Boxed> cell;
  platform::atomic<int> runs{0};
  platform::atomic<int> seen[2];
  void thread(int index) {
    const Boxed& v = weft::block_on(cell.get_or_init([&, index] {
      runs.fetch_add(1, std::memory_order_relaxed);
      return Boxed(index + 1);
    }));
    seen[index].store(v.read(), std::memory_order_relaxed);
  }
  void check() {
    WEFT_INVARIANT(runs.load(std::memory_order_relaxed) == 1);
    WEFT_INVARIANT(seen[0].load(std::memory_order_relaxed) ==
                   seen[1].load(std::memory_order_relaxed));
  }
};
WEFT_MODEL_SCENARIO(once_cell_two_initializers, weft::model::bounded(2));

// An initializer cancelled after its first poll gives the permit back: the other task
// initializes (block_on reports a permit never returned as a deadlock).
struct once_cell_cancelled_initializer {
  static constexpr int threads = 2;
  OnceCell<Boxed> cell;
  void thread(int index) {
    if (index == 0) {
      weft::MockTask task;
      auto f = cell.get_or_init([] { return PendingOnce{1}; });
      auto p = task.poll(f);
      WEFT_INVARIANT(p.is_pending() || p.value().get().read() == 2);
      return;  // cancelled while initializing (or while waiting for the permit)
    }
    const Boxed& v = weft::block_on(cell.get_or_init([] { return Boxed(2); }));
    WEFT_INVARIANT(v.read() == 2);
  }
};
WEFT_MODEL_SCENARIO(once_cell_cancelled_initializer, weft::model::bounded(2));

// A failing initializer lets the waiting task initialize.
struct once_cell_failing_initializer {
  static constexpr int threads = 2;
  OnceCell<Boxed> cell;
  void thread(int index) {
    if (index == 0) {
      auto r = weft::block_on(
          cell.get_or_try_init([] { return weft::Result<Boxed, int>(weft::Err(7)); }));
      WEFT_INVARIANT(r.is_err() ? r.error() == 7 : r.value().get().read() == 5);
      return;
    }
    WEFT_INVARIANT(weft::block_on(cell.get_or_init([] { return Boxed(5); })).get().read() == 5);
  }
};
WEFT_MODEL_SCENARIO(once_cell_failing_initializer, weft::model::bounded(2));

// set() racing get_or_init with an asynchronous initializer: one value wins, and set's
// error says why it lost.
struct once_cell_set_vs_init {
  static constexpr int threads = 2;
  OnceCell<Boxed> cell;
  platform::atomic<int> set_result{0};  // 1 ok, 2 already initialized, 3 initializing
  platform::atomic<int> init_value{0};
  void thread(int index) {
    if (index == 0) {
      auto r = cell.set(Boxed(1));
      set_result.store(r.is_ok()                         ? 1
                       : r.error().is_already_init_err() ? 2
                                                         : 3,
                       std::memory_order_relaxed);
      return;
    }
    const Boxed& v = weft::block_on(cell.get_or_init([] { return PendingOnce{2}; }));
    init_value.store(v.read(), std::memory_order_relaxed);
  }
  void check() {
    const int r = set_result.load(std::memory_order_relaxed);
    const int v = init_value.load(std::memory_order_relaxed);
    WEFT_INVARIANT(r == 1 ? v == 1 : v == 2);
    WEFT_INVARIANT(cell.get()->read() == v);
  }
};
WEFT_MODEL_SCENARIO(once_cell_set_vs_init, weft::model::bounded(2));
