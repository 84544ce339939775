// weft/sync/set_once.h: SetOnce<T>, a cell written once and awaited by any number of tasks
// (an asyncio.Event that carries a value).
//
// Ported from tokio/src/sync/set_once.rs.
//
//   set(v)        stores v if the cell is empty; otherwise gives v back in SetOnceError
//   get()         the value, or nullptr while empty; never waits
//   wait()        a future that completes with the value once it is set
//   initialized() whether a value is stored
//   into_inner()  (on an rvalue) moves the value out, leaving the cell empty
//
// Concurrency: every operation but into_inner() and destruction may run from any thread
// at once; concurrent set() calls are serialized by an internal lock and exactly one of
// them stores its value. The value never changes once set; get() and wait() give const
// references valid as long as the cell.
//
// Cancel-safety: destroying a wait() future gives up nothing (it only unlinks its
// waiter). set() never waits.
//
// Memory ordering: everything set()'s caller did before set() happens-before a get() or
// initialized() that sees the value, and the completion of every wait().
//
// Exceptions: a throwing move of T in set() leaves the cell empty and propagates.
//
//   weft::SetOnce<int> once;
//   // one task:
//   if (auto r = once.set(20); !r) use(std::move(r.error().value));  // already set
//   // others:
//   const int& v = weft::block_on(once.wait());
#pragma once

#include "sync/notify.h"
#include "sync/platform/atomic.h"
#include "sync/platform/cell.h"
#include "sync/platform/mutex.h"
#include "sync/result.h"
#include "sync/task/poll.h"
#include "sync/task/waker.h"

#include <functional>
#include <optional>
#include <utility>

namespace weft {

// The error of SetOnce::set: the cell already held a value. Gives the value back.
template <class T>
struct SetOnceError {
  T value;
};

template <class T>
class SetOnce {
 public:
  class Wait;

  SetOnce() = default;
  // A cell that already holds `value`.
  explicit SetOnce(T value) : value_set_(true), value_(std::in_place, std::move(value)) {}
  // A cell holding `value` if there is one, else an empty cell (Tokio's new_with).
  static SetOnce new_with(std::optional<T> value) {
    if (value.has_value()) return SetOnce(std::move(*value));
    return SetOnce();
  }
  // A cell holding a copy of other's value, if any (Tokio's Clone).
  SetOnce(const SetOnce& other) : SetOnce() {
    if (const T* v = other.get()) {
      value_.with_mut([&](std::optional<T>& slot) { slot.emplace(*v); });
      value_set_.store(true, std::memory_order_relaxed);  // not shared yet
    }
  }
  SetOnce& operator=(const SetOnce&) = delete;

  // Whether a value is stored.
  bool initialized() const {
    // Acquire: pairs with the Release store in set(), so the value is visible.
    return value_set_.load(std::memory_order_acquire);
  }

  // The value, or nullptr while the cell is empty.
  const T* get() const {
    if (!initialized()) return nullptr;
    return value_.with([](const std::optional<T>& slot) { return &*slot; });
  }

  // Stores `value` if the cell is empty and completes every wait(); otherwise returns it.
  Result<void, SetOnceError<T>> set(T value) {
    if (initialized()) return Err(SetOnceError<T>{std::move(value)});
    {
      platform::mutex_guard guard(lock_);
      // Relaxed: value_set_ is written only under the lock we hold.
      if (value_set_.load(std::memory_order_relaxed)) {
        return Err(SetOnceError<T>{std::move(value)});
      }
      value_.with_mut([&](std::optional<T>& slot) { slot.emplace(std::move(value)); });
      // Release: pairs with the Acquire load in initialized().
      value_set_.store(true, std::memory_order_release);
    }
    notify_.notify_waiters();
    return Ok();
  }

  // Moves the value out, leaving the cell empty (Tokio's into_inner, which consumes the
  // cell). The caller must own the cell exclusively.
  std::optional<T> into_inner() && {
    // Relaxed: exclusive access, ordered by whatever handed the cell to the caller.
    if (!value_set_.load(std::memory_order_relaxed)) return std::nullopt;
    value_set_.store(false, std::memory_order_relaxed);
    return value_.with_mut(
        [](std::optional<T>& slot) { return std::exchange(slot, std::nullopt); });
  }

  // A future that completes with the value once it is set (at once if it is).
  [[nodiscard]] Wait wait() const { return Wait(const_cast<SetOnce*>(this)); }

  // Tokio's PartialEq: equal when both are empty or both hold equal values.
  friend bool operator==(const SetOnce& a, const SetOnce& b) {
    const T* x = a.get();
    const T* y = b.get();
    if (x == nullptr || y == nullptr) return x == y;
    return *x == *y;
  }

  // The future returned by wait(). Completes with a reference to the value.
  class [[nodiscard]] Wait {
   public:
    Wait(Wait&&) noexcept = default;  // before the first poll only

    Poll<std::reference_wrapper<const T>> poll(Context& cx) {
      for (;;) {
        if (notified_) {
          if (notified_->poll(cx).is_pending()) return pending;
          notified_.reset();
        }
        if (const T* v = once_->get()) return std::cref(*v);
        notified_.emplace(once_->notify_.notified());
        // Checking again under the lock that set() holds while it stores: either set()
        // stored before (and we see it), or its notify_waiters() comes after the
        // notified() above, and completes it.
        platform::mutex_guard guard(once_->lock_);
        // Relaxed: written only under the lock we hold.
        if (once_->value_set_.load(std::memory_order_relaxed)) {
          notified_.reset();  // never polled: nothing to unlink
          return std::cref(
              *once_->value_.with([](const std::optional<T>& slot) { return &*slot; }));
        }
      }
    }

   private:
    friend class SetOnce;
    explicit Wait(SetOnce* once) : once_(once) {}
    SetOnce* once_;
    std::optional<Notified> notified_;
  };

 private:
  // The value. Written once, under lock_, while value_set_ is false; read by anyone after
  // an Acquire load of value_set_ saw true (or under lock_).
  platform::atomic<bool> value_set_{false};
  platform::cell<std::optional<T>> value_;
  Notify notify_;
  // Serializes set() calls, and orders wait()'s second check against them.
  platform::mutex lock_;
};

}  // namespace weft
