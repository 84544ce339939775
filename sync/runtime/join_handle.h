// weft/sync/runtime/join_handle.h: JoinHandle<T>, what spawning on an executor returns: a
// future of the task's outcome, and blocking_join() for plain threads; AbortHandle, which
// can only abort the task and ask whether it finished.
//
// Follows tokio/src/runtime/task/join.rs and abort.rs.
//
// Outcome: Result<T, JoinError>: the task's value, or JoinError::cancelled
// (weft::is_cancelled(error)) if its executor shut down or it was aborted first. An
// exception thrown by the task is rethrown by the poll (or blocking_join) that sees the
// task complete, i.e. to the joiner.
//
// Abort (abort(), AbortHandle::abort(); from any thread, any number of times): an idle
// task is queued on its executor, which destroys its future (cancelling what it awaits:
// a waiter unlinks itself) instead of polling it; a task being polled is cancelled the
// same way after that poll returns, at its next suspension point; a task that already
// completed keeps its value, and a poll that completes concurrently with the abort wins
// (the join yields the value). The future is never destroyed on the aborting thread, so
// a task may abort itself. An aborted task's future is destroyed only when its executor
// runs it (a LocalExecutor: in the next run_*; or when the executor is destroyed).
//
// Concurrency: one thread uses a JoinHandle at a time (like any future); the task runs
// on its executor meanwhile. Destroying the handle detaches the task (it keeps running,
// its output is destroyed when it completes), as in Tokio. Cancel-safe: dropping a
// pending join loses nothing but the output.
//
// Memory ordering: everything the task did happens-before the join that returns its
// outcome (the Release of the completing CAS, the Acquire load here).
//
//   weft::ThreadPool pool(2);
//   weft::JoinHandle<int> h = pool.spawn(compute());     // compute() -> weft::Task<int>
//   weft::Result<int, weft::JoinError> r = h.blocking_join();
//   // or, inside a weft::Task: auto r = co_await pool.spawn(compute());
//
// Polling again after the outcome was returned throws std::invalid_argument.
#pragma once

#include "sync/result.h"
#include "sync/task/block_on.h"
#include "sync/runtime/scheduler.h"
#include "sync/task/task.h"

#include <concepts>
#include <exception>
#include <new>
#include <stdexcept>
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
struct SpawnAccess;
}

// Aborts a spawned task (see above) without joining it; keeps the task's memory (not its
// future) alive. Copyable; dropping it does nothing to the task. One thread uses one
// AbortHandle object at a time; copies may be used from different threads.
class AbortHandle {
  using Header = detail::TaskHeader;

 public:
  AbortHandle() noexcept = default;
  AbortHandle(const AbortHandle& other) noexcept : task_(other.task_) {
    if (task_ != nullptr) task_->acquire_ref();
  }
  AbortHandle(AbortHandle&& other) noexcept : task_(std::exchange(other.task_, nullptr)) {}
  AbortHandle& operator=(AbortHandle other) noexcept {
    std::swap(task_, other.task_);
    return *this;
  }
  ~AbortHandle() {
    if (task_ != nullptr) task_->drop_ref();
  }

  // False when moved from or default-constructed.
  bool valid() const noexcept { return task_ != nullptr; }

  // Aborts the task (see above). Does nothing on an invalid handle.
  void abort() const {
    if (task_ != nullptr) task_->abort();
  }

  // True once the task completed or was cancelled.
  bool is_finished() const {
    // Acquire: pairs with the AcqRel CAS in TaskState::transition_to_complete().
    return task_ != nullptr && task_->state().load(std::memory_order_acquire).is_complete();
  }

 private:
  template <class T>
  friend class JoinHandle;
  explicit AbortHandle(Header* task) noexcept : task_(task) { task_->acquire_ref(); }

  Header* task_ = nullptr;
};

template <class T>
class [[nodiscard]] JoinHandle {
  using Cell = detail::TaskWithOutput<T>;
  using State = detail::TaskState::Snapshot;

 public:
  using Outcome = Result<T, JoinError>;

  JoinHandle() noexcept = default;
  JoinHandle(JoinHandle&& other) noexcept : task_(std::exchange(other.task_, nullptr)) {}
  JoinHandle& operator=(JoinHandle&& other) noexcept {
    if (this != &other) {
      release();
      task_ = std::exchange(other.task_, nullptr);
    }
    return *this;
  }
  ~JoinHandle() { release(); }

  // False when moved from, default-constructed, or its outcome was already returned.
  bool valid() const noexcept { return task_ != nullptr; }

