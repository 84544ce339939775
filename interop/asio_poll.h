// weft/interop/asio_poll.h: any weft future as an asio asynchronous operation, so asio
// code (an asio::awaitable coroutine, a callback, std::future) can wait for weft.
//
//   asio::awaitable<void> consume(weft::mpsc::Receiver<int>& rx) {
//     while (std::optional<int> v = co_await weft::interop::await(rx.recv())) use(*v);
//   }
//   weft::interop::async_poll(rx.recv(), asio::bind_executor(io, [](std::exception_ptr e,
//                                                               std::optional<int> v) {}));
//
// Contract:
//  - async_poll(future, token) and async_poll(executor, future, token) are asio
//    initiating functions. The future is moved into the operation, which polls it in
//    place (never moving it again) and completes with its output. Completion signature:
//    void(std::exception_ptr, V), where V is the future's output if that is
//    default-constructible (a default value on error, as asio::co_spawn) and
//    std::optional<output> otherwise (engaged unless there is an error);
//    void(std::exception_ptr) for a future of void. await(future) is the same as an
//    asio::awaitable of the plain output, rethrowing the error.
//  - Where it runs: every poll, the future's destruction and the completion handler run
//    on the handler's associated executor (for use_awaitable, the coroutine's own; else
//    the executor passed in, by default asio's system executor). The first poll is
//    posted (an asio operation never completes inside its initiating function); a weft
//    wake, from any thread, posts the next poll there: it never polls the future nor
//    resumes the coroutine on the waking thread. A future is polled by one thread at a
//    time even on a multi-threaded executor (asio::thread_pool): the RUNNING bit of
//    TaskState (sync/runtime/task_state.h), the state word of weft's own executors.
//  - Outstanding work: a pending operation counts as work on that executor, so
//    io_context::run() does not return while it waits for a weft wake.
//  - Cancellation: asio per-operation cancellation through the handler's cancellation
//    slot (terminal, partial and total alike). The next run destroys the weft future
//    instead of polling it and completes with system_error(asio::error::operation_aborted):
//    what that leaves is the future's own cancel-safety contract (recv: no value lost;
//    lock, acquire: its queue place given back; send: the value is destroyed, not sent).
//    A poll that completes the future wins over a cancellation that comes after it
//    started. As for every asio operation, emit the signal on the operation's executor
//    (asio's cancellation slots are not thread-safe).
//  - Errors: an exception thrown by the future's poll is the completion's error.
//  - Lifetime: what the future borrows (a receiver, a mutex) must outlive the operation.
//    Its execution context must not be destroyed while it is pending (cancel it first):
//    the operation holds the handler and outstanding work until its last run.
//
// Memory ordering: what a thread did before a wake happens-before the poll the wake
// causes; each poll happens-before the next one, the future's destruction and the
// handler's invocation (TaskState's Release/Acquire CAS pairs, see there).
#pragma once

#include "sync/runtime/task_state.h"
#include "sync/task/future.h"
#include "sync/task/waker.h"
#include "sync/task/waker_ref.h"

#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/system_error.hpp>
#include <asio/system_executor.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

namespace weft::interop {

namespace detail {

// The value a completion carries for a future's output (see the contract above).
template <class Output>
using completion_value_t =
    std::conditional_t<std::is_default_constructible_v<Output>, Output, std::optional<Output>>;

template <class Output>
struct completion_signature {
  using type = void(std::exception_ptr, completion_value_t<Output>);
};
template <>
struct completion_signature<void> {
  using type = void(std::exception_ptr);
};

template <class Executor>
using tracked_executor_t = std::decay_t<decltype(asio::prefer(
    std::declval<const Executor&>(), asio::execution::outstanding_work.tracked))>;

// One operation: the future, the handler and the state word, in one allocation. Its
// references (TaskState's count): the operation itself until it completes, each posted
// run, each Waker handle. A run posted to an executor that is destroyed unrun drops its
// reference (Run's destructor).
template <class F, class Handler, class Executor>
class PollOp {
  using Output = future_output_t<F>;

 public:
  static void start(F future, Handler handler, const Executor& executor) {
    // The new state word holds two references: the operation's and the first run's.
    auto* op = new PollOp(std::move(future), std::move(handler), executor);
    auto slot = asio::get_associated_cancellation_slot(op->handler_);
    if (slot.is_connected()) slot.template emplace<Cancel>(op);
    op->post();
  }

 private:
  // A posted run; owns one reference.
  class Run {
   public:
    explicit Run(PollOp* op) noexcept : op_(op) {}
    Run(Run&& other) noexcept : op_(std::exchange(other.op_, nullptr)) {}
    Run& operator=(Run&&) = delete;
    ~Run() {
      if (op_ != nullptr) op_->release();
    }
    void operator()() { std::exchange(op_, nullptr)->run(); }

   private:
    PollOp* op_;
  };

  // What the cancellation slot holds. No reference: the slot is cleared before the
  // operation drops its own (complete()), and asio never emits concurrently with that.
  struct Cancel {
    PollOp* op;
    void operator()(asio::cancellation_type_t type) {
      if (type == asio::cancellation_type::none) return;
      if (op->state_.transition_to_notified_and_aborted()) op->post();
    }
  };

  PollOp(F future, Handler handler, const Executor& executor)
      : executor_(asio::prefer(executor, asio::execution::outstanding_work.tracked)),
        handler_(std::move(handler)),
        future_(std::move(future)) {}

  // Queues a run that owns one reference the caller hands over. The executor is copied
  // first: once queued, the run may complete and free the operation on another thread
  // while asio::post still runs (as TaskHeader's wake_raw keeps its reference for that).
  void post() {
    tracked_executor_t<Executor> executor = executor_;
    asio::post(executor, Run(this));
  }

