// Model scenarios of ThreadPool, ported from tokio/src/runtime/tests/loom_pool.rs under
// the same names (the block_in_place / spawn_blocking ones have no counterpart here: the
// blocking side is played by a plain thread). Loom's `track` is not needed: every heap
// allocation of a scenario is leak-checked, so a task, future or output that is never
// destroyed is reported as MEMORY LEAK, a lost wakeup as DEADLOCK.
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"
#include "sync/task/atomic_waker.h"
#include "sync/task/block_on.h"
#include "sync/task/task.h"
#include "sync/runtime/thread_pool.h"
#include "testing/yield_now.h"

#include <array>
#include <memory>
#include <utility>
#include <vector>

namespace platform = weft::platform;
using weft::Context;
using weft::Poll;
using weft::Task;

namespace {

// A one-shot signal (the scenarios' oneshot channel): set once, awaited by one waiter.
struct Signal {
  platform::atomic<int> set{0};
  weft::AtomicWaker waker;
  void send() {
    // Release: pairs with the Acquire load in wait().
    set.store(1, std::memory_order_release);
    waker.wake();
  }
  auto wait() {
    return weft::poll_fn([this](Context& cx) -> Poll<void> {
      waker.register_by_ref(cx.waker());
      // Acquire: pairs with the Release store in send().
      if (set.load(std::memory_order_acquire) == 1) return weft::ready;
      return weft::pending;
    });
  }
};

// Loom's gated2: pending on the first poll, after handing a clone of the waker to a new
// thread (`thread`) or a new task on `pool` that opens the gate and wakes it.
class Gated {
 public:
  Gated(weft::ThreadPool* pool, platform::thread* thread_slot)
      : pool_(pool), thread_slot_(thread_slot), gate_(std::make_shared<platform::atomic<int>>(0)) {}
  Poll<int> poll(Context& cx) {
    if (!fired_) {
      fired_ = true;
      auto opener = [gate = gate_, waker = weft::Waker(cx.waker())] {
        // Release: pairs with the Acquire load below.
        gate->store(1, std::memory_order_release);
        waker.wake_by_ref();
      };
      if (thread_slot_ != nullptr) {
        *thread_slot_ = platform::thread(std::move(opener));
      } else {
        (void)pool_->spawn(weft::poll_fn([opener](Context&) -> Poll<void> {
          opener();
          return weft::ready;
        }));
      }
      return weft::pending;
    }
    // Acquire: pairs with the Release store above (the opener's).
    if (gate_->load(std::memory_order_acquire) == 1) return 1;
    return weft::pending;
  }

 private:
  weft::ThreadPool* pool_;
  platform::thread* thread_slot_;
  std::shared_ptr<platform::atomic<int>> gate_;
  bool fired_ = false;
};

Task<void> yield_twice() {
  for (int i = 0; i < 2; ++i) co_await weft::testing::YieldNow();
}

}  // namespace

// Two tasks each spawn a task; the second of those to run signals the main thread.
WEFT_MODEL_TEST(pool_multi_spawn, weft::model::pct(25000, 3), 2) {
  weft::ThreadPool pool(2);
  auto counter = std::make_shared<platform::atomic<int>>(0);
  auto done = std::make_shared<Signal>();
  for (int i = 0; i < 2; ++i) {
    (void)pool.spawn(weft::poll_fn([&pool, counter, done](Context&) -> Poll<void> {
      (void)pool.spawn(weft::poll_fn([counter, done](Context&) -> Poll<void> {
        if (counter->fetch_add(1, std::memory_order_relaxed) == 1) done->send();
        return weft::ready;
      }));
      return weft::ready;
    }));
  }
  weft::block_on(done->wait());
}

// A spawned task's output reaches the task that awaits its JoinHandle.
WEFT_MODEL_TEST(join_output, weft::model::pct(25000, 3).on_dpor(weft::model::bounded(2)), 1) {
  weft::ThreadPool pool(1);
  auto body = [&pool]() -> Task<int> {
    auto handle = pool.spawn(weft::poll_fn(
        [](Context&) -> Poll<std::unique_ptr<int>> { return std::make_unique<int>(5); }));
    auto outcome = co_await handle;
    co_return **outcome;
  };
  WEFT_INVARIANT(weft::block_on(body()) == 5);
}

