// weft/sync/mutex.h: Mutex<T>, an asynchronous mutual-exclusion lock around a T, with
// its guards MutexGuard, OwnedMutexGuard, MappedMutexGuard, OwnedMappedMutexGuard.
//
// Follows tokio/src/sync/mutex.rs: a BatchSemaphore with one permit. lock() is a future
// that completes with a guard; the guard gives the T (operator*, operator->) and unlocks
// when destroyed. Locking is fair: waiters get the lock in the order they first polled
// lock(), so none is starved. Unlike std::mutex it may be held across suspension
// points, and a guard may be dropped on any thread.
//
// Concurrency: lock(), try_lock(), blocking_lock() and the owned variants may be called
// from any thread at once. A guard is a value used by one thread at a time. get_mut()
// and into_inner() require that nobody else uses the mutex (Rust's &mut self / self).
//
// Cancel-safety: lock() is cancel-safe: destroying a pending Lock future leaves the mutex
// as it was (it loses only its place in the queue); if the lock was already handed to
// it, it is passed on to the next waiter.
//
// Memory ordering: everything done under one guard happens-before everything done under
// the next guard of the same mutex.
//
// Errors (sync/result.h): try_lock returns Result<MutexGuard<T>, TryLockError> (the lock
// is held). lock() never fails. blocking_lock_until(deadline) / blocking_lock_for(timeout)
// (and the owned forms) return Err(Elapsed) when the deadline passed first
// (sync/deadline.h); a timeout orders nothing.
//
// Uncontended cost: lock and unlock are one CAS each on the semaphore's word, no lock,
// no allocation. lock()'s first poll makes that CAS inline, before its waiter node or
// the waiter lock is touched; blocking_lock() tries it before it sets up a future and a
// parker. try_lock() and unlock skip even the load before the CAS (the semaphore is
// built usually_idle: they guess the word of an idle or singly-held mutex).
//
//   weft::Mutex<int> m(1);
//   {
//     auto guard = m.blocking_lock();               // or co_await / poll m.lock()
//     *guard += 1;
//   }                                               // unlocked here
//   auto g = m.try_lock();                          // Result<MutexGuard<int>, TryLockError>
//   CHECK(g.is_ok());
//   CHECK(**g == 2);
//   auto first = weft::MutexGuard<int>::map(std::move(*g), [](int& v) -> int& { return v; });
#pragma once

#include "sync/deadline.h"
#include "sync/detail/batch_semaphore.h"
#include "sync/platform/cell.h"
#include "sync/platform/invariant.h"
#include "sync/result.h"
#include "sync/task/block_on.h"
#include "sync/task/poll.h"
#include "sync/task/waker.h"

#include <chrono>
#include <memory>
#include <type_traits>
#include <utility>

namespace weft {

// Error of try_lock(): the mutex is locked. (Tokio's TryLockError.)
struct TryLockError {
  const char* what() const noexcept { return "operation would block"; }
  friend bool operator==(const TryLockError&, const TryLockError&) = default;
};

template <class T>
class Mutex;
template <class T>
class MutexGuard;
template <class T>
class OwnedMutexGuard;
template <class U>
class MappedMutexGuard;
template <class T, class U>
class OwnedMappedMutexGuard;

namespace detail {
// The unlock shared by every guard: give the one permit back.
struct MutexPermit {
  BatchSemaphore* semaphore = nullptr;
  MutexPermit() = default;
  explicit MutexPermit(BatchSemaphore* s) noexcept : semaphore(s) {}
  MutexPermit(MutexPermit&& other) noexcept : semaphore(std::exchange(other.semaphore, nullptr)) {}
  MutexPermit& operator=(MutexPermit&& other) noexcept {
    if (this != &other) {
      reset();
      semaphore = std::exchange(other.semaphore, nullptr);
    }
    return *this;
  }
  ~MutexPermit() { reset(); }
  // Never throws (see BatchSemaphore::release_saturating; one permit cannot overflow).
  void reset() noexcept {
    if (semaphore != nullptr) std::exchange(semaphore, nullptr)->release_saturating(1);
  }
};
}  // namespace detail

template <class T>
class Mutex {
 public:
  // Constructs the T in place from args.
  template <class... Args>
  requires std::is_constructible_v<T, Args&&...>
  explicit Mutex(Args&&... args)
      : semaphore_(1, detail::BatchSemaphore::usually_idle), data_(std::forward<Args>(args)...) {}
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // The future of lock(): Poll<MutexGuard<T>>. Movable until first polled.
  class [[nodiscard]] Lock {
   public:
    Poll<MutexGuard<T>> poll(Context& cx) {
      auto p = acquire_.poll(cx);
      if (p.is_pending()) return pending;
      WEFT_INVARIANT(p.value().is_ok());  // a Mutex's semaphore is never closed
      return MutexGuard<T>(mutex_);
    }

