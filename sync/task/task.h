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

#include "sync/task/future.h"
#include "sync/task/poll.h"
#include "sync/task/waker.h"

#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace weft {

template <class T = void>
class Task;

namespace detail {

// What a suspended coroutine is waiting for: an awaiter to re-poll before resuming.
struct AwaitPoint {
  void* awaiter = nullptr;
  bool (*poll)(void* awaiter, Context& cx) = nullptr;  // true once the future is ready
};

class TaskPromiseBase {
 public:
  // The frame goes through the plain global operator new / delete: GCC would otherwise
  // free it with the sized delete, which Relacy's allocator (the model build's leak
  // checker) does not replace.
  static void* operator new(std::size_t size) { return ::operator new(size); }
  static void operator delete(void* frame) noexcept { ::operator delete(frame); }

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
  Context* cx_ = nullptr;       // set only while the Task's poll() resumes the body
  AwaitPoint await_point_;      // set while suspended on a pending future
  std::exception_ptr error_;
};

// Awaits a weft future from a Task's body.
template <class F>
class FutureAwaiter {
  using Output = future_output_t<F>;

 public:
  explicit FutureAwaiter(F& future) noexcept : future_(&future) {}

  bool await_ready() const noexcept { return false; }

  // First poll, with the polling task's context; suspends only if pending. A throw
  // from poll() is rethrown at the co_await (the language resumes the body with it).
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> handle) {
    TaskPromiseBase& promise = handle.promise();
    if (poll_once(*promise.context())) return false;
    promise.await_point() = AwaitPoint{this, &repoll};
    return true;
  }

  Output await_resume() {
    if (error_) std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<Output>) return std::move(*result_).value();
  }

 private:
  bool poll_once(Context& cx) {
    result_.emplace(future_->poll(cx));
    return result_->is_ready();
  }
  // Called by Task::poll on a later poll; a throw is kept for await_resume.
  static bool repoll(void* self, Context& cx) noexcept {
    auto* awaiter = static_cast<FutureAwaiter*>(self);
    try {
      return awaiter->poll_once(cx);
    } catch (...) {
      awaiter->error_ = std::current_exception();
      return true;
    }
  }

  F* future_;
  std::optional<Poll<Output>> result_;
  std::exception_ptr error_;
};

template <class F>
auto TaskPromiseBase::await_transform(F&& future) noexcept {
  using Plain = std::remove_reference_t<F>;
  static_assert(Future<Plain>, "a weft::Task can co_await weft futures only");
  return FutureAwaiter<Plain>(future);
}

template <class T>
class TaskPromise : public TaskPromiseBase {
 public:
  Task<T> get_return_object() noexcept;
  template <class U>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& value) {
    value_.emplace(std::forward<U>(value));
  }
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
