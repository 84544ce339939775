// weft/testing/throwing_waker.h: Wakers that throw, for the tests of what a primitive does
// when a task's waker misbehaves. Null data, so cloning one never allocates.
//
//   throwing_clone_waker()  clone throws (Tokio's PANICKING_VTABLE): a registration that
//                           clones must leave the primitive as it was (AtomicWaker,
//                           BatchSemaphore's waiter queue);
//   throwing_wake_waker()   wake and wake_by_ref throw: the wake policy of
//                           sync/task/waker.h makes that a failed invariant (see
//                           testing/wake_contract_check.h).
//
// In both, what does not throw does nothing. For unit tests and model scenarios alike.
#pragma once

#include "sync/task/waker.h"

#include <stdexcept>

namespace weft::testing {

namespace detail {
inline constexpr RawWakerVTable throwing_clone_vtable{
    [](const void*) -> RawWaker { throw std::runtime_error("clone"); },
    [](const void*) {},
    [](const void*) {},
    [](const void*) noexcept {},
};

inline constexpr RawWakerVTable throwing_wake_vtable{
    [](const void*) {
      return RawWaker{nullptr, &throwing_wake_vtable};
    },
    [](const void*) { throw std::runtime_error("wake"); },
    [](const void*) { throw std::runtime_error("wake_by_ref"); },
    [](const void*) noexcept {},
};
}  // namespace detail

// A Waker whose clone throws std::runtime_error.
inline Waker throwing_clone_waker() noexcept {
  return Waker::from_raw(RawWaker{nullptr, &detail::throwing_clone_vtable});
}

// A Waker whose wake and wake_by_ref throw std::runtime_error.
inline Waker throwing_wake_waker() noexcept {
  return Waker::from_raw(RawWaker{nullptr, &detail::throwing_wake_vtable});
}

}  // namespace weft::testing
