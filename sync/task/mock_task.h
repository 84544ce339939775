// weft/sync/task/mock_task.h: MockTask, poll a future by hand and watch its waker (in the
// spirit of tokio_test::task::spawn). Works in both builds, so unit tests and model
// scenarios use it alike.
//
//   weft::MockTask task;
//   auto fut = sem.acquire();
//   CHECK(task.poll(fut).is_pending());
//   sem.add_permits(1);
//   CHECK(task.is_woken());
//   CHECK(task.poll(fut).is_ready());
//
// poll() and enter() clear the woken flag before polling, as tokio_test does. The counts
// are safe to read from any thread; wakers made by the task stay valid after it is gone.
#pragma once

#include "sync/platform/atomic.h"
#include "sync/task/future.h"
#include "sync/task/waker.h"

#include <cstddef>
#include <utility>

namespace weft {

class MockTask {
 public:
  MockTask() : state_(new State()), waker_(Waker::from_raw(RawWaker{state_, &vtable})) {}
  ~MockTask() {
    waker_ = Waker();  // drop our own handle first
    state_->release();
  }
  MockTask(const MockTask&) = delete;
  MockTask& operator=(const MockTask&) = delete;

  // Runs fn(Context&) as this task, with the woken flag cleared first.
  template <class Fn>
  decltype(auto) enter(Fn&& fn) {
    state_->woken.store(0, std::memory_order_relaxed);
    Context cx(waker_);
    return std::forward<Fn>(fn)(cx);
  }

  // Polls `future` once as this task.
  template <class F>
  requires Future<F>
  auto poll(F& future) {
    return enter([&](Context& cx) { return future.poll(cx); });
  }

  // Woken since the last poll / enter? Acquire: pairs with the Release store in wake.
  bool is_woken() const { return state_->woken.load(std::memory_order_acquire) != 0; }
  // Wakes ever received.
  std::size_t wake_count() const { return state_->wakes.load(std::memory_order_acquire); }
  // Live Waker handles other than the task's own (clones made minus clones dropped).
  std::size_t waker_ref_count() const {
    return state_->refs.load(std::memory_order_acquire) - 2;  // the task's and waker_'s
  }
  const Waker& waker() const noexcept { return waker_; }

 private:
  struct State {
    platform::atomic<std::size_t> refs{2};  // the MockTask itself and its waker_
    platform::atomic<std::size_t> wakes{0};
    platform::atomic<int> woken{0};

    void wake() {
      wakes.fetch_add(1, std::memory_order_relaxed);
      // Release: pairs with the Acquire load in is_woken().
      woken.store(1, std::memory_order_release);
    }
    void release() noexcept {
      // AcqRel: the last owner frees; pairs with the other owners' decrements.
      if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
  };

  static State* state(const void* data) {
    return const_cast<State*>(static_cast<const State*>(data));
  }
  static RawWaker clone(const void* data) {
    // Relaxed: a handle made from a live handle (as Arc::clone).
    state(data)->refs.fetch_add(1, std::memory_order_relaxed);
    return RawWaker{data, &vtable};
  }
  static void wake(const void* data) {
    state(data)->wake();
    state(data)->release();
  }
  static void wake_by_ref(const void* data) { state(data)->wake(); }
  static void drop(const void* data) noexcept { state(data)->release(); }
  static constexpr RawWakerVTable vtable{&clone, &wake, &wake_by_ref, &drop};

  State* state_;
  Waker waker_;
};

}  // namespace weft
