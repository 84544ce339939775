// weft/sync/rwlock.h: RwLock<T>, an asynchronous fair reader-writer lock around a T, and
// its guards: RwLockReadGuard, RwLockWriteGuard, RwLockMappedWriteGuard and the owned
// variants OwnedRwLockReadGuard, OwnedRwLockWriteGuard, OwnedRwLockMappedWriteGuard.
//
// Follows tokio/src/sync/rwlock.rs (and its guard modules): a BatchSemaphore with
// max_readers permits. A read takes one permit, a write takes all of them. Because the
// semaphore is FIFO and hands permits to the oldest waiter first, the lock is fair and
// write-preferring: a read lock is not given out until every write request queued before
// it has been granted and released (Tokio #7919's wording), so readers never starve
// writers, and waiters are served in the order they first polled.
//
// Concurrency: every member function may be called from any thread at once; a guard is a
// value used by one thread at a time (read guards of one lock may live on many threads
// together). get_mut() and into_inner() require that nobody else uses the lock.
//
// Cancel-safety: read() and write() are cancel-safe: destroying a pending future gives
// back any permits already assigned to it (it loses only its place in the queue).
//
// Memory ordering: a write guard's release happens-before every later guard's
// acquisition; a read guard's release happens-before the next write guard's acquisition.
//
// Errors (sync/result.h): try_read / try_write return Result<Guard, TryLockError> (from
// sync/mutex.h). read() and write() never fail; blocking_read_until / blocking_write_until
// (deadline), the _for(timeout) and owned forms return Err(Elapsed) when the deadline
// passed first (sync/deadline.h). with_max_readers(0 or more than
// MAX_READS) throws std::invalid_argument.
//
// Guards: operator* / operator-> give const U& for read guards and U& for write guards.
// map / try_map make a guard for a part of the value (try_map takes an f returning a
// pointer, nullptr for "no", and gives the original guard back in the error);
// downgrade turns a write guard into a read guard atomically (no writer can slip in);
// downgrade_map does both (try_downgrade_map with an f that may say no, keeping the write
// guard); into_mapped turns a write guard into a mapped one.
//
//   weft::RwLock<int> lock(5);
//   {
//     auto r1 = lock.blocking_read();
//     auto r2 = lock.try_read();                    // many readers at once
//     CHECK(*r1 + **r2 == 10);
//     CHECK(lock.try_write().is_err());
//   }
//   auto w = lock.blocking_write();
//   *w += 1;
//   auto r = weft::RwLockWriteGuard<int>::downgrade(std::move(w));  // still no writer
//   CHECK(*r == 6);
#pragma once

#include "sync/deadline.h"
#include "sync/detail/batch_semaphore.h"
#include "sync/mutex.h"  // TryLockError
#include "sync/platform/cell.h"
#include "sync/platform/invariant.h"
#include "sync/result.h"
#include "sync/task/block_on.h"
#include "sync/task/poll.h"
#include "sync/task/waker.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace weft {

template <class T>
class RwLock;
template <class U>
class RwLockReadGuard;
template <class T>
class RwLockWriteGuard;
template <class U>
class RwLockMappedWriteGuard;
template <class T, class U = T>
class OwnedRwLockReadGuard;
template <class T>
class OwnedRwLockWriteGuard;
template <class T, class U = T>
class OwnedRwLockMappedWriteGuard;