   private:
    friend class Mutex;
    explicit Lock(Mutex* m) : mutex_(m), acquire_(m->semaphore_.acquire(1)) {}
    Mutex* mutex_;
    detail::BatchSemaphore::Acquire acquire_;
  };

  // The future of lock_owned(): Poll<OwnedMutexGuard<T>>. Keeps the mutex alive.
  class [[nodiscard]] LockOwned {
   public:
    Poll<OwnedMutexGuard<T>> poll(Context& cx) {
      auto p = acquire_.poll(cx);
      if (p.is_pending()) return pending;
      WEFT_INVARIANT(p.value().is_ok());
      return OwnedMutexGuard<T>(mutex_);
    }

   private:
    friend class Mutex;
    explicit LockOwned(std::shared_ptr<Mutex> m)
        : mutex_(std::move(m)), acquire_(mutex_->semaphore_.acquire(1)) {}
    std::shared_ptr<Mutex> mutex_;  // declared first: outlives acquire_
    detail::BatchSemaphore::Acquire acquire_;
  };

  // Waits for the lock. Cancel-safe; fair (FIFO).
  Lock lock() { return Lock(this); }
  // Locks if nobody holds the lock (and nobody waits for it).
  Result<MutexGuard<T>, TryLockError> try_lock() {
    if (semaphore_.try_acquire(1).is_err()) return Err(TryLockError{});
    return MutexGuard<T>(this);
  }
  // lock() on the calling thread, parking it while it waits. Tries the lock first (one
  // CAS; never ahead of a queued waiter), so the uncontended case sets up no future and
  // no parker.
  MutexGuard<T> blocking_lock() {
    if (semaphore_.try_acquire(1).is_ok()) return MutexGuard<T>(this);
    return block_on(lock());
  }
  // blocking_lock() that gives up at the deadline with Err(Elapsed) (sync/deadline.h): the
  // cancelled Lock loses only its place in the queue, and a lock handed to it as the time
  // ran out is taken (or passed on), never lost.
  Result<MutexGuard<T>, Elapsed> blocking_lock_until(Deadline deadline) {
    if (semaphore_.try_acquire(1).is_ok()) return MutexGuard<T>(this);
    return detail::block_on_or_elapsed(lock(), deadline);
  }
  template <class Rep, class Period>
  Result<MutexGuard<T>, Elapsed> blocking_lock_for(std::chrono::duration<Rep, Period> timeout) {
    return blocking_lock_until(platform::deadline_after(timeout));
  }

  // Owned variants (Tokio's methods on Arc<Mutex<T>>): the guard keeps the mutex alive.
  static LockOwned lock_owned(std::shared_ptr<Mutex> m) { return LockOwned(std::move(m)); }
  static Result<OwnedMutexGuard<T>, TryLockError> try_lock_owned(std::shared_ptr<Mutex> m) {
    if (m->semaphore_.try_acquire(1).is_err()) return Err(TryLockError{});
    return OwnedMutexGuard<T>(std::move(m));
  }
  static OwnedMutexGuard<T> blocking_lock_owned(std::shared_ptr<Mutex> m) {
    if (m->semaphore_.try_acquire(1).is_ok()) return OwnedMutexGuard<T>(std::move(m));
    return block_on(lock_owned(std::move(m)));
  }
  static Result<OwnedMutexGuard<T>, Elapsed> blocking_lock_owned_until(std::shared_ptr<Mutex> m,
                                                                       Deadline deadline) {
    if (m->semaphore_.try_acquire(1).is_ok()) return OwnedMutexGuard<T>(std::move(m));
    return detail::block_on_or_elapsed(lock_owned(std::move(m)), deadline);
  }
  template <class Rep, class Period>
  static Result<OwnedMutexGuard<T>, Elapsed> blocking_lock_owned_for(
      std::shared_ptr<Mutex> m, std::chrono::duration<Rep, Period> timeout) {
    return blocking_lock_owned_until(std::move(m), platform::deadline_after(timeout));
  }

  // The T without locking. Precondition: no guard exists and no other thread uses the
  // mutex (Rust's &mut self).
  T& get_mut() {
    return *data_.with_mut([](T& v) { return &v; });
  }
  // Moves the T out. Same precondition as get_mut().
  T into_inner() && { return std::move(get_mut()); }

