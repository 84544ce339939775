// weft/sync/platform/futex.h: sleep on a 32-bit atomic word until another thread wakes it.
//
//   platform::atomic<std::uint32_t> word{0};
//   platform::futex queue;                       // the word's sleepers (empty in production)
//   while (word.load(std::memory_order_acquire) == 0) queue.wait(word, 0);
//   ...
//   word.store(1, std::memory_order_release);    // then, in the other thread:
//   queue.wake_one(word);                        // or wake_all(word)
//
// Contract (Linux futex(2)): wait(word, expected) checks that the word still holds
// `expected` and goes to sleep as one step with respect to wake_one / wake_all on the same
// word, so a wake made after a store that changed the word is never lost between the
// check and the sleep. wait may return without a wake (a spurious return): its caller
// re-reads the word and loops. wait_until(word, expected, deadline) also gives up when
// platform::clock reaches the deadline and returns false then (true for a wake, a
// spurious return, or a word that no longer held `expected`). wake_one wakes at most one
// sleeper, wake_all every sleeper.
// Memory ordering: none the caller may rely on. Data is published through the word's own
// atomic operations (a Release store before the wake, an Acquire load after the wait).
//
// Production: the Linux system call on the word's address (FUTEX_WAIT_BITSET_PRIVATE with
// an absolute CLOCK_MONOTONIC deadline, the clock of std::chrono::steady_clock =
// platform::clock; FUTEX_WAKE_PRIVATE), and `futex` is an empty policy whose calls forward
// to futex_wait / futex_wait_until / futex_wake_one / futex_wake_all. A wake on the address
// of a word already destroyed is harmless there (the kernel wakes nobody, or a thread that
// then sees a spurious return), as unlock() may wake after another thread freed the lock.
//
// Production without the system call (WEFT_PLATFORM_FUTEX 0, config.h): the model's futex
// below over std::mutex and std::condition_variable (their spurious wakeups are slept
// through; at most one per futex object returns, as the model allows).
//
// Model build (DPOR and Relacy): `futex` is a modelled futex, one per word, written once
// against the checker's platform::mutex, condvar and atomic. What it models: the kernel's
// hash-bucket lock, which a wait holds from its check of the word until it is queued and a
// wake holds while it dequeues; here the bucket lock is a platform::mutex and the queue a
// platform::condvar, so a wake either finds the waiter asleep or comes before its check,
// which then reads the word's value stored before the wake (or a later one). A wait may
// return spuriously once per word and execution (see spurious_return()), and a timed wait
// may time out at any step. What it
// does not model: the bucket lock also makes a wake happen-before the wait it ends (the
// kernel orders them through its spinlock too, but futex(2) promises nothing to C++ code),
// so code that relied on that edge would pass here; the kernel's full barriers in the
// system call (a futex call is no fence here); a wake after the word was destroyed (a use
// after free here: keep the word alive); EINTR and hash collisions (both spurious returns,
// which are modelled); the number of threads a wake woke (never returned); requeue and
// priority inheritance (not provided).
#pragma once

#include "sync/platform/atomic.h"
#include "sync/platform/clock.h"
#include "sync/platform/config.h"

#include <chrono>
#include <cstdint>

#if defined(WEFT_MODEL) || !WEFT_PLATFORM_FUTEX
#include "sync/platform/mutex.h"
#else
#include <cerrno>
#include <climits>
#include <ctime>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <type_traits>
#include <unistd.h>
#endif

namespace weft::platform {

#if defined(WEFT_MODEL) || !WEFT_PLATFORM_FUTEX

// SpuriousReturns: how many spurious returns a wait may make on this word in one
// execution (see spurious_return()).
template <unsigned SpuriousReturns = 1>
class basic_futex {
 public:
  basic_futex() = default;
  basic_futex(const basic_futex&) = delete;
  basic_futex& operator=(const basic_futex&) = delete;

  void wait(atomic<std::uint32_t>& word, std::uint32_t expected) {
    mutex_guard bucket(bucket_);
    // Relaxed: the bucket lock orders this check with every wake (see the file comment).
    if (word.load(std::memory_order_relaxed) != expected) return;
    const std::uint32_t wakes = wakes_;
    for (;;) {
      sleepers_.wait(bucket);
      if (wakes_ != wakes || spurious_return()) return;
      // The checker's condvar woke us spuriously and the budget is spent: sleep on.
    }
  }
  bool wait_until(atomic<std::uint32_t>& word, std::uint32_t expected, clock::time_point deadline) {
    mutex_guard bucket(bucket_);
    // Relaxed: as in wait().
    if (word.load(std::memory_order_relaxed) != expected) return true;
    const std::uint32_t wakes = wakes_;
    for (;;) {
      // The checker's timed wait reports a spurious wakeup as a timeout, which the model
      // allows at any step: a timeout ends the wait.
      if (sleepers_.wait_until(bucket, deadline) == std::cv_status::timeout) return false;
      if (wakes_ != wakes || spurious_return()) return true;
    }
  }
  void wake_one(atomic<std::uint32_t>&) {
    mutex_guard bucket(bucket_);
    ++wakes_;
    sleepers_.notify_one();
  }
  void wake_all(atomic<std::uint32_t>&) {
    mutex_guard bucket(bucket_);
    ++wakes_;
    sleepers_.notify_all();
  }

