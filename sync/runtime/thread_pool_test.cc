// Unit tests of ThreadPool and its JoinHandles: sizes, many tasks, spawning from tasks,
// tasks woken across workers, exceptions, shutdown cancelling what is left and refusing
// later spawns, every future and output destroyed exactly once.
#include "sync/runtime/thread_pool.h"

#include "sync/platform/atomic.h"
#include "sync/task/atomic_waker.h"
#include "sync/runtime/local_executor.h"
#include "sync/task/task.h"
#include "testing/counted.h"
#include "testing/gate.h"

#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using weft::Context;
using weft::JoinError;
using weft::JoinHandle;
using weft::Poll;
using weft::Task;
using weft::ThreadPool;

using Counted = weft::testing::MoveOnlyCounted;

using weft::testing::Gate;
using weft::testing::GateFuture;

Task<int> square(int x) { co_return x* x; }

Task<int> after_gate(Gate& gate, int v) {
  co_await GateFuture(gate);
  co_return v;
}

}  // namespace

TEST_CASE("size_limits") {
  CHECK_THROWS_AS(ThreadPool(0), std::invalid_argument);
  CHECK_THROWS_AS(ThreadPool(ThreadPool::max_workers + 1), std::invalid_argument);
  ThreadPool pool(3);
  CHECK(pool.size() == 3);
}

TEST_CASE("many_tasks_all_complete") {
  ThreadPool pool(2);
  std::vector<JoinHandle<int>> handles;
  for (int i = 0; i < 5000; ++i) handles.push_back(pool.spawn(square(i % 100)));
  long total = 0;
  for (auto& h : handles) total += *h.blocking_join();
  long expected = 0;
  for (int i = 0; i < 5000; ++i) expected += (i % 100) * (i % 100);
  CHECK(total == expected);
}

TEST_CASE("spawn_from_inside_a_task") {
  ThreadPool pool(2);
  auto parent = [&]() -> Task<int> {
    JoinHandle<int> a = pool.spawn(square(3));
    JoinHandle<int> b = pool.spawn(square(4));
    co_return *co_await a + *co_await b;
  };
  CHECK(*pool.spawn(parent()).blocking_join() == 25);
}

TEST_CASE("woken_from_outside_the_pool") {
  ThreadPool pool(2);
  std::vector<std::unique_ptr<Gate>> gates;
  std::vector<JoinHandle<int>> handles;
  for (int i = 0; i < 50; ++i) {
    gates.push_back(std::make_unique<Gate>());
    handles.push_back(pool.spawn(after_gate(*gates.back(), i)));
  }
  for (auto& g : gates) g->open();
  int sum = 0;
  for (auto& h : handles) sum += *h.blocking_join();
  CHECK(sum == 49 * 50 / 2);
  CHECK(Counted::live() == 0);
}

TEST_CASE("exception_reaches_blocking_join") {
  ThreadPool pool(1);
  auto thrower = []() -> Task<int> {
    throw std::runtime_error("task");
    co_return 0;
  };
  auto h = pool.spawn(thrower());
  CHECK_THROWS_AS((void)h.blocking_join(), std::runtime_error);
}

TEST_CASE("shutdown_cancels_pending_tasks_exactly_once") {
  Gate never;
  std::vector<JoinHandle<int>> handles;
  {
    ThreadPool pool(2);
    for (int i = 0; i < 20; ++i) handles.push_back(pool.spawn(after_gate(never, i)));
    handles.push_back(pool.spawn(square(5)));
    // Let the finished one finish; the rest stay pending.
    (void)handles.back().is_finished();
    pool.shutdown();
    pool.shutdown();  // idempotent
    // Spawning after shutdown cancels at once.
    auto late = pool.spawn(square(2));
    CHECK(late.is_finished());
    auto outcome = late.blocking_join();
    REQUIRE(outcome.is_err());
    CHECK(outcome.error() == JoinError::cancelled);
  }
  CHECK(GateFuture::live() == 0);  // every GateFuture destroyed
  int cancelled = 0;
  for (auto& h : handles) {
    auto outcome = h.blocking_join();
    if (outcome.is_err()) {
      CHECK(outcome.error() == JoinError::cancelled);
      ++cancelled;
    } else {
      CHECK(*outcome == 25);
    }
  }
  CHECK(cancelled >= 20);
  never.open();  // wakers left in the gate by cancelled tasks: harmless
}

