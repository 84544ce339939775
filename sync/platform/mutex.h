// weft/sync/platform/mutex.h: the lock and condition variable for weft's internal locks.
//
//   platform::mutex m;
//   {
//     platform::mutex_guard guard(m);   // locked until the guard is destroyed
//     ...
//     cv.wait(guard);                   // may wake spuriously: always wait in a loop
//     if (cv.wait_until(guard, deadline) == std::cv_status::timeout) ...  // timed out
//   }
//
// Production on Linux: futex_lock and futex_condvar (futex_lock.h, futex_condvar.h), a
// 4-byte futex word each, locked inline (checked in model/futex_lock over a modelled
// futex). Elsewhere (WEFT_PLATFORM_FUTEX is 0): std::mutex and std::condition_variable.
// Model: the checker's own mutex (lock order and happens-before are tracked; a lock never
// released is reported) and condition variable, which wakes spuriously at will, so every
// wait loop is checked.
//
// wait_until(guard, deadline) waits as wait() does, or until platform::clock reaches the
// deadline. A timeout is no synchronization: it orders nothing with any other thread.
// In the model build time is virtual (platform/clock.h): the checker chooses whether the
// wait times out, whatever the deadline, and a timeout moves the clock to the deadline.
#pragma once

#include "sync/platform/clock.h"
#include "sync/platform/config.h"

#include <condition_variable>
#include <source_location>

#if !defined(WEFT_MODEL) && WEFT_PLATFORM_FUTEX
#include "sync/platform/futex_condvar.h"
#include "sync/platform/futex_lock.h"
#elif !defined(WEFT_MODEL)
#include <mutex>
#endif

namespace weft::platform {

class condvar;

#if defined(WEFT_MODEL_DPOR)

class mutex {
  using here = std::source_location;

 public:
  mutex() : id_(detail::engine().new_mutex()) {}
  ~mutex() { dpor::Engine::destroyed(id_); }  // a later operation on it: use after free
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  void lock(here loc = here::current()) { detail::engine().lock(id_, detail::where(loc)); }
  bool try_lock(here loc = here::current()) {
    return detail::engine().try_lock(id_, detail::where(loc));
  }
  void unlock(here loc = here::current()) { detail::engine().unlock(id_, detail::where(loc)); }

 private:
  friend class condvar;
  unsigned id_;
};

#elif defined(WEFT_MODEL_RELACY)

class mutex {
  using here = std::source_location;

 public:
  mutex() = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  void lock(here loc = here::current()) { impl_.lock(detail::where(loc)); }
  bool try_lock(here loc = here::current()) { return impl_.try_lock(detail::where(loc)); }
  void unlock(here loc = here::current()) { impl_.unlock(detail::where(loc)); }

 private:
  friend class condvar;
  rl::mutex impl_;
};

#else

class mutex {
 public:
  mutex() = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

#if WEFT_PLATFORM_FUTEX
  void lock() noexcept { impl_.lock(); }
#else
  void lock() { impl_.lock(); }  // std::mutex::lock may throw std::system_error
#endif
  bool try_lock() noexcept { return impl_.try_lock(); }
  void unlock() noexcept { impl_.unlock(); }

 private:
  friend class condvar;
#if WEFT_PLATFORM_FUTEX
  futex_lock impl_;
#else
  std::mutex impl_;
#endif
};

#endif

// Holds a mutex locked for its lifetime; unlock() ends the hold early.
class [[nodiscard]] mutex_guard {
#if defined(WEFT_MODEL)
  using here = std::source_location;

 public:
  explicit mutex_guard(mutex& m, here loc = here::current()) : mutex_(&m) { m.lock(loc); }
  ~mutex_guard() {
    if (mutex_ != nullptr) mutex_->unlock();
  }
  void unlock(here loc = here::current()) {
    mutex_->unlock(loc);
    mutex_ = nullptr;
  }
#else
 public:
  explicit mutex_guard(mutex& m) : mutex_(&m) { m.lock(); }
  ~mutex_guard() {
    if (mutex_ != nullptr) mutex_->unlock();
  }
  void unlock() noexcept {
    mutex_->unlock();
    mutex_ = nullptr;
  }
#endif
  mutex_guard(const mutex_guard&) = delete;
  mutex_guard& operator=(const mutex_guard&) = delete;
  bool owns_lock() const noexcept { return mutex_ != nullptr; }

