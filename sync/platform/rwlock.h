// weft/sync/platform/rwlock.h: rwlock, a reader-writer lock for short critical
// sections: many readers at once (lock_shared / unlock_shared), or one writer (lock /
// unlock).
//
//   platform::rwlock lock;
//   lock.lock_shared();  ... read ...  lock.unlock_shared();
//   lock.lock();         ... write ... lock.unlock();
//
// Each lock and unlock is one atomic RMW when uncontended; a contended caller spins a
// little (the lock is only held briefly: a writer holds it for a store), then blocks on
// the platform mutex and condvar. Built from the
// platform's atomic, mutex and condvar, so the model build checks the whole of it (a
// lost wake is a DEADLOCK there). Writers are not preferred: readers that keep coming can
// delay a writer. Not recursive; a reader may not upgrade.
// Memory ordering: an unlock (either kind) happens-before the lock that sees it; what a
// writer wrote is visible to every later reader and writer.
#pragma once

#include "sync/platform/atomic.h"
#include "sync/platform/mutex.h"
#include "sync/platform/spin.h"

#include <cstdint>

namespace weft::platform {

class rwlock {
 public:
  rwlock() = default;
  rwlock(const rwlock&) = delete;
  rwlock& operator=(const rwlock&) = delete;

  void lock_shared() {
    // Relaxed: the CAS re-reads the word.
    std::uintptr_t s = state_.load(std::memory_order_relaxed);
    while ((s & WRITER) == 0) {
      // Acquire: pairs with the Release in unlock(): the reader sees what the writer wrote.
      if (state_.compare_exchange_strong(s, s + READER, std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
        return;
      }
    }
    wait_until_free(WRITER, READER);
  }
  void unlock_shared() {
    // Release: pairs with the Acquire in lock(): the read ends before the next write.
    const std::uintptr_t prev = state_.fetch_sub(READER, std::memory_order_release);
    if ((prev & ~PARKED) == READER && (prev & PARKED) != 0) wake();  // the last reader
  }
  void lock() {
    std::uintptr_t s = FREE;
    // Acquire: pairs with the Release in unlock_shared() and unlock().
    if (state_.compare_exchange_strong(s, WRITER, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return;
    }
    wait_until_free(~PARKED, WRITER);
  }
  void unlock() {
    // Release: pairs with the Acquire in lock_shared() and lock().
    const std::uintptr_t prev = state_.fetch_sub(WRITER, std::memory_order_release);
    if ((prev & PARKED) != 0) wake();
  }

 private:
  // State word: bit 0 WRITER (a sender holds the lock), bit 1 PARKED (a caller sleeps on
  // changed_, set and waited on under mutex_), the rest the number of readers (READER
  // each). PARKED is cleared under mutex_ by the unlock that wakes the sleepers (they set
  // it again if they must sleep on), so a wake never misses one: the sleeper holds mutex_
  // from setting PARKED until it waits.
  static constexpr std::uintptr_t FREE = 0;
  static constexpr std::uintptr_t WRITER = 1;
  static constexpr std::uintptr_t PARKED = 2;
  static constexpr std::uintptr_t READER = 4;

  // Slow path: waits until none of `busy` is set, then adds `take`.
  [[gnu::noinline]] void wait_until_free(std::uintptr_t busy, std::uintptr_t take) {
    // A bounded spin first (spin.h): without it a reader that meets a writer sleeps in the
    // kernel and the writer's unlock pays a futex wake, about once every 8 sends of
    // watch_4rx (527k futex calls in a run, bench/README.md).
    std::uintptr_t s = spin_until(state_, [busy](std::uintptr_t v) { return (v & busy) == 0; });
    while ((s & busy) == 0) {
      // Acquire: as on the fast paths.
      if (state_.compare_exchange_strong(s, s + take, std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
        return;
      }
    }
    mutex_guard guard(mutex_);
    s = state_.load(std::memory_order_relaxed);  // Relaxed: as above
    for (;;) {
      if ((s & busy) == 0) {
        // Acquire: as on the fast paths.
        if (state_.compare_exchange_strong(s, s + take, std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
          return;
        }
      } else if ((s & PARKED) != 0 ||
                 // Relaxed: PARKED carries no data; the wake is ordered by mutex_.
                 state_.compare_exchange_strong(s, s | PARKED, std::memory_order_relaxed,
                                                std::memory_order_relaxed)) {
        changed_.wait(guard);
        s = state_.load(std::memory_order_relaxed);  // Relaxed: as above
      }
    }
  }
  void wake() {
    {
      mutex_guard guard(mutex_);
      // Relaxed: the sleepers re-read the word under mutex_ after waking.
      state_.fetch_and(~PARKED, std::memory_order_relaxed);
    }
    changed_.notify_all();
  }

  atomic<std::uintptr_t> state_{FREE};
  mutex mutex_;
  condvar changed_;
};

}  // namespace weft::platform
