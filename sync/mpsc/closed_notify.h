// weft/sync/mpsc/closed_notify.h: ClosedNotify, the one-shot broadcast that wakes every
// Sender::closed() future when the receiver closes the channel.
//
// Plays the part of the Notify that tokio/src/sync/mpsc/chan.rs keeps as
// notify_rx_closed, reduced to what mpsc needs: notify_all() happens once and is sticky.
//
// Concurrency: any number of waiters (each a Waiter inside a closed() future) and one
// notify_all(), all under one mutex that guards the waiter list, every waiter's fields and
// the closed flag. A waker is cloned before the lock is taken and woken after it is
// released (WakeList), so no user code runs under the lock. Memory ordering: everything
// before notify_all() happens-before a poll() that returns true (the mutex).
#pragma once

#include "sync/detail/linked_list.h"
#include "sync/detail/wake_list.h"
#include "sync/platform/cell.h"
#include "sync/platform/mutex.h"
#include "sync/task/waker.h"

#include <optional>
#include <utility>

namespace weft::mpsc::detail {

class ClosedNotify {
 public:
  struct Waiter {
    weft::detail::ListLinks<Waiter> links;
    // Both under ClosedNotify::lock_.
    platform::cell<std::optional<Waker>> waker;
    platform::cell<bool> queued{false};
  };

  ClosedNotify() = default;
  ClosedNotify(const ClosedNotify&) = delete;
  ClosedNotify& operator=(const ClosedNotify&) = delete;

  // True once notify_all() ran; otherwise (re)registers `waker` in `waiter` and returns
  // false. If cloning the waker throws, nothing changed.
  bool poll(Waiter& waiter, const Waker& waker) {
    std::optional<Waker> fresh(waker);  // outside the lock: clone may run user code
    {
      platform::mutex_guard guard(lock_);
      if (closed_.with([](const bool& c) { return c; })) return true;
      waiter.waker.with_mut([&](std::optional<Waker>& slot) { slot.swap(fresh); });
      const bool queued = waiter.queued.with_mut([](bool& q) { return std::exchange(q, true); });
      if (!queued) waiters_.push_front(&waiter);
    }
    return false;  // `fresh` now holds the old waker, dropped outside the lock
  }

  // Unlinks a waiter that poll() registered (the future is going away).
  void cancel(Waiter& waiter) {
    std::optional<Waker> old;
    {
      platform::mutex_guard guard(lock_);
      if (waiter.queued.with_mut([](bool& q) { return std::exchange(q, false); })) {
        waiters_.remove(&waiter);
      }
      waiter.waker.with_mut([&](std::optional<Waker>& slot) { old.swap(slot); });
    }
  }

  // Wakes every waiter, now and for good.
  void notify_all() {
    platform::mutex_guard guard(lock_);
    closed_.with_mut([](bool& c) { c = true; });
    weft::detail::wake_in_batches(guard, lock_, [&](weft::detail::WakeList& wakers) {
      Waiter* waiter;
      while (wakers.can_push() && (waiter = waiters_.pop_back()) != nullptr) {
        waiter->queued.with_mut([](bool& q) { q = false; });
        std::optional<Waker> taken = waiter->waker.with_mut(
            [](std::optional<Waker>& slot) { return std::exchange(slot, {}); });
        if (taken) wakers.push(std::move(*taken));
      }
      return !waiters_.is_empty();
    });
  }

 private:
  platform::mutex lock_;
  weft::detail::LinkedList<Waiter, &Waiter::links> waiters_;  // under lock_
  platform::cell<bool> closed_{false};                        // under lock_
};

}  // namespace weft::mpsc::detail
