// weft/sync/platform/parker.h: park a thread until another thread unparks it.
//
// The contract is std::thread::park's: unpark() makes one token available; park()
// consumes the token, blocking until there is one, and never returns without one. An
// unpark() before the park() is not lost; several unparks before one park() leave a
// single token. Memory ordering: everything before unpark() happens-before the return of
// the park() that consumes its token. park_until(deadline) / park_for(timeout) give up at
// a deadline on platform::clock (platform/clock.h) and say whether they took a token.
//
// Written once against the platform mutex, condvar and atomic, so the model build checks
// this very code. In the model build a thread parked forever (a lost wakeup) leaves every
// thread blocked, which Relacy reports as DEADLOCK.
#pragma once

#include "sync/platform/atomic.h"
#include "sync/platform/clock.h"
#include "sync/platform/invariant.h"
#include "sync/platform/mutex.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>

namespace weft::platform {

class parker {
 public:
  parker() = default;
  parker(const parker&) = delete;
  parker& operator=(const parker&) = delete;

  void park() {
    park_with([this](mutex_guard& guard) {
      wakeup_.wait(guard);
      return true;
    });
  }

  // park() with a deadline on platform::clock: true when it consumed a token, false when
  // the deadline passed first (then it took no token: one that arrives as it times out
  // stays for the next park). A false return orders nothing: no happens-before with any
  // unpark(). In the model build the checker chooses whether and when it times out.
  bool park_until(clock::time_point deadline) {
    return park_with([this, deadline](mutex_guard& guard) {
      return wakeup_.wait_until(guard, deadline) == std::cv_status::no_timeout;
    });
  }

  template <class Rep, class Period>
  bool park_for(std::chrono::duration<Rep, Period> timeout) {
    return park_until(deadline_after(timeout));
  }

  void unpark() {
    // Release: pairs with the Acquire operations in park_with() that consume the token.
    switch (state_.exchange(NOTIFIED, std::memory_order_release)) {
      case EMPTY:
      case NOTIFIED: return;  // nobody is blocked: the token waits for the next park()
      default: break;         // PARKED
    }
    // The parked thread moved to PARKED while holding the lock and waits on the condvar
    // with it released. Taking the lock once orders this notify after its wait began,
    // so the notify cannot fall between its CAS and its wait.
    { mutex_guard guard(mutex_); }
    wakeup_.notify_one();
  }

 private:
  // The protocol of park() and park_until(); wait(guard) blocks on wakeup_ and returns
  // false when it timed out.
  template <class Wait>
  bool park_with(Wait wait) {
    // Fast path: a token is waiting. Acquire: pairs with the Release exchange in unpark().
    std::uintptr_t notified = NOTIFIED;
    if (state_.compare_exchange_strong(notified, EMPTY, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return true;
    }
    mutex_guard guard(mutex_);
    std::uintptr_t empty = EMPTY;
    if (!state_.compare_exchange_strong(empty, PARKED, std::memory_order_relaxed,
                                        std::memory_order_relaxed)) {
      // A token arrived since the fast path. Acquire: pairs with unpark's Release exchange.
      const std::uintptr_t previous = state_.exchange(EMPTY, std::memory_order_acquire);
      WEFT_INVARIANT(previous == NOTIFIED);
      return true;
    }
    for (;;) {
      const bool in_time = wait(guard);
      // Acquire: pairs with the Release exchange in unpark(). A failure is a spurious
      // wakeup or a timeout, and the state is still PARKED.
      std::uintptr_t token = NOTIFIED;
      if (state_.compare_exchange_strong(token, EMPTY, std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
        return true;
      }
      if (!in_time) {
        // Timed out: leave PARKED. An unpark may have exchanged PARKED for NOTIFIED since
        // the CAS above; then its token is ours (returning false would lose it).
        // Acquire: pairs with the Release exchange in unpark(), when it finds NOTIFIED.
        return state_.exchange(EMPTY, std::memory_order_acquire) == NOTIFIED;
      }
    }
  }

  // State word:
  //   EMPTY     no token, nobody parked
  //   PARKED    the owner is blocked (or about to block) on wakeup_; set under mutex_
  //   NOTIFIED  a token is available; the next park() consumes it and returns
  static constexpr std::uintptr_t EMPTY = 0;
  static constexpr std::uintptr_t PARKED = 1;
  static constexpr std::uintptr_t NOTIFIED = 2;

  atomic<std::uintptr_t> state_{EMPTY};
  mutex mutex_;
  condvar wakeup_;
};

}  // namespace weft::platform
