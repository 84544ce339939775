// weft/sync/platform/futex_condvar.h: a condition variable in one 32-bit futex word, for
// futex_lock; production platform::condvar.
//
//   lock.lock();
//   while (!ready) cv.wait(lock);        // may return without a notify: always in a loop
//   if (cv.wait_until(lock, deadline) == std::cv_status::timeout) ...
//   lock.unlock();
//   ... elsewhere: lock.lock(); ready = true; lock.unlock(); cv.notify_one();
//
// Design: Rust std's futex Condvar (library/std/src/sys/sync/condvar/futex.rs): the word
// counts notifications; a waiter reads it while it holds the lock, unlocks, and sleeps
// only if no notify changed it since. weft's own C++.
// wait(lock) and wait_until(lock, deadline) take a held basic_futex_lock, release it while
// they wait and hold it again when they return. notify_one() wakes at most one waiter,
// notify_all() every waiter; either may be called with or without the lock held, and
// each makes one futex wake system call whether or not a thread waits (weft's callers,
// parker and rwlock, notify only when a thread waits). A notify that must reach a waiter
// comes after a change the waiter checked under the lock (the usual condvar contract); a
// notify with no such change may be lost. wait_until's deadline is on platform::clock; it
// returns std::cv_status::timeout only when the deadline passed (clock::now() has reached
// it), and no_timeout for a notify or a spurious return.
// Memory ordering: only through the lock (a notify orders nothing by itself).
#pragma once

#include "sync/platform/atomic.h"
#include "sync/platform/clock.h"
#include "sync/platform/futex.h"
#include "sync/platform/futex_lock.h"

#include <condition_variable>
#include <cstdint>

namespace weft::platform {

template <class Futex>
class basic_futex_condvar {
 public:
  basic_futex_condvar() = default;
  basic_futex_condvar(const basic_futex_condvar&) = delete;
  basic_futex_condvar& operator=(const basic_futex_condvar&) = delete;

  void wait(basic_futex_lock<Futex>& lock) noexcept {
    const std::uint32_t seen = notifications();
    lock.unlock();
    futex_.wait(notifications_, seen);  // returns at once if a notify came since `seen`
    lock.lock();
  }

  std::cv_status wait_until(basic_futex_lock<Futex>& lock, clock::time_point deadline) noexcept {
    const std::uint32_t seen = notifications();
    lock.unlock();
    const bool in_time = futex_.wait_until(notifications_, seen, deadline);
    lock.lock();
    return in_time ? std::cv_status::no_timeout : std::cv_status::timeout;
  }

  void notify_one() noexcept {
    // Relaxed: the waiter that must see this notify read the counter under the lock before
    // the change this notify reports (see notifications()).
    notifications_.fetch_add(1, std::memory_order_relaxed);
    futex_.wake_one(notifications_);
  }

  void notify_all() noexcept {
    // Relaxed: as in notify_one().
    notifications_.fetch_add(1, std::memory_order_relaxed);
    futex_.wake_all(notifications_);
  }

 private:
  // The counter, read before the waiter unlocks. A notify that must wake this waiter
  // follows a change made under the lock after the waiter released it, so the waiter's
  // read happens-before the notify's fetch_add and (read-write coherence) sees an earlier
  // value: the futex wait then finds the counter changed or is woken by the notify's wake.
  // Relaxed: the lock orders the read; the counter carries no data.
  std::uint32_t notifications() const noexcept {
    return notifications_.load(std::memory_order_relaxed);
  }

  // Notification counter: +1 (wrapping) per notify_one / notify_all. Its value means
  // nothing; a waiter only compares it with the value it read under the lock. A waiter
  // that, between that read and its sleep, misses exactly 2^32 notifies (and their wakes)
  // would sleep through them, as in Rust std: not a practical concern.
  atomic<std::uint32_t> notifications_{0};
  [[no_unique_address]] Futex futex_;
};

using futex_condvar = basic_futex_condvar<futex>;

#if !defined(WEFT_MODEL) && WEFT_PLATFORM_FUTEX
static_assert(sizeof(futex_condvar) == 4, "the production condvar is its futex word");
#endif

}  // namespace weft::platform
