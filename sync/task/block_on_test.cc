// Unit tests of block_on: ready at once, woken from another thread, stale wakes from an
// earlier call, nested calls, exceptions, and the cached waker's identity.
#include "sync/task/block_on.h"

#include "sync/platform/atomic.h"
#include "sync/task/atomic_waker.h"
#include "testing/counting_new.h"  // counts this binary's allocations (block_on's fast path)

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using weft::Context;
using weft::Poll;

struct Flag {
  weft::AtomicWaker waker;
  weft::platform::atomic<bool> set{false};
  void raise() {
    set.store(true, std::memory_order_release);
    waker.wake();
  }
  auto wait() {
    return weft::poll_fn([this](Context& cx) -> Poll<void> {
      waker.register_by_ref(cx.waker());
      if (set.load(std::memory_order_acquire)) return weft::ready;
      return weft::pending;
    });
  }
};

}  // namespace

TEST_CASE("ready_immediately") {
  int polls = 0;
  CHECK(weft::block_on(weft::poll_fn([&](Context&) -> Poll<int> {
          ++polls;
          return 42;
        })) == 42);
  CHECK(polls == 1);
}

TEST_CASE("woken_from_another_thread") {
  for (int round = 0; round < 200; ++round) {
    Flag flag;
    std::thread t([&] { flag.raise(); });
    weft::block_on(flag.wait());
    t.join();
  }
}

TEST_CASE("stale_wake_from_earlier_call_is_harmless") {
  weft::Waker kept;
  weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
    kept = cx.waker();
    return weft::ready;
  }));
  kept.wake_by_ref();  // a token left for the next call
  int polls = 0;
  Flag flag;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    flag.raise();
  });
  weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
    ++polls;
    flag.waker.register_by_ref(cx.waker());
    return flag.set.load(std::memory_order_acquire) ? Poll<void>(weft::ready) : weft::pending;
  }));
  t.join();
  CHECK(polls >= 1);
}

TEST_CASE("cached_waker_is_reused_per_thread") {
  weft::Waker first;
  weft::Waker second;
  weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
    first = cx.waker();
    return weft::ready;
  }));
  weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
    second = cx.waker();
    return weft::ready;
  }));
  CHECK(first.will_wake(second));
}

TEST_CASE("nested_block_on_does_not_steal_the_outer_wakeup") {
  Flag outer;
  Flag inner;
  int outer_polls = 0;
  std::thread t;
  weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
    ++outer_polls;
    outer.waker.register_by_ref(cx.waker());
    if (outer_polls == 1) {
      // Wake the outer waker now, then block on something else: the nested call must
      // use its own parker, so the outer token survives.
      cx.waker().wake_by_ref();
      weft::Waker inner_waker;
      std::thread raiser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        inner.raise();
      });
      weft::block_on(weft::poll_fn([&](Context& icx) -> Poll<void> {
        inner_waker = icx.waker();
        inner.waker.register_by_ref(icx.waker());
        return inner.set.load(std::memory_order_acquire) ? Poll<void>(weft::ready) : weft::pending;
      }));
      raiser.join();
      CHECK_FALSE(inner_waker.will_wake(cx.waker()));
      return weft::pending;
    }
    return weft::ready;
  }));
  CHECK(outer_polls == 2);
}

TEST_CASE("exception_from_poll_propagates") {
  CHECK_THROWS_AS(weft::block_on(weft::poll_fn(
                      [](Context&) -> Poll<int> { throw std::runtime_error("poll"); })),
                  std::runtime_error);
  // The cache is released by the throw: the next call works.
  CHECK(weft::block_on(weft::poll_fn([](Context&) -> Poll<int> { return 1; })) == 1);
}

TEST_CASE("waker_outlives_thread") {
  weft::Waker escaped;
  std::thread t([&] {
    weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
      escaped = cx.waker();
      return weft::ready;
    }));
  });
  t.join();
  escaped.wake_by_ref();  // the thread's cache is gone; the parker lives on
  escaped = weft::Waker();
}

