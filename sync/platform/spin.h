// weft/sync/platform/spin.h: yielding, the spin hint, and the Backoff policy.
//
// Every loop that waits on another thread's store must go through one of these. In the
// model build each of them gives the scheduler a chance to run another thread; a loop
// that never does is reported as LIVELOCK, a loop that does but never sees progress is
// reported when it exceeds the execution depth limit.
#pragma once

#include "sync/platform/config.h"

#include <atomic>
#include <source_location>
#include <thread>

namespace weft::platform {

#if defined(WEFT_MODEL_DPOR)

inline void yield_now(std::source_location loc = std::source_location::current()) {
  detail::engine().yield(detail::where(loc));
}
inline void spin_hint(std::source_location loc = std::source_location::current()) {
  detail::engine().yield(detail::where(loc));
}

#elif defined(WEFT_MODEL_RELACY)

inline void yield_now(std::source_location loc = std::source_location::current()) {
  rl::yield(1, detail::where(loc));
}
inline void spin_hint(std::source_location loc = std::source_location::current()) {
  rl::yield(1, detail::where(loc));
}

#else

// Gives the rest of this thread's time slice to another thread.
inline void yield_now() noexcept { std::this_thread::yield(); }

// Tells the CPU this is a busy-wait loop (x86 pause, arm yield).
inline void spin_hint() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield" ::: "memory");
#endif
}

#endif

// Loads of a held lock word before a contended locker sleeps (Rust std's futex locks: 100):
// a short critical section ends within them, and neither side pays a futex call. None in
// the model build (one load, then the sleep): DPOR takes a spin iteration that reads
// nothing new for no step and blocks the spinner until the word changes, so the path where
// a bounded spin gives up on a word still held and sleeps would go unexplored (a dropped
// wake then survived //model:futex_lock's two-thread scenarios).
#if defined(WEFT_MODEL)
inline constexpr unsigned contended_spin_limit = 0;
#else
inline constexpr unsigned contended_spin_limit = 100;
#endif

// Loads `word` until `done(value)` holds or contended_spin_limit more loads have been
// spent; returns the last value read. For the lock words of futex_lock.h and rwlock.h.
template <class Word, class Done>
auto spin_until(const Word& word, Done done) noexcept {
  // Relaxed: only a hint; the caller takes the lock by an Acquire RMW that re-reads it.
  auto value = word.load(std::memory_order_relaxed);
  for (unsigned left = contended_spin_limit; !done(value) && left > 0; --left) {
    spin_hint();
    value = word.load(std::memory_order_relaxed);  // Relaxed: as above
  }
  return value;
}

// Exponential backoff for a loop that retries after a lost race or waits on another
// thread (after crossbeam_utils::Backoff). spin() is for retrying a failed CAS: it only
// pauses the CPU, 2^step times. snooze() is for waiting on another thread: it spins
// while that is cheap, then yields the thread. is_completed() says that snoozing has
// gone on long enough that the caller should park instead.
class Backoff {
 public:
  static constexpr unsigned spin_limit = 6;    // up to 2^6 pauses per spin()
  static constexpr unsigned yield_limit = 10;  // is_completed() after this many steps

  void spin() noexcept {
    for (unsigned i = 0; i < (1u << (step_ < spin_limit ? step_ : spin_limit)); ++i) {
      spin_hint();
#if defined(WEFT_MODEL)
      break;  // one scheduling point is enough for the model checker
#endif
    }
    if (step_ <= spin_limit) ++step_;
  }

  void snooze() noexcept {
#if defined(WEFT_MODEL)
    yield_now();
#else
    if (step_ <= spin_limit) {
      for (unsigned i = 0; i < (1u << step_); ++i) spin_hint();
    } else {
      yield_now();
    }
#endif
    if (step_ <= yield_limit) ++step_;
  }

  bool is_completed() const noexcept { return step_ > yield_limit; }
  void reset() noexcept { step_ = 0; }

 private:
  unsigned step_ = 0;
};

}  // namespace weft::platform
