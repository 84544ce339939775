// weft/sync/mpsc/spin_wait.h: try_spinning(), the short spin a blocking send or receive
// makes before block_on parks its thread.
//
// A park and its unpark cost a futex wait, a futex wake and a context switch: on a
// virtual machine several microseconds, as long as a hundred messages. When the other
// side is running, the capacity or the value comes within that time, so
// blocking_send / blocking_recv first retry their try path while platform::Backoff
// allows (pauses, then yields: crossbeam's channels wait so), and park only if nothing
// came. The retries only load the shared words (try_acquire with no permit and an empty
// pop make no RMW), so a spinning side does not slow the one it waits for.
#pragma once

#include "sync/platform/spin.h"

#include <type_traits>

namespace weft::mpsc::detail {

// Tries after the first before parking: Backoff's whole course in production; one in
// the model, where every snooze is a scheduling point.
#if defined(WEFT_MODEL)
inline constexpr unsigned spin_retries = 1;
#else
inline constexpr unsigned spin_retries = platform::Backoff::yield_limit + 1;
#endif

// Calls try_now() (which returns an optional-like answer) until it answers, snoozing
// between calls, at most 1 + spin_retries times; returns the last answer (empty if none
// came).
template <class Try>
std::invoke_result_t<Try&> try_spinning(Try& try_now) {
  platform::Backoff backoff;
  for (unsigned retry = 0;; ++retry) {
    auto answer = try_now();
    if (answer || retry == spin_retries) return answer;
    backoff.snooze();
  }
}

}  // namespace weft::mpsc::detail
