// weft/sync/task/waker_ref.h: WakerRef, a Waker lent for one poll without a reference
// of its own (what an executor hands a future it polls).
#pragma once

#include "sync/task/waker.h"

namespace weft::detail {

// A Waker that borrows a reference instead of owning one: it is never destroyed, so its
// drop never runs (as Rust's WakerRef / ManuallyDrop<Waker>). Clones are real Wakers.
class WakerRef {
 public:
  explicit WakerRef(RawWaker raw) noexcept : waker_(Waker::from_raw(raw)) {}
  ~WakerRef() {}  // deliberately leaves waker_ alone
  WakerRef(const WakerRef&) = delete;
  WakerRef& operator=(const WakerRef&) = delete;
  const Waker& get() const noexcept { return waker_; }

 private:
  union {
    Waker waker_;
  };
};

// The type-independent part of a spawned task.

}  // namespace weft::detail