 private:
  friend class MutexGuard<T>;
  friend class OwnedMutexGuard<T>;
  T* data() {
    return data_.with_mut([](T& v) { return &v; });
  }

  detail::BatchSemaphore semaphore_;
  // Protected by the semaphore's single permit: touched only by the guard holder.
  platform::cell<T> data_;
};

// Holds a Mutex<T> locked; unlocks when destroyed. Move-only.
template <class T>
class [[nodiscard]] MutexGuard {
 public:
  MutexGuard(MutexGuard&& other) noexcept : mutex_(std::exchange(other.mutex_, nullptr)) {}
  MutexGuard& operator=(MutexGuard&& other) noexcept {
    if (this != &other) {
      unlock();
      mutex_ = std::exchange(other.mutex_, nullptr);
    }
    return *this;
  }
  MutexGuard(const MutexGuard&) = delete;
  MutexGuard& operator=(const MutexGuard&) = delete;
  ~MutexGuard() { unlock(); }

  T& operator*() const { return *mutex_->data(); }
  T* operator->() const { return mutex_->data(); }
  Mutex<T>& mutex() const noexcept { return *mutex_; }

  // Makes a guard for a part of the T (f: T& -> U&); the lock stays held.
  template <class F>
  static auto map(MutexGuard&& guard, F&& f) {
    using U = std::remove_reference_t<std::invoke_result_t<F, T&>>;
    U* part = &std::forward<F>(f)(*guard);
    return MappedMutexGuard<U>(std::move(guard).take_permit(), part);
  }
  // As map, for an f: T& -> U* that may return nullptr; then the guard is given back.
  template <class F>
  static auto try_map(MutexGuard&& guard, F&& f)
      -> Result<MappedMutexGuard<std::remove_pointer_t<std::invoke_result_t<F, T&>>>, MutexGuard> {
    using U = std::remove_pointer_t<std::invoke_result_t<F, T&>>;
    U* part = std::forward<F>(f)(*guard);
    if (part == nullptr) return Err(std::move(guard));
    return MappedMutexGuard<U>(std::move(guard).take_permit(), part);
  }

 private:
  friend class Mutex<T>;
  explicit MutexGuard(Mutex<T>* m) noexcept : mutex_(m) {}
  // The lock, as a permit for a mapped guard; this guard is left empty.
  detail::MutexPermit take_permit() && {
    return detail::MutexPermit(&std::exchange(mutex_, nullptr)->semaphore_);
  }
  // Never throws (see BatchSemaphore::release_saturating; one permit cannot overflow).
  void unlock() noexcept {
    if (mutex_ != nullptr) std::exchange(mutex_, nullptr)->semaphore_.release_saturating(1);
  }
  // The locked mutex, or nullptr once moved from. One pointer, not a pointer and a
  // MutexPermit: a guard returned through a future's Poll is then one 8-byte store and
  // load (two stores read back as one 16-byte load miss store-to-load forwarding; measured
  // on mutex_uncontended).
  Mutex<T>* mutex_;
};

// A MutexGuard for a part of the T (from map / try_map); unlocks when destroyed.
template <class U>
class [[nodiscard]] MappedMutexGuard {
 public:
  MappedMutexGuard(MappedMutexGuard&&) noexcept = default;
  MappedMutexGuard& operator=(MappedMutexGuard&&) noexcept = default;

  U& operator*() const noexcept { return *data_; }
  U* operator->() const noexcept { return data_; }

  template <class F>
  static auto map(MappedMutexGuard&& guard, F&& f) {
    using V = std::remove_reference_t<std::invoke_result_t<F, U&>>;
    V* part = &std::forward<F>(f)(*guard);
    return MappedMutexGuard<V>(std::move(guard.permit_), part);
  }
  template <class F>
  static auto try_map(MappedMutexGuard&& guard, F&& f)
      -> Result<MappedMutexGuard<std::remove_pointer_t<std::invoke_result_t<F, U&>>>,
                MappedMutexGuard> {
    using V = std::remove_pointer_t<std::invoke_result_t<F, U&>>;
    V* part = std::forward<F>(f)(*guard);
    if (part == nullptr) return Err(std::move(guard));
    return MappedMutexGuard<V>(std::move(guard.permit_), part);
  }

