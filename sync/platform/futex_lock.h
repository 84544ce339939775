// weft/sync/platform/futex_lock.h: a lock in one 32-bit futex word, production
// platform::mutex.
//
//   platform::futex_lock lock;
//   lock.lock();  ... critical section ...  lock.unlock();
//   if (lock.try_lock()) { ... lock.unlock(); }
//
// Design: Rust std's futex Mutex (library/std/src/sys/sync/mutex/futex.rs), Drepper's
// "Futexes Are Tricky" mutex3 with a bounded spin; weft's own C++.
// An uncontended lock() or unlock() is one atomic RMW inline. A contended lock() spins a
// bounded number of loads while the holder has no sleepers behind it (the word is LOCKED),
// then sleeps on the word through the Futex policy (futex.h: the Linux system call in
// production, a modelled futex in the model build, where model/futex_lock checks this
// code). Not recursive, not fair (a thread arriving while a woken one runs may barge in).
// lock() and unlock() do not throw. The lock may be destroyed as soon as it is unlocked,
// even while the thread that unlocked it is still in unlock()'s wake (see futex.h).
// Memory ordering: an unlock() happens-before the lock() or try_lock() that takes the lock
// next, so what one critical section wrote is visible to the next.
#pragma once

#include "sync/platform/atomic.h"
#include "sync/platform/config.h"
#include "sync/platform/futex.h"
#include "sync/platform/spin.h"

#include <cstdint>

namespace weft::platform {

template <class Futex>
class basic_futex_condvar;

template <class Futex>
class basic_futex_lock {
 public:
  basic_futex_lock() = default;
  basic_futex_lock(const basic_futex_lock&) = delete;
  basic_futex_lock& operator=(const basic_futex_lock&) = delete;

  void lock() noexcept {
    std::uint32_t unlocked = UNLOCKED;
    // Acquire: pairs with the Release exchange in unlock(): the previous holder's
    // critical section happens-before ours.
    if (word_.compare_exchange_strong(unlocked, LOCKED, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
      return;
    }
    lock_contended();
  }

  bool try_lock() noexcept {
    std::uint32_t unlocked = UNLOCKED;
    // Acquire: pairs with the Release exchange in unlock(), as in lock().
    return word_.compare_exchange_strong(unlocked, LOCKED, std::memory_order_acquire,
                                         std::memory_order_relaxed);
  }

  void unlock() noexcept {
    // Release: pairs with the Acquire CAS in lock() / try_lock() and the Acquire exchange
    // in lock_contended(), whichever takes the lock next.
    if (word_.exchange(UNLOCKED, std::memory_order_release) == CONTENDED) {
      // One sleeper is enough: it takes the lock as CONTENDED (lock_contended's exchange),
      // so its own unlock wakes the next one.
      futex_.wake_one(word_);
    }
  }

 private:
  friend class basic_futex_condvar<Futex>;

  // State word:
  //   UNLOCKED   nobody holds the lock
  //   LOCKED     held, and no thread sleeps on the word (unlock() wakes nobody)
  //   CONTENDED  held, and threads may sleep on the word (unlock() wakes one)
  // Transitions: lock() / try_lock() UNLOCKED -> LOCKED by CAS; a contended lock() sets
  // CONTENDED by exchange before it sleeps, and a thread woken from that sleep takes the
  // lock by the same exchange (so CONTENDED stays while sleepers may remain; a spurious
  // CONTENDED costs one wake). unlock() exchanges any state for UNLOCKED and wakes one
  // sleeper when it saw CONTENDED. Only the word is shared; the futex orders nothing.
  static constexpr std::uint32_t UNLOCKED = 0;
  static constexpr std::uint32_t LOCKED = 1;
  static constexpr std::uint32_t CONTENDED = 2;

  [[gnu::noinline, gnu::cold]] void lock_contended() noexcept {
    std::uint32_t state = spin();
    if (state == UNLOCKED) {
      // Free after the spin and nobody sleeps: take it as LOCKED (no wake owed).
      // Acquire: pairs with the Release exchange in unlock().
      if (word_.compare_exchange_strong(state, LOCKED, std::memory_order_acquire,
                                        std::memory_order_relaxed)) {
        return;
      }
    }
    for (;;) {
      // Mark the lock CONTENDED before sleeping (skipping the write when it already is);
      // finding UNLOCKED means this exchange took the lock, as CONTENDED: other threads
      // may sleep on the word, and our unlock() must wake one of them.
      // Acquire: pairs with the Release exchange in unlock().
      if (state != CONTENDED && word_.exchange(CONTENDED, std::memory_order_acquire) == UNLOCKED) {
        return;
      }
      futex_.wait(word_, CONTENDED);  // returns at once if the word is no longer CONTENDED
      state = spin();
    }
  }

  // Loads the word until it is not LOCKED (UNLOCKED, or CONTENDED: others sleep, so do
  // we), within spin.h's bound; returns the last value.
  std::uint32_t spin() noexcept {
    return spin_until(word_, [](std::uint32_t state) { return state != LOCKED; });
  }

  atomic<std::uint32_t> word_{UNLOCKED};
  [[no_unique_address]] Futex futex_;
};

using futex_lock = basic_futex_lock<futex>;

#if !defined(WEFT_MODEL) && WEFT_PLATFORM_FUTEX
static_assert(sizeof(futex_lock) == 4, "the production lock is its futex word");
#endif

}  // namespace weft::platform