TEST_CASE("no_allocation_per_call_in_production") {
  // The first call on a thread creates its cached ThreadWaker; later ones reuse it.
  weft::block_on(weft::poll_fn([](Context&) -> Poll<int> { return 1; }));
  const long before = weft::testing::allocations();
  for (int i = 0; i < 100; ++i) {
    int polls = 0;
    weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
      if (polls++ == 0) {
        cx.waker().wake_by_ref();  // pending once: one park that returns at once
        return weft::pending;
      }
      return weft::ready;
    }));
  }
  CHECK(weft::testing::allocations() == before);
  // A nested call needs its own parker: that one allocates (and frees) one.
  weft::block_on(weft::poll_fn([&](Context&) -> Poll<void> {
    const long outer = weft::testing::allocations();
    weft::block_on(weft::poll_fn([](Context&) -> Poll<int> { return 2; }));
    CHECK(weft::testing::allocations() == outer + 1);
    return weft::ready;
  }));
}

TEST_CASE("wake_before_and_after_park") {
  // Wakes that come at once (before the thread parks) and after it parked (a sleep):
  // both complete the call, and each poll sees a wake or the event.
  for (int delay_us : {0, 0, 1, 5, 50, 2000}) {
    Flag flag;
    int polls = 0;
    std::thread t([&] {
      if (delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
      flag.raise();
    });
    weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
      ++polls;
      flag.waker.register_by_ref(cx.waker());
      return flag.set.load(std::memory_order_acquire) ? Poll<void>(weft::ready) : weft::pending;
    }));
    t.join();
    CHECK(polls >= 1);
    CHECK(polls <= 3);  // the first poll, the one after the wake, and one stale token
  }
}

namespace {

// A future that is never ready and counts its polls and its destruction.
struct NeverReady {
  int* polls;
  int* destroyed;
  Poll<int> poll(Context&) {
    ++*polls;
    return weft::pending;
  }
  ~NeverReady() { ++*destroyed; }
};

}  // namespace

TEST_CASE("block_on_until: pending at the deadline, the temporary future destroyed") {
  using namespace std::chrono_literals;
  int polls = 0;
  int destroyed = 0;
  const auto start = weft::platform::clock::now();
  const auto deadline = weft::platform::deadline_after(20ms);
  Poll<int> out = weft::block_on_until(NeverReady{&polls, &destroyed}, deadline);
  CHECK(out.is_pending());
  CHECK(destroyed == 1);  // before the caller reads the result
  CHECK(weft::platform::clock::now() >= deadline);
  CHECK(weft::platform::clock::now() - start >= 20ms);
  CHECK(polls >= 2);  // the first poll and the one after the deadline
  // A deadline already passed still polls: a ready future completes.
  Poll<int> now = weft::block_on_until(weft::poll_fn([](Context&) -> Poll<int> { return 7; }),
                                       weft::platform::clock::now() - 1s);
  REQUIRE(now.is_ready());
  CHECK(now.value() == 7);
}

TEST_CASE("block_on_until: woken before the deadline, completes; void output too") {
  for (int delay_us : {0, 5, 2000}) {
    Flag flag;
    std::thread t([&] {
      if (delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
      flag.raise();
    });
    Poll<void> out =
        weft::block_on_until(flag.wait(), weft::platform::deadline_after(std::chrono::hours(1)));
    t.join();
    CHECK(out.is_ready());
  }
}

TEST_CASE("block_on_until: a wake after a timeout is harmless to the next call") {
  using namespace std::chrono_literals;
  Flag flag;
  CHECK(weft::block_on_until(flag.wait(), weft::platform::deadline_after(1ms)).is_pending());
  flag.raise();  // wakes the waker the timed-out call registered: a stale token
  CHECK(weft::block_on_until(flag.wait(), weft::platform::deadline_after(1ms)).is_ready());
  int polls = 0;
  int destroyed = 0;
  CHECK(weft::block_on_until(NeverReady{&polls, &destroyed}, weft::platform::deadline_after(1ms))
            .is_pending());
}
