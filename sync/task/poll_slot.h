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
// take() has the same stall to avoid when the awaiting body takes the output: a trivially
// copyable Result or optional (a channel's receive, a oneshot's value) is copied as one
// block, read right after the poll's narrow stores; take() rebuilds it from its parts
// instead (oneshot 1.11x, unbounded mpsc 1.08x in alternated runs; bench/README).
//
// Not copyable or movable: a slot lives where it is declared (an awaiter, a local).
#pragma once

#include "sync/result.h"
#include "sync/task/future.h"

#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace weft::detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

// `out` moved out; a trivially copyable Result or optional is rebuilt from its parts (the
// tag, then the value) rather than copied as one block, so that each load reads one
// store when `out` was just written field by field (see the top of the file).
template <class Output>
Output moved_by_parts(Output& out) {
  if constexpr (!std::is_trivially_copyable_v<Output>) {
    return std::move(out);
  } else if constexpr (is_result<Output>::value) {
    if (out.is_err()) return Output(Err(std::move(out).error()));
    if constexpr (std::is_void_v<typename Output::value_type>) {
      return Output();
    } else {
      return Output(std::move(out).value());
    }
  } else if constexpr (is_optional<Output>::value) {
    if (!out.has_value()) return Output();
    return Output(std::move(*out));
  } else {
    return std::move(out);
  }
}

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

  // The output of the last poll, which was ready, moved out (see the top of the file).
  Output take() { return moved_by_parts(poll_.value()); }

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