// A JoinHandle polled once (registering the joiner's waker) and then dropped.
WEFT_MODEL_TEST(poll_drop_handle_then_drop,
                weft::model::pct(25000, 3).on_dpor(weft::model::bounded(2)), 1) {
  weft::ThreadPool pool(1);
  auto handle = pool.spawn(weft::poll_fn(
      [](Context&) -> Poll<std::unique_ptr<int>> { return std::make_unique<int>(6); }));
  weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
    (void)handle.poll(cx);
    return weft::ready;
  }));
  handle = {};
}

// block_on completes while the pool re-schedules a yielding task.
WEFT_MODEL_TEST(complete_block_on_under_load,
                weft::model::pct(25000, 3).on_dpor(weft::model::bounded(2)), 2) {
  weft::ThreadPool pool(1);
  platform::thread opener;
  (void)pool.spawn(yield_twice());
  WEFT_INVARIANT(weft::block_on(Gated(&pool, &opener)) == 1);
  opener.join();
}

// The pool dropped while one task waits on a thread and another on a task.
WEFT_MODEL_TEST(pool_shutdown, weft::model::pct(25000, 3), 3) {
  platform::thread opener;
  {
    weft::ThreadPool pool(2);
    (void)pool.spawn(Gated(&pool, &opener));
    (void)pool.spawn(Gated(&pool, nullptr));
  }
  if (opener.joinable()) opener.join();
}

// Two tasks, each gated twice by tasks it spawns; the second to finish signals.
WEFT_MODEL_TEST(pool_multi_notify, weft::model::pct(15000, 3), 2) {
  weft::ThreadPool pool(2);
  auto counter = std::make_shared<platform::atomic<int>>(0);
  auto done = std::make_shared<Signal>();
  for (int i = 0; i < 2; ++i) {
    auto body = [](weft::ThreadPool* pool, std::shared_ptr<platform::atomic<int>> counter,
                   std::shared_ptr<Signal> done) -> Task<void> {
      co_await Gated(pool, nullptr);
      co_await Gated(pool, nullptr);
      if (counter->fetch_add(1, std::memory_order_relaxed) == 1) done->send();
    };
    (void)pool.spawn(body(&pool, counter, done));
  }
  weft::block_on(done->wait());
}

// The pool shut down while a task is being notified from a thread and another task
// waits for it: every task is completed or cancelled, nothing leaks.
WEFT_MODEL_TEST(shutdown_with_notification, weft::model::pct(25000, 3), 3) {
  platform::thread sender;
  {
    weft::ThreadPool pool(2);
    auto rx = std::make_shared<Signal>();
    auto done = std::make_shared<Signal>();
    auto outer = [](weft::ThreadPool* pool, platform::thread* sender, std::shared_ptr<Signal> rx,
                    std::shared_ptr<Signal> done) -> Task<void> {
      (void)pool->spawn([](platform::thread* sender, std::shared_ptr<Signal> rx,
                           std::shared_ptr<Signal> done) -> Task<void> {
        *sender = platform::thread([rx] { rx->send(); });
        co_await done->wait();
      }(sender, rx, done));
      co_await rx->wait();
      done->send();
    };
    (void)pool.spawn(outer(&pool, &sender, rx, done));
  }
  if (sender.joinable()) sender.join();
}

// The per-worker LIFO slot (tokio/src/runtime/scheduler/multi_thread/worker.rs): a task
// woken from a worker goes to that worker's slot while the worker is still busy with the
// waking poll. It must run (on that worker, after the poll), never be lost (DEADLOCK) or
// run twice.
WEFT_MODEL_TEST(lifo_wake_while_worker_busy, weft::model::pct(15000, 3), 2) {
  weft::ThreadPool pool(2);
  auto rx = std::make_shared<Signal>();
  auto consumer = pool.spawn([](std::shared_ptr<Signal> rx) -> Task<int> {
    co_await rx->wait();
    co_return 1;
  }(rx));
  // The producer wakes the consumer (into its worker's LIFO slot), then stays busy:
  // it yields twice (its own re-queue goes to the global queue, not the slot).
  auto producer = pool.spawn([](std::shared_ptr<Signal> rx) -> Task<int> {
    rx->send();
    co_await yield_twice();
    co_return 2;
  }(rx));
  WEFT_INVARIANT(*consumer.blocking_join() == 1);
  WEFT_INVARIANT(*producer.blocking_join() == 2);
}