 private:
  // Spurious returns: the checker's condvar may wake a sleeper at any step, and a wait
  // returns for it while this word's budget lasts (SpuriousReturns per execution, default
  // one), so every caller's loop after a spurious return is checked. An unbounded number
  // would let a waiter that wakes spuriously in every round starve another thread for
  // ever, a LIVELOCK that a futex, which returns spuriously only for a signal, does not
  // have. A spurious return can also rescue a thread whose wake was lost; a scenario that
  // must see every lost wake as a DEADLOCK uses basic_futex<0>.
  bool spurious_return() {
    if (spurious_left_ == 0) return false;
    --spurious_left_;
    return true;
  }

  mutex bucket_;      // the kernel's hash-bucket lock, for this word alone
  condvar sleepers_;  // the threads asleep on the word; waited on and notified under bucket_
  // The modelled kernel's own state, not the program's (plain, as the virtual clock's in
  // clock.h), read and written under bucket_ only:
  std::uint32_t wakes_ = 0;                        // wake_one / wake_all calls so far
  std::uint32_t spurious_left_ = SpuriousReturns;  // spurious returns still allowed
};

using futex = basic_futex<>;

#else  // production on Linux: the system call

static_assert(std::is_same_v<clock, std::chrono::steady_clock>,
              "platform::clock must be steady_clock, whose clock is CLOCK_MONOTONIC");
static_assert(sizeof(atomic<std::uint32_t>) == 4 &&
                  std::is_standard_layout_v<atomic<std::uint32_t> >,
              "the futex word is the atomic's own 32 bits");

namespace detail {

inline long futex_call(atomic<std::uint32_t>& word, int op, std::uint32_t value,
                       const timespec* deadline, std::uint32_t bitset) noexcept {
  return ::syscall(SYS_futex, static_cast<void*>(&word), op, value, deadline, nullptr, bitset);
}

// Sleeps while the word holds `expected`; false only when the deadline (null: none) passed.
inline bool futex_wait_timespec(atomic<std::uint32_t>& word, std::uint32_t expected,
                                const timespec* deadline) noexcept {
  for (;;) {
    // Relaxed: saves the system call when the word already changed; the kernel checks it
    // again under its bucket lock.
    if (word.load(std::memory_order_relaxed) != expected) return true;
    if (futex_call(word, FUTEX_WAIT_BITSET_PRIVATE, expected, deadline, FUTEX_BITSET_MATCH_ANY) ==
        0) {
      return true;  // woken, or a spurious return
    }
    if (errno == ETIMEDOUT) return false;
    if (errno != EINTR) return true;  // EAGAIN: the word no longer held `expected`
  }
}

}  // namespace detail

inline void futex_wait(atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
  detail::futex_wait_timespec(word, expected, nullptr);
}

// The deadline is absolute on CLOCK_MONOTONIC (FUTEX_WAIT_BITSET's clock without
// FUTEX_CLOCK_REALTIME), which is steady_clock's: after a false return, clock::now() has
// reached the deadline.
inline bool futex_wait_until(atomic<std::uint32_t>& word, std::uint32_t expected,
                             clock::time_point deadline) noexcept {
  using std::chrono::nanoseconds;
  const std::int64_t ns =
      std::chrono::duration_cast<nanoseconds>(deadline.time_since_epoch()).count();
  timespec at{};
  if (ns > 0) {
    at.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    at.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  }
  return detail::futex_wait_timespec(word, expected, &at);
}

inline void futex_wake_one(atomic<std::uint32_t>& word) noexcept {
  detail::futex_call(word, FUTEX_WAKE_PRIVATE, 1, nullptr, 0);
}

inline void futex_wake_all(atomic<std::uint32_t>& word) noexcept {
  detail::futex_call(word, FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, 0);
}

// The futex policy of futex_lock.h: no state (the kernel keeps the sleepers), so a
// [[no_unique_address]] member of it takes no room. SpuriousReturns is the model's knob
// (see the model branch); the kernel's spurious returns are its own.
template <unsigned SpuriousReturns = 1>
class basic_futex {
 public:
  void wait(atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
    futex_wait(word, expected);
  }
  bool wait_until(atomic<std::uint32_t>& word, std::uint32_t expected,
                  clock::time_point deadline) noexcept {
    return futex_wait_until(word, expected, deadline);
  }
  void wake_one(atomic<std::uint32_t>& word) noexcept { futex_wake_one(word); }
  void wake_all(atomic<std::uint32_t>& word) noexcept { futex_wake_all(word); }
};

using futex = basic_futex<>;

#endif

}  // namespace weft::platform