 private:
  friend class condvar;
  mutex* mutex_;
};

class condvar {
#if defined(WEFT_MODEL_DPOR)
  using here = std::source_location;

 public:
  condvar() : id_(detail::engine().new_condvar()) {}
  ~condvar() { dpor::Engine::destroyed(id_); }  // a later operation on it: use after free
  // Releases the guard's mutex while waiting; may return without a notify.
  void wait(mutex_guard& guard, here loc = here::current()) {
    detail::engine().wait(id_, guard.mutex_->id_, detail::where(loc));
  }
  // The engine's timed wait: woken by a notify, or timed out (a choice of the search at
  // the wait, so the timeout races every notify; or of the notify that woke it, as C++
  // allows a notified wait to report timeout), the engine moving its clock to the
  // deadline. A spurious wakeup counts as a timeout.
  std::cv_status wait_until(mutex_guard& guard, clock::time_point deadline,
                            here loc = here::current()) {
    return detail::engine().wait(id_, guard.mutex_->id_, detail::where(loc), /*timed=*/true,
                                 deadline.time_since_epoch().count())
               ? std::cv_status::no_timeout
               : std::cv_status::timeout;
  }
  void notify_one(here loc = here::current()) {
    detail::engine().notify(id_, false, detail::where(loc));
  }
  void notify_all(here loc = here::current()) {
    detail::engine().notify(id_, true, detail::where(loc));
  }

 private:
  unsigned id_;
#elif defined(WEFT_MODEL_RELACY)
  using here = std::source_location;

 public:
  condvar() = default;
  // Releases the guard's mutex while waiting; may return without a notify.
  void wait(mutex_guard& guard, here loc = here::current()) {
    impl_.wait(guard.mutex_->impl_, detail::where(loc));
  }
  // Relacy's timed wait: the scheduler may end it with a timeout at any step while it
  // waits. (Its wait_for returns true for a notify only; its wait_until returns the
  // wakeup reason cast to bool, so it is not used.) A spurious wakeup counts as a timeout.
  std::cv_status wait_until(mutex_guard& guard, clock::time_point deadline,
                            here loc = here::current()) {
    if (impl_.wait_for(guard.mutex_->impl_, 0, detail::where(loc)))
      return std::cv_status::no_timeout;
    clock::advance_to(deadline);
    return std::cv_status::timeout;
  }
  void notify_one(here loc = here::current()) { impl_.notify_one(detail::where(loc)); }
  void notify_all(here loc = here::current()) { impl_.notify_all(detail::where(loc)); }

 private:
  rl::condition_variable impl_;
#elif WEFT_PLATFORM_FUTEX
 public:
  condvar() = default;
  void wait(mutex_guard& guard) noexcept { impl_.wait(guard.mutex_->impl_); }
  std::cv_status wait_until(mutex_guard& guard, clock::time_point deadline) noexcept {
    return impl_.wait_until(guard.mutex_->impl_, deadline);
  }
  void notify_one() noexcept { impl_.notify_one(); }
  void notify_all() noexcept { impl_.notify_all(); }

 private:
  futex_condvar impl_;
#else
 public:
  condvar() = default;
  void wait(mutex_guard& guard) {
    std::unique_lock<std::mutex> lock(guard.mutex_->impl_, std::adopt_lock);
    impl_.wait(lock);
    lock.release();  // the guard still owns the lock
  }
  std::cv_status wait_until(mutex_guard& guard, clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(guard.mutex_->impl_, std::adopt_lock);
    const std::cv_status status = impl_.wait_until(lock, deadline);
    lock.release();
    return status;
  }
  void notify_one() noexcept { impl_.notify_one(); }
  void notify_all() noexcept { impl_.notify_all(); }

 private:
  std::condition_variable impl_;
#endif

 public:
  condvar(const condvar&) = delete;
  condvar& operator=(const condvar&) = delete;
};

}  // namespace weft::platform
