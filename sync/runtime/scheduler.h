// weft/sync/runtime/scheduler.h: Scheduler, the machinery under LocalExecutor and
// ThreadPool: it knows every live task (task_header.h), queues the runnable ones and
// parks idle workers; and the members of TaskHeader that reach it (run, cancel, the
// wakes' schedule).
//
// Follows the task state machine of tokio/src/runtime/task/{state,harness,raw}.rs, much
// reduced: one global run queue (sync/runtime/run_queue.h, Tokio's injector) plus a LIFO
// slot per worker (tokio/src/runtime/scheduler/multi_thread/worker.rs), no per-worker
// ring, no budget; abort as in tokio/src/runtime/task/abort.rs.
//
// Concurrency: a task is polled by one worker at a time (the RUNNING bit); its Wakers
// may be cloned, woken and dropped from any thread, at any time, also after the
// executor is gone (a wake then does nothing). A woken task is queued on the scheduler
// that spawned it: a task woken by a worker of its own pool goes to that worker's LIFO
// slot and runs there as soon as the current poll returns (the task it displaces, if
// any, goes to the global queue); any other wake pushes it on the global queue. Waking
// costs one CAS on the task's state word and, if the task was idle, a store in the LIFO
// slot, or one push on the run queue (a CAS and a store) and a SeqCst fence; it
// takes a lock only to unpark a sleeping worker (the parker's slow path). A LIFO slot is
// its worker's alone, as Tokio's (no other worker takes its task: a plain store and load,
// no RMW), so a poll that runs long delays the task its wakes put there. An idle worker
// does not spin: it looks once more at the global queue and parks, as Tokio's do (see
// wait_for_work). No user code (a poll, a future's destructor, a waker) runs under a
// scheduler lock.
//
// Memory ordering: what a thread did before waking a task happens-before the poll that
// the wake causes (TaskState's Release CAS in a wake, Acquire CAS in transition_to_running);
// each poll of a task
// happens-before the next one; the completing poll (and the output it stored)
// happens-before the JoinHandle sees the task complete.
//
// Not a public header: use sync/runtime/local_executor.h or sync/runtime/thread_pool.h.
#pragma once

#include "sync/detail/linked_list.h"
#include "sync/platform/atomic.h"
#include "sync/platform/cache_padded.h"
#include "sync/platform/cell.h"
#include "sync/platform/fence.h"
#include "sync/platform/invariant.h"
#include "sync/platform/mutex.h"
#include "sync/platform/parker.h"
#include "sync/platform/thread_local_pointer.h"
#include "sync/runtime/run_queue.h"
#include "sync/runtime/task_header.h"
#include "sync/runtime/task_state.h"
#include "sync/task/frame_cache.h"
#include "sync/task/task.h"
#include "sync/task/timer_slot.h"
#include "sync/task/waker_ref.h"
#include "sync/time/clock.h"
#include "sync/time/timer_driver.h"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace weft {
namespace detail {

// Which worker of which scheduler the calling thread is (null on any other thread): how a
// wake finds "its" worker's LIFO slot, as Tokio's thread-local CONTEXT.
struct CurrentWorker {
  Scheduler* scheduler;
  unsigned index;
};
inline CurrentWorker*& current_worker() noexcept {
  return platform::thread_local_pointer<CurrentWorker>();
}

// Owns every live task of one executor, queues the runnable ones, parks idle workers.
// Reference-counted: the executor holds one reference and every listed task one (see
// register_task), so a late wake never reaches a freed scheduler.
class Scheduler {
 public:
  // Workers are numbered 0..workers-1; a bit each in the idle mask.
  static constexpr unsigned max_workers = 64;

  // `worker_threads`: run_worker() will be called for each worker (ThreadPool), so each
  // gets a LIFO slot; a LocalExecutor has none.
  static Scheduler* create(unsigned workers, bool worker_threads = false) {
    return new Scheduler(workers, worker_threads);
  }

