// weft/sync/platform/parker.h: park a thread until another thread unparks it.
//
// The contract is std::thread::park's: unpark() makes one token available; park()
// consumes the token, blocking until there is one, and never returns without one. An
// unpark() before the park() is not lost; several unparks before one park() leave a
// single token. Memory ordering: everything before unpark() happens-before the return of
// the park() that consumes its token. park_until(deadline) / park_for(timeout) give up at
// a deadline on platform::clock (platform/clock.h) and say whether they took a token.
//
// One state word and a futex on it (the protocol of Rust std's futex thread parker,
// library/std/src/sys/sync/thread_parking/futex.rs): a park that finds a token is one
// RMW, a park that sleeps is one RMW and a futex wait, an unpark is one RMW, plus a futex
// wake when the owner sleeps. No lock: an unpark never waits for the parked thread.
// Written once against platform::atomic and platform::futex, so the model build checks
// this very code over the modelled futex (futex.h); there a thread parked forever (a lost
// wakeup) leaves every thread blocked, which the checker reports as DEADLOCK.
#pragma once

#include "sync/platform/atomic.h"
#include "sync/platform/clock.h"
#include "sync/platform/futex.h"
#include "sync/platform/invariant.h"

#include <chrono>
#include <cstdint>

namespace weft::platform {

// Futex: platform::futex, or a model futex with another spurious-return budget (futex.h).
template <class Futex>
class basic_parker {
 public:
  basic_parker() = default;
  basic_parker(const basic_parker&) = delete;
  basic_parker& operator=(const basic_parker&) = delete;

  void park() {
    if (take_token_or_mark_parked()) return;
    for (;;) {
      futex_.wait(state_, PARKED);
      if (take_woken_token()) return;  // else a spurious return: still PARKED
    }
  }

  // park() with a deadline on platform::clock: true when it consumed a token, false when
  // the deadline passed first (then it took no token: one that arrives as it times out
  // stays for the next park). A false return orders nothing: no happens-before with any
  // unpark(). In the model build the checker chooses whether and when it times out.
  bool park_until(clock::time_point deadline) {
    if (take_token_or_mark_parked()) return true;
    for (;;) {
      const bool in_time = futex_.wait_until(state_, PARKED, deadline);
      if (take_woken_token()) return true;
      if (!in_time) {
        // Timed out: leave PARKED. An unpark may have exchanged PARKED for NOTIFIED since
        // the CAS above; then its token is ours (returning false would lose it).
        // Acquire: pairs with the Release exchange in unpark(), when it finds NOTIFIED.
        return state_.exchange(EMPTY, std::memory_order_acquire) == NOTIFIED;
      }
    }
  }

  template <class Rep, class Period>
  bool park_for(std::chrono::duration<Rep, Period> timeout) {
    return park_until(deadline_after(timeout));
  }

  void unpark() {
    // Release: pairs with the Acquire fetch_sub in take_token_or_mark_parked() and the
    // Acquire CAS in take_woken_token(), which consume the token.
    if (state_.exchange(NOTIFIED, std::memory_order_release) == PARKED) {
      // The owner went to sleep, or is about to: the futex wait returns at once if the
      // word is no longer PARKED, so the wake cannot fall between its RMW and its sleep.
      futex_.wake_one(state_);
    }
  }

 private:
  // One RMW: NOTIFIED -> EMPTY (true: the token is taken) or EMPTY -> PARKED (false: the
  // caller waits on the futex). Subtracting one does both.
  bool take_token_or_mark_parked() {
    // Acquire: pairs with the Release exchange in unpark() (the token's writes).
    const std::uint32_t previous = state_.fetch_sub(1, std::memory_order_acquire);
    WEFT_INVARIANT(previous == NOTIFIED || previous == EMPTY);  // one owner parks at a time
    return previous == NOTIFIED;
  }

  // After a futex return: takes a token if one came (NOTIFIED -> EMPTY).
  bool take_woken_token() {
    std::uint32_t token = NOTIFIED;
    // Acquire: pairs with the Release exchange in unpark(). A failure is a spurious
    // return or a timeout, and the state is still PARKED.
    return state_.compare_exchange_strong(token, EMPTY, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }

  // State word:
  //   EMPTY     no token, nobody parked
  //   NOTIFIED  a token is available; the next park() consumes it and returns
  //   PARKED    the owner sleeps (or is about to) on the futex; EMPTY - 1, so that park's
  //             fetch_sub takes a token or marks the owner parked in one step
  static constexpr std::uint32_t EMPTY = 0;
  static constexpr std::uint32_t NOTIFIED = 1;
  static constexpr std::uint32_t PARKED = EMPTY - 1;

  atomic<std::uint32_t> state_{EMPTY};
  [[no_unique_address]] Futex futex_;
};

#if defined(WEFT_MODEL)
// Elsewhere in the model build (every block_on) the futex never returns spuriously: the
// park loop is the same code, checked with a spurious return in model/parker.cc, and the
// primitives' scenarios do not pay for that branch at every park.
using parker = basic_parker<basic_futex<0>>;
#else
using parker = basic_parker<futex>;
#endif

}  // namespace weft::platform