namespace detail {
// `count` permits of a semaphore, given back when destroyed.
struct RwPermits {
  BatchSemaphore* semaphore = nullptr;
  std::uint32_t count = 0;
  RwPermits() = default;
  RwPermits(BatchSemaphore* s, std::uint32_t n) noexcept : semaphore(s), count(n) {}
  RwPermits(RwPermits&& other) noexcept
      : semaphore(std::exchange(other.semaphore, nullptr)), count(std::exchange(other.count, 0)) {}
  RwPermits& operator=(RwPermits&& other) noexcept {
    if (this != &other) {
      reset();
      semaphore = std::exchange(other.semaphore, nullptr);
      count = std::exchange(other.count, 0);
    }
    return *this;
  }
  ~RwPermits() { reset(); }
  // Never throws: the lock's count never exceeds max_reads, so this cannot saturate.
  void reset() noexcept {
    if (semaphore != nullptr && count != 0) semaphore->release_saturating(count);
    semaphore = nullptr;
    count = 0;
  }
  // Keeps one permit (a read), gives the rest back: downgrade.
  void keep_one() noexcept {
    if (count > 1) semaphore->release_saturating(count - 1);
    count = 1;
  }
};

template <class F, class A>
using mapped_ref_t = std::remove_reference_t<std::invoke_result_t<F, A>>;
template <class F, class A>
using mapped_ptr_t = std::remove_pointer_t<std::invoke_result_t<F, A>>;
// What a read mapping f: const U& -> const V& (or -> const V*) gives: V.
template <class F, class A>
using mapped_read_t = std::remove_cvref_t<std::invoke_result_t<F, A>>;
template <class F, class A>
using mapped_read_ptr_t = std::remove_cv_t<std::remove_pointer_t<std::invoke_result_t<F, A>>>;
}  // namespace detail

template <class T>
class RwLock {
 public:
  // The default and largest max_readers (Tokio's MAX_READS); shrunk in the model build
  // (as Tokio does under Loom) so that a write's batch of permits stays small.
#if defined(WEFT_MODEL)
  static constexpr std::uint32_t MAX_READS = 10;
#else
  static constexpr std::uint32_t MAX_READS = UINT32_MAX >> 3;
#endif

  template <class... Args>
  requires std::is_constructible_v<T, Args&&...>
  explicit RwLock(Args&&... args) : RwLock(tag{}, MAX_READS, std::forward<Args>(args)...) {}

  // At most max_reads readers at once (1..MAX_READS, else std::invalid_argument).
  struct with_max_readers_t {};
  static constexpr with_max_readers_t with_max_readers_tag{};
  template <class... Args>
  RwLock(with_max_readers_t, std::uint32_t max_reads, Args&&... args)
      : RwLock(tag{}, checked_max(max_reads), std::forward<Args>(args)...) {}
  // Tokio's RwLock::with_max_readers(value, max_reads).
  static RwLock with_max_readers(T value, std::uint32_t max_reads) {
    return RwLock(with_max_readers_tag, max_reads, std::move(value));
  }
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  // The future of read(): Poll<RwLockReadGuard<T>>. Movable until first polled.
  class [[nodiscard]] Read {
   public:
    Poll<RwLockReadGuard<T>> poll(Context& cx) {
      auto p = acquire_.poll(cx);
      if (p.is_pending()) return pending;
      WEFT_INVARIANT(p.value().is_ok());  // an RwLock's semaphore is never closed
      return lock_->make_read();
    }

   private:
    friend class RwLock;
    explicit Read(RwLock* l) : lock_(l), acquire_(l->semaphore_.acquire(1)) {}
    RwLock* lock_;
    detail::BatchSemaphore::Acquire acquire_;
  };

  // The future of write(): Poll<RwLockWriteGuard<T>>. Movable until first polled.
  class [[nodiscard]] Write {
   public:
    Poll<RwLockWriteGuard<T>> poll(Context& cx) {
      auto p = acquire_.poll(cx);
      if (p.is_pending()) return pending;
      WEFT_INVARIANT(p.value().is_ok());
      return lock_->make_write();
    }

   private:
    friend class RwLock;
    explicit Write(RwLock* l) : lock_(l), acquire_(l->semaphore_.acquire(l->max_readers_)) {}
    RwLock* lock_;
    detail::BatchSemaphore::Acquire acquire_;
  };

  // Owned futures: keep the lock alive.
  class [[nodiscard]] ReadOwned {
   public:
    Poll<OwnedRwLockReadGuard<T>> poll(Context& cx) {
      auto p = acquire_.poll(cx);
      if (p.is_pending()) return pending;
      WEFT_INVARIANT(p.value().is_ok());
      return make_read_owned(lock_);
    }