 private:
  template <class>
  friend class MutexGuard;
  template <class>
  friend class MappedMutexGuard;
  MappedMutexGuard(detail::MutexPermit&& permit, U* data) noexcept
      : permit_(std::move(permit)), data_(data) {}
  detail::MutexPermit permit_;
  U* data_;
};

// Holds a Mutex<T> (through a std::shared_ptr) locked; unlocks when destroyed.
template <class T>
class [[nodiscard]] OwnedMutexGuard {
 public:
  OwnedMutexGuard(OwnedMutexGuard&&) noexcept = default;
  OwnedMutexGuard& operator=(OwnedMutexGuard&& other) noexcept {
    if (this != &other) {
      permit_ = std::move(other.permit_);  // unlocks ours first
      mutex_ = std::move(other.mutex_);
    }
    return *this;
  }
  ~OwnedMutexGuard() { permit_.reset(); }  // unlock before the mutex may go

  T& operator*() const { return *mutex_->data(); }
  T* operator->() const { return mutex_->data(); }
  const std::shared_ptr<Mutex<T>>& mutex() const noexcept { return mutex_; }

  template <class F>
  static auto map(OwnedMutexGuard&& guard, F&& f) {
    using U = std::remove_reference_t<std::invoke_result_t<F, T&>>;
    U* part = &std::forward<F>(f)(*guard);
    return OwnedMappedMutexGuard<T, U>(std::move(guard.mutex_), std::move(guard.permit_), part);
  }
  template <class F>
  static auto try_map(OwnedMutexGuard&& guard, F&& f)
      -> Result<OwnedMappedMutexGuard<T, std::remove_pointer_t<std::invoke_result_t<F, T&>>>,
                OwnedMutexGuard> {
    using U = std::remove_pointer_t<std::invoke_result_t<F, T&>>;
    U* part = std::forward<F>(f)(*guard);
    if (part == nullptr) return Err(std::move(guard));
    return OwnedMappedMutexGuard<T, U>(std::move(guard.mutex_), std::move(guard.permit_), part);
  }

 private:
  friend class Mutex<T>;
  explicit OwnedMutexGuard(std::shared_ptr<Mutex<T>> m) noexcept
      : mutex_(std::move(m)), permit_(&mutex_->semaphore_) {}
  std::shared_ptr<Mutex<T>> mutex_;  // declared first: destroyed after permit_ unlocks
  detail::MutexPermit permit_;
};

// An OwnedMutexGuard for a part U of the T.
template <class T, class U>
class [[nodiscard]] OwnedMappedMutexGuard {
 public:
  OwnedMappedMutexGuard(OwnedMappedMutexGuard&&) noexcept = default;
  OwnedMappedMutexGuard& operator=(OwnedMappedMutexGuard&& other) noexcept {
    if (this != &other) {
      permit_ = std::move(other.permit_);
      mutex_ = std::move(other.mutex_);
      data_ = other.data_;
    }
    return *this;
  }
  ~OwnedMappedMutexGuard() { permit_.reset(); }

  U& operator*() const noexcept { return *data_; }
  U* operator->() const noexcept { return data_; }
  const std::shared_ptr<Mutex<T>>& mutex() const noexcept { return mutex_; }

  template <class F>
  static auto map(OwnedMappedMutexGuard&& guard, F&& f) {
    using V = std::remove_reference_t<std::invoke_result_t<F, U&>>;
    V* part = &std::forward<F>(f)(*guard);
    return OwnedMappedMutexGuard<T, V>(std::move(guard.mutex_), std::move(guard.permit_), part);
  }
  template <class F>
  static auto try_map(OwnedMappedMutexGuard&& guard, F&& f)
      -> Result<OwnedMappedMutexGuard<T, std::remove_pointer_t<std::invoke_result_t<F, U&>>>,
                OwnedMappedMutexGuard> {
    using V = std::remove_pointer_t<std::invoke_result_t<F, U&>>;
    V* part = std::forward<F>(f)(*guard);
    if (part == nullptr) return Err(std::move(guard));
    return OwnedMappedMutexGuard<T, V>(std::move(guard.mutex_), std::move(guard.permit_), part);
  }

 private:
  template <class>
  friend class OwnedMutexGuard;
  template <class, class>
  friend class OwnedMappedMutexGuard;
  OwnedMappedMutexGuard(std::shared_ptr<Mutex<T>> m, detail::MutexPermit&& permit, U* data) noexcept
      : mutex_(std::move(m)), permit_(std::move(permit)), data_(data) {}
  std::shared_ptr<Mutex<T>> mutex_;
  detail::MutexPermit permit_;
  U* data_;
};

}  // namespace weft
