// weft/sync/task/block_on.h: block_on(future), run a future to completion on the calling
// thread, parking it while the future is pending; block_on_until(future, deadline), the
// same with a deadline (below), the core of every blocking_*_until / _for operation.
//
// Concurrency: the future is polled only by the calling thread; its waker may be woken
// from any thread, at any time, also after block_on returned (the waker stays valid and
// the wake is then harmless). Memory ordering: whatever a waking thread did before
// wake() happens-before the poll that follows it. In the model build a thread parked
// forever (a lost wakeup) is reported as DEADLOCK.
//
// Cost: each thread keeps one ThreadWaker (and its Waker) for its calls
// (platform::thread_cached), so a call allocates nothing and makes no atomic RMW before
// its first park; a nested block_on (called from inside a future polled by block_on) gets
// a fresh one, so the outer call's wakeups are never consumed by the inner one. A wake
// left over from an earlier call can make the first park return at once: the future is
// then polled once more, which the Future contract allows. (The model build gives every
// call a fresh one: see platform/thread_cached.h.)
//
// Waiting: after a pending poll the thread parks at once. A spin before parking
// (platform::Backoff, as crossbeam's channels wait) was measured on
// mpsc_bounded_spsc_blocking: 0.79 s against 0.64 s without it, medians of 9 on an idle
// machine (bench/README.md), so it is not done.
//
// Exceptions: an exception thrown by poll() propagates to the caller; the future is not
// polled again.
//
//   weft::AtomicWaker done_waker;  // as in atomic_waker.h
//   weft::block_on(weft::poll_fn([&](weft::Context& cx) -> weft::Poll<void> {
//     done_waker.register_by_ref(cx.waker());
//     return done.load(std::memory_order_acquire) ? weft::Poll<void>(weft::ready) : weft::pending;
//   }));
//
// A weft::Task<T> is a future too: `int v = weft::block_on(some_coroutine());`.
#pragma once

#include "sync/platform/clock.h"
#include "sync/platform/thread_cached.h"
#include "sync/task/future.h"
#include "sync/task/thread_waker.h"
#include "sync/task/timer_slot.h"

#include <type_traits>
#include <utility>

namespace weft {

namespace detail {

// The parker a block_on call sleeps on and the Waker that unparks it. Each thread keeps
// one for its calls (platform::thread_cached); a nested call gets a fresh one.
struct BlockOnParking {
  ThreadWaker* thread = ThreadWaker::create();  // one reference, ours
  Waker waker = thread->waker();                // one more, lent to the futures polled
  BlockOnParking() = default;
  BlockOnParking(const BlockOnParking&) = delete;
  BlockOnParking& operator=(const BlockOnParking&) = delete;
  ~BlockOnParking() {
    waker = Waker();
    thread->release();
  }
};

}  // namespace detail

namespace detail {

// block_on's loop: polls `future` with this thread's waker, parking while it is pending,
// until it is ready or `limit` passed (time_point::max(): never); then it polls once more, so a
// future that became ready as the time ran out still wins. The polls run in this call's timer
// context (sync/task/timer_slot.h): a timer polled here (weft::sleep, weft::timeout, send_timeout)
// makes the call a driver of its own, and the park then also wakes at the next timer deadline and
// fires what is due.
template <class F>
Poll<future_output_t<F>> poll_parked(F& future, platform::clock::time_point limit) {
  const platform::thread_cached<detail::BlockOnParking> parking;
  OwnedTimerSlot timers;
  Context cx(parking->waker);
  bool last = false;
  for (;;) {
    auto poll = [&] {
      const TimerSlotScope scope(timers);
      return future.poll(cx);
    }();
    if (poll.is_ready() || last) return poll;
    last = !timers.park_until(*parking->thread, limit);
  }
}

}  // namespace detail

template <class F>
requires Future<std::remove_reference_t<F>> future_output_t<std::remove_reference_t<F>> block_on(
    F&& future) {
  auto poll = detail::poll_parked(future, platform::clock::time_point::max());
  if constexpr (std::is_void_v<future_output_t<std::remove_reference_t<F>>>) {
    return;
  } else {
    return std::move(poll).value();
  }
}

// block_on with a deadline on platform::clock: ready with the output if the future
// completed in time, pending if the deadline passed first. The future is polled at least
// once, also with a deadline already passed, and once more after the deadline (a future
// that became ready as the time ran out wins). It is polled in place and never moved: to
// cancel it at the deadline, pass a temporary (`block_on_until(rx.recv(), d)`), which is
// destroyed before the caller reads the result, so the future's cancel-safety contract
// says what a timeout loses (mpsc recv: nothing; a send future: its value, hence
// Sender::blocking_send_until, which hands it back). A timeout orders nothing: no
// happens-before with any waker. In the model build the checker chooses whether and when
// the timed park times out (platform/clock.h).
template <class F>
requires Future<std::remove_reference_t<F>> Poll<future_output_t<std::remove_reference_t<F>>>
block_on_until(F&& future, platform::clock::time_point deadline) {
  return detail::poll_parked(future, deadline);
}

}  // namespace weft
