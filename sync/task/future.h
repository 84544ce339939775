// weft/sync/task/future.h: the Future concept. A future is an object with
// `Poll<T> poll(Context&)`; once polled it must not move (its waiter node may be linked
// into a primitive's list); destroying it cancels it.
#pragma once

#include "sync/task/poll.h"
#include "sync/task/waker.h"

#include <type_traits>
#include <utility>

namespace weft {

namespace detail {
template <class P>
struct is_poll : std::false_type {};
template <class T>
struct is_poll<Poll<T>> : std::true_type {};
}  // namespace detail

template <class F>
concept Future = requires(F& future, Context& cx) {
  {future.poll(cx)};
  requires detail::is_poll<decltype(future.poll(cx))>::value;
};

template <Future F>
using future_output_t =
    typename decltype(std::declval<F&>().poll(std::declval<Context&>()))::value_type;

// A future from a callable `Poll<T>(Context&)`, as Rust's futures::future::poll_fn.
template <class Fn>
class PollFn {
 public:
  explicit PollFn(Fn fn) : fn_(std::move(fn)) {}
  auto poll(Context& cx) { return fn_(cx); }

 private:
  Fn fn_;
};

template <class Fn>
PollFn<Fn> poll_fn(Fn fn) {
  return PollFn<Fn>(std::move(fn));
}

}  // namespace weft
