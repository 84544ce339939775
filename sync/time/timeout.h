// weft/sync/time/timeout.h: weft::timeout(future, duration) and timeout_at(future,
// deadline): the future's output, or Err(Elapsed) if the time comes first.
//
// Follows tokio/src/time/timeout.rs: each poll polls the future first, then the timer, so
// a future ready at its deadline wins. At the deadline the future is destroyed, on the
// polling thread, before the Elapsed result is returned: its own cancel-safety applies.
// recv() of an mpsc or a oneshot loses nothing (the value stays in the channel);
// Semaphore::acquire gives back what it had; an mpsc send() future destroys its value with
// it, which is why Sender::send_timeout exists (it hands the value back in the error).
// timeout(f, d) measures `d` from its call, as sleep(d) (sleep.h).
//
// Concurrency and memory ordering: those of the future and of Sleep (sleep.h). Polling
// again after it completed throws std::invalid_argument.
//
//   auto got = co_await weft::timeout(rx.recv(), std::chrono::seconds(1));
//   if (!got) ...                        // got.error() is weft::Elapsed; rx still usable
//   else if (*got) use(**got);           // the recv's own result: a value, or closed
#pragma once

#include "sync/result.h"
#include "sync/task/future.h"
#include "sync/time/clock.h"
#include "sync/time/sleep.h"

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace weft {

// The error of timeout(): the deadline passed before the future completed.
struct Elapsed {
  static constexpr const char* message() noexcept { return "deadline has elapsed"; }
  bool operator==(const Elapsed&) const noexcept = default;
};

template <Future F>
class [[nodiscard]] Timeout {
 public:
  using Output = future_output_t<F>;

  // The future built in place from `args` (for futures that cannot move).
  template <class... Args>
  Timeout(std::in_place_t, Sleep sleep, Args&&... args)
      : future_(std::in_place, std::forward<Args>(args)...), sleep_(std::move(sleep)) {}
  template <class G>
  Timeout(G&& future, Sleep sleep)
      : future_(std::in_place, std::forward<G>(future)), sleep_(std::move(sleep)) {}

  Poll<Result<Output, Elapsed>> poll(Context& cx) {
    if (!future_) throw std::invalid_argument("weft::timeout future polled after completion");
    auto out = future_->poll(cx);
    if (out.is_ready()) {
      future_.reset();
      sleep_.reset();  // leaves the driver now, not when this future is destroyed
      if constexpr (std::is_void_v<Output>) {
        return Result<Output, Elapsed>(Ok());
      } else {
        return Result<Output, Elapsed>(std::move(out).value());
      }
    }
    if (sleep_->poll(cx).is_pending()) return pending;
    future_.reset();  // the deadline: cancel the future (its destructor gives back what it held)
    sleep_.reset();
    return Result<Output, Elapsed>(Err(Elapsed{}));
  }

  // The future, until it completed or timed out (then null).
  F* get() noexcept { return future_ ? &*future_ : nullptr; }
  // The future, as Tokio's get_ref / get_mut / into_inner; weft destroys it when the
  // timeout completes, so after that they throw std::invalid_argument. into_inner leaves
  // the timer at once and needs a movable future (a weft future: not yet polled).
  const F& get_ref() const {
    check_alive("get_ref");
    return *future_;
  }
  F& get_mut() {
    check_alive("get_mut");
    return *future_;
  }
  F into_inner() && {
    check_alive("into_inner");
    sleep_.reset();
    return std::move(*future_);
  }

 private:
  void check_alive(const char* what) const {
    if (!future_) {
      throw std::invalid_argument(std::string("weft::Timeout::") + what +
                                  " after the timeout completed");
    }
  }

  std::optional<F> future_;
  std::optional<Sleep> sleep_;
};

template <class F>
Timeout<std::decay_t<F>> timeout_at(F&& future, Instant deadline) {
  return Timeout<std::decay_t<F>>(std::forward<F>(future), Sleep(deadline));
}

template <class F, class Rep, class Period>
Timeout<std::decay_t<F>> timeout(F&& future, std::chrono::duration<Rep, Period> duration) {
  return Timeout<std::decay_t<F>>(std::forward<F>(future), sleep(duration));
}

}  // namespace weft
