// Unit tests of weft::Task<T> and the co_await bridge: laziness, nesting, wakes, the
// value and exception paths, cancellation by destruction, move-only use.
#include "sync/task/task.h"

#include "sync/notify.h"
#include "sync/result.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/counted.h"
#include "testing/gate.h"
#include "testing/yield_now.h"

#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

using weft::Context;
using weft::MockTask;
using weft::Poll;
using weft::Task;

using Counted = weft::testing::MoveOnlyCounted;

// Ready once `open` was called; registers its waker in between. Counts its instances.
using weft::testing::Gate;
using weft::testing::GateFuture;
using weft::testing::YieldNow;

struct Throwing {
  Poll<int> poll(Context&) { throw std::runtime_error("poll"); }
};

Task<int> constant(int v) { co_return v; }

Task<int> sum_of_constants() {
  int a = co_await constant(1);
  int b = co_await constant(2);
  co_return a + b;
}

Task<int> wait_gate(Gate& gate, int* steps) {
  ++*steps;
  co_await GateFuture(gate);
  ++*steps;
  co_return 8;
}

Task<void> throws_after_yield() {
  co_await YieldNow{};
  throw std::logic_error("body");
}

Task<Counted> make_counted(int v) {
  Counted local(v * 10);
  co_await YieldNow{};
  co_return Counted(v + local.value);
}

}  // namespace

TEST_CASE("task_is_lazy") {
  int steps = 0;
  Gate gate;
  {
    Task<int> task = wait_gate(gate, &steps);
    CHECK(steps == 0);
  }
  CHECK(steps == 0);
}

TEST_CASE("task_nested_ready") {
  MockTask mock;
  Task<int> task = sum_of_constants();
  Poll<int> p = mock.poll(task);
  REQUIRE(p.is_ready());
  CHECK(p.value() == 3);
  CHECK_FALSE(task.valid());
  CHECK_THROWS_AS((void)mock.poll(task), std::invalid_argument);
}

TEST_CASE("task_pending_until_woken") {
  MockTask mock;
  Gate gate;
  int steps = 0;
  Task<int> task = wait_gate(gate, &steps);
  CHECK(mock.poll(task).is_pending());
  CHECK(steps == 1);
  CHECK_FALSE(mock.is_woken());
  // A spurious poll re-polls the awaited future and does not resume the body.
  CHECK(mock.poll(task).is_pending());
  CHECK(steps == 1);
  gate.open();
  CHECK(mock.is_woken());
  Poll<int> p = mock.poll(task);
  REQUIRE(p.is_ready());
  CHECK(p.value() == 8);
  CHECK(steps == 2);
  CHECK(GateFuture::live() == 0);
}

TEST_CASE("task_cancel_destroys_awaited_future") {
  MockTask mock;
  Gate gate;
  int steps = 0;
  {
    Task<int> task = wait_gate(gate, &steps);
    CHECK(mock.poll(task).is_pending());
    CHECK(GateFuture::live() == 1);
    CHECK(mock.waker_ref_count() == 1);  // held by the gate's AtomicWaker
  }
  CHECK(GateFuture::live() == 0);
  CHECK(steps == 1);  // the body never resumed
}