   private:
    friend class RwLock;
    explicit ReadOwned(std::shared_ptr<RwLock> l)
        : lock_(std::move(l)), acquire_(lock_->semaphore_.acquire(1)) {}
    std::shared_ptr<RwLock> lock_;  // declared first: outlives acquire_
    detail::BatchSemaphore::Acquire acquire_;
  };

  class [[nodiscard]] WriteOwned {
   public:
    Poll<OwnedRwLockWriteGuard<T>> poll(Context& cx) {
      auto p = acquire_.poll(cx);
      if (p.is_pending()) return pending;
      WEFT_INVARIANT(p.value().is_ok());
      return make_write_owned(lock_);
    }

   private:
    friend class RwLock;
    explicit WriteOwned(std::shared_ptr<RwLock> l)
        : lock_(std::move(l)), acquire_(lock_->semaphore_.acquire(lock_->max_readers_)) {}
    std::shared_ptr<RwLock> lock_;
    detail::BatchSemaphore::Acquire acquire_;
  };

  // Shared access; waits behind earlier writers (and readers queued behind them).
  Read read() { return Read(this); }
  // Exclusive access; waits until every earlier guard is gone.
  Write write() { return Write(this); }
  Result<RwLockReadGuard<T>, TryLockError> try_read() {
    if (semaphore_.try_acquire(1).is_err()) return Err(TryLockError{});
    return make_read();
  }
  Result<RwLockWriteGuard<T>, TryLockError> try_write() {
    if (semaphore_.try_acquire(max_readers_).is_err()) return Err(TryLockError{});
    return make_write();
  }
  // read() / write() on the calling thread, parking it while it waits. Each tries the
  // permits first (one CAS; never ahead of a queued waiter).
  RwLockReadGuard<T> blocking_read() {
    if (semaphore_.try_acquire(1).is_ok()) return make_read();
    return block_on(read());
  }
  RwLockWriteGuard<T> blocking_write() {
    if (semaphore_.try_acquire(max_readers_).is_ok()) return make_write();
    return block_on(write());
  }
  // The same, giving up at the deadline with Err(Elapsed) (sync/deadline.h): the
  // cancelled future gives back any permits it was handed, so nothing is lost.
  Result<RwLockReadGuard<T>, Elapsed> blocking_read_until(Deadline deadline) {
    if (semaphore_.try_acquire(1).is_ok()) return make_read();
    return detail::block_on_or_elapsed(read(), deadline);
  }
  Result<RwLockWriteGuard<T>, Elapsed> blocking_write_until(Deadline deadline) {
    if (semaphore_.try_acquire(max_readers_).is_ok()) return make_write();
    return detail::block_on_or_elapsed(write(), deadline);
  }
  template <class Rep, class Period>
  Result<RwLockReadGuard<T>, Elapsed> blocking_read_for(
      std::chrono::duration<Rep, Period> timeout) {
    return blocking_read_until(platform::deadline_after(timeout));
  }
  template <class Rep, class Period>
  Result<RwLockWriteGuard<T>, Elapsed> blocking_write_for(
      std::chrono::duration<Rep, Period> timeout) {
    return blocking_write_until(platform::deadline_after(timeout));
  }

