// weft/examples/mcs_lock/mcs_lock.h: the MCS queue lock (Mellor-Crummey and Scott,
// "Algorithms for Scalable Synchronization on Shared-Memory Multiprocessors", TOCS 1991).
//
// Waiters form a queue of nodes, one per thread, each spinning on its own node. lock()
// swaps its node into `tail_` and, if there was a predecessor, links itself behind it
// and waits for the predecessor to clear its `locked` flag. unlock() either swings
// `tail_` back to null (no successor) or, once the successor has linked in, clears the
// successor's flag. The `RelaxedHandoff` variant clears the flag without Release, so the
// successor enters without seeing the critical section before it.
#pragma once

#include "model/harness/execution.h"
#include "sync/platform/platform.h"

#include <atomic>

namespace weft::examples {

template <int MaxThreads, bool RelaxedHandoff = false>
class McsLock {
  struct Node {
    platform::atomic<Node*> next{nullptr};
    platform::atomic<int> locked{0};
  };

 public:
  void lock(int me) {
    Node* node = &nodes_[me];
    // Relaxed: published by the AcqRel exchange below.
    node->next.store(nullptr, std::memory_order_relaxed);
    node->locked.store(1, std::memory_order_relaxed);
    // AcqRel: Release publishes the node's fields to the successor that reads tail_;
    // Acquire pairs with the predecessor's Release exchange or unlock's Release CAS.
    Node* prev = tail_.exchange(node, std::memory_order_acq_rel);
    if (prev == nullptr) return;
    // Release: pairs with the Acquire loads of `next` in unlock(): our node is ready.
    prev->next.store(node, std::memory_order_release);
    platform::Backoff backoff;
    // Acquire: pairs with the Release store of `locked` in unlock().
    while (node->locked.load(std::memory_order_acquire) == 1) backoff.snooze();
  }

  void unlock(int me) {
    Node* node = &nodes_[me];
    // Acquire: pairs with the Release store of our `next` in lock() (the successor's).
    Node* next = node->next.load(std::memory_order_acquire);
    if (next == nullptr) {
      Node* expected = node;
      // Release: pairs with the AcqRel exchange in lock() (the next locker's); hands the
      // section over.
      if (tail_.compare_exchange_strong(expected, nullptr, std::memory_order_release,
                                        std::memory_order_relaxed)) {
        return;
      }
      // A successor swapped itself in but has not linked behind us yet.
      WEFT_REACHED("mcs unlock waits for its successor to link in");
      platform::Backoff backoff;
      // Acquire: as above.
      while ((next = node->next.load(std::memory_order_acquire)) == nullptr) backoff.snooze();
    }
    // Release: pairs with the successor's Acquire load of `locked` in lock().
    next->locked.store(0, RelaxedHandoff ? std::memory_order_relaxed : std::memory_order_release);
  }

 private:
  platform::atomic<Node*> tail_{nullptr};
  Node nodes_[MaxThreads];
};

}  // namespace weft::examples
