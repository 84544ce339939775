// weft/examples/ticket_lock/ticket_lock.h: a ticket lock (Mellor-Crummey and Scott,
// "Algorithms for Scalable Synchronization on Shared-Memory Multiprocessors", TOCS 1991).
//
// lock() takes the next ticket and waits until it is served; unlock() serves the next.
// The critical section is handed over by unlock's store to `serving_` and the next
// holder's load of it: a Release/Acquire pair. The `RelaxedUnlock` variant drops the
// Release, so the next holder may enter without seeing the previous one's writes.
#pragma once

#include "sync/platform/platform.h"

#include <atomic>

namespace weft::examples {

template <bool RelaxedUnlock = false>
class TicketLock {
 public:
  void lock(int /*thread*/) {
    // Relaxed: the ticket only orders holders; what they protect is ordered by serving_.
    const unsigned ticket = next_.fetch_add(1, std::memory_order_relaxed);
    platform::Backoff backoff;
    // Acquire: pairs with the Release store in unlock().
    while (serving_.load(std::memory_order_acquire) != ticket) backoff.snooze();
  }
  void unlock(int /*thread*/) {
    // Only the holder writes serving_: its own last value, read relaxed.
    const unsigned next = serving_.load(std::memory_order_relaxed) + 1;
    // Release: pairs with the Acquire load in lock(); hands the critical section over.
    serving_.store(next, RelaxedUnlock ? std::memory_order_relaxed : std::memory_order_release);
  }

 private:
  platform::atomic<unsigned> next_{0};
  platform::atomic<unsigned> serving_{0};
};

}  // namespace weft::examples
