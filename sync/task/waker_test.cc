// Unit tests of Waker, Context, Poll, MockTask and block_on.
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "sync/task/poll.h"
#include "sync/task/waker.h"

#include "sync/platform/atomic.h"
#include "sync/platform/thread.h"
#include "sync/task/atomic_waker.h"

#include "testing/wake_contract_check.h"

#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace {

using weft::Context;
using weft::MockTask;
using weft::Poll;
using weft::Waker;

TEST_CASE("Poll holds a value or is pending") {
  Poll<std::string> ready = std::string("x");
  Poll<std::string> pending = weft::pending;
  CHECK(ready.is_ready());
  CHECK(pending.is_pending());
  CHECK(std::move(ready).value() == "x");
  Poll<void> done = weft::ready;
  CHECK(done.is_ready());
  CHECK(Poll<void>(weft::pending).is_pending());
}

TEST_CASE("the default Waker is a no-op and wakes nothing") {
  Waker noop;
  noop.wake_by_ref();
  Waker copy = noop;
  CHECK(copy.will_wake(noop));
  copy.wake();
  CHECK(copy.will_wake(Waker::noop()));
}

TEST_CASE("copies count as handles, moves do not") {
  MockTask task;
  Waker a = task.waker();
  CHECK(task.waker_ref_count() == 1);
  Waker b = std::move(a);
  CHECK(task.waker_ref_count() == 1);
  CHECK(b.will_wake(task.waker()));
  CHECK_FALSE(b.will_wake(Waker::noop()));
  Waker c = b;
  CHECK(task.waker_ref_count() == 2);
  c = Waker();
  CHECK(task.waker_ref_count() == 1);
  b.wake();  // consumes
  CHECK(task.waker_ref_count() == 0);
  CHECK(task.wake_count() == 1);
}

TEST_CASE("wake_by_ref keeps the handle, poll clears the woken flag") {
  MockTask task;
  auto future = weft::poll_fn([](Context& cx) -> Poll<int> {
    cx.waker().wake_by_ref();
    return weft::pending;
  });
  CHECK(task.poll(future).is_pending());
  CHECK(task.is_woken());
  CHECK(task.wake_count() == 1);
  task.enter([](Context&) {});
  CHECK_FALSE(task.is_woken());
}

TEST_CASE("a waker outliving its MockTask stays valid") {
  Waker kept;
  {
    MockTask task;
    kept = task.waker();
  }
  kept.wake_by_ref();
  kept.wake();
}

TEST_CASE("block_on returns a ready value at once") {
  CHECK(weft::block_on(weft::poll_fn([](Context&) -> Poll<int> { return 5; })) == 5);
}

TEST_CASE("block_on parks until another thread wakes it") {
  weft::platform::atomic<int> done{0};
  weft::AtomicWaker waker;
  weft::platform::thread producer([&] {
    done.store(1, std::memory_order_release);
    waker.wake();
  });
  weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
    waker.register_by_ref(cx.waker());
    if (done.load(std::memory_order_acquire) == 1) return weft::ready;
    return weft::pending;
  }));
  producer.join();
}

TEST_CASE("block_on propagates an exception from poll") {
  CHECK_THROWS_AS(
      weft::block_on(weft::poll_fn([](Context&) -> Poll<int> { throw std::logic_error("poll"); })),
      std::logic_error);
}

// The wake policy: wake() and wake_by_ref() are noexcept; a vtable that throws is a failed
// invariant at the wake.
TEST_CASE("a throwing wake or wake_by_ref is a failed invariant") {
  CHECK(
      weft::testing::aborts_on_throwing_wake([] { weft::testing::throwing_wake_waker().wake(); }));
  CHECK(weft::testing::aborts_on_throwing_wake(
      [] { weft::testing::throwing_wake_waker().wake_by_ref(); }));
  static_assert(noexcept(std::declval<weft::Waker&>().wake()));
  static_assert(noexcept(std::declval<const weft::Waker&>().wake_by_ref()));
}

}  // namespace
