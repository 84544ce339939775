// weft/sync/task/task.h: weft::Task<T>, the coroutine type, and the bridge that makes
// every weft future awaitable.
//
// Inside a coroutine returning weft::Task<T>, `co_await f` works for any weft Future f
// (an lvalue, or a temporary that lives until the end of the co_await expression, which
// spans the suspension): the future is polled with the waker of the task that polls the
// coroutine, as an `async fn` polls its inner futures in Rust.
//
//   weft::Task<int> add_one(weft::Semaphore& sem, int x) {
//     auto permit = co_await sem.acquire();   // any weft future
//     co_return x + 1;
//   }
//   weft::Task<int> twice() { co_return co_await add_one(sem, 1) + co_await add_one(sem, 2); }
//   int five = weft::block_on(twice());       // or pool.spawn(twice()), executor.run_until(...)
//
// Contract:
//  - Lazy: creating a Task runs nothing; the body starts on the first poll.
//  - A Task is itself a Future: poll(cx) resumes the body until it completes
//    (Poll ready with the co_return value) or awaits a pending future (Poll pending;
//    that future has registered cx's waker). When woken, the next poll first re-polls the
//    future being awaited and resumes the body only once it is ready. Like every
//    future, a Task is polled by one thread at a time.
//  - Move-only. Moving is allowed at any time (the frame stays where it is).
//  - Allocation: one per Task, its frame, with room in front for the header of a
//    spawned task (detail::FramePrefix, 160 bytes), so spawning a Task allocates nothing
//    more; an awaited Task pays the room without using it. Blocks of up to 256 bytes
//    are reused through detail::FrameCache (sync/task/frame_cache.h), without malloc.
//  - Cancellation: destroying a Task that has not completed destroys its frame, and so
//    every local and the future it is awaiting, each of which gives back what it held
//    (a waiter unlinks itself, a permit returns). Nothing of the body runs after that.
//  - Exceptions: an exception that escapes the body is rethrown by the poll that
//    completes the Task, i.e. to whoever awaits it (`co_await` rethrows it in the
//    awaiting coroutine; block_on and JoinHandle rethrow it to their caller). An
//    exception thrown by an awaited future's poll is thrown at the co_await.
//  - Polling a completed (or moved-from) Task throws std::invalid_argument.
//  - Only weft futures can be awaited in a Task (a static_assert says so otherwise).
//  - Compiler caveat: GCC 12 destroys an aggregate-initialized temporary in a co_await
//    expression twice (`co_await Fut{a, b}`: a GCC bug, seen under ASan). Await a named
//    future, a function's result (`co_await sem.acquire()`) or a constructor call.
//
// Memory ordering: none of its own; the body runs on whichever thread polls the Task,
// and the executor or block_on that polls it orders successive polls.
#pragma once

#include "sync/task/frame_cache.h"
#include "sync/task/future.h"
#include "sync/task/poll.h"
#include "sync/task/poll_slot.h"
#include "sync/task/waker.h"

#include <coroutine>
#include <cstddef>
#include <exception>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace weft {

template <class T = void>
class Task;

namespace detail {

// What every Task frame's allocation starts with: room for the header of a spawned task
// (the runtime's TaskCell, sync/runtime/task_header.h), so that spawning a Task costs one
// allocation instead of two: spawn_on builds the task's header in `header` and marks the
// block `adopted`; the frame's delete then leaves the block to the header, which frees it
// when the task's last reference goes. A Task that is never spawned (awaited, or run by
// block_on) frees its block with its frame.
struct alignas(__STDCPP_DEFAULT_NEW_ALIGNMENT__) FramePrefix {
  // Fits the header of a spawned Task<T> whose output is a few words; a bigger one is
  // allocated apart (spawn_on checks).
  static constexpr std::size_t header_room = 144;
  alignas(__STDCPP_DEFAULT_NEW_ALIGNMENT__) unsigned char header[header_room];
  // Set by spawn_on before the task is queued; read when the frame is destroyed, by a
  // poll or a drop that the task's state word orders after the spawn.
  bool adopted = false;
  // The size asked of FrameCache::allocate, for FrameCache::free.
  std::size_t block_bytes = 0;

  static FramePrefix* of(void* frame) noexcept { return static_cast<FramePrefix*>(frame) - 1; }
};

// What a suspended coroutine is waiting for: an awaiter to re-poll before resuming.
struct AwaitPoint {
  void* awaiter = nullptr;
  bool (*poll)(void* awaiter, Context& cx) = nullptr;  // true once the future is ready
};

class TaskPromiseBase {
 public:
  // The frame comes from FrameCache (sync/task/frame_cache.h: small blocks reused without
  // malloc's arena lock, else the plain global operator new / delete), after a
  // FramePrefix (see there). Unsized: GCC would otherwise free it with the sized delete, which
  // Relacy's allocator (the model build's leak checker) does not replace.
  // Neither is inlined: GCC would pair an inlined ::operator new or ::operator delete
  // with the other side's class function and warn (-Wmismatched-new-delete, at -O1 under
  // the sanitizers) at every coroutine. The call costs nothing beside malloc/free.
  [[gnu::noinline]] static void* operator new(std::size_t size) {
    const std::size_t bytes = sizeof(FramePrefix) + size;
    FramePrefix* prefix = new (FrameCache::allocate(bytes)) FramePrefix;
    prefix->block_bytes = bytes;
    return prefix + 1;
  }
  [[gnu::noinline]] static void operator delete(void* frame) noexcept {
    FramePrefix* prefix = FramePrefix::of(frame);
    if (!prefix->adopted) FrameCache::free(prefix, prefix->block_bytes);
  }

