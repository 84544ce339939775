// weft/sync/runtime/local_executor.h: LocalExecutor, a single-threaded executor: the thread
// that calls run_until_idle() / run_until() polls every task.
//
// Concurrency: run_until_idle(), run_until() and the destructor are called by one thread
// at a time (the driving thread); spawn() and the tasks' Wakers may be used from any
// thread, and a task woken from another thread is queued here and polled by the driver
// (run_until parks the driver until then). A task is polled on the driver only, so tasks
// may share unsynchronized state with each other and with the driver between runs.
//
// Timers: sleep / timeout in its tasks fire while run_until() parks (it parks until the
// next deadline) or at the next run_*; with timer().pause(), run_until() jumps the clock to
// the next deadline whenever no task is runnable (tokio::time::pause's auto-advance), so a
// test of sleep(1h) takes no time.
//
// Cancellation: destroying the executor cancels every task that has not completed: its
// future is destroyed on the destroying thread, outside any lock, and its JoinHandle
// reports JoinError::cancelled. Spawning after that cancels the new task at once.
//
// Memory ordering: as in sync/runtime/scheduler.h: a wake happens-before the poll it
// causes; a task's completion happens-before its join.
//
//   weft::LocalExecutor ex;
//   weft::JoinHandle<int> h = ex.spawn(produce());       // produce() -> weft::Task<int>
//   int sum = ex.run_until(consume());                   // runs both until consume() ends
//   ex.run_until_idle();                                 // polls what is still runnable
#pragma once

#include "sync/platform/invariant.h"
#include "sync/runtime/join_handle.h"
#include "sync/runtime/scheduler.h"
#include "sync/task/timer_slot.h"
#include "sync/time/clock.h"
#include "sync/time/timer_driver.h"

#include <cstddef>
#include <type_traits>
#include <utility>

namespace weft {

class LocalExecutor {
 public:
  LocalExecutor() : scheduler_(detail::Scheduler::create(1)) {}
  ~LocalExecutor() {
    scheduler_->shutdown();
    scheduler_->release();
  }
  LocalExecutor(const LocalExecutor&) = delete;
  LocalExecutor& operator=(const LocalExecutor&) = delete;

  // Queues `future` (moved in) as a new task; it first runs in the driver's next run_*.
  template <class F>
  JoinHandle<future_output_t<std::decay_t<F>>> spawn(F&& future) {
    return detail::spawn_on(scheduler_, std::forward<F>(future));
  }

  // Polls queued tasks (after firing the timers that are due) until none is runnable;
  // never parks, never advances a paused clock. Returns the number of polls.
  std::size_t run_until_idle() {
    const detail::TimerSlotScope scope(timers_);
    (void)timer().fire_due();
    std::size_t polls = 0;
    while (detail::TaskHeader* task = scheduler_->pop()) {
      task->run();
      ++polls;
    }
    return polls;
  }

  // Spawns `future`, then runs tasks (parking while none is runnable) until it
  // completes, and returns its value; an exception it threw is rethrown here. Other tasks
  // stay where they are when it completes. If nothing ever wakes it, this never returns
  // (in the model build: DEADLOCK).
  template <class F>
  future_output_t<std::decay_t<F>> run_until(F&& future) {
    auto handle = spawn(std::forward<F>(future));
    const detail::TimerSlotScope scope(timers_);
    for (;;) {
      (void)timer().fire_due();
      while (!handle.is_finished()) {
        detail::TaskHeader* task = scheduler_->pop();
        if (task == nullptr) break;
        task->run();
      }
      if (handle.is_finished()) break;
      // Idle. A paused clock jumps to the next timer (Tokio's auto-advance); a running one
      // bounds the park by it.
      if (timer().is_paused() && timer().advance_to_next() != 0) continue;
      const Instant deadline = timer().next_deadline().value_or(Instant::max());
      if (detail::TaskHeader* task = scheduler_->wait_for_work(0, deadline)) task->run();
    }
    auto outcome = handle.blocking_join();  // ready now: no park
    WEFT_INVARIANT(outcome.is_ok());        // only shutdown cancels, and we are running
    if constexpr (!std::is_void_v<future_output_t<std::decay_t<F>>>) {
      return std::move(outcome).value();
    }
  }

  // The timers of this executor's tasks: pause() / advance() them in tests.
  TimerDriver& timer() noexcept { return scheduler_->timer(); }

 private:
  detail::Scheduler* scheduler_;
  detail::TimerSlot timers_{&scheduler_->timer()};  // the context run_* installs
};

}  // namespace weft
