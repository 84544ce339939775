// weft/sync/task/scheduler.h: the machinery under LocalExecutor and ThreadPool: a
// spawned task (TaskHeader, its state word and its Waker), and Scheduler, which knows
// every live task, queues the runnable ones and parks idle workers.
//
// Follows the task state machine of tokio/src/runtime/task/{state,harness,raw}.rs, much
// reduced: one global run queue (sync/task/run_queue.h, Tokio's injector) plus a LIFO
// slot per worker (tokio/src/runtime/scheduler/multi_thread/worker.rs), no per-worker
// ring, no budget; abort as in tokio/src/runtime/task/abort.rs.
//
// Concurrency: a task is polled by one worker at a time (the RUNNING bit); its Wakers
// may be cloned, woken and dropped from any thread, at any time, also after the
// executor is gone (a wake then does nothing). A woken task is queued on the scheduler
// that spawned it: a task woken by a worker of its own pool goes to that worker's LIFO
// slot and runs there as soon as the current poll returns (the task it displaces, if
// any, goes to the global queue); any other wake pushes it on the global queue. Waking
// costs one CAS on the task's state word and, if the task was idle, one exchange on the
// LIFO slot, or one push on the run queue (a CAS and a store) and a SeqCst fence; it
// takes a lock only to unpark a sleeping worker (the parker's slow path). Idle workers
// spin briefly (platform::Backoff) before they park. No user code (a poll, a future's
// destructor, a waker) runs under a scheduler lock.
//
// Memory ordering: what a thread did before waking a task happens-before the poll that
// the wake causes (Release CAS in wake_by_ref, Acquire CAS in run); each poll of a task
// happens-before the next one; the completing poll (and the output it stored)
// happens-before the JoinHandle sees the task complete.
//
// Not a public header: use sync/task/local_executor.h or sync/task/thread_pool.h.
#pragma once

#include "sync/detail/linked_list.h"
#include "sync/platform/atomic.h"
#include "sync/platform/cache_padded.h"
#include "sync/platform/cell.h"
#include "sync/platform/fence.h"
#include "sync/platform/invariant.h"
#include "sync/platform/mutex.h"
#include "sync/platform/parker.h"
#include "sync/platform/spin.h"
#include "sync/platform/thread_local_pointer.h"
#include "sync/result.h"
#include "sync/task/atomic_waker.h"
#include "sync/task/future.h"
#include "sync/task/run_queue.h"
#include "sync/task/waker.h"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace weft {

// Why a JoinHandle has no value: the task was cancelled (its executor shut down, or it
// was aborted, before it completed). An exception thrown by the task is rethrown by the
// join instead.
enum class JoinError { cancelled };

// Tokio's JoinError::is_cancelled(): `weft::is_cancelled(outcome.error())`.
constexpr bool is_cancelled(JoinError error) noexcept { return error == JoinError::cancelled; }

namespace detail {

class Scheduler;

// Which worker of which scheduler the calling thread is (null on any other thread): how a
// wake finds "its" worker's LIFO slot, as Tokio's thread-local CONTEXT.
struct CurrentWorker {
  Scheduler* scheduler;
  unsigned index;
};
inline CurrentWorker*& current_worker() noexcept {
  return platform::thread_local_pointer<CurrentWorker>();
}

// A Waker that borrows a reference instead of owning one: it is never destroyed, so its
// drop never runs (as Rust's WakerRef / ManuallyDrop<Waker>). Clones are real Wakers.
class WakerRef {
 public:
  explicit WakerRef(RawWaker raw) noexcept : waker_(Waker::from_raw(raw)) {}
  ~WakerRef() {}  // deliberately leaves waker_ alone
  WakerRef(const WakerRef&) = delete;
  WakerRef& operator=(const WakerRef&) = delete;
  const Waker& get() const noexcept { return waker_; }

