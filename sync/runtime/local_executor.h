// weft/sync/runtime/local_executor.h: LocalExecutor, a single-threaded executor: the thread
// that calls run_until_idle() / run_until() polls every task.
//
// Concurrency: run_until_idle(), run_until() and the destructor are called by one thread
// at a time (the driving thread); spawn() and the tasks' Wakers may be used from any
// thread, and a task woken from another thread is queued here and polled by the driver
// (run_until parks the driver until then). A task is polled on the driver only, so tasks
// may share unsynchronized state with each other and with the driver between runs.
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

  // Polls queued tasks until none is runnable; never parks. Returns the number of polls.
  std::size_t run_until_idle() {
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
    for (;;) {
      while (!handle.is_finished()) {
        detail::TaskHeader* task = scheduler_->pop();
        if (task == nullptr) break;
        task->run();
      }
      if (handle.is_finished()) break;
      if (detail::TaskHeader* task = scheduler_->wait_for_work(0)) task->run();
    }
    auto outcome = handle.blocking_join();  // ready now: no park
    WEFT_INVARIANT(outcome.is_ok());        // only shutdown cancels, and we are running
    if constexpr (!std::is_void_v<future_output_t<std::decay_t<F>>>) {
      return std::move(outcome).value();
    }
  }

 private:
  detail::Scheduler* scheduler_;
};

}  // namespace weft
