// weft/sync/task/waker.h: Waker, a type-erased handle that tells an executor (or a
// blocked thread) that a task can make progress; and Context, what poll() receives.
//
// A Waker is a RawWaker {data, vtable} with Rust's four operations:
//   copy (clone)    vtable->clone(data): a new handle; MAY THROW, and a throwing clone
//                   leaves every weft primitive consistent
//   wake()          consumes the handle (it becomes the no-op waker) and wakes the task
//   wake_by_ref()   wakes the task, keeps the handle
//   destructor      vtable->drop(data), which must not throw
//
// The wake policy (one for the whole library): wake() and wake_by_ref() are noexcept, and
// a vtable whose wake throws breaks the contract. Primitives wake after their state has
// changed for good, in batches, from destructors too; nothing sensible is left to do with
// an exception there, so it is reported as a failed WEFT_INVARIANT (abort, or a failed
// execution in the model build) at the wake, never propagated.
// will_wake(other) is true when both handles wake the same task (same data and vtable),
// which lets primitives skip re-registering a waker they already hold.
//
// A default-constructed or moved-from Waker is the no-op waker. Waker is not
// thread-safe as an object (like any value), but the task behind it may be woken from
// any thread, concurrently.
#pragma once

#include "sync/platform/invariant.h"

#include <utility>

namespace weft {

struct RawWakerVTable;

struct RawWaker {
  const void* data;
  const RawWakerVTable* vtable;
};

struct RawWakerVTable {
  RawWaker (*clone)(const void* data);
  void (*wake)(const void* data);         // wake and release this handle
  void (*wake_by_ref)(const void* data);  // wake, keep this handle
  void (*drop)(const void* data) noexcept;
};

namespace detail {
inline constexpr RawWakerVTable noop_vtable{
    [](const void*) {
      return RawWaker{nullptr, &noop_vtable};
    },
    [](const void*) {},
    [](const void*) {},
    [](const void*) noexcept {},
};
}  // namespace detail

class Waker {
 public:
  // The no-op waker: waking it does nothing.
  Waker() noexcept : raw_{nullptr, &detail::noop_vtable} {}
  static Waker noop() noexcept { return Waker(); }
  // Takes ownership of one handle.
  static Waker from_raw(RawWaker raw) noexcept { return Waker(raw); }

  Waker(const Waker& other) : raw_(other.raw_.vtable->clone(other.raw_.data)) {}
  Waker(Waker&& other) noexcept : raw_(std::exchange(other.raw_, noop_raw())) {}
  Waker& operator=(const Waker& other) {
    if (this != &other) {
      RawWaker fresh = other.raw_.vtable->clone(other.raw_.data);  // may throw: *this unchanged
      release();
      raw_ = fresh;
    }
    return *this;
  }
  Waker& operator=(Waker&& other) noexcept {
    if (this != &other) {
      release();
      raw_ = std::exchange(other.raw_, noop_raw());
    }
    return *this;
  }
  ~Waker() { release(); }

  // Wakes the task and consumes this handle. A throwing vtable wake is a failed invariant.
  void wake() noexcept {
    RawWaker raw = std::exchange(raw_, noop_raw());
    try {
      raw.vtable->wake(raw.data);
    } catch (...) {
      WEFT_INVARIANT(!"a Waker's wake threw (wakers must not throw; see waker.h)");
    }
  }
  void wake_by_ref() const noexcept {
    try {
      raw_.vtable->wake_by_ref(raw_.data);
    } catch (...) {
      WEFT_INVARIANT(!"a Waker's wake_by_ref threw (wakers must not throw; see waker.h)");
    }
  }
  bool will_wake(const Waker& other) const noexcept {
    return raw_.data == other.raw_.data && raw_.vtable == other.raw_.vtable;
  }
  const RawWaker& raw() const noexcept { return raw_; }

 private:
  explicit Waker(RawWaker raw) noexcept : raw_(raw) {}
  static RawWaker noop_raw() noexcept { return RawWaker{nullptr, &detail::noop_vtable}; }
  void release() noexcept { raw_.vtable->drop(raw_.data); }

  RawWaker raw_;
};

// What a future's poll() receives: the waker of the task polling it.
class Context {
 public:
  explicit Context(const Waker& waker) noexcept : waker_(&waker) {}
  const Waker& waker() const noexcept { return *waker_; }

 private:
  const Waker* waker_;
};

}  // namespace weft