// Two wakes from one poll: the second displaces the first from the LIFO slot to the
// global queue (where the idle worker may take it); both consumers run exactly once.
WEFT_MODEL_TEST(lifo_displaced_to_global_queue, weft::model::pct(15000, 3), 2) {
  weft::ThreadPool pool(2);
  auto a = std::make_shared<Signal>();
  auto b = std::make_shared<Signal>();
  auto waiter = [](std::shared_ptr<Signal> s) -> Task<int> {
    co_await s->wait();
    co_return 1;
  };
  auto ha = pool.spawn(waiter(a));
  auto hb = pool.spawn(waiter(b));
  auto waker = pool.spawn(weft::poll_fn([a, b](Context&) -> Poll<void> {
    a->send();
    b->send();
    return weft::ready;
  }));
  WEFT_INVARIANT(*ha.blocking_join() + *hb.blocking_join() == 2);
  WEFT_INVARIANT(waker.blocking_join().is_ok());
}

// A chain of wakes from one worker: each woken task goes to that worker's LIFO slot and
// wakes the next. After max_lifo_polls runs from the slot in a row the worker looks at
// the global queue first (empty here), then at its own slot again: no other worker takes
// the task there (the slot is its worker's alone), so a worker that parked instead would
// leave the chain stuck (DEADLOCK).
WEFT_MODEL_TEST(lifo_chain_longer_than_streak, weft::model::pct(15000, 3), 2) {
  weft::ThreadPool pool(2);
  constexpr int links = 5;
  auto signals = std::make_shared<std::array<Signal, links + 1>>();
  std::vector<weft::JoinHandle<int>> chain;
  for (int i = 1; i <= links; ++i) {
    chain.push_back(
        pool.spawn([](std::shared_ptr<std::array<Signal, links + 1>> s, int i) -> Task<int> {
          co_await (*s)[i].wait();
          if (i < links) (*s)[i + 1].send();
          co_return 1;
        }(signals, i)));
  }
  // Spawned last: on the global queue behind the links, so they are usually waiting by now.
  auto first = pool.spawn(weft::poll_fn([signals](Context&) -> Poll<void> {
    (*signals)[1].send();
    return weft::ready;
  }));
  int done = 0;
  for (auto& h : chain) done += *h.blocking_join();
  WEFT_INVARIANT(done == links);
  WEFT_INVARIANT(first.blocking_join().is_ok());
}

// Shutdown while a woken task sits in a LIFO slot: stop() lets the workers return with
// the slot still full; shutdown() cancels the task and the drain releases the slot's
// reference: every task completes or is cancelled, once, nothing leaks.
WEFT_MODEL_TEST(lifo_slot_at_shutdown, weft::model::pct(15000, 3), 2) {
  auto rx = std::make_shared<Signal>();
  weft::JoinHandle<int> consumer;
  {
    weft::ThreadPool pool(2);
    consumer = pool.spawn([](std::shared_ptr<Signal> rx) -> Task<int> {
      co_await rx->wait();
      co_return 1;
    }(rx));
    (void)pool.spawn(weft::poll_fn([rx](Context&) -> Poll<void> {
      rx->send();
      return weft::ready;
    }));
  }
  auto outcome = consumer.blocking_join();
  WEFT_INVARIANT(outcome.is_ok() ? *outcome == 1 : weft::is_cancelled(outcome.error()));
}

// A Task spawned from a thread while the pool shuts down: a task joins the task list
// only once a poll leaves it pending, so a new one that never ran is found in the run
// queue (shutdown's drain, or the drain its own push does once shutdown is under way).
// Either it ran (7) or it was cancelled; its frame is freed exactly once (leak-checked),
// and the one that is pending (it awaits a signal nobody sends) is always cancelled.
WEFT_MODEL_TEST(spawn_races_shutdown, weft::model::pct(25000, 3).on_dpor(weft::model::bounded(2)),
                2) {
  auto pool = std::make_unique<weft::ThreadPool>(1);
  weft::JoinHandle<int> ready_handle;
  weft::JoinHandle<void> pending_handle;
  auto never = std::make_shared<Signal>();
  platform::thread spawner([&] {
    ready_handle = pool->spawn([]() -> Task<int> { co_return 7; }());
    pending_handle = pool->spawn(
        [](std::shared_ptr<Signal> never) -> Task<void> { co_await never->wait(); }(never));
  });
  pool->shutdown();
  spawner.join();
  auto ready = ready_handle.blocking_join();
  WEFT_INVARIANT(ready.is_ok() ? ready.value() == 7 : weft::is_cancelled(ready.error()));
  auto pending = pending_handle.blocking_join();
  WEFT_INVARIANT(pending.is_err() && weft::is_cancelled(pending.error()));
}