  std::suspend_always initial_suspend() noexcept { return {}; }
  std::suspend_always final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error_ = std::current_exception(); }

  // `co_await f` for a weft future f. The reference is safe: a temporary lives in the
  // frame until the end of the full expression, which includes the suspension.
  template <class F>
  auto await_transform(F&& future) noexcept;

  Context* context() const noexcept { return cx_; }
  AwaitPoint& await_point() noexcept { return await_point_; }

 protected:
  template <class T>
  friend class weft::Task;
  template <class F>
  friend class FutureAwaiter;
  Context* cx_ = nullptr;           // set only while the Task's poll() resumes the body
  AwaitPoint await_point_;          // set while suspended on a pending future
  std::exception_ptr error_;        // escaped the body: rethrown by the completing poll
  std::exception_ptr await_error_;  // thrown by a re-poll of the awaited future
};

// Awaits a weft future from a Task's body. The first poll happens in await_ready, with
// the context of the task that resumed the body (the promise's), so a future that is
// ready at once costs one poll and no suspension; only a pending one suspends.
template <class F>
class FutureAwaiter {
  using Output = future_output_t<F>;

 public:
  FutureAwaiter(F& future, TaskPromiseBase& promise) noexcept
      : future_(&future), promise_(&promise) {}

  // A throw from poll() propagates at the co_await, as any throw in the body.
  bool await_ready() { return result_.poll(*future_, *promise_->context()); }

  // Pending: the future registered the task's waker; Task::poll re-polls it (repoll)
  // before it resumes the body.
  void await_suspend(std::coroutine_handle<>) noexcept {
    promise_->await_point() = AwaitPoint{this, &repoll};
  }

  Output await_resume() {
    if (promise_->await_error_) [[unlikely]] {
      std::rethrow_exception(std::exchange(promise_->await_error_, nullptr));
    }
    if constexpr (!std::is_void_v<Output>) return result_.take();
  }

 private:
  // Called by Task::poll on a later poll; a throw is kept in the promise for
  // await_resume, which rethrows it at the co_await.
  static bool repoll(void* self, Context& cx) noexcept {
    auto* awaiter = static_cast<FutureAwaiter*>(self);
    try {
      return awaiter->result_.poll(*awaiter->future_, cx);
    } catch (...) {
      awaiter->promise_->await_error_ = std::current_exception();
      return true;
    }
  }

  F* future_;
  TaskPromiseBase* promise_;
  PollSlot<F> result_;
};

template <class F>
auto TaskPromiseBase::await_transform(F&& future) noexcept {
  using Plain = std::remove_reference_t<F>;
  static_assert(Future<Plain>, "a weft::Task can co_await weft futures only");
  return FutureAwaiter<Plain>(future, *this);
}

template <class T>
class TaskPromise : public TaskPromiseBase {
 public:
  Task<T> get_return_object() noexcept;
  template <class U>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) { value_.emplace(std::forward<U>(value)); }
  T take() { return std::move(*value_); }

 private:
  std::optional<T> value_;
};

template <>
class TaskPromise<void> : public TaskPromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() noexcept {}
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;

  Task() noexcept = default;
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      destroy();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  ~Task() { destroy(); }

  // False once completed (its frame is already gone) or moved from.
  bool valid() const noexcept { return handle_ != nullptr; }

  // The allocation the frame lives in (see detail::FramePrefix); null if !valid().
  detail::FramePrefix* frame_prefix() const noexcept {
    return handle_ ? detail::FramePrefix::of(handle_.address()) : nullptr;
  }

  // Resumes the body (see the contract above).
  Poll<T> poll(Context& cx) {
    if (!handle_) throw std::invalid_argument("weft::Task polled after completion or move");
    promise_type& promise = handle_.promise();
    detail::AwaitPoint& point = promise.await_point_;
    if (point.awaiter != nullptr) {
      if (!point.poll(point.awaiter, cx)) return pending;
      point = detail::AwaitPoint{};
    }
    promise.cx_ = &cx;
    handle_.resume();
    promise.cx_ = nullptr;
    if (!handle_.done()) return pending;
    // Completed: free the frame now (its locals are already destroyed), then report.
    struct Destroy {
      std::coroutine_handle<promise_type> handle;
      ~Destroy() { handle.destroy(); }
    } done{std::exchange(handle_, nullptr)};
    if (done.handle.promise().error_) std::rethrow_exception(done.handle.promise().error_);
    if constexpr (std::is_void_v<T>) {
      return ready;
    } else {
      return done.handle.promise().take();
    }
  }

 private:
  friend class detail::TaskPromise<T>;
  explicit Task(std::coroutine_handle<promise_type> handle) noexcept : handle_(handle) {}
  void destroy() noexcept {
    if (handle_) std::exchange(handle_, nullptr).destroy();
  }

  std::coroutine_handle<promise_type> handle_;
};

namespace detail {
template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace weft
