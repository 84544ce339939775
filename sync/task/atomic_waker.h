// weft/sync/task/atomic_waker.h: AtomicWaker, one waker slot shared by one registering
// task and any number of waking threads.
//
// Ported from tokio/src/sync/task/atomic_waker.rs.
//
// Concurrency: register_by_ref() is called by the one task that waits (concurrent
// registrations are memory-safe, but only one of them wins); wake() and take_waker()
// may be called from any number of threads at once, concurrently with register_by_ref().
// The consumer registers *before* it checks for the event; the producer records the event
// *before* it calls wake(). Then either the consumer sees the event, or the producer's
// wake() reaches the registered waker: no wakeup is lost.
//
// Memory ordering: everything a thread did before wake() happens-before the return of a
// register_by_ref() that follows the wake in the state word's order, and the registered
// waker is visible to the wake() that takes it.
//
// Exceptions: if copying the waker throws, register_by_ref() rethrows it and leaves the
// previous registration in place (still woken by a concurrent wake()). Wakes never throw
// (the wake policy of sync/task/waker.h).
//
//   weft::AtomicWaker task;       // shared
//   // consumer, inside poll(cx):
//   task.register_by_ref(cx.waker());
//   if (done.load(std::memory_order_acquire)) return weft::ready;
//   return weft::pending;
//   // producer:
//   done.store(true, std::memory_order_release);
//   task.wake();
#pragma once

#include "sync/platform/atomic.h"
#include "sync/platform/cell.h"
#include "sync/platform/invariant.h"
#include "sync/platform/spin.h"
#include "sync/task/waker.h"

#include <cstdint>
#include <exception>
#include <optional>
#include <utility>

namespace weft {

class AtomicWaker {
 public:
  AtomicWaker() = default;
  AtomicWaker(const AtomicWaker&) = delete;
  AtomicWaker& operator=(const AtomicWaker&) = delete;

  // Registers `waker` to be woken by the next wake(). Replaces an earlier registration.
  void register_by_ref(const Waker& waker) {
    std::uintptr_t actual = WAITING;
    // Acquire: pairs with the Release fetch_and ending take_waker() and the AcqRel RMWs
    // in register_by_ref() that ended an earlier registration, so the slot is ours to
    // write.
    state_.compare_exchange_strong(actual, REGISTERING, std::memory_order_acquire,
                                   std::memory_order_acquire);
    if (actual == WAKING) {
      // A wake is taking the old waker right now: this task must run again anyway.
      waker.wake_by_ref();
      platform::spin_hint();
      return;
    }
    if (actual != WAITING) {
      // Another registration holds the slot: a caller bug, but memory-safe to drop.
      WEFT_INVARIANT(actual == REGISTERING || actual == (REGISTERING | WAKING));
      return;
    }

    std::optional<Waker> old;
    std::exception_ptr clone_failure;
    waker_.with_mut([&](std::optional<Waker>& slot) {
      if (slot && slot->will_wake(waker)) return;  // the same task: keep its handle
      try {
        Waker fresh = waker;  // may throw: the slot keeps the old waker
        old = std::exchange(slot, std::move(fresh));
      } catch (...) {
        clone_failure = std::current_exception();
      }
    });

    std::uintptr_t registering = REGISTERING;
    // AcqRel: releases the slot write to the next take_waker() (its AcqRel fetch_or);
    // on failure, Acquire pairs with the AcqRel fetch_or in take_waker() that set WAKING
    // meanwhile.
    if (!state_.compare_exchange_strong(registering, WAITING, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
      // A wake() came while we held the slot and left the waking to us.
      WEFT_INVARIANT(registering == (REGISTERING | WAKING));
      std::optional<Waker> current =
          waker_.with_mut([](std::optional<Waker>& slot) { return std::exchange(slot, {}); });
      // AcqRel: nobody else may change the state now; publishes the emptied slot to the
      // next registration (its Acquire CAS).
      state_.exchange(WAITING, std::memory_order_acq_rel);
      if (clone_failure) old = std::exchange(current, std::nullopt);  // slot held the old one
      if (old) old->wake();
      if (current) current->wake();
    }
    if (clone_failure) std::rethrow_exception(clone_failure);
  }

  // Wakes the last registered waker, if any, and empties the slot.
  void wake() {
    if (std::optional<Waker> waker = take_waker()) waker->wake();
  }

  // Takes the registered waker, to wake it later (outside a lock, say).
  std::optional<Waker> take_waker() {
    // AcqRel: Acquire pairs with the AcqRel CAS in register_by_ref() that ended the last
    // registration (the slot's contents); Release hands this thread's earlier writes to the
    // registering thread that will see WAKING.
    const std::uintptr_t previous = state_.fetch_or(WAKING, std::memory_order_acq_rel);
    if (previous != WAITING) {
      // A registration is in progress (it will wake for us) or another wake holds the slot.
      WEFT_INVARIANT(previous == REGISTERING || previous == (REGISTERING | WAKING) ||
                     previous == WAKING);
      return std::nullopt;
    }
    std::optional<Waker> waker =
        waker_.with_mut([](std::optional<Waker>& slot) { return std::exchange(slot, {}); });
    // Release: pairs with the Acquire CAS at the start of register_by_ref().
    state_.fetch_and(~WAKING, std::memory_order_release);
    return waker;
  }

 private:
  // State word: two independent bits; holding either one owns waker_.
  //   WAITING      0: nobody owns the slot
  //   REGISTERING  set by register_by_ref() (from WAITING) while it replaces the waker
  //   WAKING       set by take_waker(); taken from WAITING it owns the slot, set while
  //                REGISTERING it asks the registering thread to do the wake
  static constexpr std::uintptr_t WAITING = 0;
  static constexpr std::uintptr_t REGISTERING = 0b01;
  static constexpr std::uintptr_t WAKING = 0b10;

  platform::atomic<std::uintptr_t> state_{WAITING};
  // Written only by the thread that moved state_ from WAITING (see above).
  platform::cell<std::optional<Waker>> waker_;
};

}  // namespace weft