  // Owned variants (Tokio's methods on Arc<RwLock<T>>).
  static ReadOwned read_owned(std::shared_ptr<RwLock> l) { return ReadOwned(std::move(l)); }
  static WriteOwned write_owned(std::shared_ptr<RwLock> l) { return WriteOwned(std::move(l)); }
  static Result<OwnedRwLockReadGuard<T>, TryLockError> try_read_owned(std::shared_ptr<RwLock> l) {
    if (l->semaphore_.try_acquire(1).is_err()) return Err(TryLockError{});
    return make_read_owned(l);
  }
  static Result<OwnedRwLockWriteGuard<T>, TryLockError> try_write_owned(std::shared_ptr<RwLock> l) {
    if (l->semaphore_.try_acquire(l->max_readers_).is_err()) return Err(TryLockError{});
    return make_write_owned(l);
  }
  static OwnedRwLockReadGuard<T> blocking_read_owned(std::shared_ptr<RwLock> l) {
    if (l->semaphore_.try_acquire(1).is_ok()) return make_read_owned(std::move(l));
    return block_on(read_owned(std::move(l)));
  }
  static OwnedRwLockWriteGuard<T> blocking_write_owned(std::shared_ptr<RwLock> l) {
    if (l->semaphore_.try_acquire(l->max_readers_).is_ok()) return make_write_owned(std::move(l));
    return block_on(write_owned(std::move(l)));
  }
  static Result<OwnedRwLockReadGuard<T>, Elapsed> blocking_read_owned_until(
      std::shared_ptr<RwLock> l, Deadline deadline) {
    if (l->semaphore_.try_acquire(1).is_ok()) return make_read_owned(std::move(l));
    return detail::block_on_or_elapsed(read_owned(std::move(l)), deadline);
  }
  static Result<OwnedRwLockWriteGuard<T>, Elapsed> blocking_write_owned_until(
      std::shared_ptr<RwLock> l, Deadline deadline) {
    if (l->semaphore_.try_acquire(l->max_readers_).is_ok()) return make_write_owned(std::move(l));
    return detail::block_on_or_elapsed(write_owned(std::move(l)), deadline);
  }
  template <class Rep, class Period>
  static Result<OwnedRwLockReadGuard<T>, Elapsed> blocking_read_owned_for(
      std::shared_ptr<RwLock> l, std::chrono::duration<Rep, Period> timeout) {
    return blocking_read_owned_until(std::move(l), platform::deadline_after(timeout));
  }
  template <class Rep, class Period>
  static Result<OwnedRwLockWriteGuard<T>, Elapsed> blocking_write_owned_for(
      std::shared_ptr<RwLock> l, std::chrono::duration<Rep, Period> timeout) {
    return blocking_write_owned_until(std::move(l), platform::deadline_after(timeout));
  }

  // The value without locking. Precondition: nobody else uses the lock (&mut self).
  T& get_mut() {
    return *data_.with_mut([](T& v) { return &v; });
  }
  T into_inner() && { return std::move(get_mut()); }
  std::uint32_t max_readers() const noexcept { return max_readers_; }

 private:
  struct tag {};
  template <class... Args>
  RwLock(tag, std::uint32_t max_reads, Args&&... args)
      : max_readers_(max_reads), semaphore_(max_reads), data_(std::forward<Args>(args)...) {}

  static std::uint32_t checked_max(std::uint32_t max_reads) {
    // 0 readers: a write takes max_readers permits, so it would take none (Tokio #8076).
    if (max_reads == 0) throw std::invalid_argument("a RwLock may not be created with 0 readers");
    if (max_reads > MAX_READS) {
      throw std::invalid_argument("a RwLock may not be created with more than MAX_READS (" +
                                  std::to_string(MAX_READS) + ") readers, asked for " +
                                  std::to_string(max_reads));
    }
    return max_reads;
  }

  // A read's access to the data (checked as a read by the model build).
  const T* read_ptr() const {
    return data_.with([](const T& v) { return &v; });
  }
  T* write_ptr() {
    return data_.with_mut([](T& v) { return &v; });
  }
  RwLockReadGuard<T> make_read() {
    return RwLockReadGuard<T>(detail::RwPermits(&semaphore_, 1), read_ptr());
  }
  RwLockWriteGuard<T> make_write() {
    return RwLockWriteGuard<T>(detail::RwPermits(&semaphore_, max_readers_), write_ptr());
  }
  static OwnedRwLockReadGuard<T> make_read_owned(std::shared_ptr<RwLock> l) {
    RwLock* raw = l.get();
    return OwnedRwLockReadGuard<T>(std::move(l), detail::RwPermits(&raw->semaphore_, 1),
                                   raw->read_ptr());
  }
  static OwnedRwLockWriteGuard<T> make_write_owned(std::shared_ptr<RwLock> l) {
    RwLock* raw = l.get();
    return OwnedRwLockWriteGuard<T>(
        std::move(l), detail::RwPermits(&raw->semaphore_, raw->max_readers_), raw->write_ptr());
  }

