// weft/examples/peterson/peterson.h: Peterson's mutual exclusion for two threads
// (G. L. Peterson, "Myths About the Mutual Exclusion Problem", IPL 1981).
//
// Each thread raises its flag, names itself the victim, and waits while the other's flag
// is up and it is still the victim. The algorithm needs every thread's store to its own
// flag to be visible before its load of the other's flag: a store followed by a load of
// another variable, which only seq_cst orders. With release stores and acquire loads
// (the `Weak` variant) both threads can read the other's flag as down and enter together.
#pragma once

#include "sync/platform/platform.h"

#include <atomic>

namespace weft::examples {

template <bool Weak = false>
class PetersonLock {
  // The broken variant's orders: right for a message handoff, wrong for store-then-load.
  static constexpr std::memory_order store_order =
      Weak ? std::memory_order_release : std::memory_order_seq_cst;
  static constexpr std::memory_order load_order =
      Weak ? std::memory_order_acquire : std::memory_order_seq_cst;

 public:
  void lock(int me) {
    const int other = 1 - me;
    // seq_cst: my flag and victim stores, then the loads of the other's flag and the
    // victim (store-then-load): in the single total order one of us sees the other.
    interested_[me].store(1, store_order);
    victim_.store(me, store_order);
    platform::Backoff backoff;
    while (interested_[other].load(load_order) == 1 && victim_.load(load_order) == me) {
      backoff.snooze();
    }
  }
  void unlock(int me) {
    // Release: pairs with the other thread's load of my flag in lock().
    interested_[me].store(0, std::memory_order_release);
  }

 private:
  platform::atomic<int> interested_[2] = {platform::atomic<int>{0}, platform::atomic<int>{0}};
  platform::atomic<int> victim_{0};
};

}  // namespace weft::examples
