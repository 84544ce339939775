// Unit tests of LocalExecutor and JoinHandle on it: run_until_idle / run_until, tasks
// waking each other, wakes from other threads, outputs and futures destroyed exactly
// once, exceptions, cancellation by destruction, late wakes.
#include "sync/runtime/local_executor.h"

#include "sync/platform/atomic.h"
#include "sync/task/task.h"
#include "sync/task/yield_now.h"
#include "testing/counted.h"
#include "testing/gate.h"
#include "testing/yield_now.h"

#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using weft::Context;
using weft::JoinError;
using weft::JoinHandle;
using weft::LocalExecutor;
using weft::Poll;
using weft::Task;

using Counted = weft::testing::MoveOnlyCounted;

using weft::testing::Gate;
using weft::testing::GateFuture;
using weft::testing::YieldNow;

Task<int> after_gate(Gate& gate, int v) {
  co_await GateFuture(gate);
  co_return v;
}

Task<Counted> counted_after_gate(Gate& gate, int v) {
  co_await GateFuture(gate);
  co_return Counted(v);
}

}  // namespace

TEST_CASE("spawn_runs_nothing_until_driven") {
  LocalExecutor ex;
  int runs = 0;
  auto h = ex.spawn(weft::poll_fn([&](Context&) -> Poll<int> {
    ++runs;
    return 5;
  }));
  CHECK(runs == 0);
  CHECK_FALSE(h.is_finished());
  CHECK(ex.run_until_idle() == 1);
  CHECK(runs == 1);
  CHECK(h.is_finished());
  auto outcome = h.blocking_join();
  REQUIRE(outcome.is_ok());
  CHECK(*outcome == 5);
  CHECK_FALSE(h.valid());
  CHECK(ex.run_until_idle() == 0);
}

TEST_CASE("tasks_wake_each_other") {
  LocalExecutor ex;
  Gate gate;
  auto waiter = ex.spawn(after_gate(gate, 3));
  CHECK(ex.run_until_idle() == 1);
  CHECK_FALSE(waiter.is_finished());
  auto opener = ex.spawn(weft::poll_fn([&](Context&) -> Poll<void> {
    gate.open();
    return weft::ready;
  }));
  CHECK(ex.run_until_idle() == 2);  // the opener, then the woken waiter
  CHECK(*waiter.blocking_join() == 3);
  CHECK(opener.blocking_join().is_ok());
}

TEST_CASE("run_until_returns_the_value_and_leaves_others") {
  LocalExecutor ex;
  Gate never;
  auto stuck = ex.spawn(after_gate(never, 1));
  int yields = 0;
  auto body = [&]() -> Task<int> {
    for (int i = 0; i < 3; ++i) {
      co_await YieldNow{};
      ++yields;
    }
    co_return 42;
  };
  CHECK(ex.run_until(body()) == 42);
  CHECK(yields == 3);
  CHECK_FALSE(stuck.is_finished());
}

TEST_CASE("yield_now_runs_every_task_queued_before_it_first") {
  // weft::yield_now() (sync/task/yield_now.h): the yielding task goes to the back of the
  // queue, behind the tasks already runnable, as tokio::task::yield_now.
  LocalExecutor ex;
  std::vector<int> order;
  auto step = [&](int first, int second) -> Task<void> {
    order.push_back(first);
    co_await weft::yield_now();
    order.push_back(second);
  };
  auto a = ex.spawn(step(1, 4));
  auto b = ex.spawn(step(2, 5));
  auto once = [&](int only) -> Task<void> {
    order.push_back(only);
    co_return;
  };
  auto c = ex.spawn(once(3));
  CHECK(ex.run_until_idle() == 5);  // a, b, c, then a and b again
  CHECK(order == std::vector<int>{1, 2, 3, 4, 5});
  CHECK(a.is_finished());
  CHECK(b.is_finished());
  CHECK(c.is_finished());
}

TEST_CASE("run_until_parks_until_woken_from_another_thread") {
  LocalExecutor ex;
  Gate gate;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    gate.open();
  });
  CHECK(ex.run_until(after_gate(gate, 9)) == 9);
  t.join();
}

TEST_CASE("run_until_awaits_a_join_handle") {
  LocalExecutor ex;
  Gate gate;
  JoinHandle<int> inner = ex.spawn(after_gate(gate, 4));
  auto outer = [&]() -> Task<int> {
    gate.open();
    auto outcome = co_await inner;
    co_return *outcome * 2;
  };
  CHECK(ex.run_until(outer()) == 8);
}

