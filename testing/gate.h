// weft/testing/gate.h: Gate, a one-shot event that test futures wait on. A future's poll
// asks poll_open(cx), which registers the task's waker and then looks; the test calls
// open(), which raises the flag and then wakes. Register-then-look against raise-then-wake
// means no wake is lost. For unit tests, stress tests and model scenarios alike.
//
//   struct GateFuture {
//     weft::testing::Gate* gate;
//     weft::Poll<void> poll(weft::Context& cx) {
//       return gate->poll_open(cx) ? weft::Poll<void>(weft::ready) : weft::pending;
//     }
//   };
#pragma once

#include "sync/platform/atomic.h"
#include "sync/task/atomic_waker.h"
#include "sync/task/waker.h"

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

}  // namespace weft::testing
