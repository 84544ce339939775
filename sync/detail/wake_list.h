// weft/sync/detail/wake_list.h: WakeList, up to 32 wakers collected under a lock and
// woken after it is released, so no waker (user code) ever runs inside a weft lock.
//
// Follows tokio/src/util/wake_list.rs.
//
// wake_in_batches() is the loop every primitive uses to wake many waiters: collect one
// WakeList under the lock, release it, wake, and take the lock again while waiters remain.
//
//   platform::mutex_guard guard(lock);
//   ...                                      // the state change, under the lock
//   wake_in_batches(guard, lock, [&](WakeList& wakers) {
//     while (wakers.can_push() && (waiter = queue.pop_back())) wakers.push(take(waiter));
//     return !queue.is_empty();              // more to collect: lock again, go on
//   });                                      // returns with the lock released
//
// Wakes cannot throw (the wake policy in sync/task/waker.h), so neither can the loop: it
// may run from destructors and noexcept give-backs.
//
// Not thread-safe: one WakeList belongs to one call.
#pragma once

#include "sync/platform/invariant.h"
#include "sync/platform/mutex.h"
#include "sync/task/waker.h"

#include <cstddef>
#include <new>
#include <utility>

namespace weft::detail {

class WakeList {
 public:
  static constexpr std::size_t capacity = 32;

  WakeList() noexcept {}
  WakeList(const WakeList&) = delete;
  WakeList& operator=(const WakeList&) = delete;
  ~WakeList() { clear(); }

  bool can_push() const noexcept { return size_ < capacity; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  void push(Waker&& waker) noexcept {
    WEFT_INVARIANT(can_push());
    new (&slots_[size_].waker) Waker(std::move(waker));
    ++size_;
  }

  // Wakes every collected waker and empties the list.
  void wake_all() noexcept {
    const std::size_t count = std::exchange(size_, 0);
    for (std::size_t i = 0; i < count; ++i) {
      slots_[i].waker.wake();  // in place: it leaves the no-op waker, whose drop is free
      slots_[i].waker.~Waker();
    }
  }

 private:
  void clear() noexcept {
    for (std::size_t i = 0; i < size_; ++i) slots_[i].waker.~Waker();
    size_ = 0;
  }

  union Slot {
    Slot() noexcept {}
    ~Slot() {}
    Waker waker;
  };
  Slot slots_[capacity];
  std::size_t size_ = 0;
};

// The batch-wake loop (see the top of this file). `held` holds `lock` on entry (anything
// with unlock(): a platform::mutex_guard, or a hold that can be released early); collect
// runs under the lock, fills at most one WakeList and returns whether more remain. Each
// batch is woken with the lock released; returns with it released.
template <class Hold, class Collect>
void wake_in_batches(Hold& held, platform::mutex& lock, Collect&& collect) {
  WakeList wakers;
  bool more = collect(wakers);
  held.unlock();
  wakers.wake_all();
  while (more) {
    {
      platform::mutex_guard again(lock);
      more = collect(wakers);
    }
    wakers.wake_all();
  }
}

}  // namespace weft::detail
