// Unit tests of OnceCell. Ported from tokio/tests/sync_once_cell.rs (Tokio's paused clock
// becomes hand-polled futures), plus cancellation, failing initializers, take and counted
// values so every value is destroyed exactly once.
#include "sync/once_cell.h"
#include "sync/platform/atomic.h"

#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/waker_leak_check.h"
#include "testing/counted.h"

#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using weft::Context;
using weft::MockTask;
using weft::OnceCell;
using weft::Poll;
using weft::Result;

// A future that is pending until `gate` opens, then yields `value` (Tokio's sleeps).
struct Gated {
  std::shared_ptr<weft::platform::atomic<bool>> gate;
  unsigned value;
  Poll<unsigned> poll(Context&) {
    // Acquire: pairs with the Release store below that opens the gate (the test's).
    if (!gate->load(std::memory_order_acquire)) return weft::pending;
    return value;
  }
};

using Counted = weft::testing::Counted;

TEST_CASE("get_or_init") {
  OnceCell<unsigned> once;
  auto gate = std::make_shared<weft::platform::atomic<bool>>(false);
  MockTask t1, t2;
  auto h1 = once.get_or_init([] { return 5u; });                   // func1
  auto h2 = once.get_or_init([gate] { return Gated{gate, 10}; });  // func2
  auto r1 = t1.poll(h1);
  REQUIRE(r1.is_ready());
  CHECK(r1.value().get() == 5);
  gate->store(true, std::memory_order_release);  // Release: pairs with Gated's Acquire load
  auto r2 = t2.poll(h2);
  REQUIRE(r2.is_ready());
  CHECK(r2.value().get() == 5);
}

TEST_CASE("get_or_init_panic") {
  OnceCell<unsigned> once;
  MockTask t1, t2;
  auto h2 = once.get_or_init([]() -> unsigned { throw std::runtime_error("panic"); });
  CHECK_THROWS_AS((void)t2.poll(h2), std::runtime_error);
  auto h1 = once.get_or_init([] { return 5u; });
  auto r1 = t1.poll(h1);
  REQUIRE(r1.is_ready());  // the throwing initializer gave the permit back
  CHECK(r1.value().get() == 5);
}

TEST_CASE("set_and_get") {
  OnceCell<unsigned> once;
  std::thread setter([&] { CHECK(once.set(5).is_ok()); });
  setter.join();
  REQUIRE(once.get() != nullptr);
  CHECK(*once.get() == 5);
}

TEST_CASE("get_uninit") {
  OnceCell<unsigned> once;
  CHECK(once.get() == nullptr);
}

TEST_CASE("set_twice") {
  OnceCell<unsigned> once;
  CHECK(once.set(5).is_ok());
  auto second = once.set(6);
  REQUIRE(second.is_err());
  CHECK(second.error().is_already_init_err());
  CHECK(second.error().value == 6);
}

TEST_CASE("set_while_initializing") {
  OnceCell<unsigned> once;
  auto gate = std::make_shared<weft::platform::atomic<bool>>(false);
  MockTask t1;
  auto h1 = once.get_or_init([gate] { return Gated{gate, 5}; });  // sleep_and_set
  CHECK(t1.poll(h1).is_pending());
  auto result2 = once.set(10);
  REQUIRE(result2.is_err());
  CHECK(result2.error().is_initializing_err());
  CHECK(result2.error().value == 10);
  gate->store(true, std::memory_order_release);  // Release: pairs with Gated's Acquire load
  auto r1 = t1.poll(h1);
  REQUIRE(r1.is_ready());
  CHECK(r1.value().get() == 5);
}

// ----- beyond Tokio's tests -----

TEST_CASE("waiters are released when the initializer finishes") {
  OnceCell<std::string> once;
  auto gate = std::make_shared<weft::platform::atomic<bool>>(false);
  struct Text {
    std::shared_ptr<weft::platform::atomic<bool>> gate;
    Poll<std::string> poll(Context&) {
      // Acquire: pairs with the Release store below that opens the gate (the test's).
      if (!gate->load(std::memory_order_acquire)) return weft::pending;
      return std::string("ready");
    }
  };
  MockTask init_task, waiter_task;
  auto init = once.get_or_init([gate] { return Text{gate}; });
  auto waiter = once.get_or_init([]() -> std::string {
    FAIL("second initializer ran");
    return "";
  });
  CHECK(init_task.poll(init).is_pending());
  CHECK(waiter_task.poll(waiter).is_pending());
  gate->store(true, std::memory_order_release);  // Release: pairs with Text's Acquire load
  CHECK(init_task.poll(init).value().get() == "ready");
  CHECK(waiter_task.is_woken());
  CHECK(waiter_task.poll(waiter).value().get() == "ready");
}

