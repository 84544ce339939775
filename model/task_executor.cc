// Model scenarios of the executors (LocalExecutor, ThreadPool) and their run queue: a
// task woken while it is being polled, wakes racing completion, JoinHandles dropped
// while the task completes, shutdown racing wakes, cancellation destroying coroutine
// frames, and the run queue's ring and overflow list under concurrent push and pop.
// A lost wakeup shows up as DEADLOCK (block_on / run_until park forever), a lost or
// doubly-destroyed task, future, output or frame as MEMORY LEAK / double free.
// Scenario ideas follow tokio/src/runtime/tests/loom_{pool,local,join_set}.rs.
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"
#include "sync/task/atomic_waker.h"
#include "sync/runtime/local_executor.h"
#include "sync/runtime/run_queue.h"
#include "sync/task/task.h"
#include "sync/runtime/thread_pool.h"

#include <memory>
#include <string>

namespace platform = weft::platform;
using weft::Context;
using weft::Poll;

namespace {

// A one-shot event: the future registers, the setter raises and wakes.
struct Gate {
  platform::atomic<int> open{0};
  weft::AtomicWaker waker;
  void raise() {
    // Release: pairs with the Acquire load in GateFuture::poll.
    open.store(1, std::memory_order_release);
    waker.wake();
  }
};

// Ready with `value` once the gate is open; holds a heap allocation so a future that is
// never destroyed is reported as a leak.
struct GateFuture {
  // A constructor, not an aggregate: GCC 12 destroys an aggregate-initialized temporary
  // in a co_await expression twice (see sync/task/task.h).
  explicit GateFuture(std::shared_ptr<Gate> g) : gate(std::move(g)) {}
  std::shared_ptr<Gate> gate;
  std::unique_ptr<int> value = std::make_unique<int>(7);
  Poll<std::unique_ptr<int>> poll(Context& cx) {
    gate->waker.register_by_ref(cx.waker());
    // Acquire: pairs with the Release store in Gate::raise.
    if (gate->open.load(std::memory_order_acquire) == 1) return std::move(value);
    return weft::pending;
  }
};

weft::Task<int> await_gate(std::shared_ptr<Gate> gate) {
  std::unique_ptr<int> v = co_await GateFuture(std::move(gate));
  co_return *v + 1;
}

}  // namespace

// A task woken by another thread while the executor polls it (the RUNNING | NOTIFIED
// path): it must be polled again. run_until parks if it is not.
WEFT_MODEL_TEST(task_woken_while_polled, weft::model::bounded(1).on_dpor(weft::model::bounded(3)),
                1) {
  auto gate = std::make_shared<Gate>();
  weft::LocalExecutor executor;
  platform::thread t([gate] { gate->raise(); });
  WEFT_INVARIANT(*executor.run_until(GateFuture(gate)) == 7);
  t.join();
}

// The same through a coroutine: the co_await bridge re-polls the awaited future.
WEFT_MODEL_TEST(coroutine_woken_from_thread,
                weft::model::pct(30000, 3).on_dpor(weft::model::bounded(3)), 1) {
  auto gate = std::make_shared<Gate>();
  weft::LocalExecutor executor;
  platform::thread t([gate] { gate->raise(); });
  WEFT_INVARIANT(executor.run_until(await_gate(gate)) == 8);
  t.join();
}

// A task's waker cloned to two threads: one wakes it (by value), one drops its clone,
// while the executor polls and completes the task. The task is freed exactly once.
WEFT_MODEL_TEST(task_waker_dropped_concurrently_with_wake,
                weft::model::pct(50000, 3).on_dpor(weft::model::bounded(2)), 2) {
  auto gate = std::make_shared<Gate>();
  weft::LocalExecutor executor;
  platform::thread waker_thread;
  platform::thread dropper;
  auto body = weft::poll_fn([&](Context& cx) -> Poll<int> {
    if (!waker_thread.joinable()) {
      gate->waker.register_by_ref(cx.waker());
      waker_thread = platform::thread([gate] { gate->raise(); });
      dropper = platform::thread([w = weft::Waker(cx.waker())]() mutable { w = weft::Waker(); });
    }
    gate->waker.register_by_ref(cx.waker());
    if (gate->open.load(std::memory_order_acquire) == 1) return 1;
    return weft::pending;
  });
  WEFT_INVARIANT(executor.run_until(std::move(body)) == 1);
  waker_thread.join();
  dropper.join();
}

// ThreadPool(1): spawn from the main thread, completion woken on the worker, joined by
// blocking_join on the main thread (Tokio's pool spawn/join race).
WEFT_MODEL_TEST(pool_spawn_join, weft::model::pct(50000, 3).on_dpor(weft::model::bounded(2)), 1) {
  weft::ThreadPool pool(1);
  auto gate = std::make_shared<Gate>();
  weft::JoinHandle<int> handle = pool.spawn(await_gate(gate));
  gate->raise();
  auto outcome = handle.blocking_join();
  WEFT_INVARIANT(outcome.is_ok() && *outcome == 8);
}