  const std::uint32_t max_readers_;
  detail::BatchSemaphore semaphore_;
  // Read (with) under a read permit, written (with_mut) under all max_readers_ permits.
  platform::cell<T> data_;
};

// Shared access to a U inside an RwLock (a T, or a part of it after map).
template <class U>
class [[nodiscard]] RwLockReadGuard {
 public:
  RwLockReadGuard(RwLockReadGuard&&) noexcept = default;
  RwLockReadGuard& operator=(RwLockReadGuard&&) noexcept = default;

  const U& operator*() const noexcept { return *data_; }
  const U* operator->() const noexcept { return data_; }

  template <class F>
  static RwLockReadGuard<detail::mapped_read_t<F, const U&>> map(RwLockReadGuard&& g, F&& f) {
    const auto* part = &std::forward<F>(f)(*g);
    return RwLockReadGuard<detail::mapped_read_t<F, const U&>>(std::move(g.permits_), part);
  }
  template <class F>
  static auto try_map(RwLockReadGuard&& g, F&& f)
      -> Result<RwLockReadGuard<detail::mapped_read_ptr_t<F, const U&>>, RwLockReadGuard> {
    using V = detail::mapped_read_ptr_t<F, const U&>;
    const V* part = std::forward<F>(f)(*g);
    if (part == nullptr) return Err(std::move(g));
    return RwLockReadGuard<V>(std::move(g.permits_), part);
  }

 private:
  template <class>
  friend class RwLock;
  template <class>
  friend class RwLockReadGuard;
  template <class>
  friend class RwLockWriteGuard;
  template <class>
  friend class RwLockMappedWriteGuard;
  RwLockReadGuard(detail::RwPermits&& permits, const U* data) noexcept
      : permits_(std::move(permits)), data_(data) {}
  detail::RwPermits permits_;
  const U* data_;
};

// Exclusive access to a U inside an RwLock, after map / into_mapped.
template <class U>
class [[nodiscard]] RwLockMappedWriteGuard {
 public:
  RwLockMappedWriteGuard(RwLockMappedWriteGuard&&) noexcept = default;
  RwLockMappedWriteGuard& operator=(RwLockMappedWriteGuard&&) noexcept = default;

  U& operator*() const noexcept { return *data_; }
  U* operator->() const noexcept { return data_; }

  template <class F>
  static RwLockMappedWriteGuard<detail::mapped_ref_t<F, U&>> map(RwLockMappedWriteGuard&& g,
                                                                 F&& f) {
    auto* part = &std::forward<F>(f)(*g);
    return RwLockMappedWriteGuard<detail::mapped_ref_t<F, U&>>(std::move(g.permits_), part);
  }
  template <class F>
  static auto try_map(RwLockMappedWriteGuard&& g, F&& f)
      -> Result<RwLockMappedWriteGuard<detail::mapped_ptr_t<F, U&>>, RwLockMappedWriteGuard> {
    auto* part = std::forward<F>(f)(*g);
    if (part == nullptr) return Err(std::move(g));
    return RwLockMappedWriteGuard<detail::mapped_ptr_t<F, U&>>(std::move(g.permits_), part);
  }
  // Keeps shared access to the same U; other readers may enter, no writer can.
  static RwLockReadGuard<U> downgrade(RwLockMappedWriteGuard&& g) {
    g.permits_.keep_one();
    return RwLockReadGuard<U>(std::move(g.permits_), g.data_);
  }

 private:
  template <class>
  friend class RwLockWriteGuard;
  template <class>
  friend class RwLockMappedWriteGuard;
  RwLockMappedWriteGuard(detail::RwPermits&& permits, U* data) noexcept
      : permits_(std::move(permits)), data_(data) {}
  detail::RwPermits permits_;
  U* data_;
};

