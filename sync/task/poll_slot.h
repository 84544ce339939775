// weft/sync/task/poll_slot.h: PollSlot<F>, where the result of polling a future of type F
// is kept: the poll constructs it in place, nothing copies it.
//
// Why: `std::optional<Poll<T>> slot; slot.emplace(future.poll(cx));` builds the Poll in a
// temporary and copies it into the optional. The copy reads back, 16 bytes at a time, a
// Poll that the callee has just written field by field (the value, then one-byte tags):
// on x86 a store-forwarding stall on every ready poll, 10-20% of an uncontended co_await
// (bench/README, "A poll's result is built where it is kept"). A placement new from the
// call's prvalue constructs the Poll in place (C++17 guaranteed copy elision) with any
// compiler; an optional and a conversion operator would do it with GCC only.
//
// Not copyable or movable: a slot lives where it is declared (an awaiter, a local).
#pragma once

#include "sync/task/future.h"

#include <memory>
#include <new>
#include <utility>

namespace weft::detail {

template <Future F>
class PollSlot {
 public:
  using Output = future_output_t<F>;

  PollSlot() noexcept {}
  PollSlot(const PollSlot&) = delete;
  PollSlot& operator=(const PollSlot&) = delete;
  ~PollSlot() { reset(); }

  // Polls `future` into the slot, replacing what it held; true when the poll is ready. A
  // throwing poll leaves the slot empty.
  bool poll(F& future, Context& cx) {
    reset();
    ::new (static_cast<void*>(std::addressof(poll_))) Poll<Output>(future.poll(cx));
    full_ = true;
    return poll_.is_ready();
  }

  // The output of the last poll, which was ready, moved out.
  Output take() { return std::move(poll_).value(); }

  void reset() noexcept {
    if (full_) {
      poll_.~Poll<Output>();
      full_ = false;
    }
  }

 private:
  union {
    Poll<Output> poll_;  // alive while full_
  };
  bool full_ = false;
};

}  // namespace weft::detail
