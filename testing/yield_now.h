// weft/testing/yield_now.h: YieldNow, a suspension point for a task, as Tokio's
// task::yield_now: pending once (waking its own task at once), then ready. A task that
// awaits it is requeued, and on a pool may resume on another worker. For unit tests,
// stress tests and model scenarios alike.
//
//   Task<void> twice() {
//     co_await weft::testing::YieldNow{};
//     co_await weft::testing::YieldNow{};
//   }
#pragma once

#include "sync/task/poll.h"
#include "sync/task/waker.h"

namespace weft::testing {

struct YieldNow {
  bool yielded = false;
  Poll<void> poll(Context& cx) {
    if (yielded) return ready;
    yielded = true;
    cx.waker().wake_by_ref();
    return pending;
  }
};

}  // namespace weft::testing