// Exclusive access to the T of an RwLock<T>.
template <class T>
class [[nodiscard]] RwLockWriteGuard {
 public:
  RwLockWriteGuard(RwLockWriteGuard&&) noexcept = default;
  RwLockWriteGuard& operator=(RwLockWriteGuard&&) noexcept = default;

  T& operator*() const noexcept { return *data_; }
  T* operator->() const noexcept { return data_; }

  template <class F>
  static RwLockMappedWriteGuard<detail::mapped_ref_t<F, T&>> map(RwLockWriteGuard&& g, F&& f) {
    auto* part = &std::forward<F>(f)(*g);
    return RwLockMappedWriteGuard<detail::mapped_ref_t<F, T&>>(std::move(g.permits_), part);
  }
  template <class F>
  static auto try_map(RwLockWriteGuard&& g, F&& f)
      -> Result<RwLockMappedWriteGuard<detail::mapped_ptr_t<F, T&>>, RwLockWriteGuard> {
    auto* part = std::forward<F>(f)(*g);
    if (part == nullptr) return Err(std::move(g));
    return RwLockMappedWriteGuard<detail::mapped_ptr_t<F, T&>>(std::move(g.permits_), part);
  }
  // Turns exclusive into shared access atomically: gives back all permits but one.
  static RwLockReadGuard<T> downgrade(RwLockWriteGuard&& g) {
    g.permits_.keep_one();
    return RwLockReadGuard<T>(std::move(g.permits_), g.data_);
  }
  // downgrade, then map with f: const T& -> const U&.
  template <class F>
  static RwLockReadGuard<detail::mapped_read_t<F, const T&>> downgrade_map(RwLockWriteGuard&& g,
                                                                           F&& f) {
    const auto* part = &std::forward<F>(f)(static_cast<const T&>(*g));
    g.permits_.keep_one();
    return RwLockReadGuard<detail::mapped_read_t<F, const T&>>(std::move(g.permits_), part);
  }
  // downgrade_map if f (const T& -> const U*, nullptr for "no") finds a part; if not, the
  // write guard comes back in the error, neither unlocked nor downgraded (Tokio's
  // RwLockWriteGuard::try_downgrade_map).
  template <class F>
  static auto try_downgrade_map(RwLockWriteGuard&& g, F&& f)
      -> Result<RwLockReadGuard<detail::mapped_read_ptr_t<F, const T&>>, RwLockWriteGuard> {
    using V = detail::mapped_read_ptr_t<F, const T&>;
    const V* part = std::forward<F>(f)(static_cast<const T&>(*g));
    if (part == nullptr) return Err(std::move(g));
    g.permits_.keep_one();
    return RwLockReadGuard<V>(std::move(g.permits_), part);
  }
  static RwLockMappedWriteGuard<T> into_mapped(RwLockWriteGuard&& g) {
    return RwLockMappedWriteGuard<T>(std::move(g.permits_), g.data_);
  }

 private:
  template <class>
  friend class RwLock;
  RwLockWriteGuard(detail::RwPermits&& permits, T* data) noexcept
      : permits_(std::move(permits)), data_(data) {}
  detail::RwPermits permits_;
  T* data_;
};

// ---- owned guards: hold the RwLock through a std::shared_ptr ----

template <class T, class U>
class [[nodiscard]] OwnedRwLockReadGuard {
 public:
  OwnedRwLockReadGuard(OwnedRwLockReadGuard&&) noexcept = default;
  OwnedRwLockReadGuard& operator=(OwnedRwLockReadGuard&& other) noexcept {
    if (this != &other) {
      permits_ = std::move(other.permits_);  // give ours back before the lock may go
      lock_ = std::move(other.lock_);
      data_ = other.data_;
    }
    return *this;
  }

  const U& operator*() const noexcept { return *data_; }
  const U* operator->() const noexcept { return data_; }
  const std::shared_ptr<RwLock<T>>& rwlock() const noexcept { return lock_; }

