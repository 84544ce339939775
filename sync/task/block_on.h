// weft/sync/task/block_on.h: block_on(future), run a future to completion on the calling
// thread, parking it while the future is pending.
//
// Concurrency: the future is polled only by the calling thread; its waker may be woken
// from any thread. Memory ordering: whatever a waking thread did before wake()
// happens-before the poll that follows it. In the model build a thread parked forever
// (a lost wakeup) is reported as DEADLOCK.
//
//   weft::AtomicWaker done_waker;  // as in atomic_waker.h
//   weft::block_on(weft::poll_fn([&](weft::Context& cx) -> weft::Poll<void> {
//     done_waker.register_by_ref(cx.waker());
//     return done.load(std::memory_order_acquire) ? weft::Poll<void>(weft::ready) : weft::pending;
//   }));
#pragma once

#include "sync/task/future.h"
#include "sync/task/thread_waker.h"

#include <utility>

namespace weft {

template <class F>
  requires Future<std::remove_reference_t<F>>
future_output_t<std::remove_reference_t<F>> block_on(F&& future) {
  struct Owner {
    detail::ThreadWaker* thread = detail::ThreadWaker::create();
    ~Owner() { thread->release(); }
  } owner;
  const Waker waker = owner.thread->waker();
  Context cx(waker);
  for (;;) {
    auto poll = future.poll(cx);
    if (poll.is_ready()) {
      if constexpr (std::is_void_v<future_output_t<std::remove_reference_t<F>>>) {
        return;
      } else {
        return std::move(poll).value();
      }
    }
    owner.thread->park();
  }
}

}  // namespace weft