TEST_CASE("task_cancel_destroys_locals") {
  MockTask mock;
  {
    Task<Counted> task = make_counted(1);
    CHECK(mock.poll(task).is_pending());
    CHECK(Counted::live() == 1);  // `local` in the frame
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("task_value_destroyed_once") {
  MockTask mock;
  {
    Task<Counted> task = make_counted(2);
    CHECK(mock.poll(task).is_pending());
    CHECK(mock.is_woken());
    Poll<Counted> p = mock.poll(task);
    REQUIRE(p.is_ready());
    CHECK(p.value().value == 22);
    CHECK(Counted::live() == 1);  // the frame is gone already, only the value remains
  }
  CHECK(Counted::live() == 0);
}

TEST_CASE("task_exception_propagates_to_poller") {
  MockTask mock;
  Task<void> task = throws_after_yield();
  CHECK(mock.poll(task).is_pending());
  CHECK_THROWS_AS((void)mock.poll(task), std::logic_error);
  CHECK_FALSE(task.valid());
}

TEST_CASE("task_exception_propagates_to_awaiter") {
  auto outer = []() -> Task<std::string> {
    try {
      co_await throws_after_yield();
    } catch (const std::logic_error& e) {
      co_return std::string("caught ") + e.what();
    }
    co_return std::string("not thrown");
  };
  CHECK(weft::block_on(outer()) == "caught body");
}

TEST_CASE("task_future_exception_thrown_at_co_await") {
  auto body = []() -> Task<int> {
    try {
      co_await Throwing{};
    } catch (const std::runtime_error&) {
      co_return 1;
    }
    co_return 0;
  };
  CHECK(weft::block_on(body()) == 1);
  // And after a suspension (the re-poll path).
  auto later = []() -> Task<int> {
    co_await YieldNow{};
    try {
      struct ThrowSecond {
        int polls = 0;
        Poll<int> poll(Context& cx) {
          if (polls++ == 0) {
            cx.waker().wake_by_ref();
            return weft::pending;
          }
          throw std::runtime_error("second poll");
        }
      };
      co_await ThrowSecond{};
    } catch (const std::runtime_error&) {
      co_return 2;
    }
    co_return 0;
  };
  CHECK(weft::block_on(later()) == 2);
}

// Counts the moves of its value, to check that an awaited poll's result is not copied.
struct MoveCount {
  int* moves;
  explicit MoveCount(int* m) : moves(m) {}
  MoveCount(MoveCount&& other) noexcept : moves(other.moves) { ++*moves; }
};

// Pending `pendings` times (waking at once), then ready with a MoveCount.
struct ReadyMoveCount {
  int* moves;
  int pendings = 0;
  Poll<MoveCount> poll(Context& cx) {
    if (pendings > 0) {
      --pendings;
      cx.waker().wake_by_ref();
      return weft::pending;
    }
    return MoveCount(moves);
  }
};

TEST_CASE("task_awaited_output_moved_twice_not_copied") {
  // One move into the Poll (its constructor), one out at the co_await (PollSlot::take);
  // the Poll itself is built in place (sync/task/poll_slot.h), not moved into the awaiter.
  for (int pendings : {0, 1}) {
    CAPTURE(pendings);
    int moves = 0;
    auto body = [](int* moves, int pendings) -> Task<int> {
      MoveCount got = co_await ReadyMoveCount{moves, pendings};
      co_return *got.moves;
    };
    CHECK(weft::block_on(body(&moves, pendings)) == 2);
    CHECK(moves == 2);
  }
}

// Ready at once with a fixed output.
template <class T>
struct ReadyWith {
  T out;
  Poll<T> poll(Context&) { return out; }
};

TEST_CASE("task_awaited_result_and_optional_keep_their_state") {
  // PollSlot::take rebuilds a trivially copyable Result or optional from its parts.
  using R = weft::Result<int, int>;
  using V = weft::Result<void, int>;
  auto body = []() -> Task<int> {
    R ok = co_await ReadyWith<R>{R(7)};
    R err = co_await ReadyWith<R>{R(weft::Err(9))};
    V vok = co_await ReadyWith<V>{V()};
    V verr = co_await ReadyWith<V>{V(weft::Err(11))};
    std::optional<int> some = co_await ReadyWith<std::optional<int>>{13};
    std::optional<int> none = co_await ReadyWith<std::optional<int>>{std::nullopt};
    CHECK(ok.is_ok());
    CHECK(*ok == 7);
    CHECK(err.is_err());
    CHECK(err.error() == 9);
    CHECK(vok.is_ok());
    CHECK(verr.is_err());
    CHECK(verr.error() == 11);
    CHECK(some == 13);
    CHECK_FALSE(none.has_value());
    co_return 1;
  };
  CHECK(weft::block_on(body()) == 1);
}

TEST_CASE("task_move_only") {
  static_assert(!std::is_copy_constructible_v<Task<int>>);
  static_assert(std::is_nothrow_move_constructible_v<Task<int>>);
  static_assert(weft::Future<Task<int>>);
  MockTask mock;
  Gate gate;
  int steps = 0;
  Task<int> a = wait_gate(gate, &steps);
  CHECK(mock.poll(a).is_pending());
  Task<int> b = std::move(a);
  CHECK_FALSE(a.valid());
  gate.open();
  Poll<int> p = mock.poll(b);
  REQUIRE(p.is_ready());
  CHECK(p.value() == 8);
  // Move-assigning over a suspended task cancels it.
  Gate other;
  Task<int> c = wait_gate(other, &steps);
  CHECK(mock.poll(c).is_pending());
  CHECK(GateFuture::live() == 1);
  c = constant(5);
  CHECK(GateFuture::live() == 0);
  CHECK(weft::block_on(c) == 5);
}

TEST_CASE("task_block_on_woken_from_another_thread") {
  Gate gate;
  int steps = 0;
  std::thread opener([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    gate.open();
  });
  CHECK(weft::block_on(wait_gate(gate, &steps)) == 8);
  opener.join();
}

TEST_CASE("task_lvalue_future_awaited") {
  auto body = []() -> Task<int> {
    YieldNow y;
    co_await y;
    CHECK(y.yielded());
    co_return 4;
  };
  CHECK(weft::block_on(body()) == 4);
}

// With a real primitive: destroying a suspended Task destroys the Notified it awaits,
// which unlinks its waiter (Notify's destructor checks that no waiter is left), so a
// later notify_one() stores the permit instead of waking the cancelled task.

TEST_CASE("task_cancel_unlinks_a_primitive_waiter") {
  weft::Notify notify;
  auto waiter = [&notify]() -> Task<void> { co_await notify.notified(); };
  {
    MockTask mock;
    Task<void> task = waiter();
    CHECK(mock.poll(task).is_pending());
    CHECK(mock.waker_ref_count() == 1);  // held by the Notified's waiter
  }
  notify.notify_one();
  MockTask mock;
  Task<void> again = waiter();
  CHECK(mock.poll(again).is_ready());  // the permit was stored, not lost
}
