// weft/sync/runtime/task_header.h: a spawned task: TaskHeader (its state word, its links,
// its Waker), TaskWithOutput<T> (where the output waits for the JoinHandle) and
// TaskCell<F> (the future itself).
//
// Follows tokio/src/runtime/task/{core,harness,raw}.rs, much reduced. The state word and
// its transitions are TaskState (task_state.h). The members that reach the scheduler
// (run, cancel, the wakes' schedule) are defined after Scheduler, in scheduler.h: include
// that, or an executor header, not this one.
#pragma once

#include "sync/detail/linked_list.h"
#include "sync/platform/cell.h"
#include "sync/runtime/task_state.h"
#include "sync/task/atomic_waker.h"
#include "sync/task/future.h"
#include "sync/task/poll_slot.h"
#include "sync/task/waker.h"

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace weft::detail {

class Scheduler;

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

  // The state word (the JoinHandle reads it and gives up its interest through it).
  TaskState& state() noexcept { return state_; }
  const TaskState& state() const noexcept { return state_; }

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
    if (state_.transition_to_notified_and_aborted()) schedule();
  }

  // Drops a reference; the last one frees the task.
  void drop_ref() noexcept {
    if (state_.ref_dec()) dealloc();
  }

  void wake_by_ref() {
    if (state_.transition_to_notified_by_ref()) schedule();
  }

  // A new Waker handle (one reference).
  Waker waker() {
    state_.ref_inc();
    return Waker::from_raw(RawWaker{this, &waker_vtable});
  }

  // A new reference for an AbortHandle (made from one the caller holds).
  void acquire_ref() noexcept { state_.ref_inc(); }

 protected:
  // A new task: queued (NOTIFIED), joinable, with two references: the JoinHandle and the
  // run queue (see TaskState). It joins the task list only if a poll leaves it pending
  // (see run()).
  // `block`: the allocation the task was built in (a spawned Task's frame block, see
  // detail::FramePrefix), freed by dealloc() with operator delete; null: the task was
  // made by `new`.
  explicit TaskHeader(Scheduler* scheduler, void* block = nullptr)
      : scheduler_(scheduler), block_(block) {}
  virtual ~TaskHeader() = default;

  // Polls the future once (RUNNING is held); on completion stores the output (or the
  // exception) and returns true.
  virtual bool poll_future(Context& cx) noexcept = 0;
  // Destroys the future (RUNNING is held, or the task is being cancelled).
  virtual void drop_future() noexcept = 0;
  // Destroys the stored output (by whoever owns it, see JOIN_INTEREST).
  virtual void drop_output() noexcept = 0;

 private:
  void schedule();
  void schedule_yield();
  void complete(bool cancelled);
  void dealloc() noexcept;

  static TaskHeader* self(const void* data) {
    return const_cast<TaskHeader*>(static_cast<const TaskHeader*>(data));
  }
  static RawWaker clone_raw(const void* data) {
    self(data)->state_.ref_inc();
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
  static constexpr RawWakerVTable waker_vtable{&clone_raw, &wake_raw, &wake_by_ref_raw, &drop_raw};

  // Releases a task popped from the run queue after shutdown began: cancels it unless it
  // is complete (a spawned task that never ran is in no list, so only its queue entry
  // finds it), then drops the queue's reference.
  void release_queued() {
    cancel();
    drop_ref();
  }
  friend class Scheduler;

  TaskState state_;
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
      PollSlot<F> poll;
      if (!future_.with_mut([&](std::optional<F>& f) { return poll.poll(*f, cx); })) return false;
      if constexpr (std::is_void_v<Out>) {
        this->output_.with_mut([](typename Base::Output& o) { o.template emplace<1>(); });
      } else {
        this->output_.with_mut(
            [&](typename Base::Output& o) { o.template emplace<1>(poll.take()); });
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

}  // namespace weft::detail