  template <class F>
  static OwnedRwLockReadGuard<T, detail::mapped_read_t<F, const U&>> map(OwnedRwLockReadGuard&& g,
                                                                         F&& f) {
    const auto* part = &std::forward<F>(f)(*g);
    return OwnedRwLockReadGuard<T, detail::mapped_read_t<F, const U&>>(std::move(g.lock_),
                                                                       std::move(g.permits_), part);
  }
  template <class F>
  static auto try_map(OwnedRwLockReadGuard&& g, F&& f)
      -> Result<OwnedRwLockReadGuard<T, detail::mapped_read_ptr_t<F, const U&>>,
                OwnedRwLockReadGuard> {
    using V = detail::mapped_read_ptr_t<F, const U&>;
    const V* part = std::forward<F>(f)(*g);
    if (part == nullptr) return Err(std::move(g));
    return OwnedRwLockReadGuard<T, V>(std::move(g.lock_), std::move(g.permits_), part);
  }

 private:
  template <class>
  friend class RwLock;
  template <class, class>
  friend class OwnedRwLockReadGuard;
  template <class>
  friend class OwnedRwLockWriteGuard;
  template <class, class>
  friend class OwnedRwLockMappedWriteGuard;
  OwnedRwLockReadGuard(std::shared_ptr<RwLock<T>> l, detail::RwPermits&& permits,
                       const U* data) noexcept
      : lock_(std::move(l)), permits_(std::move(permits)), data_(data) {}
  std::shared_ptr<RwLock<T>> lock_;  // declared first: destroyed after permits_
  detail::RwPermits permits_;
  const U* data_;
};

template <class T, class U>
class [[nodiscard]] OwnedRwLockMappedWriteGuard {
 public:
  OwnedRwLockMappedWriteGuard(OwnedRwLockMappedWriteGuard&&) noexcept = default;
  OwnedRwLockMappedWriteGuard& operator=(OwnedRwLockMappedWriteGuard&& other) noexcept {
    if (this != &other) {
      permits_ = std::move(other.permits_);
      lock_ = std::move(other.lock_);
      data_ = other.data_;
    }
    return *this;
  }

  U& operator*() const noexcept { return *data_; }
  U* operator->() const noexcept { return data_; }
  const std::shared_ptr<RwLock<T>>& rwlock() const noexcept { return lock_; }

  template <class F>
  static OwnedRwLockMappedWriteGuard<T, detail::mapped_ref_t<F, U&>> map(
      OwnedRwLockMappedWriteGuard&& g, F&& f) {
    auto* part = &std::forward<F>(f)(*g);
    return OwnedRwLockMappedWriteGuard<T, detail::mapped_ref_t<F, U&>>(std::move(g.lock_),
                                                                       std::move(g.permits_), part);
  }
  template <class F>
  static auto try_map(OwnedRwLockMappedWriteGuard&& g, F&& f)
      -> Result<OwnedRwLockMappedWriteGuard<T, detail::mapped_ptr_t<F, U&>>,
                OwnedRwLockMappedWriteGuard> {
    auto* part = std::forward<F>(f)(*g);
    if (part == nullptr) return Err(std::move(g));
    return OwnedRwLockMappedWriteGuard<T, detail::mapped_ptr_t<F, U&>>(std::move(g.lock_),
                                                                       std::move(g.permits_), part);
  }
  static OwnedRwLockReadGuard<T, U> downgrade(OwnedRwLockMappedWriteGuard&& g) {
    g.permits_.keep_one();
    return OwnedRwLockReadGuard<T, U>(std::move(g.lock_), std::move(g.permits_), g.data_);
  }

 private:
  template <class>
  friend class OwnedRwLockWriteGuard;
  template <class, class>
  friend class OwnedRwLockMappedWriteGuard;
  OwnedRwLockMappedWriteGuard(std::shared_ptr<RwLock<T>> l, detail::RwPermits&& permits,
                              U* data) noexcept
      : lock_(std::move(l)), permits_(std::move(permits)), data_(data) {}
  std::shared_ptr<RwLock<T>> lock_;
  detail::RwPermits permits_;
  U* data_;
};

