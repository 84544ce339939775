// weft/testing/gate.h: Gate, a one-shot event that test futures wait on, and GateFuture,
// the future that waits on one. A future's poll asks poll_open(cx), which registers the
// task's waker and then looks; the test calls open(), which raises the flag and then wakes.
// Register-then-look against raise-then-wake means no wake is lost. For unit tests,
// stress tests and model scenarios alike.
//
//   Task<int> after_gate(Gate& gate, int v) {
//     co_await weft::testing::GateFuture(gate);
//     co_return v;
//   }
//   ...
//   CHECK(GateFuture::live() == 0);  // the task's frame, and the future in it, destroyed
#pragma once

#include "sync/platform/atomic.h"
#include "sync/task/atomic_waker.h"
#include "sync/task/poll.h"
#include "sync/task/waker.h"
#include "testing/counted.h"

namespace weft::testing {

class Gate {
 public:
  void open() {
    // Release: pairs with the Acquire load in poll_open.
    is_open_.store(true, std::memory_order_release);
    waker_.wake();
  }

  // Registers cx's waker, then says whether the gate is open.
  bool poll_open(Context& cx) {
    waker_.register_by_ref(cx.waker());
    // Acquire: pairs with the Release store in open.
    return is_open_.load(std::memory_order_acquire);
  }

 private:
  platform::atomic<bool> is_open_{false};
  AtomicWaker waker_;
};

// Pending until its Gate opens. Counts its live instances (moves included) on a
// process-wide count of its own, so a test sees that a cancelled or finished task destroyed
// the future it awaited: GateFuture::live(). (Unit and stress tests: a model scenario
// would need a count built inside each execution.)
class GateFuture {
 public:
  explicit GateFuture(Gate& gate) : gate_(&gate) {}
  Poll<void> poll(Context& cx) {
    if (gate_->poll_open(cx)) return ready;
    return pending;
  }
  static long live() { return Token::live(); }

 private:
  struct Tag {};
  using Token = MoveOnlyCountedOf<Tag>;
  Gate* gate_;
  Token token_{Tag{}};
};

}  // namespace weft::testing
