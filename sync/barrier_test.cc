// Unit tests of Barrier. Ported from tokio/tests/sync_barrier.rs, plus generations that
// overlap, cancellation and real threads.
#include "sync/barrier.h"
#include "sync/platform/atomic.h"

#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/waker_leak_check.h"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace {

using weft::Barrier;
using weft::MockTask;

struct Spawned {
  MockTask task;
  Barrier::Wait fut;
  explicit Spawned(Barrier::Wait f) : fut(std::move(f)) {}
  auto poll() { return task.poll(fut); }
};

TEST_CASE("zero_does_not_block") {
  Barrier b(0);
  for (int i = 0; i < 2; ++i) {
    Spawned w(b.wait());
    auto wr = w.poll();
    REQUIRE(wr.is_ready());
    CHECK(wr.value().is_leader());
  }
}

TEST_CASE("single") {
  Barrier b(1);
  for (int i = 0; i < 3; ++i) {
    Spawned w(b.wait());
    auto wr = w.poll();
    REQUIRE(wr.is_ready());
    CHECK(wr.value().is_leader());
  }
}

TEST_CASE("tango") {
  Barrier b(2);
  Spawned w1(b.wait());
  CHECK(w1.poll().is_pending());
  Spawned w2(b.wait());
  auto wr2 = w2.poll();
  REQUIRE(wr2.is_ready());
  CHECK(w1.task.is_woken());
  auto wr1 = w1.poll();
  REQUIRE(wr1.is_ready());
  CHECK((wr1.value().is_leader() || wr2.value().is_leader()));
  CHECK_FALSE((wr1.value().is_leader() && wr2.value().is_leader()));
}

TEST_CASE("lots") {
  Barrier b(100);
  for (int round = 0; round < 10; ++round) {
    std::vector<std::unique_ptr<Spawned>> wait;
    for (int i = 0; i < 99; ++i) {
      wait.push_back(std::make_unique<Spawned>(b.wait()));
      CHECK(wait.back()->poll().is_pending());
    }
    for (auto& w : wait) CHECK(w->poll().is_pending());
    // pass the barrier
    Spawned last(b.wait());
    auto lr = last.poll();
    REQUIRE(lr.is_ready());
    bool found_leader = lr.value().is_leader();
    for (auto& w : wait) {
      CHECK(w->task.is_woken());
      auto wr = w->poll();
      REQUIRE(wr.is_ready());
      if (wr.value().is_leader()) {
        CHECK_FALSE(found_leader);
        found_leader = true;
      }
    }
    CHECK(found_leader);
  }
}

TEST_CASE("a waiter of the next generation is not released by the previous leader") {
  Barrier b(2);
  Spawned a(b.wait());
  CHECK(a.poll().is_pending());
  Spawned leader(b.wait());
  CHECK(leader.poll().value().is_leader());
  // Generation 2 starts: its first waiter stays pending even though `a` was woken.
  Spawned c(b.wait());
  CHECK(c.poll().is_pending());
  CHECK(a.poll().is_ready());
  CHECK(c.poll().is_pending());
  Spawned d(b.wait());
  CHECK(d.poll().value().is_leader());
  CHECK(c.task.is_woken());
  auto cr = c.poll();
  REQUIRE(cr.is_ready());
  CHECK_FALSE(cr.value().is_leader());
}

TEST_CASE("a cancelled waiter still counts; one never polled does not") {
  Barrier b(2);
  {
    Spawned gone(b.wait());
    CHECK(gone.poll().is_pending());
  }
  { Spawned never(b.wait()); }
  Spawned w(b.wait());
  auto wr = w.poll();
  REQUIRE(wr.is_ready());  // completes the generation the cancelled one started
  CHECK(wr.value().is_leader());
  Spawned next(b.wait());
  CHECK(next.poll().is_pending());
}

TEST_CASE("completed futures stay complete") {
  Barrier b(1);
  Spawned w(b.wait());
  CHECK(w.poll().value().is_leader());
  CHECK(w.poll().value().is_leader());
}

TEST_CASE("threads: one leader per generation") {
  constexpr int n = 4;
  constexpr int rounds = 200;
  Barrier b(n);
  weft::platform::atomic<int> leaders{0};
  weft::platform::atomic<int> before{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&] {
      for (int r = 0; r < rounds; ++r) {
        before.fetch_add(1, std::memory_order_relaxed);
        auto result = weft::block_on(b.wait());
        // Everyone of this generation arrived before anyone leaves.
        CHECK(before.load(std::memory_order_relaxed) >= (r + 1) * n);
        if (result.is_leader()) leaders.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(leaders.load(std::memory_order_relaxed) == rounds);
}

// Class check (issue 18, after Tokio #7886): a future that stored its task's waker drops
// it when destroyed (testing/waker_leak_check.h).
TEST_CASE("a destroyed wait() future releases its waker") {
  Barrier barrier(2);
  CHECK(weft::testing::waker_released_on_destroy([&] { return barrier.wait(); }));
}

}  // namespace