 private:
  union {
    Waker waker_;
  };
};

// The type-independent part of a spawned task.
class TaskHeader {
 public:
  TaskHeader(const TaskHeader&) = delete;
  TaskHeader& operator=(const TaskHeader&) = delete;

  // In Scheduler::tasks_ from the end of its first pending poll until it completes (a
  // task that completes in its first poll never joins: see `listed_`); protected by
  // Scheduler::mutex_.
  ListLinks<TaskHeader> owner_links;
  // In the run queue's overflow list while queued there; protected by its mutex.
  ListLinks<TaskHeader> queue_links;
  // The JoinHandle's waker, woken when the task completes or is cancelled.
  AtomicWaker join_waker;

  // Called by the worker that popped this task from the run queue; consumes the queue's
  // reference. Polls the future once, unless the task was cancelled while queued.
  void run();

  // Cancels a task that no worker can run any more (the scheduler is shutting down):
  // destroys its future and completes it as cancelled. The caller holds a reference.
  void cancel();

  // Asks for the task to be cancelled (JoinHandle::abort): an idle task is queued, and
  // the run that pops it destroys the future instead of polling it; a running one is
  // re-queued when its poll returns, with the same effect; a queued one is cancelled
  // when popped; a complete one is left alone. Callable from any thread, any number of
  // times; the caller holds a reference. The future is destroyed on the executor.
  void abort() {
    std::uintptr_t current = state_.load(std::memory_order_relaxed);
    for (;;) {
      if ((current & (COMPLETE | ABORTED)) != 0) return;  // finished, or asked already
      std::uintptr_t next = current | ABORTED;
      // Idle: queue it (with a reference) as a wake would. Running: make the poller
      // re-queue it. Queued (NOTIFIED, not running): its run will see ABORTED.
      const bool queue = (current & (RUNNING | NOTIFIED)) == 0;
      if (queue) next += REF_ONE;
      next |= NOTIFIED;
      // Release: pairs with the Acquire CAS in run() (as in wake_by_ref), so the run
      // that sees ABORTED also sees what the aborting thread did before.
      if (state_.compare_exchange_strong(current, next, std::memory_order_release,
                                       std::memory_order_relaxed)) {
        if (queue) schedule();
        return;
      }
    }
  }

  // Drops a reference; the last one frees the task.
  void drop_ref() noexcept {
    // AcqRel: the last owner's delete must see every other owner's use of the task;
    // pairs with the other owners' decrements.
    const std::uintptr_t previous = state_.fetch_sub(REF_ONE, std::memory_order_acq_rel);
    WEFT_INVARIANT(refs(previous) >= 1);
    if (refs(previous) == 1) dealloc();
  }

  void wake_by_ref() {
    std::uintptr_t current = state_.load(std::memory_order_relaxed);
    for (;;) {
      // Complete: nothing to poll. Notified: a poll is already owed; it comes after
      // whatever registration this waker came from (that registration and this wake
      // synchronize through the primitive that holds the waker), so it sees what the
      // waking thread did.
      if ((current & (COMPLETE | NOTIFIED)) != 0) return;
      std::uintptr_t next = current | NOTIFIED;
      // Idle: the run queue gets a reference. Running: the poller re-queues it.
      if ((current & RUNNING) == 0) next += REF_ONE;
      // Release: pairs with the Acquire CAS in run(), so what this thread did before the
      // wake happens-before the poll it causes.
      if (state_.compare_exchange_strong(current, next, std::memory_order_release,
                                       std::memory_order_relaxed)) {
        if ((current & RUNNING) == 0) schedule();
        return;
      }
    }
  }

  // A new Waker handle (one reference).
  Waker waker() {
    add_ref();
    return Waker::from_raw(RawWaker{this, &waker_vtable});
  }

  // A new reference for an AbortHandle (made from one the caller holds).
  void acquire_ref() noexcept { add_ref(); }