  void acquire() noexcept {
    // Relaxed: made from a reference the caller holds.
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    // AcqRel: the last owner's delete sees every other owner's use; pairs with theirs.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // Adds a task that a poll left pending to the task list (its caller holds RUNNING and
  // gives the list a reference). Never after shutdown: no task is polled by then.
  // The task takes a reference to the scheduler, released when the task is freed: only a
  // listed task can be woken from idle and so reach the scheduler (schedule) after its
  // executor is gone; one that never went idle is queued or running (its executor is
  // alive) or complete (it never touches the scheduler again).
  void register_task(TaskHeader* task) {
    acquire();
    platform::mutex_guard guard(mutex_);
    WEFT_INVARIANT(!closed_.with([](const bool& c) { return c; }));
    tasks_.push_front(task);
  }

  // Unlinks a completed task and drops the list's reference.
  void remove_task(TaskHeader* task) noexcept {
    bool removed;
    {
      platform::mutex_guard guard(mutex_);
      removed = tasks_.remove(task);
    }
    if (removed) task->drop_ref();
  }

  // Queues a task whose NOTIFIED bit this thread set (the queue's reference included).
  // On one of our workers: into its LIFO slot, to run right after the current poll, on
  // this core (no fence, no unpark, no RMW: only this worker touches its slot); the task
  // it displaces goes to the global queue. Elsewhere: the global queue (schedule_remote).
  void schedule(TaskHeader* task) {
    CurrentWorker* me = current_worker();
    if (me != nullptr && me->scheduler == this) {
      task = lifo_[me->index]->task.with_mut(
          [&](TaskHeader*& slot) { return std::exchange(slot, task); });
      if (task == nullptr) return;
    }
    schedule_remote(task);
  }

  // Pushes a task (as schedule) on the global queue and wakes an idle worker.
  void schedule_remote(TaskHeader* task) {
    queue_.push(task);
    // SeqCst fence: the store-then-load pattern with the fence in wait_for_work() (and in
    // shutdown()): either that worker's pop sees this push, or this load sees its idle
    // bit (or the draining flag).
    platform::fence(std::memory_order_seq_cst);
    std::uintptr_t idle = idle_.load(std::memory_order_relaxed);
    while (idle != 0) {
      const unsigned worker = static_cast<unsigned>(std::countr_zero(idle));
      // Relaxed: claiming the worker only decides who unparks it; the parker orders
      // the push before the worker's pop.
      if (idle_.compare_exchange_strong(idle, idle & ~(std::uintptr_t{1} << worker),
                                        std::memory_order_relaxed, std::memory_order_relaxed)) {
        parkers_[worker].unpark();
        break;
      }
    }
    // Acquire: pairs with the Release store in shutdown(), so the cancellations that
    // precede it (COMPLETE on every task) are visible to the drain.
    if (draining_.load(std::memory_order_acquire)) drain();
  }

  TaskHeader* pop() { return queue_.pop(); }

  // True on a worker thread of this scheduler (inside run_worker).
  bool on_own_worker() const noexcept {
    const CurrentWorker* me = current_worker();
    return me != nullptr && me->scheduler == this;
  }

  // The body of worker thread `index` (ThreadPool): runs tasks until stop(). Order of
  // looking for work: its LIFO slot (at most max_lifo_polls times in a row, so that two
  // tasks waking each other cannot starve the global queue), the global queue, then
  // wait_for_work().
  void run_worker(unsigned index) {
    WEFT_INVARIANT(lifo_ != nullptr && index < workers_);
    CurrentWorker me{this, index};
    current_worker() = &me;
    TimerSlot timers{timer_};  // this pool's timers, for the tasks polled here
    const TimerSlotScope timer_scope(timers);
    struct Reset {
      ~Reset() { current_worker() = nullptr; }
    } reset;
    unsigned lifo_streak = 0;
    unsigned polls_since_timers = 0;
    while (!stopping()) {
      TaskHeader* task = nullptr;
      if (lifo_streak < max_lifo_polls) task = take_lifo(index);
      if (task != nullptr) {
        ++lifo_streak;
      } else {
        lifo_streak = 0;
        task = queue_.pop();
        if (task == nullptr) task = take_lifo(index);
        if (task == nullptr) {
          task = wait_for_work(index, timer_->next_deadline().value_or(Instant::max()));
          (void)timer_->fire_due();  // the deadline this worker slept to, or later ones
        }
      }
      // A busy worker fires due timers every few polls too (as Tokio's event_interval).
      if (++polls_since_timers >= timer_interval) {
        polls_since_timers = 0;
        if (timer_->size() != 0) (void)timer_->fire_due();
      }
      if (task != nullptr) task->run();
    }
  }

  // Worker `worker` found the queue empty: parks it until work arrives, stop() or
  // `deadline` (the next timer's). Returns a task found on the re-check, or nullptr (the
  // caller looks again).
  // No spin before parking: a worker kept awake takes every task the busy worker
  // displaces to the global queue at once, and when those tasks are short and share data
  // (a contended lock), moving them and their lines between cores costs more than running
  // them in parallel gains: rwlock_contended_4 ran 1.4x faster without the spin, 2.8x on
  // a placement of the two vCPUs with a 160 ns line transfer (bench/README, "The idle
  // worker parks at once"). The other workers' LIFO slots are not looked at: each is its
  // worker's alone (see LifoSlot).
  TaskHeader* wait_for_work(unsigned worker, Instant deadline = Instant::max()) {
    const std::uintptr_t bit = std::uintptr_t{1} << worker;
    idle_.fetch_or(bit, std::memory_order_relaxed);
    // SeqCst fence: pairs with the fence in schedule_remote() (see there).
    platform::fence(std::memory_order_seq_cst);
    TaskHeader* task = queue_.pop();
    if (task == nullptr && !stopping_.load(std::memory_order_relaxed)) {
      if (deadline == Instant::max()) {
        parkers_[worker].park();
      } else {
        (void)parkers_[worker].park_until(deadline);
      }
    }
    idle_.fetch_and(~bit, std::memory_order_relaxed);
    return task;
  }

  // Asks the workers to return after the poll they are in.
  void stop() {
    stopping_.store(true, std::memory_order_relaxed);
    // Every worker gets a token: one about to park returns at once (the parker's
    // Release/Acquire then shows it `stopping_`).
    for (unsigned i = 0; i < workers_; ++i) parkers_[i].unpark();
  }
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }

