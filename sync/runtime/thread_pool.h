// weft/sync/runtime/thread_pool.h: ThreadPool(n), an executor with n worker threads sharing
// one lock-free run queue, each with a LIFO slot.
//
// Concurrency: spawn() from any thread, also from inside a task; Wakers from any thread.
// A woken task is queued on its own pool and polled by one worker at a time. A task woken
// from a worker of its pool (by the task that worker polls, say a channel's sender waking
// the receiver) goes to that worker's LIFO slot and runs there right after the current
// poll, with warm caches (as in Tokio). Other wakes go to the shared queue, polled by
// whichever worker pops it. Waking an idle task is one CAS on the task plus a store in the
// LIFO slot, or a queue push (a CAS and a store) and a fence; a lock is taken only to
// unpark a sleeping worker. An idle worker parks at once (no spin), as Tokio's. A LIFO
// slot is its worker's alone, as Tokio's: a poll that runs long (or blocks its thread)
// delays the task in that worker's LIFO slot until it returns, even while another worker
// is idle; a task that wakes another and then computes for long can yield first
// (weft::yield_now): the woken task then runs next on this worker, and the yielder goes to
// the shared queue, where an idle worker takes it.
//
// Timers: one TimerDriver per pool (sync/time/timer_driver.h). A worker about to park
// parks until the next timer deadline and fires what is due when it wakes; a busy worker
// fires due timers every 61 rounds of its loop, so a timer is late by at most one poll on
// a pool whose workers all stay busy. A paused clock is advanced by hand (timer().advance;
// the pool does not auto-advance).
//
// Shutdown (shutdown() or the destructor; from a thread outside the pool): the workers
// finish the poll they are in and stop; then every task that has not completed is
// cancelled: its future is destroyed on the calling thread, outside any lock, and its
// JoinHandle reports JoinError::cancelled. No task is lost: each one completes or is
// cancelled, exactly once. Spawning after shutdown cancels the new task at once. Wakers
// outliving the pool stay valid (waking them does nothing).
//
// Memory ordering: as in sync/runtime/scheduler.h: a wake happens-before the poll it
// causes; a task's completion happens-before its join.
//
//   weft::ThreadPool pool(2);
//   std::vector<weft::JoinHandle<int>> handles;
//   for (int i = 0; i < 100; ++i) handles.push_back(pool.spawn(square(i)));  // Task<int>
//   for (auto& h : handles) total += *h.blocking_join();
#pragma once

#include "sync/platform/thread.h"
#include "sync/runtime/join_handle.h"
#include "sync/runtime/scheduler.h"

#include <stdexcept>
#include <utility>
#include <vector>

namespace weft {

class ThreadPool {
 public:
  static constexpr unsigned max_workers = detail::Scheduler::max_workers;

  // Starts `workers` threads; throws std::invalid_argument unless 1 <= workers <= 64.
  explicit ThreadPool(unsigned workers) : scheduler_(checked(workers)) {
    threads_.reserve(workers);
    try {
      for (unsigned i = 0; i < workers; ++i) {
        threads_.emplace_back([scheduler = scheduler_, i] { work(scheduler, i); });
      }
    } catch (...) {
      shutdown();
      scheduler_->release();
      throw;
    }
  }
  ~ThreadPool() {
    shutdown();
    scheduler_->release();
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  template <class F>
  JoinHandle<future_output_t<std::decay_t<F>>> spawn(F&& future) {
    return detail::spawn_on(scheduler_, std::forward<F>(future));
  }

  // Stops the workers and cancels every task not yet complete (see above). Idempotent.
  void shutdown() {
    scheduler_->stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    scheduler_->shutdown();
  }

  unsigned size() const noexcept { return scheduler_->workers(); }
  // The timers of this pool's tasks (one driver for the pool).
  TimerDriver& timer() noexcept { return scheduler_->timer(); }

 private:
  static detail::Scheduler* checked(unsigned workers) {
    if (workers == 0 || workers > max_workers) {
      throw std::invalid_argument("weft::ThreadPool needs 1 to 64 workers");
    }
    return detail::Scheduler::create(workers, /*worker_threads=*/true);
  }

  static void work(detail::Scheduler* scheduler, unsigned index) { scheduler->run_worker(index); }

  detail::Scheduler* scheduler_;
  std::vector<platform::thread> threads_;
};

}  // namespace weft