  // For JoinHandle.
  std::uintptr_t load_state(std::memory_order order) const { return state_.load(order); }
  // The JoinHandle is dropped before the task completed: gives up JOIN_INTEREST and the
  // handle's reference in one CAS (the task then holds another one: the queue's, or the
  // list's). False, with nothing done, if the task is complete.
  bool try_drop_join_handle() {
    std::uintptr_t current = state_.load(std::memory_order_relaxed);
    while ((current & COMPLETE) == 0) {
      WEFT_INVARIANT(refs(current) >= 2);
      // Release: pairs with the Acquire of complete()'s CAS (which then owns the output,
      // as after drop_join_interest()) and of the last drop_ref() (the handle's use of
      // the task happens-before its free).
      if (state_.compare_exchange_strong(current, (current & ~JOIN_INTEREST) - REF_ONE,
                                         std::memory_order_release,
                                         std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }
  // Gives up JOIN_INTEREST; returns the state before.
  std::uintptr_t drop_join_interest() {
    std::uintptr_t current = state_.load(std::memory_order_relaxed);
    // AcqRel: Release pairs with the Acquire of complete()'s CAS (which then owns the
    // output); Acquire pairs with complete()'s Release (if COMPLETE, we own the output).
    while (!state_.compare_exchange_strong(current, current & ~JOIN_INTEREST,
                                         std::memory_order_acq_rel,
                                         std::memory_order_relaxed)) {
    }
    return current;
  }

  // State word (after tokio/src/runtime/task/state.rs):
  //   RUNNING        a worker (or the canceller) is polling or destroying the future;
  //                  only the holder of RUNNING touches the future
  //   COMPLETE       the future is gone: it finished (output stored) or was cancelled;
  //                  never cleared
  //   NOTIFIED       the task must be polled again. Set by a wake. Set while idle: the
  //                  run queue holds the task and one reference. Set while RUNNING: the
  //                  poller re-queues the task (with the reference it already holds)
  //   CANCELLED      with COMPLETE: cancelled (shut down or aborted), no output
  //   JOIN_INTEREST  the JoinHandle is alive; whoever clears it or sets COMPLETE second
  //                  destroys the output
  //   ABORTED        abort() was called before COMPLETE; never cleared. Set with
  //                  NOTIFIED, so some run() will see it and cancel instead of polling
  //   bits 6..       reference count: the scheduler's task list (from the first pending
  //                  poll until complete), the JoinHandle, the run queue (while queued),
  //                  every Waker handle
  // Transitions: wake: idle -> NOTIFIED (+1 ref, push); RUNNING -> RUNNING|NOTIFIED.
  // run: NOTIFIED -> RUNNING, then RUNNING -> idle (-1 ref) or, if NOTIFIED meanwhile,
  // -> NOTIFIED (push again), or -> COMPLETE (-1 ref); the first pending poll also
  // lists the task (+1 ref, folded into the same CAS). cancel: -> RUNNING -> COMPLETE.
  // abort: idle -> ABORTED|NOTIFIED (+1 ref, push); else |ABORTED|NOTIFIED; then a run
  // that starts with ABORTED: NOTIFIED -> RUNNING -> COMPLETE|CANCELLED (-1 ref).
  static constexpr std::uintptr_t RUNNING = 1u << 0;
  static constexpr std::uintptr_t COMPLETE = 1u << 1;
  static constexpr std::uintptr_t NOTIFIED = 1u << 2;
  static constexpr std::uintptr_t CANCELLED = 1u << 3;
  static constexpr std::uintptr_t JOIN_INTEREST = 1u << 4;
  static constexpr std::uintptr_t ABORTED = 1u << 5;
  static constexpr unsigned REF_SHIFT = 6;
  static constexpr std::uintptr_t REF_ONE = std::uintptr_t{1} << REF_SHIFT;
  static constexpr std::uintptr_t refs(std::uintptr_t state) { return state >> REF_SHIFT; }

 protected:
  // A new task: queued (NOTIFIED), joinable, with two references: the JoinHandle and the
  // run queue. It joins the task list only if a poll leaves it pending (see run()).
  // `block`: the allocation the task was built in (a spawned Task's frame block, see
  // detail::FramePrefix), freed by dealloc() with operator delete; null: the task was
  // made by `new`.
  explicit TaskHeader(Scheduler* scheduler, void* block = nullptr);
  virtual ~TaskHeader();

  // Polls the future once (RUNNING is held); on completion stores the output (or the
  // exception) and returns true.
  virtual bool poll_future(Context& cx) noexcept = 0;
  // Destroys the future (RUNNING is held, or the task is being cancelled).
  virtual void drop_future() noexcept = 0;
  // Destroys the stored output (by whoever owns it, see JOIN_INTEREST).
  virtual void drop_output() noexcept = 0;

 private:
  void add_ref() noexcept {
    // Relaxed: a new reference is made from one the caller holds (as Arc::clone).
    const std::uintptr_t previous = state_.fetch_add(REF_ONE, std::memory_order_relaxed);
    WEFT_INVARIANT(refs(previous) >= 1);
  }
  void schedule();
  void schedule_yield();
  void complete(bool cancelled);
  void dealloc() noexcept;

  static TaskHeader* self(const void* data) {
    return const_cast<TaskHeader*>(static_cast<const TaskHeader*>(data));
  }
  static RawWaker clone_raw(const void* data) {
    self(data)->add_ref();
    return RawWaker{data, &waker_vtable};
  }
  // Wake by value, off the scheduler's workers, keeps its own reference until schedule()
  // returned: handing it to the run queue instead would let a worker complete and free
  // the task (and the last task free the scheduler) while schedule() still runs;
  // shutdown_races_wake catches that. On one of its workers see wake_on_worker().
  static void wake_raw(const void* data) {
    TaskHeader* task = self(data);
    if (task->wake_on_worker()) return;
    struct Release {
      TaskHeader* task;
      ~Release() { task->drop_ref(); }
    } release{task};
    task->wake_by_ref();
  }
  bool wake_on_worker();
  static void wake_by_ref_raw(const void* data) { self(data)->wake_by_ref(); }
  static void drop_raw(const void* data) noexcept { self(data)->drop_ref(); }
  static constexpr RawWakerVTable waker_vtable{&clone_raw, &wake_raw, &wake_by_ref_raw,
                                               &drop_raw};

  // Releases a task popped from the run queue after shutdown began: cancels it unless it
  // is complete (a spawned task that never ran is in no list, so only its queue entry
  // finds it), then drops the queue's reference.
  void release_queued() {
    cancel();
    drop_ref();
  }
  friend class Scheduler;

  platform::atomic<std::uintptr_t> state_;
  // In the scheduler's task list (owner_links): a task joins when a poll leaves it
  // pending, so that shutdown can find it while only Wakers hold it, and leaves when it
  // completes; a task that never goes idle (done in its first poll) costs no lock.
  // Written and read only by the holder of RUNNING (ordered by the state word), and by
  // shutdown after the workers stopped.
  platform::cell<bool> listed_{false};
  Scheduler* const scheduler_;
  void* const block_;  // see the constructor
};

// A task whose future yields T: where the output waits for the JoinHandle.
template <class T>
class TaskWithOutput : public TaskHeader {
 public:
  using Value = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
  // Nothing yet, the value, or the exception the future threw.
  using Output = std::variant<std::monostate, Value, std::exception_ptr>;

  // Takes the output of a complete task (the JoinHandle, after an Acquire load saw
  // COMPLETE and JOIN_INTEREST is still set).
  Output take_output() {
    return output_.with_mut([](Output& o) {
      Output taken(std::move(o));
      o.template emplace<0>();
      return taken;
    });
  }
  // Destroys the output of a complete task that is no longer wanted (same owner rule).
  void discard_output() noexcept { drop_output(); }

 protected:
  using TaskHeader::TaskHeader;
  void drop_output() noexcept override {
    output_.with_mut([](Output& o) { o.template emplace<0>(); });
  }
  // Written by the poll that completes the task (RUNNING held); then owned as the
  // JOIN_INTEREST protocol says (see TaskHeader).
  platform::cell<Output> output_;
};

// A spawned future of type F.
template <class F>
class TaskCell final : public TaskWithOutput<future_output_t<F>> {
  using Out = future_output_t<F>;
  using Base = TaskWithOutput<Out>;

 public:
  TaskCell(Scheduler* scheduler, F&& future, void* block = nullptr)
      : Base(scheduler, block), future_(std::in_place, std::move(future)) {}

 private:
  bool poll_future(Context& cx) noexcept override {
    try {
      std::optional<Poll<Out>> poll;
      future_.with_mut([&](std::optional<F>& f) { poll.emplace(f->poll(cx)); });
      if (poll->is_pending()) return false;
      if constexpr (std::is_void_v<Out>) {
        this->output_.with_mut([](typename Base::Output& o) { o.template emplace<1>(); });
      } else {
        this->output_.with_mut([&](typename Base::Output& o) {
          o.template emplace<1>(std::move(*poll).value());
        });
      }
    } catch (...) {
      this->output_.with_mut(
          [](typename Base::Output& o) { o.template emplace<2>(std::current_exception()); });
    }
    return true;
  }
  void drop_future() noexcept override {
    future_.with_mut([](std::optional<F>& f) { f.reset(); });
  }

  // Touched only by the holder of RUNNING (see TaskHeader).
  platform::cell<std::optional<F>> future_;
};

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
  // this core (no fence, no unpark); the task it displaces goes to the global queue.
  // Elsewhere: the global queue (schedule_remote).
  void schedule(TaskHeader* task) {
    CurrentWorker* me = current_worker();
    if (me != nullptr && me->scheduler == this) {
      // AcqRel: Release publishes the task to a thief's or the drain's Acquire exchange
      // in take_lifo(); Acquire pairs with the Release of whoever stored the displaced
      // task (this worker itself).
      task = lifo_[me->index]->task.exchange(task, std::memory_order_acq_rel);
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
                                      std::memory_order_relaxed,
                                      std::memory_order_relaxed)) {
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
  // tasks waking each other cannot starve the global queue), the global queue, a short
  // spin on the global queue, then wait_for_work().
  void run_worker(unsigned index) {
    WEFT_INVARIANT(lifo_ != nullptr && index < workers_);
    CurrentWorker me{this, index};
    current_worker() = &me;
    struct Reset {
      ~Reset() { current_worker() = nullptr; }
    } reset;
    unsigned lifo_streak = 0;
    while (!stopping()) {
      TaskHeader* task = nullptr;
      if (lifo_streak < max_lifo_polls) task = take_lifo(index);
      if (task != nullptr) {
        ++lifo_streak;
      } else {
        lifo_streak = 0;
        task = queue_.pop();
        if (task == nullptr) task = take_lifo(index);
        if (task == nullptr) task = spin_for_work(index);
        if (task == nullptr) task = wait_for_work(index);
      }
      if (task != nullptr) {
        // Relaxed: only a hint for spinning workers (spin_for_work), who decide with
        // the exchange in take_lifo().
        LifoSlot& mine = *lifo_[index];
        mine.polls.store(mine.polls.load(std::memory_order_relaxed) + 1,
                         std::memory_order_relaxed);
        task->run();
      }
    }
  }

  // Worker `worker` found the queue empty: parks it until work arrives or stop().
  // Returns a task found on the re-check, or nullptr (the caller looks again).
  TaskHeader* wait_for_work(unsigned worker) {
    const std::uintptr_t bit = std::uintptr_t{1} << worker;
    idle_.fetch_or(bit, std::memory_order_relaxed);
    // SeqCst fence: pairs with the fence in schedule() (see there).
    platform::fence(std::memory_order_seq_cst);
    TaskHeader* task = queue_.pop();
    // Before sleeping, take what another worker's LIFO slot holds: its owner runs it
    // anyway once its current poll returns, but that poll may be a long one.
    if (task == nullptr) task = steal_lifo(worker);
    if (task == nullptr && !stopping_.load(std::memory_order_relaxed)) {
      parkers_[worker].park();
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
      task->cancel();   // may wake or spawn: queued or refused, never lost
      task->drop_ref();  // the list's reference
    }
    // Every task is complete now. A wake that queued one before it was cancelled may
    // still be pushing: from here on, schedule() drains after its push.
    // Release: pairs with the Acquire load in schedule() (see there).
    draining_.store(true, std::memory_order_release);
    // SeqCst fence: pairs with the fence in schedule() (see there).
    platform::fence(std::memory_order_seq_cst);
    drain();
  }

  unsigned workers() const noexcept { return workers_; }

 private:
  // Tasks a worker runs from its LIFO slot in a row before it looks at the global queue
  // (Tokio's MAX_LIFO_POLLS_PER_TICK). Rounds of Backoff::snooze() an idle worker spends
  // re-checking the global queue before it parks: about a microsecond of pauses and a
  // few yields; one round in the model (every round is a scheduling point there).
  static constexpr unsigned max_lifo_polls = 3;
#if defined(WEFT_MODEL)
  static constexpr unsigned idle_spins = 1;
#else
  static constexpr unsigned idle_spins = 12;
#endif

  // One per worker, each on its own cache line (platform::cache_padded).
  struct LifoSlot {
    // A queued task (holding the queue's reference) that worker i runs next; written by
    // worker i only (schedule()), emptied by worker i, a stealing worker about to park,
    // or the drain.
    platform::atomic<TaskHeader*> task{nullptr};
    // Polls worker i started; written by worker i only, read by spinning workers as a
    // hint that worker i is stuck in one poll.
    platform::atomic<std::uint64_t> polls{0};
  };

  Scheduler(unsigned workers, bool worker_threads)
      : workers_(workers),
        parkers_(std::make_unique<platform::parker[]>(workers)),
        lifo_(worker_threads ? std::make_unique<platform::cache_padded<LifoSlot>[]>(workers) : nullptr) {}
  ~Scheduler() = default;

  TaskHeader* take_lifo(unsigned worker) {
    platform::atomic<TaskHeader*>& slot = lifo_[worker]->task;
    // Relaxed: a hint that saves the RMW when empty; the exchange decides.
    if (slot.load(std::memory_order_relaxed) == nullptr) return nullptr;
    // Acquire: pairs with the AcqRel exchange in schedule() that stored the task.
    return slot.exchange(nullptr, std::memory_order_acquire);
  }

  TaskHeader* steal_lifo(unsigned self) {
    if (lifo_ == nullptr) return nullptr;
    for (unsigned i = 0; i < workers_; ++i) {
      if (i == self) continue;
      if (TaskHeader* task = take_lifo(i)) return task;
    }
    return nullptr;
  }

  // Spins on the global queue; also takes over a task that sits in another worker's LIFO
  // slot while that worker stays in one poll (its poll count unchanged across a round:
  // a long poll, like a producer that never yields, would otherwise delay the task it
  // woke until the poll returns). A slot that turns over, as in a ping-pong, is left to
  // its owner.
  TaskHeader* spin_for_work(unsigned self) {
    struct Seen {
      TaskHeader* task;
      std::uint64_t polls;
    };
    constexpr unsigned max_seen = 4;  // looks at the first few other workers only
    Seen seen[max_seen];
    unsigned others = 0;
    auto look = [&](bool steal) -> TaskHeader* {
      unsigned k = 0;
      for (unsigned i = 0; i < workers_ && k < max_seen; ++i) {
        if (i == self) continue;
        // Relaxed: hints; take_lifo's exchange decides.
        TaskHeader* task = lifo_[i]->task.load(std::memory_order_relaxed);
        const std::uint64_t polls = lifo_[i]->polls.load(std::memory_order_relaxed);
        if (steal && task != nullptr && seen[k].task == task && seen[k].polls == polls) {
          if (TaskHeader* taken = take_lifo(i)) return taken;
        }
        seen[k++] = Seen{task, polls};
      }
      others = k;
      return nullptr;
    };
    (void)look(false);
    platform::Backoff backoff;
    for (unsigned round = 0; round < idle_spins; ++round) {
      backoff.snooze();
      if (stopping()) return nullptr;
      if (TaskHeader* task = queue_.pop()) return task;
      if (others != 0) {
        if (TaskHeader* task = look(true)) return task;
      }
    }
    return nullptr;
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
};

inline TaskHeader::TaskHeader(Scheduler* scheduler, void* block)
    : state_(NOTIFIED | JOIN_INTEREST | 2 * REF_ONE), scheduler_(scheduler), block_(block) {}

inline TaskHeader::~TaskHeader() = default;

inline void TaskHeader::schedule() { scheduler_->schedule(this); }

// Wake by value on a worker of the task's own scheduler (false elsewhere: the caller
// takes the general path). The scheduler outlives the call (the worker runs inside it),
// and schedule() does not touch the task once it is queued, so the Waker's reference is
// handed over instead of added and dropped: an idle task's goes to the queue, a running
// task's is dropped in the same CAS that sets NOTIFIED (the poller holds another).
inline bool TaskHeader::wake_on_worker() {
  if (!scheduler_->on_own_worker()) return false;
  std::uintptr_t current = state_.load(std::memory_order_relaxed);
  for (;;) {
    if ((current & (COMPLETE | NOTIFIED)) != 0) {
      drop_ref();  // nothing to queue (see wake_by_ref)
      return true;
    }
    const bool running = (current & RUNNING) != 0;
    const std::uintptr_t next = running ? (current | NOTIFIED) - REF_ONE : current | NOTIFIED;
    // Release: pairs with the Acquire CAS in run() (as in wake_by_ref); a dropped
    // reference is never the last (the poller holds one), and every later RMW on the
    // state word continues this release sequence up to the last drop_ref()'s Acquire.
    if (state_.compare_exchange_strong(current, next, std::memory_order_release,
                                       std::memory_order_relaxed)) {
      if (!running) schedule();
      return true;
    }
  }
}
inline void TaskHeader::schedule_yield() { scheduler_->schedule_remote(this); }

inline void TaskHeader::dealloc() noexcept {
  Scheduler* scheduler = scheduler_;
  // Ordered after the holder of RUNNING that set it by the last reference's AcqRel.
  const bool listed = listed_.with([](const bool& l) { return l; });
  if (void* block = block_) {
    this->~TaskHeader();  // virtual: the whole task
    ::operator delete(block);
  } else {
    delete this;
  }
  if (listed) scheduler->release();  // the reference register_task() took
}

inline void TaskHeader::run() {
  std::uintptr_t current = state_.load(std::memory_order_relaxed);
  for (;;) {
    WEFT_INVARIANT((current & RUNNING) == 0);
    if ((current & COMPLETE) != 0) {
      drop_ref();  // cancelled while queued: only the queue's reference is left to drop
      return;
    }
    WEFT_INVARIANT((current & NOTIFIED) != 0);
    // Acquire: pairs with the Release CAS in wake_by_ref() and the Release CAS that
    // ended the previous poll (the future's state, what the waker wrote).
    if (state_.compare_exchange_strong(current, (current & ~NOTIFIED) | RUNNING,
                                     std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      break;
    }
  }
  if ((current & ABORTED) != 0) {
    complete(/*cancelled=*/true);  // aborted: destroy the future instead of polling it
    return;
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
  // once, so that shutdown finds it. The list's reference is added by the CAS below.
  const bool join_list = !listed_.with([](const bool& l) { return l; });
  if (join_list) {
    scheduler_->register_task(this);
    listed_.with_mut([](bool& l) { l = true; });
  }

  current = state_.load(std::memory_order_relaxed);
  std::uintptr_t next;
  do {
    WEFT_INVARIANT((current & RUNNING) != 0 && (current & COMPLETE) == 0);
    next = current & ~RUNNING;
    // Woken during the poll: keep the queue's reference and queue it again.
    if ((current & NOTIFIED) == 0) next -= REF_ONE;
    if (join_list) next += REF_ONE;
    // Release: pairs with the Acquire CAS in the next run() (the future's state).
  } while (!state_.compare_exchange_strong(current, next, std::memory_order_release,
                                         std::memory_order_relaxed));
  WEFT_INVARIANT(refs(next) >= 1);  // the task list's reference, at least
  // Woken (or aborted) during its own poll: to the back of the global queue, not the
  // LIFO slot, so a task that keeps waking itself cannot starve the others.
  if ((current & NOTIFIED) != 0) schedule_yield();
}

// The run that completed the poll (output stored), or that found ABORTED (no output:
// `cancelled`), holds RUNNING and the queue's reference.
inline void TaskHeader::complete(bool cancelled) {
  drop_future();  // user code: the destructor runs outside every lock
  const bool listed = listed_.with([](const bool& l) { return l; });  // RUNNING is ours
  std::uintptr_t current = state_.load(std::memory_order_relaxed);
  const std::uintptr_t set = cancelled ? (COMPLETE | CANCELLED) : COMPLETE;
  // The queue's reference stays ours until the end (a wake during the poll, NOTIFIED,
  // took none): the task must outlive the calls below.
  // AcqRel: Release publishes the output to the JoinHandle (its Acquire load of
  // COMPLETE); Acquire pairs with drop_join_interest()'s Release and with every earlier
  // drop_ref()'s Release (see the end).
  while (!state_.compare_exchange_strong(current, (current & ~(RUNNING | NOTIFIED)) | set,
                                         std::memory_order_acq_rel,
                                         std::memory_order_relaxed)) {
  }
  if ((current & JOIN_INTEREST) == 0) {
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
  if (refs(current) == 1) {
    dealloc();
  } else {
    drop_ref();
  }
}

inline void TaskHeader::cancel() {
  std::uintptr_t current = state_.load(std::memory_order_relaxed);
  for (;;) {
    WEFT_INVARIANT((current & RUNNING) == 0);  // no worker runs any more
    if ((current & COMPLETE) != 0) return;
    // Acquire: pairs with the Release CAS that ended the last poll (the future's
    // state). NOTIFIED is cleared: a queued task stays queued with its reference, and
    // its pop finds it COMPLETE.
    if (state_.compare_exchange_strong(current, (current & ~NOTIFIED) | RUNNING,
                                     std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      break;
    }
  }
  drop_future();
  current = state_.load(std::memory_order_relaxed);
  // AcqRel: Release publishes the cancellation to the JoinHandle (its Acquire load);
  // Acquire pairs with drop_join_interest()'s Release. A wake during the destruction
  // (NOTIFIED while RUNNING) took no reference: clear it.
  while (!state_.compare_exchange_strong(
      current, (current & ~(RUNNING | NOTIFIED)) | COMPLETE | CANCELLED,
      std::memory_order_acq_rel, std::memory_order_relaxed)) {
  }
  if ((current & JOIN_INTEREST) != 0) {
    try {
      join_waker.wake();
    } catch (...) {
    }
  }
}

}  // namespace detail
}  // namespace weft