template <class T>
class [[nodiscard]] OwnedRwLockWriteGuard {
 public:
  OwnedRwLockWriteGuard(OwnedRwLockWriteGuard&&) noexcept = default;
  OwnedRwLockWriteGuard& operator=(OwnedRwLockWriteGuard&& other) noexcept {
    if (this != &other) {
      permits_ = std::move(other.permits_);
      lock_ = std::move(other.lock_);
      data_ = other.data_;
    }
    return *this;
  }

  T& operator*() const noexcept { return *data_; }
  T* operator->() const noexcept { return data_; }
  const std::shared_ptr<RwLock<T>>& rwlock() const noexcept { return lock_; }

  template <class F>
  static OwnedRwLockMappedWriteGuard<T, detail::mapped_ref_t<F, T&>> map(OwnedRwLockWriteGuard&& g,
                                                                         F&& f) {
    auto* part = &std::forward<F>(f)(*g);
    return OwnedRwLockMappedWriteGuard<T, detail::mapped_ref_t<F, T&>>(std::move(g.lock_),
                                                                       std::move(g.permits_), part);
  }
  template <class F>
  static auto try_map(OwnedRwLockWriteGuard&& g, F&& f)
      -> Result<OwnedRwLockMappedWriteGuard<T, detail::mapped_ptr_t<F, T&>>,
                OwnedRwLockWriteGuard> {
    auto* part = std::forward<F>(f)(*g);
    if (part == nullptr) return Err(std::move(g));
    return OwnedRwLockMappedWriteGuard<T, detail::mapped_ptr_t<F, T&>>(std::move(g.lock_),
                                                                       std::move(g.permits_), part);
  }
  static OwnedRwLockReadGuard<T> downgrade(OwnedRwLockWriteGuard&& g) {
    g.permits_.keep_one();
    return OwnedRwLockReadGuard<T>(std::move(g.lock_), std::move(g.permits_), g.data_);
  }
  template <class F>
  static OwnedRwLockReadGuard<T, detail::mapped_read_t<F, const T&>> downgrade_map(
      OwnedRwLockWriteGuard&& g, F&& f) {
    const auto* part = &std::forward<F>(f)(static_cast<const T&>(*g));
    g.permits_.keep_one();
    return OwnedRwLockReadGuard<T, detail::mapped_read_t<F, const T&>>(std::move(g.lock_),
                                                                       std::move(g.permits_), part);
  }
  // As RwLockWriteGuard::try_downgrade_map (Tokio's OwnedRwLockWriteGuard::try_downgrade_map).
  template <class F>
  static auto try_downgrade_map(OwnedRwLockWriteGuard&& g, F&& f)
      -> Result<OwnedRwLockReadGuard<T, detail::mapped_read_ptr_t<F, const T&>>,
                OwnedRwLockWriteGuard> {
    using V = detail::mapped_read_ptr_t<F, const T&>;
    const V* part = std::forward<F>(f)(static_cast<const T&>(*g));
    if (part == nullptr) return Err(std::move(g));
    g.permits_.keep_one();
    return OwnedRwLockReadGuard<T, V>(std::move(g.lock_), std::move(g.permits_), part);
  }
  static OwnedRwLockMappedWriteGuard<T> into_mapped(OwnedRwLockWriteGuard&& g) {
    return OwnedRwLockMappedWriteGuard<T>(std::move(g.lock_), std::move(g.permits_), g.data_);
  }

 private:
  template <class>
  friend class RwLock;
  OwnedRwLockWriteGuard(std::shared_ptr<RwLock<T>> l, detail::RwPermits&& permits, T* data) noexcept
      : lock_(std::move(l)), permits_(std::move(permits)), data_(data) {}
  std::shared_ptr<RwLock<T>> lock_;
  detail::RwPermits permits_;
  T* data_;
};

}  // namespace weft