TEST_CASE("a cancelled initializer lets the next waiter initialize") {
  OnceCell<unsigned> once;
  auto gate = std::make_shared<weft::platform::atomic<bool>>(false);
  MockTask t1, t2;
  auto h2 = once.get_or_init([] { return 7u; });
  {
    auto h1 = once.get_or_init([gate] { return Gated{gate, 5}; });
    CHECK(t1.poll(h1).is_pending());  // holds the permit
    CHECK(t2.poll(h2).is_pending());  // waits for it
  }                                   // h1 cancelled: the permit goes to h2
  CHECK(t2.is_woken());
  auto r2 = t2.poll(h2);
  REQUIRE(r2.is_ready());
  CHECK(r2.value().get() == 7);
}

TEST_CASE("get_or_try_init: an error lets the next caller try") {
  OnceCell<unsigned> once;
  MockTask task;
  auto failing = once.get_or_try_init(
      [] { return Result<unsigned, std::string>(weft::Err(std::string("nope"))); });
  auto r = task.poll(failing);
  REQUIRE(r.is_ready());
  REQUIRE(r.value().is_err());
  CHECK(r.value().error() == "nope");
  CHECK_FALSE(once.initialized());
  auto ok = once.get_or_try_init([] { return Result<unsigned, std::string>(9u); });
  auto r2 = task.poll(ok);
  REQUIRE(r2.is_ready());
  REQUIRE(r2.value().is_ok());
  CHECK(r2.value()->get() == 9);
  auto after = once.get_or_try_init([] { return Result<unsigned, std::string>(1u); });
  CHECK(task.poll(after).value()->get() == 9);  // initialized: f is not called
}

TEST_CASE("get_or_try_init with an asynchronous initializer") {
  OnceCell<int> once;
  struct Later {
    int polls = 0;
    Poll<Result<int, int>> poll(Context& cx) {
      if (++polls < 2) {
        cx.waker().wake_by_ref();
        return weft::pending;
      }
      return Result<int, int>(42);
    }
  };
  CHECK(weft::block_on(once.get_or_try_init([] { return Later{}; }))->get() == 42);
}

TEST_CASE("values are destroyed exactly once: set, take, into_inner, clone") {
  {
    OnceCell<Counted> once;
    CHECK(once.set(Counted(1)).is_ok());
    auto rejected = once.set(Counted(2));
    CHECK(rejected.error().value.value == 2);
    CHECK(Counted::live() == 2);
  }
  CHECK(Counted::live() == 0);
  {
    OnceCell<Counted> once(Counted(3));
    OnceCell<Counted> copy(once);
    CHECK(copy == once);
    auto taken = once.take();
    REQUIRE(taken.has_value());
    CHECK(taken->value == 3);
    CHECK_FALSE(once.initialized());
    CHECK_FALSE(copy == once);
    // A taken cell can be initialized again.
    CHECK(once.set(Counted(4)).is_ok());
    auto inner = std::move(once).into_inner();
    CHECK(inner->value == 4);
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("get_mut") {
  OnceCell<int> once;
  CHECK(once.get_mut() == nullptr);
  CHECK(once.set(1).is_ok());
  *once.get_mut() = 2;
  CHECK(*once.get() == 2);
}

TEST_CASE("threads: one initializer runs, everyone sees its value") {
  for (int round = 0; round < 50; ++round) {
    OnceCell<int> once;
    weft::platform::atomic<int> runs{0};  // relaxed: a count, read after the joins
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] {
        const int& v = weft::block_on(once.get_or_init([&, i] {
          runs.fetch_add(1, std::memory_order_relaxed);
          return i;
        }));
        CHECK(v == *once.get());
      });
    }
    for (auto& t : threads) t.join();
    CHECK(runs.load(std::memory_order_relaxed) == 1);
  }
}

// Class check (issue 18, after Tokio #7886): a future that stored its task's waker drops
// it when destroyed (testing/waker_leak_check.h).
TEST_CASE("a destroyed get_or_init() waiter releases its waker") {
  OnceCell<unsigned> once;
  auto gate = std::make_shared<weft::platform::atomic<bool>>(false);
  MockTask init_task;
  auto init = once.get_or_init([gate] { return Gated{gate, 5}; });
  CHECK(init_task.poll(init).is_pending());  // holds the permit
  CHECK(weft::testing::waker_released_on_destroy(
      [&] { return once.get_or_init([] { return 7u; }); }));
  CHECK(weft::testing::waker_released_on_destroy(
      [&] { return once.get_or_try_init([] { return Result<unsigned, int>(7u); }); }));
}

// Tokio's OnceCell::new_with (tokio/src/sync/once_cell.rs).
TEST_CASE("new_with: a value makes a set cell, nullopt an empty one") {
  auto set = weft::OnceCell<std::string>::new_with(std::string("v"));
  REQUIRE(set.initialized());
  CHECK(*set.get() == "v");
  CHECK(set.set("w").is_err());  // set already: the value comes back
  auto empty = weft::OnceCell<std::string>::new_with(std::nullopt);
  CHECK_FALSE(empty.initialized());
  CHECK(empty.get() == nullptr);
  CHECK(empty.set("w").is_ok());
  CHECK(*empty.get() == "w");
}

}  // namespace
