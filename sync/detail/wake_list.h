// weft/sync/detail/wake_list.h: WakeList, up to 32 wakers collected under a lock and
// woken after it is released, so no waker (user code) ever runs inside a weft lock.
//
// Follows tokio/src/util/wake_list.rs.
//
//   WakeList wakers;
//   {
//     platform::mutex_guard guard(lock);
//     while (wakers.can_push() && (waiter = queue.pop_back())) wakers.push(take(waiter));
//   }
//   wakers.wake_all();   // and loop if the queue still had waiters
//
// Not thread-safe: one WakeList belongs to one call.
#pragma once

#include "sync/platform/invariant.h"
#include "sync/task/waker.h"

#include <cstddef>
#include <exception>
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

  // Wakes every collected waker and empties the list. If a wake throws, the others are
  // still woken and the first exception is rethrown afterwards.
  void wake_all() {
    std::exception_ptr first_failure;
    const std::size_t count = std::exchange(size_, 0);
    for (std::size_t i = 0; i < count; ++i) {
      Waker waker = std::move(slots_[i].waker);
      slots_[i].waker.~Waker();
      try {
        waker.wake();
      } catch (...) {
        if (!first_failure) first_failure = std::current_exception();
      }
    }
    if (first_failure) std::rethrow_exception(first_failure);
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

}  // namespace weft::detail