// ThreadPool(2): two tasks woken from the main thread, run by either worker, each
// joined; both workers contend for the queue and park/unpark.
WEFT_MODEL_TEST(pool_two_workers, weft::model::pct(20000, 3), 2) {
  weft::ThreadPool pool(2);
  auto a = std::make_shared<Gate>();
  auto b = std::make_shared<Gate>();
  weft::JoinHandle<int> ha = pool.spawn(await_gate(a));
  weft::JoinHandle<int> hb = pool.spawn(await_gate(b));
  a->raise();
  b->raise();
  WEFT_INVARIANT(*ha.blocking_join() == 8);
  WEFT_INVARIANT(*hb.blocking_join() == 8);
}

// The JoinHandle is dropped while the worker completes the task: the output (a heap
// string) is destroyed exactly once, by whichever side is second.
WEFT_MODEL_TEST(join_handle_dropped_while_completing,
                weft::model::bounded(1).on_dpor(weft::model::bounded(3)), 1) {
  weft::ThreadPool pool(1);
  {
    auto handle = pool.spawn(weft::poll_fn(
        [](Context&) -> Poll<std::unique_ptr<int>> { return std::make_unique<int>(3); }));
  }
  pool.shutdown();
}

// Shutdown while another thread wakes a pending task: the task is cancelled (its future
// and coroutine frame destroyed once), its JoinHandle says cancelled, and a wake that
// queued it late is drained, not leaked.
WEFT_MODEL_TEST(shutdown_races_wake, weft::model::pct(80000, 3).on_dpor(weft::model::bounded(2)),
                2) {
  auto gate = std::make_shared<Gate>();
  auto pool = std::make_unique<weft::ThreadPool>(1);
  weft::JoinHandle<int> handle = pool->spawn(await_gate(gate));
  platform::thread t([gate] { gate->raise(); });
  pool->shutdown();
  auto outcome = handle.blocking_join();
  WEFT_INVARIANT(outcome.is_err() || *outcome == 8);
  pool.reset();
  t.join();
}

// A LocalExecutor destroyed with a task suspended in a coroutine, while another thread
// wakes it: the frame is destroyed exactly once, the handle reports cancelled.
WEFT_MODEL_TEST(local_executor_drop_cancels, weft::model::bounded(2), 1) {
  auto gate = std::make_shared<Gate>();
  weft::JoinHandle<int> handle;
  {
    weft::LocalExecutor executor;
    handle = executor.spawn(await_gate(gate));
    executor.run_until_idle();
    platform::thread t([gate] { gate->raise(); });
    // The executor goes away while the wake may be queuing the task.
    t.join();
  }
  auto outcome = handle.blocking_join();
  WEFT_INVARIANT(outcome.is_err() && outcome.error() == weft::JoinError::cancelled);
}

