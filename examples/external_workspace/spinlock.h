// A user's own design, checked with weft from another workspace: a test-and-test-and-set
// spinlock. Concurrency: any threads may lock() and unlock(); lock() spins (with backoff)
// while another thread holds the lock. Memory ordering: everything before unlock()
// happens-before the return of the next lock().
#pragma once

#include "sync/platform/platform.h"

#include <atomic>

namespace my_project {

// guide:begin spinlock
class Spinlock {
 public:
  void lock() {
    weft::platform::Backoff backoff;
    // Acquire: pairs with the Release store in unlock().
    while (locked_.exchange(true, std::memory_order_acquire)) {
      // Relaxed: only a hint; the exchange above is what takes the lock.
      while (locked_.load(std::memory_order_relaxed)) backoff.snooze();
    }
  }
  // Release: pairs with the Acquire exchange in lock().
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  weft::platform::atomic<bool> locked_{false};
};
// guide:end spinlock

}  // namespace my_project