  // True once the task completed or was cancelled (the next poll is ready).
  bool is_finished() const {
    // Acquire: pairs with the AcqRel CAS in TaskState::transition_to_complete().
    return task_ != nullptr && task_->state().load(std::memory_order_acquire).is_complete();
  }

  // Aborts the task (see above). Does nothing on an invalid handle.
  void abort() const {
    if (task_ != nullptr) task_->abort();
  }

  // A handle that can abort the task without owning its output; throws
  // std::invalid_argument on an invalid JoinHandle.
  AbortHandle abort_handle() const {
    if (task_ == nullptr)
      throw std::invalid_argument("weft::JoinHandle::abort_handle on an invalid handle");
    return AbortHandle(task_);
  }

  Poll<Outcome> poll(Context& cx) {
    if (task_ == nullptr) throw std::invalid_argument("weft::JoinHandle polled after its outcome");
    // Acquire: pairs with the AcqRel CAS in TaskState::transition_to_complete().
    State state = task_->state().load(std::memory_order_acquire);
    if (!state.is_complete()) {
      task_->join_waker.register_by_ref(cx.waker());
      // Acquire: as above; registering first means a completion after this load wakes us.
      state = task_->state().load(std::memory_order_acquire);
      if (!state.is_complete()) return pending;
    }
    return take(state);
  }

  // Parks the calling thread until the task completes or is cancelled. Must not be
  // called from a task of a single-threaded executor that would have to run the task.
  Outcome blocking_join() { return block_on(*this); }

 private:
  friend struct detail::SpawnAccess;
  explicit JoinHandle(Cell* task) noexcept : task_(task) {}

  Poll<Outcome> take(State state) {
    Cell* task = std::exchange(task_, nullptr);
    struct Release {
      Cell* task;
      ~Release() {
        // Our interest ends with the outcome taken: the output slot is empty already.
        (void)task->state().unset_join_interested();
        task->drop_ref();
      }
    } release{task};
    if (state.is_cancelled()) return Outcome(Err(JoinError::cancelled));
    typename Cell::Output output = task->take_output();
    if (auto* error = std::get_if<2>(&output)) std::rethrow_exception(*error);
    if constexpr (std::is_void_v<T>) {
      return Outcome();
    } else {
      return Outcome(std::move(std::get<1>(output)));
    }
  }

  void release() noexcept {
    if (task_ == nullptr) return;
    Cell* task = std::exchange(task_, nullptr);
    if (task->state().drop_join_handle_fast()) return;  // not complete: one CAS
    // Complete before we gave up interest: the output is ours to destroy.
    if (task->state().unset_join_interested().is_complete()) task->discard_output();
    task->drop_ref();
  }

  Cell* task_ = nullptr;
};

namespace detail {

struct SpawnAccess {
  template <class T>
  static JoinHandle<T> make(TaskWithOutput<T>* task) noexcept {
    return JoinHandle<T>(task);
  }
};

// Spawns `future` on `scheduler`: queues it, returns its handle. The task joins the
// scheduler's task list only if a poll leaves it pending (TaskHeader::run). If the
// scheduler has shut down, the push cancels the task at once (schedule_remote drains).
template <class F>
JoinHandle<future_output_t<std::decay_t<F>>> spawn_on(Scheduler* scheduler, F&& future) {
  using Fut = std::decay_t<F>;
  static_assert(Future<Fut>, "spawn takes a weft future (a weft::Task<T>, say)");
  TaskCell<Fut>* task = nullptr;
  if constexpr (requires(const Fut& f) {
                  { f.frame_prefix() } -> std::same_as<FramePrefix*>;
                } &&
                sizeof(TaskCell<Fut>) <= FramePrefix::header_room &&
                alignof(TaskCell<Fut>) <= alignof(FramePrefix)) {
    // A Task: the header goes in front of its frame, in the same allocation.
    Fut task_future(std::forward<F>(future));
    if (FramePrefix* prefix = task_future.frame_prefix()) {
      task = new (prefix->header) TaskCell<Fut>(scheduler, std::move(task_future), prefix);
      prefix->adopted = true;  // from now on the header frees the block
    } else {
      task = new TaskCell<Fut>(scheduler, std::move(task_future));
    }
  } else {
    task = new TaskCell<Fut>(scheduler, Fut(std::forward<F>(future)));
  }
  auto handle = SpawnAccess::make<future_output_t<Fut>>(task);
  // The global queue, also from a worker: a new task is not the LIFO slot's kind (a
  // task woken by the current one); spawning many would displace one another there.
  scheduler->schedule_remote(task);
  return handle;
}

}  // namespace detail
}  // namespace weft
