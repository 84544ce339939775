// weft/sync/runtime/run_queue.h: RunQueue, the executors' queue of runnable tasks: a
// bounded lock-free MPMC ring with a locked overflow list.
//
// The ring is Dmitry Vyukov's bounded MPMC queue
// (https://www.1024cores.net/home/lock-free-algorithms/queues/bounded-mpmc-queue): each
// slot carries a sequence number saying whose turn it is; a push or pop claims a
// position with one CAS and hands the slot over with one Release store. When the ring is
// full, push() appends to an intrusive overflow list under a mutex (rare: the ring holds
// `ring_capacity` tasks); pop() looks there when the ring is empty. So the uncontended
// push is one CAS plus one store, with no lock and no allocation.
//
// Concurrency: push() and pop() from any number of threads at once. FIFO per producer
// as long as the ring does not overflow; no order is promised across the overflow list.
// pop() may return nullptr while a push that claimed a slot earlier has not published
// it yet: that push's own post-push check (the executors' idle protocol) covers it.
//
// Memory ordering: everything the pushing thread did before push(t) happens-before
// everything the thread whose pop() returns t does after it.
#pragma once

#include "sync/detail/linked_list.h"
#include "sync/platform/atomic.h"
#include "sync/platform/cell.h"
#include "sync/platform/mutex.h"
#include "sync/platform/spin.h"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace weft::detail {

// T must have a `ListLinks<T> queue_links` member for the overflow list.
template <class T>
class RunQueue {
 public:
  // Slots in the ring; a power of two. Shrunk in the model build so that scenarios
  // overflow into the locked list (as Tokio's BLOCK_CAP under Loom).
#if defined(WEFT_MODEL)
  static constexpr std::size_t ring_capacity = 2;
#else
  static constexpr std::size_t ring_capacity = 1024;
#endif
  static_assert((ring_capacity & (ring_capacity - 1)) == 0, "a power of two");

  RunQueue() : slots_(std::make_unique<Slot[]>(ring_capacity)) {
    for (std::size_t i = 0; i < ring_capacity; ++i) {
      slots_[i].sequence.store(i, std::memory_order_relaxed);
    }
  }
  RunQueue(const RunQueue&) = delete;
  RunQueue& operator=(const RunQueue&) = delete;

  void push(T* task) {
    if (try_push_ring(task)) return;
    platform::mutex_guard guard(overflow_mutex_);
    overflow_.push_front(task);
    overflow_len_.store(overflow_len_.load(std::memory_order_relaxed) + 1,
                        std::memory_order_relaxed);
  }

  // The oldest task, or nullptr if none is published.
  T* pop() {
    if (T* task = try_pop_ring()) return task;
    // Relaxed: a hint; the length is re-read under the lock, which orders the list.
    if (overflow_len_.load(std::memory_order_relaxed) == 0) return nullptr;
    platform::mutex_guard guard(overflow_mutex_);
    T* task = overflow_.pop_back();
    if (task != nullptr) {
      overflow_len_.store(overflow_len_.load(std::memory_order_relaxed) - 1,
                          std::memory_order_relaxed);
    }
    return task;
  }

 private:
  // Slot sequence numbers, for the slot at ring index i and a position p with
  // p % ring_capacity == i:
  //   sequence == p      free: the push that claims position p may write it
  //   sequence == p + 1  full: the pop that claims position p may read it
  // pop() of position p sets sequence = p + ring_capacity, freeing it for the next lap.
  struct Slot {
    platform::atomic<std::size_t> sequence{0};
    // Written by the push that claimed this slot, read by the pop that claimed it;
    // ordered by `sequence` (see above).
    platform::cell<T*> task{nullptr};
  };

  bool try_push_ring(T* task) {
    platform::Backoff backoff;
    std::size_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Slot& slot = slots_[pos & (ring_capacity - 1)];
      // Acquire: pairs with the Release store in try_pop_ring that freed this slot, so
      // the previous lap's read of `task` happens-before our write.
      const std::size_t seq = slot.sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
      if (diff == 0) {
        // Relaxed: the slot is handed over by `sequence`, not by the position counter.
        if (tail_.compare_exchange_strong(pos, pos + 1, std::memory_order_relaxed,
                                          std::memory_order_relaxed)) {
          slot.task.with_mut([task](T*& t) { t = task; });
          // Release: pairs with the Acquire load in try_pop_ring (publishes the task).
          slot.sequence.store(pos + 1, std::memory_order_release);
          return true;
        }
        backoff.spin();
      } else if (diff < 0) {
        return false;  // full: the slot still holds the task of the previous lap
      } else {
        backoff.spin();
        pos = tail_.load(std::memory_order_relaxed);  // another push got ahead
      }
    }
  }

  T* try_pop_ring() {
    platform::Backoff backoff;
    std::size_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      Slot& slot = slots_[pos & (ring_capacity - 1)];
      // Acquire: pairs with the Release store in try_push_ring (the task pointer).
      const std::size_t seq = slot.sequence.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos + 1);
      if (diff == 0) {
        // Relaxed: as in try_push_ring.
        if (head_.compare_exchange_strong(pos, pos + 1, std::memory_order_relaxed,
                                          std::memory_order_relaxed)) {
          T* task = slot.task.with([](T* const& t) { return t; });
          // Release: pairs with the Acquire load in try_push_ring of the next lap.
          slot.sequence.store(pos + ring_capacity, std::memory_order_release);
          return task;
        }
        backoff.spin();
      } else if (diff < 0) {
        return nullptr;  // empty, or the push of this position is not published yet
      } else {
        backoff.spin();
        pos = head_.load(std::memory_order_relaxed);  // another pop got ahead
      }
    }
  }

  std::unique_ptr<Slot[]> slots_;
  platform::atomic<std::size_t> head_{0};  // next position to pop
  platform::atomic<std::size_t> tail_{0};  // next position to push

  platform::mutex overflow_mutex_;
  // Tasks that did not fit in the ring; protected by overflow_mutex_.
  LinkedList<T, &T::queue_links> overflow_;
  // Length of overflow_: written under overflow_mutex_, read without it as a hint.
  platform::atomic<std::size_t> overflow_len_{0};
};

}  // namespace weft::detail