// The run queue: two producers and two consumers on a ring of 2 slots (the model's
// capacity), so pushes overflow into the locked list. Every task comes out exactly once.
struct Item {
  weft::detail::ListLinks<Item> queue_links;
  platform::atomic<int> popped{0};
};
struct run_queue_mpmc {
  static constexpr int threads = 4;
  static constexpr int per_producer = 2;
  weft::detail::RunQueue<Item> queue;
  Item items[2 * per_producer];
  platform::atomic<int> consumed{0};
  void thread(int index) {
    if (index < 2) {
      for (int i = 0; i < per_producer; ++i) queue.push(&items[index * per_producer + i]);
      return;
    }
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (Item* item = queue.pop()) {
        WEFT_INVARIANT(item->popped.fetch_add(1, std::memory_order_relaxed) == 0);
        consumed.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  void check() {
    while (Item* item = queue.pop()) {
      WEFT_INVARIANT(item->popped.fetch_add(1, std::memory_order_relaxed) == 0);
      consumed.fetch_add(1, std::memory_order_relaxed);
    }
    WEFT_INVARIANT(consumed.load(std::memory_order_relaxed) == 2 * per_producer);
  }
};
WEFT_MODEL_SCENARIO(run_queue_mpmc, weft::model::pct(100000, 3));

// One producer overflowing the 2-slot ring while a consumer pops: the hand-over through
// slot sequence numbers and the overflow list, every interleaving within the bound.
struct run_queue_overflow_spsc {
  static constexpr int threads = 2;
  weft::detail::RunQueue<Item> queue;
  Item items[3];
  int got = 0;
  void thread(int index) {
    if (index == 0) {
      for (auto& item : items) queue.push(&item);
      return;
    }
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (Item* item = queue.pop()) {
        WEFT_INVARIANT(item->popped.fetch_add(1, std::memory_order_relaxed) == 0);
        ++got;
      }
    }
  }
  void check() {
    while (Item* item = queue.pop()) {
      WEFT_INVARIANT(item->popped.fetch_add(1, std::memory_order_relaxed) == 0);
      ++got;
    }
    WEFT_INVARIANT(got == 3);
  }
};
WEFT_MODEL_SCENARIO(run_queue_overflow_spsc, weft::model::bounded(2));

// The executor's own promise, with no atomics of the future's to lean on: what a thread
// wrote before waking a task is visible to the poll that the wake causes, also when the
// wake lands while the task is being polled (the poller re-queues it). The thread wakes
// by reference a waker the main thread owns, so no later release of the thread's (a
// waker drop) hides a missing Release on the wake: one preemption (bounded(1)) reaches
// the bad interleaving (bounded(2) was needed with a wake by value, 23 s).
WEFT_MODEL_TEST(wake_publishes_to_next_poll,
                weft::model::bounded(1).on_dpor(weft::model::exhaustive()), 1) {
  auto data = std::make_shared<platform::cell<int>>(0);
  weft::Waker waker;  // outlives the thread: dropped after the join
  weft::LocalExecutor executor;
  platform::thread t;
  int polls = 0;
  const int seen = executor.run_until(weft::poll_fn([&](Context& cx) -> Poll<int> {
    if (++polls == 1) {
      waker = weft::Waker(cx.waker());
      t = platform::thread([data, w = &waker] {
        data->with_mut([](int& d) { d = 42; });
        w->wake_by_ref();
      });
      return weft::pending;
    }
    // Only the thread's wake causes a second poll: its write must be visible.
    return data->with([](const int& d) { return d; });
  }));
  WEFT_INVARIANT(seen == 42);
  t.join();
}

// JoinHandle::abort (tokio/src/runtime/task/abort.rs; tokio/tests/task_abort.rs).

// Abort racing completion: a thread opens the gate (waking the task) while the main
// thread aborts it. The join sees the value (the poll that completed won) or cancelled;
// never neither (DEADLOCK), the future and frame are destroyed once (leak / double free).
WEFT_MODEL_TEST(abort_races_completion, weft::model::pct(40000, 3), 2) {
  auto gate = std::make_shared<Gate>();
  weft::ThreadPool pool(1);
  weft::JoinHandle<int> handle = pool.spawn(await_gate(gate));
  platform::thread t([gate] { gate->raise(); });
  handle.abort();
  auto outcome = handle.blocking_join();
  WEFT_INVARIANT(outcome.is_ok() ? *outcome == 8 : weft::is_cancelled(outcome.error()));
  t.join();
}

// Abort racing a wake: the task passes a gate a thread opens, then waits on one nobody
// opens, so the abort must end it whichever state it finds (idle, queued by the wake,
// running): always cancelled, the frame destroyed on the worker exactly once, the join
// not lost. An AbortHandle copy aborts too and outlives the task.
WEFT_MODEL_TEST(abort_races_wake, weft::model::pct(40000, 3), 2) {
  auto first = std::make_shared<Gate>();
  auto never = std::make_shared<Gate>();
  weft::ThreadPool pool(1);
  auto body = [](std::shared_ptr<Gate> a, std::shared_ptr<Gate> b) -> weft::Task<int> {
    int x = co_await await_gate(std::move(a));
    int y = co_await await_gate(std::move(b));
    co_return x + y;
  };
  weft::JoinHandle<int> handle = pool.spawn(body(first, never));
  weft::AbortHandle abort = handle.abort_handle();
  platform::thread t([first] { first->raise(); });
  abort.abort();
  handle.abort();
  auto outcome = handle.blocking_join();
  WEFT_INVARIANT(outcome.is_err() && weft::is_cancelled(outcome.error()));
  WEFT_INVARIANT(abort.is_finished());
  t.join();
}

// LocalExecutor: another thread aborts an idle task while the driver waits for it; the
// frame is destroyed on the driver (the abort queues it and wakes the driver).
WEFT_MODEL_TEST(abort_local_from_thread,
                weft::model::pct(20000, 3).on_dpor(weft::model::bounded(2)), 1) {
  auto gate = std::make_shared<Gate>();
  weft::LocalExecutor executor;
  weft::JoinHandle<int> handle = executor.spawn(await_gate(gate));
  executor.run_until_idle();
  platform::thread t([abort = handle.abort_handle()] { abort.abort(); });
  auto outcome = executor.run_until(std::move(handle));
  WEFT_INVARIANT(outcome.is_err() && weft::is_cancelled(outcome.error()));
  t.join();
}