TEST_CASE("outputs_destroyed_once_with_detached_handles") {
  {
    ThreadPool pool(2);
    for (int i = 0; i < 200; ++i) {
      auto h = pool.spawn(weft::poll_fn([i](Context&) -> Poll<Counted> { return Counted(i); }));
      if (i % 2 == 0) (void)h.blocking_join();  // the odd ones are detached
    }
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("join_from_a_local_executor") {
  ThreadPool pool(2);
  weft::LocalExecutor ex;
  Gate gate;
  JoinHandle<int> remote = pool.spawn(after_gate(gate, 6));
  auto local = [&]() -> Task<int> {
    gate.open();
    co_return *co_await remote + 1;
  };
  CHECK(ex.run_until(local()) == 7);
}

TEST_CASE("ping_pong_between_workers") {
  // Two tasks pass a counter back and forth through two AtomicWakers.
  struct Shared {
    weft::platform::atomic<int> turn{0};
    weft::AtomicWaker wakers[2];
  } shared;
  constexpr int rounds = 2000;
  auto player = [&](int me) {
    return weft::poll_fn([&shared, me](Context& cx) -> Poll<void> {
      for (;;) {
        shared.wakers[me].register_by_ref(cx.waker());
        int t = shared.turn.load(std::memory_order_acquire);
        if (t >= 2 * rounds) return weft::ready;
        if (t % 2 != me) return weft::pending;
        shared.turn.store(t + 1, std::memory_order_release);
        shared.wakers[1 - me].wake();
      }
    });
  };
  ThreadPool pool(2);
  auto a = pool.spawn(player(0));
  auto b = pool.spawn(player(1));
  CHECK(a.blocking_join().is_ok());
  CHECK(b.blocking_join().is_ok());
  CHECK(shared.turn.load(std::memory_order_relaxed) == 2 * rounds);
}

// JoinHandle::abort / AbortHandle (tokio/tests/task_abort.rs) on a pool.

TEST_CASE("abort_pending_tasks_others_complete") {
  const long before = GateFuture::live();
  {
    ThreadPool pool(2);
    std::vector<Gate> gates(64);
    std::vector<JoinHandle<int>> handles;
    for (int i = 0; i < 64; ++i) handles.push_back(pool.spawn(after_gate(gates[i], i)));
    for (int i = 0; i < 64; i += 2) handles[i].abort();
    for (int i = 1; i < 64; i += 2) gates[i].open();
    for (int i = 0; i < 64; ++i) {
      auto outcome = handles[i].blocking_join();
      if (i % 2 == 0) {
        // Aborted before its gate opened (it never opens): cancelled.
        REQUIRE(outcome.is_err());
        CHECK(weft::is_cancelled(outcome.error()));
      } else {
        REQUIRE(outcome.is_ok());
        CHECK(*outcome == i);
      }
    }
  }
  // Every GateFuture destroyed once.
  CHECK(GateFuture::live() == before);
}

TEST_CASE("abort_racing_completion_yields_value_or_cancelled") {
  ThreadPool pool(2);
  int values = 0, cancelled = 0;
  for (int i = 0; i < 500; ++i) {
    Gate gate;
    auto h = pool.spawn(after_gate(gate, 7));
    std::thread opener([&] { gate.open(); });
    auto abort = h.abort_handle();
    abort.abort();
    auto outcome = h.blocking_join();
    opener.join();
    CHECK(abort.is_finished());
    if (outcome.is_ok()) {
      CHECK(*outcome == 7);
      ++values;
    } else {
      CHECK(weft::is_cancelled(outcome.error()));
      ++cancelled;
    }
  }
  CHECK(values + cancelled == 500);
}

TEST_CASE("abort_from_another_task_on_the_pool") {
  ThreadPool pool(2);
  Gate gate;
  auto victim = pool.spawn(after_gate(gate, 1));
  auto killer = pool.spawn([](weft::AbortHandle h) -> Task<void> {
    h.abort();
    co_return;
  }(victim.abort_handle()));
  CHECK(killer.blocking_join().is_ok());
  auto outcome = victim.blocking_join();
  REQUIRE(outcome.is_err());
  CHECK(outcome.error() == JoinError::cancelled);
}

TEST_CASE("woken_from_a_worker_runs_via_lifo_and_yielders_are_not_starved") {
  // Two tasks wake each other from the workers (the LIFO path) for a while; a third
  // task, queued globally, must still complete meanwhile (the LIFO streak is bounded).
  struct Shared {
    weft::platform::atomic<bool> stop{false};
    weft::platform::atomic<int> turn{0};
    weft::AtomicWaker wakers[2];
  } shared;
  auto player = [&](int me) {
    return weft::poll_fn([&shared, me](Context& cx) -> Poll<void> {
      shared.wakers[me].register_by_ref(cx.waker());
      if (shared.stop.load(std::memory_order_acquire)) {
        shared.wakers[1 - me].wake();
        return weft::ready;
      }
      int t = shared.turn.load(std::memory_order_acquire);
      if (t % 2 != me) return weft::pending;
      shared.turn.store(t + 1, std::memory_order_release);
      shared.wakers[1 - me].wake();
      return weft::pending;
    });
  };
  ThreadPool pool(1);  // one worker: the third task needs the LIFO streak to end
  auto a = pool.spawn(player(0));
  auto b = pool.spawn(player(1));
  auto third = pool.spawn(square(5));
  CHECK(*third.blocking_join() == 25);
  shared.stop.store(true, std::memory_order_release);
  shared.wakers[0].wake();
  shared.wakers[1].wake();
  CHECK(a.blocking_join().is_ok());
  CHECK(b.blocking_join().is_ok());
}