  void release() noexcept {
    if (state_.ref_dec()) delete this;
  }

  // A run, on the executor, with the reference of the post that queued it.
  void run() {
    switch (state_.transition_to_running()) {
      case weft::detail::TaskState::ToRunning::complete: release(); return;
      case weft::detail::TaskState::ToRunning::aborted:
        complete(std::make_exception_ptr(asio::system_error(asio::error::operation_aborted)),
                 std::nullopt, /*cancelled=*/true);
        return;
      case weft::detail::TaskState::ToRunning::success: break;
    }
    std::optional<Poll<Output>> result;
    try {
      weft::detail::WakerRef waker(RawWaker{this, &vtable});
      Context cx(waker.get());
      result.emplace(future_->poll(cx));
    } catch (...) {
      complete(std::current_exception(), std::nullopt, /*cancelled=*/false);
      return;
    }
    if (result->is_ready()) {
      complete(nullptr, std::move(result), /*cancelled=*/false);
      return;
    }
    // Pending: a wake during the poll keeps this run's reference for the next run;
    // otherwise the reference is dropped and another thread may run or free us now.
    if (state_.transition_to_idle(/*join_list=*/false)) post();
  }

  // The future is done (ready, threw or cancelled): destroys it here, on the executor,
  // then hands the output to the handler. Holds RUNNING and the run's reference.
  void complete(std::exception_ptr error, std::optional<Poll<Output>> result, bool cancelled) {
    future_.reset();
    state_.transition_to_complete(cancelled);
    asio::get_associated_cancellation_slot(handler_).clear();
    Handler handler = std::move(handler_);
    auto work = std::move(executor_);  // outstanding until the handler returned
    release();                         // the run's reference
    release();                         // the operation's: a Waker may still hold one
    // We run on the handler's associated executor (this is a posted run): invoke it here.
    if constexpr (std::is_void_v<Output>) {
      std::move(handler)(error);
    } else if (result.has_value()) {
      std::move(handler)(error, completion_value_t<Output>(std::move(*result).value()));
    } else {
      std::move(handler)(error, completion_value_t<Output>());
    }
  }

  // The Waker handed to the future: wakes post a run, nothing else.
  static PollOp* self(const void* data) {
    return const_cast<PollOp*>(static_cast<const PollOp*>(data));
  }
  static RawWaker clone(const void* data) {
    self(data)->state_.ref_inc();
    return RawWaker{data, &vtable};
  }
  static void wake(const void* data) {
    PollOp* op = self(data);
    switch (op->state_.transition_to_notified_by_val()) {
      case weft::detail::TaskState::NotifiedByVal::submit: op->post(); return;
      case weft::detail::TaskState::NotifiedByVal::drop_ref: op->release(); return;
      case weft::detail::TaskState::NotifiedByVal::done: return;
    }
  }
  static void wake_by_ref(const void* data) {
    PollOp* op = self(data);
    if (op->state_.transition_to_notified_by_ref()) op->post();
  }
  static void drop(const void* data) noexcept { self(data)->release(); }
  static constexpr RawWakerVTable vtable{&clone, &wake, &wake_by_ref, &drop};

  weft::detail::TaskState state_;
  // Set at construction; moved out only by complete(), after COMPLETE, when no wake
  // posts any more (a wake that saw the operation idle posts before any run can start).
  tracked_executor_t<Executor> executor_;
  Handler handler_;
  std::optional<F> future_;  // touched only by the holder of RUNNING
};

template <class Executor>
class InitiatePoll {
 public:
  using executor_type = Executor;
  explicit InitiatePoll(const Executor& executor) : executor_(executor) {}
  executor_type get_executor() const noexcept { return executor_; }

  template <class Handler, class F>
  void operator()(Handler&& handler, F future) const {
    auto executor = asio::get_associated_executor(handler, executor_);
    PollOp<F, std::decay_t<Handler>, decltype(executor)>::start(
        std::move(future), std::forward<Handler>(handler), executor);
  }

 private:
  Executor executor_;
};

}  // namespace detail

// The completion signature of async_poll for a future of type F.
template <Future F>
using poll_signature_t = typename detail::completion_signature<future_output_t<F>>::type;

// Polls `future` on `executor` (or on the token's associated executor, if it has one)
// and completes with its output.
template <class Executor, Future F, class Token>
requires(asio::execution::is_executor<Executor>::value ||
         asio::is_executor<Executor>::value) auto async_poll(const Executor& executor, F future,
                                                             Token&& token) {
  static_assert(std::is_move_constructible_v<F>, "the future is moved into the operation");
  return asio::async_initiate<Token, poll_signature_t<F>>(detail::InitiatePoll<Executor>(executor),
                                                          token, std::move(future));
}

// The same on the token's associated executor (asio's system executor if it has none).
template <Future F, class Token>
auto async_poll(F future, Token&& token) {
  return async_poll(asio::system_executor(), std::move(future), std::forward<Token>(token));
}

// `co_await weft::interop::await(future)` in an asio::awaitable coroutine: the future's
// output, polled on the coroutine's executor; the error (cancellation included) is thrown.
template <Future F>
asio::awaitable<future_output_t<F>> await(F future) {
  using Output = future_output_t<F>;
  if constexpr (std::is_void_v<Output>) {
    co_await async_poll(std::move(future), asio::use_awaitable);
  } else if constexpr (std::is_default_constructible_v<Output>) {
    co_return co_await async_poll(std::move(future), asio::use_awaitable);
  } else {
    co_return std::move(*co_await async_poll(std::move(future), asio::use_awaitable));
  }
}

}  // namespace weft::interop