  // After the workers stopped: cancels every live task (destroying its future on this
  // thread, outside any lock): first the queued ones (a spawned task that never ran is
  // only there), then the listed ones (every task a poll left pending); a task spawned
  // later is cancelled by its own push (schedule_remote drains). Idempotent.
  void shutdown() {
    {
      platform::mutex_guard guard(mutex_);
      if (closed_.with([](const bool& c) { return c; })) return;
      closed_.with_mut([](bool& c) { c = true; });
    }
    drain();
    for (;;) {
      TaskHeader* task;
      {
        platform::mutex_guard guard(mutex_);
        task = tasks_.pop_back();
      }
      if (task == nullptr) break;
      task->cancel();    // may wake or spawn: queued or refused, never lost
      task->drop_ref();  // the list's reference
    }
    // Every task is complete now. A wake that queued one before it was cancelled may
    // still be pushing: from here on, schedule_remote() drains after its push.
    // Release: pairs with the Acquire load in schedule_remote() (see there).
    draining_.store(true, std::memory_order_release);
    // SeqCst fence: pairs with the fence in schedule_remote() (see there).
    platform::fence(std::memory_order_seq_cst);
    drain();
  }

  unsigned workers() const noexcept { return workers_; }

  // The timers of this executor's tasks (sync/time/timer_driver.h).
  TimerDriver& timer() noexcept { return *timer_; }

 private:
  // Tasks a worker runs from its LIFO slot in a row before it looks at the global queue
  // (Tokio's MAX_LIFO_POLLS_PER_TICK).
  static constexpr unsigned max_lifo_polls = 3;
  // Rounds of a worker's loop between two looks at the timers while it stays busy
  // (Tokio's event_interval).
  static constexpr unsigned timer_interval = 61;

  // One per worker, each on its own cache line (platform::cache_padded).
  struct LifoSlot {
    // A queued task (holding the queue's reference) that worker i runs next. Worker i's
    // alone while it runs (schedule(), take_lifo()); then the drain's, after the workers
    // are joined (shutdown). No other worker takes it over, as in Tokio: a stealer would
    // race the owner's take and make every wake and take an RMW (those two RMWs cost
    // notify_pingpong 14% and mutex_contended_4 7%: bench/README, "The LIFO slot is its
    // worker's alone"); the price is that a poll running long delays this task.
    platform::cell<TaskHeader*> task{nullptr};
  };

  Scheduler(unsigned workers, bool worker_threads)
      : workers_(workers),
        parkers_(std::make_unique<platform::parker[]>(workers)),
        lifo_(worker_threads ? std::make_unique<platform::cache_padded<LifoSlot>[]>(workers)
                             : nullptr) {}
  ~Scheduler() { timer_->release(); }

  // Empties worker `worker`'s LIFO slot: that worker, or the drain once it is joined.
  // Writes only a full slot: the drains that a late wake runs (schedule_remote) may run
  // beside shutdown's last one, and find every slot emptied by its first.
  TaskHeader* take_lifo(unsigned worker) {
    platform::cell<TaskHeader*>& slot = lifo_[worker]->task;
    if (slot.with([](TaskHeader* const& task) { return task; }) == nullptr) return nullptr;
    return slot.with_mut([](TaskHeader*& task) { return std::exchange(task, nullptr); });
  }

  // Releases queued tasks after shutdown began, cancelling those not complete: the LIFO
  // slots (their workers have been joined), then the global queue.
  void drain() {
    for (unsigned i = 0; lifo_ != nullptr && i < workers_; ++i) {
      if (TaskHeader* task = take_lifo(i)) task->release_queued();
    }
    while (TaskHeader* task = queue_.pop()) task->release_queued();
  }

  const unsigned workers_;
  platform::atomic<std::size_t> refs_{1};

  platform::mutex mutex_;
  // Every task that a poll left pending and that has not completed; protected by mutex_.
  LinkedList<TaskHeader, &TaskHeader::owner_links> tasks_;
  // No more tasks: set once by shutdown(); protected by mutex_.
  platform::cell<bool> closed_{false};

