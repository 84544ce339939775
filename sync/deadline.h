// weft/sync/deadline.h: Deadline, the time a blocking_*_until operation gives up, and the
// core every timed blocking operation shares.
//
// Every blocking_X() of a primitive has two timed forms: blocking_X_until(deadline) and
// blocking_X_for(timeout) (= _until(platform::deadline_after(timeout)), saturating, so a
// huge timeout waits for ever). Each returns what blocking_X() returns, inside
// Result<_, Elapsed>: Err(Elapsed) when the deadline passed first, as Tokio's
// `timeout(duration, x.X())` does. The one exception is mpsc Sender::blocking_send_until,
// whose SendTimeoutError hands the value back (Tokio's Sender::send_timeout).
//
// A timed operation is its future run by block_on_until (sync/task/block_on.h) and
// destroyed at the deadline, so the future's cancel-safety says what a timeout loses:
// nothing for the cancel-safe ones (a lock, a permit, a recv: the value stays queued).
// A timeout orders nothing: no happens-before with any other thread. Deadlines are on
// platform::clock (std::chrono::steady_clock; virtual time in the model build, where the
// checker chooses when a timed wait times out).
#pragma once

#include "sync/platform/clock.h"
#include "sync/result.h"
#include "sync/task/block_on.h"
#include "sync/task/future.h"
#include "sync/time/timeout.h"

#include <type_traits>
#include <utility>

namespace weft {

using Deadline = platform::clock::time_point;

namespace detail {

// `future` run on this thread until it completes or `deadline` passes; a temporary future
// is destroyed when this returns.
template <class F>
Result<future_output_t<std::remove_reference_t<F>>, Elapsed> block_on_or_elapsed(
    F&& future, Deadline deadline) {
  auto poll = block_on_until(future, deadline);
  if (poll.is_pending()) return Err(Elapsed{});
  return std::move(poll).value();
}

}  // namespace detail
}  // namespace weft
