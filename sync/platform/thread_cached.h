// weft/sync/platform/thread_cached.h: thread_cached<T>, the loan of one T that each
// thread keeps for reuse, or of a fresh T when the thread's own is already on loan (a
// nested use).
//
//   {
//     platform::thread_cached<Parking> lease;   // this thread's Parking, or a fresh one
//     lease->park();
//   }                                           // given back (a fresh one is destroyed)
//
// The lease is used by the thread that made it, and ends on that thread. T is made with
// its default constructor, on the first lease of each thread.
// Production: a thread_local T, destroyed when the thread exits; a lease taken after that,
// by a destructor that runs later in the thread's exit (another thread_local, or on the
// main thread a static object), gets a fresh T, as a nested one does. Model: every lease gets
// a fresh T, destroyed with the lease: Relacy's threads are fibers of one OS thread and
// its objects live for one execution, and Relacy gives no hook at a thread's end to
// destroy a cached T. The model thus checks the nested path, which production also runs.
#pragma once

#include "sync/platform/config.h"

#include <optional>

namespace weft::platform {

template <class T>
class thread_cached {
 public:
  thread_cached() {
#if !defined(WEFT_MODEL)
    if (!slot_gone()) {
      Slot& slot = slot_of_this_thread();
      if (!slot.on_loan) {
        slot.on_loan = true;
        cached_ = &slot;
        value_ = &slot.value;
        return;
      }
    }
#endif
    value_ = &fresh_.emplace();
  }
  ~thread_cached() {
#if !defined(WEFT_MODEL)
    if (cached_ != nullptr) cached_->on_loan = false;
#endif
  }
  thread_cached(const thread_cached&) = delete;
  thread_cached& operator=(const thread_cached&) = delete;

  T& operator*() const noexcept { return *value_; }
  T* operator->() const noexcept { return value_; }

 private:
#if !defined(WEFT_MODEL)
  struct Slot {
    T value;
    bool on_loan = false;
    ~Slot() { slot_gone() = true; }
  };
  static Slot& slot_of_this_thread() {
    thread_local Slot slot;
    return slot;
  }
  // Set when the thread's Slot is destroyed. No destructor, so still readable by the
  // destructors that run after the Slot's in the thread's exit.
  static bool& slot_gone() {
    thread_local bool gone = false;
    return gone;
  }
  Slot* cached_ = nullptr;
#endif
  std::optional<T> fresh_;
  T* value_ = nullptr;
};

}  // namespace weft::platform