  RunQueue<TaskHeader> queue_;
  std::unique_ptr<platform::parker[]> parkers_;
  std::unique_ptr<platform::cache_padded<LifoSlot>[]> lifo_;  // null without worker threads
  // Bit i set: worker i is parked or about to park (see wait_for_work).
  platform::atomic<std::uintptr_t> idle_{0};
  platform::atomic<bool> stopping_{false};
  platform::atomic<bool> draining_{false};
  // One reference, ours; every registered timer entry holds another.
  TimerDriver* timer_ = TimerDriver::create();
};

inline void TaskHeader::schedule() { scheduler_->schedule(this); }

// Wake by value on a worker of the task's own scheduler (false elsewhere: the caller
// takes the general path). The scheduler outlives the call (the worker runs inside it),
// and schedule() does not touch the task once it is queued, so the Waker's reference is
// handed over instead of added and dropped: an idle task's goes to the queue, a running
// task's is dropped in the same CAS that sets NOTIFIED (the poller holds another).
inline bool TaskHeader::wake_on_worker() {
  if (!scheduler_->on_own_worker()) return false;
  switch (state_.transition_to_notified_by_val()) {
    case TaskState::NotifiedByVal::drop_ref:
      drop_ref();  // nothing to queue (see wake_by_ref)
      break;
    case TaskState::NotifiedByVal::submit: schedule(); break;
    case TaskState::NotifiedByVal::done: break;
  }
  return true;
}
inline void TaskHeader::schedule_yield() { scheduler_->schedule_remote(this); }

inline void TaskHeader::dealloc() noexcept {
  Scheduler* scheduler = scheduler_;
  // Ordered after the holder of RUNNING that set it by the last reference's AcqRel.
  const bool listed = listed_.with([](const bool& l) { return l; });
  if (void* block = block_) {
    // A spawned Task's frame block (spawn_on): the header lives in its FramePrefix.
    const std::size_t bytes = static_cast<FramePrefix*>(block)->block_bytes;
    this->~TaskHeader();  // virtual: the whole task
    FrameCache::free(block, bytes);
  } else {
    delete this;
  }
  if (listed) scheduler->release();  // the reference register_task() took
}

inline void TaskHeader::run() {
  switch (state_.transition_to_running()) {
    case TaskState::ToRunning::complete:
      drop_ref();  // cancelled while queued: only the queue's reference is left to drop
      return;
    case TaskState::ToRunning::aborted:
      complete(/*cancelled=*/true);  // aborted: destroy the future instead of polling it
      return;
    case TaskState::ToRunning::success: break;
  }

  // The queue's reference keeps the task alive during the poll; the borrowed waker
  // lends it to the future (a clone takes a reference of its own).
  const WakerRef waker(RawWaker{this, &waker_vtable});
  Context cx(waker.get());
  if (poll_future(cx)) {
    complete(/*cancelled=*/false);
    return;
  }

  // Pending: before it can go idle (held only by Wakers), the task joins the task list
  // once, so that shutdown finds it. The list's reference is added by the transition.
  const bool join_list = !listed_.with([](const bool& l) { return l; });
  if (join_list) {
    scheduler_->register_task(this);
    listed_.with_mut([](bool& l) { l = true; });
  }
  // Woken (or aborted) during its own poll: to the back of the global queue, not the
  // LIFO slot, so a task that keeps waking itself cannot starve the others.
  if (state_.transition_to_idle(join_list)) schedule_yield();
}

// The run that completed the poll (output stored), or that found ABORTED (no output:
// `cancelled`), holds RUNNING and the queue's reference.
inline void TaskHeader::complete(bool cancelled) {
  drop_future();  // user code: the destructor runs outside every lock
  const bool listed = listed_.with([](const bool& l) { return l; });  // RUNNING is ours
  // The queue's reference stays ours until the end (a wake during the poll, NOTIFIED,
  // took none): the task must outlive the calls below.
  const TaskState::Snapshot before = state_.transition_to_complete(cancelled);
  if (!before.is_join_interested()) {
    drop_output();  // nobody will join: the output is ours to destroy
  } else {
    try {
      join_waker.wake();  // the joiner's waker: its failure is not this task's
    } catch (...) {
    }
  }
  if (listed) scheduler_->remove_task(this);
  // Ours was the only reference (no JoinHandle, no Waker, not listed): nobody can make
  // another (references are made from references), so it is the last without an RMW.
  if (before.ref_count() == 1) {
    dealloc();
  } else {
    drop_ref();
  }
}

inline void TaskHeader::cancel() {
  if (!state_.transition_to_running_for_cancel()) return;  // complete already
  drop_future();
  if (state_.transition_to_complete(/*cancelled=*/true).is_join_interested()) {
    try {
      join_waker.wake();
    } catch (...) {
    }
  }
}

}  // namespace detail
}  // namespace weft
