// weft/sync/task/thread_waker.h: a Waker that unparks a blocked thread. The heart of
// block_on and of every blocking_* operation.
#pragma once

#include "sync/platform/atomic.h"
#include "sync/platform/clock.h"
#include "sync/platform/parker.h"
#include "sync/task/waker.h"

#include <cstddef>

namespace weft::detail {

// A reference-counted parker: the blocked thread holds one reference, every Waker made
// from it one more. The last reference frees it.
class ThreadWaker {
 public:
  static ThreadWaker* create() { return new ThreadWaker(); }

  Waker waker() {
    acquire();
    return Waker::from_raw(RawWaker{this, &vtable});
  }
  void park() { parker_.park(); }
  bool park_until(platform::clock::time_point deadline) { return parker_.park_until(deadline); }
  void unpark() { parker_.unpark(); }
  void release() noexcept {
    // AcqRel: the last owner's delete must see every other owner's use of the parker;
    // pairs with the other owners' decrements.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  ThreadWaker() = default;
  // Relaxed: a new reference is made from one the caller already holds (as Arc::clone).
  void acquire() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }

  static const ThreadWaker* self(const void* data) { return static_cast<const ThreadWaker*>(data); }
  static ThreadWaker* mut(const void* data) {
    return const_cast<ThreadWaker*>(static_cast<const ThreadWaker*>(data));
  }
  static RawWaker clone(const void* data) {
    mut(data)->acquire();
    return RawWaker{data, &vtable};
  }
  static void wake(const void* data) {
    mut(data)->unpark();
    mut(data)->release();
  }
  static void wake_by_ref(const void* data) { mut(data)->unpark(); }
  static void drop(const void* data) noexcept { mut(data)->release(); }

  static constexpr RawWakerVTable vtable{&clone, &wake, &wake_by_ref, &drop};

  platform::atomic<std::size_t> refs_{1};
  platform::parker parker_;
};

}  // namespace weft::detail