TEST_CASE("exceptions_reach_the_joiner") {
  LocalExecutor ex;
  auto thrower = []() -> Task<int> {
    co_await YieldNow{};
    throw std::runtime_error("task");
  };
  auto h = ex.spawn(thrower());
  ex.run_until_idle();
  CHECK_THROWS_AS((void)h.blocking_join(), std::runtime_error);
  CHECK_THROWS_AS((void)ex.run_until(thrower()), std::runtime_error);
  // A plain future that throws from poll completes the task the same way.
  auto h2 = ex.spawn(weft::poll_fn([](Context&) -> Poll<int> { throw std::logic_error("poll"); }));
  ex.run_until_idle();
  CHECK_THROWS_AS((void)h2.blocking_join(), std::logic_error);
}

TEST_CASE("output_destroyed_once_when_handle_dropped_first") {
  {
    LocalExecutor ex;
    Gate gate;
    {
      auto h = ex.spawn(counted_after_gate(gate, 1));
      ex.run_until_idle();
    }  // detached
    gate.open();
    ex.run_until_idle();
    // The executor destroyed the unwanted output.
    CHECK(Counted::live() == 0);
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("output_destroyed_once_when_handle_dropped_after") {
  LocalExecutor ex;
  Gate gate;
  gate.open();
  {
    auto h = ex.spawn(counted_after_gate(gate, 2));
    ex.run_until_idle();
    CHECK(h.is_finished());
    // Waiting in the task for the handle.
    CHECK(Counted::live() == 1);
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("output_taken_by_join") {
  LocalExecutor ex;
  Gate gate;
  gate.open();
  auto h = ex.spawn(counted_after_gate(gate, 3));
  ex.run_until_idle();
  {
    auto outcome = h.blocking_join();
    CHECK(outcome->value == 3);
    CHECK(Counted::live() == 1);
  }
  CHECK(Counted::live() == 0);
  CHECK_THROWS_AS((void)weft::block_on(h), std::invalid_argument);
}

TEST_CASE("destroying_the_executor_cancels_pending_tasks") {
  Gate gate;
  JoinHandle<int> pending_handle;
  JoinHandle<int> never_polled;
  {
    LocalExecutor ex;
    pending_handle = ex.spawn(after_gate(gate, 1));
    ex.run_until_idle();
    CHECK(GateFuture::live() == 1);
    never_polled = ex.spawn(after_gate(gate, 2));
  }
  // The coroutine frame and the future it awaited are gone.
  CHECK(GateFuture::live() == 0);
  auto a = pending_handle.blocking_join();
  REQUIRE(a.is_err());
  CHECK(a.error() == JoinError::cancelled);
  auto b = never_polled.blocking_join();
  REQUIRE(b.is_err());
  CHECK(b.error() == JoinError::cancelled);
  gate.open();  // the waker registered by the cancelled task is still valid: a no-op
}

TEST_CASE("wakers_outlive_the_executor") {
  weft::Waker kept;
  {
    LocalExecutor ex;
    auto h = ex.spawn(weft::poll_fn([&](Context& cx) -> Poll<void> {
      kept = cx.waker();
      return weft::pending;
    }));
    ex.run_until_idle();
  }
  weft::Waker copy = kept;
  copy.wake();
  kept.wake_by_ref();
}

TEST_CASE("woken_while_polled_is_polled_again") {
  LocalExecutor ex;
  int polls = 0;
  auto h = ex.spawn(weft::poll_fn([&](Context& cx) -> Poll<int> {
    if (++polls < 3) {
      cx.waker().wake_by_ref();  // during the poll: RUNNING | NOTIFIED
      cx.waker().wake_by_ref();  // a second wake while notified is absorbed
      return weft::pending;
    }
    return polls;
  }));
  CHECK(ex.run_until_idle() == 3);
  CHECK(*h.blocking_join() == 3);
}

TEST_CASE("waker_clones_and_by_value_wakes") {
  LocalExecutor ex;
  std::vector<weft::Waker> clones;
  int polls = 0;
  auto h = ex.spawn(weft::poll_fn([&](Context& cx) -> Poll<int> {
    ++polls;
    if (polls == 1) {
      for (int i = 0; i < 4; ++i) clones.push_back(cx.waker());
      CHECK(clones[0].will_wake(cx.waker()));
      return weft::pending;
    }
    return polls;
  }));
  ex.run_until_idle();
  for (auto& w : clones) w.wake();  // each consumes its handle; one poll is owed
  CHECK(ex.run_until_idle() == 1);
  CHECK(*h.blocking_join() == 2);
}

// JoinHandle::abort / AbortHandle (tokio/tests/task_abort.rs), on the driver thread.

TEST_CASE("abort_idle_task_destroys_its_future_on_the_driver") {
  Gate gate;
  {
    LocalExecutor ex;
    const long before = GateFuture::live();
    JoinHandle<Counted> h = ex.spawn(counted_after_gate(gate, 3));
    ex.run_until_idle();  // now idle, awaiting the gate
    CHECK(GateFuture::live() == before + 1);
    CHECK_FALSE(h.is_finished());
    h.abort();
    // Not destroyed by the aborting call: the executor does it when it runs the task.
    CHECK(GateFuture::live() == before + 1);
    CHECK(ex.run_until_idle() == 1);
    CHECK(GateFuture::live() == before);
    CHECK(h.is_finished());
    auto outcome = h.blocking_join();
    REQUIRE(outcome.is_err());
    CHECK(weft::is_cancelled(outcome.error()));
    h.abort();  // on an invalid handle: nothing
  }
  gate.open();  // the gate's waker was dropped with the future: nothing to wake
  CHECK(Counted::live() == 0);
}

TEST_CASE("abort_before_first_poll_never_polls") {
  LocalExecutor ex;
  weft::platform::atomic<int> polls{0};
  auto h = ex.spawn(weft::poll_fn([&](Context&) -> Poll<int> {
    polls.fetch_add(1, std::memory_order_relaxed);
    return 1;
  }));
  h.abort();
  h.abort();  // twice: still one cancellation
  ex.run_until_idle();
  CHECK(polls.load(std::memory_order_relaxed) == 0);
  auto outcome = h.blocking_join();
  REQUIRE(outcome.is_err());
  CHECK(outcome.error() == JoinError::cancelled);
}

TEST_CASE("abort_after_completion_keeps_the_value") {
  LocalExecutor ex;
  auto h = ex.spawn([]() -> Task<Counted> { co_return Counted(9); }());
  ex.run_until_idle();
  CHECK(h.is_finished());
  auto abort = h.abort_handle();
  abort.abort();
  h.abort();
  CHECK(ex.run_until_idle() == 0);  // nothing queued by the aborts
  auto outcome = h.blocking_join();
  REQUIRE(outcome.is_ok());
  CHECK(outcome.value().value == 9);
  CHECK(abort.is_finished());
  CHECK_THROWS_AS((void)h.abort_handle(), std::invalid_argument);
}

TEST_CASE("task_aborts_itself_at_its_next_yield_point") {
  // abort() from inside the running task: the poll continues to its next suspension,
  // then the task is cancelled; the frame is not destroyed under the running body.
  LocalExecutor ex;
  weft::platform::atomic<int> steps{0};
  weft::AbortHandle self;
  auto body = [&]() -> Task<void> {
    steps.fetch_add(1, std::memory_order_relaxed);
    self.abort();
    // Still runs: the abort takes effect at the next suspension.
    steps.fetch_add(1, std::memory_order_relaxed);
    co_await YieldNow();  // pending: the task is re-queued and cancelled when popped
    steps.fetch_add(1, std::memory_order_relaxed);  // never
  };
  auto h = ex.spawn(body());
  self = h.abort_handle();
  ex.run_until_idle();
  CHECK(steps.load(std::memory_order_relaxed) == 2);
  auto outcome = h.blocking_join();
  REQUIRE(outcome.is_err());
  CHECK(weft::is_cancelled(outcome.error()));
}

TEST_CASE("abort_handle_outlives_task_and_executor") {
  weft::AbortHandle copy;
  {
    LocalExecutor ex;
    Gate gate;
    auto h = ex.spawn(after_gate(gate, 1));
    weft::AbortHandle a = h.abort_handle();
    copy = a;
    CHECK(copy.valid());
    h = {};  // detached
    ex.run_until_idle();
    CHECK_FALSE(copy.is_finished());
    a.abort();
    ex.run_until_idle();
    CHECK(copy.is_finished());
  }
  copy.abort();  // complete: nothing, and the executor is gone
  CHECK(copy.is_finished());
  CHECK(GateFuture::live() == 0);
}
