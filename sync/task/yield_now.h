// weft/sync/task/yield_now.h: weft::yield_now(), a suspension point for a task, as
// tokio::task::yield_now.
//
//   weft::Task<void> producer(weft::broadcast::Sender<int>& tx) {
//     for (int i = 0;; ++i) {
//       (void)tx.send(i);
//       if (tx.len() > 512) co_await weft::yield_now();  // let the receivers catch up
//     }
//   }
//
// Contract:
//  - The first poll wakes the polling task and returns pending; the next poll is ready.
//    On weft's executors a task woken during its own poll goes to the back of the global
//    run queue (not the LIFO slot), so every task queued before it runs first; on a
//    ThreadPool it may resume on another worker. Under block_on the thread polls again
//    at once.
//  - Cancel-safe: dropping it, polled or not, has no effect.
//  - Memory ordering: none beyond the wake's (sync/runtime/scheduler.h).
//  - Not weft::platform::yield_now(), which yields the thread to the OS scheduler.
#pragma once

#include "sync/task/poll.h"
#include "sync/task/waker.h"

namespace weft {

class [[nodiscard]] YieldNow {
 public:
  Poll<void> poll(Context& cx) {
    if (yielded_) return ready;
    yielded_ = true;
    cx.waker().wake_by_ref();
    return pending;
  }

  // Whether it has been polled (and so has woken its task).
  bool yielded() const noexcept { return yielded_; }

 private:
  bool yielded_ = false;
};

// A future that is pending once (its task requeued), then ready.
inline YieldNow yield_now() noexcept { return YieldNow{}; }

}  // namespace weft
