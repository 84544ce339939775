// weft/sync/semaphore.h: Semaphore, an asynchronous counting semaphore, and its RAII
// permits SemaphorePermit / OwnedSemaphorePermit.
//
// Follows tokio/src/sync/semaphore.rs.
//
// A semaphore holds a number of permits. acquire() waits until one is available and
// returns it as a SemaphorePermit, which gives it back when destroyed. The semaphore is
// fair: acquirers are served in the order they first polled, and a request for many
// permits at the head of the queue holds back later requests for few (no barging), so
// it is never starved.
//
// Concurrency: every member function may be called from any thread at once. A future
// (Acquire, AcquireOwned) is polled by one task at a time; a permit is an ordinary
// value (move-only), used by one thread at a time.
//
// Cancel-safety: acquire(), acquire_many() and the owned variants are cancel-safe in
// Tokio's sense: destroying a pending future returns every permit already assigned to
// it; only its place in the FIFO queue is lost.
//
// Memory ordering (as Tokio 1.53 documents it, #8119): what a task wrote before releasing
// a permit is visible to every task that acquires a permit later. Precisely: acquiring
// (acquire, acquire_many, try_acquire, try_acquire_many, the owned variants), releasing
// (destroying a permit, add_permits, forget_permits) and close() are read-modify-writes
// of one permit word (or hand permits over under the waiter lock), so they are totally
// ordered, and each acquiring one synchronizes-with every release and close before it.
// A failed acquisition (NoPermits, Closed), available_permits() and is_closed() behave
// like an Acquire load. (A give-back is a Release RMW, not AcqRel as Tokio words it: it
// continues the release sequence of every earlier operation, so whatever the releasing
// thread next observes of the semaphore, with an Acquire read, carries the same
// guarantee; nothing can observe the difference.)
//
// Errors (sync/result.h): acquire completes with Result<SemaphorePermit, AcquireError>
// (AcquireError: the semaphore was closed); try_acquire returns
// Result<SemaphorePermit, TryAcquireError> (Closed or NoPermits);
// blocking_acquire*_until(deadline) / _for(timeout) return blocking_acquire's Result inside
// Result<_, Elapsed> (Err(Elapsed): the deadline passed first; sync/deadline.h). Misuse throws:
// more than MAX_PERMITS at construction or held after add_permits (std::length_error), a request
// for more than MAX_PERMITS (std::invalid_argument), merging permits of two different
// semaphores (std::invalid_argument) or into more than MAX_PERMITS (std::length_error).
//
// Overflow when permits go back: destroying a permit (or a pending future holding
// assigned permits) never throws. If the semaphore's count would pass MAX_PERMITS (only
// possible after add_permits raised it meanwhile), it saturates at MAX_PERMITS and the
// excess is forgotten, as if forget_permits() had removed it. Only add_permits reports
// an overflow (std::length_error). See sync/detail/batch_semaphore.h.
//
// Futures are weft futures: poll(Context&) -> Poll<Result<...>>, movable until first
// polled, not after. The Semaphore must outlive its futures and (non-owned) permits; the
// owned variants (on a std::shared_ptr<Semaphore>, Tokio's Arc<Semaphore>) keep it alive
// themselves.
//
//   weft::Semaphore sem(3);
//   {
//     auto permit = sem.try_acquire();              // Result<SemaphorePermit, ...>
//     CHECK(permit.is_ok());
//     CHECK(sem.available_permits() == 2);
//   }                                               // the permit goes back
//   auto two = sem.blocking_acquire_many(2);        // parks the thread if needed
//   CHECK(two->num_permits() == 2);
//
//   auto shared = std::make_shared<weft::Semaphore>(1);
//   auto owned = weft::Semaphore::try_acquire_owned(shared);  // keeps `shared` alive
#pragma once

#include "sync/deadline.h"
#include "sync/detail/batch_semaphore.h"
#include "sync/result.h"
#include "sync/task/block_on.h"
#include "sync/task/poll.h"
#include "sync/task/waker.h"

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace weft {

class Semaphore;

// Permits borrowed from a Semaphore, given back when destroyed. Move-only.
class [[nodiscard]] SemaphorePermit {
 public:
  SemaphorePermit(SemaphorePermit&& other) noexcept
      : sem_(other.sem_), permits_(std::exchange(other.permits_, 0)) {}
  SemaphorePermit& operator=(SemaphorePermit&& other) noexcept {
    if (this != &other) {
      release();
      sem_ = other.sem_;
      permits_ = std::exchange(other.permits_, 0);
    }
    return *this;
  }
  SemaphorePermit(const SemaphorePermit&) = delete;
  SemaphorePermit& operator=(const SemaphorePermit&) = delete;
  ~SemaphorePermit() { release(); }

  // Keeps the permits out of the semaphore for good (they are not given back).
  void forget() noexcept { permits_ = 0; }
  // Takes over other's permits; both must come from the same semaphore (else
  // std::invalid_argument) and hold at most MAX_PERMITS together (else
  // std::length_error); on a throw nothing changed.
  void merge(SemaphorePermit&& other);
  // Splits n permits off into a new permit; nullopt (nothing changed) if this holds
  // fewer than n.
  std::optional<SemaphorePermit> split(std::size_t n) {
    if (n > permits_) return std::nullopt;
    permits_ -= n;
    return SemaphorePermit(sem_, n);
  }
  std::size_t num_permits() const noexcept { return permits_; }

 private:
  friend class Semaphore;
  SemaphorePermit(Semaphore* sem, std::size_t permits) noexcept : sem_(sem), permits_(permits) {}
  void release() noexcept;

  Semaphore* sem_;
  std::size_t permits_;
};

// Permits of a Semaphore held through a std::shared_ptr, which the permit keeps alive.
class [[nodiscard]] OwnedSemaphorePermit {
 public:
  OwnedSemaphorePermit(OwnedSemaphorePermit&& other) noexcept
      : sem_(std::move(other.sem_)), permits_(std::exchange(other.permits_, 0)) {}
  OwnedSemaphorePermit& operator=(OwnedSemaphorePermit&& other) noexcept {
    if (this != &other) {
      release();
      sem_ = std::move(other.sem_);
      permits_ = std::exchange(other.permits_, 0);
    }
    return *this;
  }
  OwnedSemaphorePermit(const OwnedSemaphorePermit&) = delete;
  OwnedSemaphorePermit& operator=(const OwnedSemaphorePermit&) = delete;
  ~OwnedSemaphorePermit() { release(); }

  void forget() noexcept { permits_ = 0; }
  // As SemaphorePermit::merge (a moved-from permit belongs to no semaphore).
  void merge(OwnedSemaphorePermit&& other);
  std::optional<OwnedSemaphorePermit> split(std::size_t n) {
    if (n > permits_) return std::nullopt;
    permits_ -= n;
    return OwnedSemaphorePermit(sem_, n);
  }
  std::size_t num_permits() const noexcept { return permits_; }
  // The semaphore these permits belong to.
  const std::shared_ptr<Semaphore>& semaphore() const noexcept { return sem_; }

 private:
  friend class Semaphore;
  OwnedSemaphorePermit(std::shared_ptr<Semaphore> sem, std::size_t permits) noexcept
      : sem_(std::move(sem)), permits_(permits) {}
  void release() noexcept;

  std::shared_ptr<Semaphore> sem_;
  std::size_t permits_;
};

class Semaphore {
 public:
  // The most permits a semaphore can hold (Tokio's usize::MAX >> 3).
  static constexpr std::size_t MAX_PERMITS = detail::BatchSemaphore::MAX_PERMITS;

  // Throws std::length_error if permits > MAX_PERMITS.
  // Built usually_idle (as Mutex): a permit's give-back and try_acquire guess the word of
  // an idle semaphore instead of loading it first. Right (nobody else holds permits), it
  // saves the load before the CAS (semaphore_uncontended: 0.0726 -> 0.0650 s, median of
  // 11); wrong, it costs one failed CAS, and the ordinary path goes on from its value.
  explicit Semaphore(std::size_t permits) : inner_(permits, detail::BatchSemaphore::usually_idle) {}
  // A closed semaphore with no permits: Semaphore s(Semaphore::closed).
  struct closed_t {};
  static constexpr closed_t closed{};
  explicit Semaphore(closed_t) : inner_(detail::BatchSemaphore::closed_tag) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  std::size_t available_permits() const { return inner_.available_permits(); }
  // Adds n permits (to the waiters first, oldest first). Throws std::length_error if the
  // semaphore would hold more than MAX_PERMITS; then the excess is not added (waiters
  // still get theirs).
  void add_permits(std::size_t n) { inner_.release(n); }
  // Removes up to n available permits; returns how many were removed.
  std::size_t forget_permits(std::size_t n) { return inner_.forget_permits(n); }
  // Wakes every waiter with AcquireError; later acquires fail. Permits already handed
  // out stay valid and may still be given back.
  void close() { inner_.close(); }
  bool is_closed() const { return inner_.is_closed(); }

  // The future of acquire() / acquire_many(): Poll<Result<SemaphorePermit, AcquireError>>.
  class [[nodiscard]] Acquire {
   public:
    Poll<Result<SemaphorePermit, AcquireError>> poll(Context& cx) {
      auto p = inner_.poll(cx);
      if (p.is_pending()) return pending;
      using Out = Result<SemaphorePermit, AcquireError>;
      return p.value().is_ok() ? Out(SemaphorePermit(sem_, inner_.num_permits()))
                               : Out(Err(AcquireError{}));
    }

   private:
    friend class Semaphore;
    Acquire(Semaphore* sem, std::size_t n) : sem_(sem), inner_(sem->inner_.acquire(n)) {}
    Semaphore* sem_;
    detail::BatchSemaphore::Acquire inner_;
  };

  // The future of acquire_owned() / acquire_many_owned():
  // Poll<Result<OwnedSemaphorePermit, AcquireError>>. Keeps the semaphore alive.
  class [[nodiscard]] AcquireOwned {
   public:
    Poll<Result<OwnedSemaphorePermit, AcquireError>> poll(Context& cx) {
      auto p = inner_.poll(cx);
      if (p.is_pending()) return pending;
      using Out = Result<OwnedSemaphorePermit, AcquireError>;
      return p.value().is_ok() ? Out(OwnedSemaphorePermit(sem_, inner_.num_permits()))
                               : Out(Err(AcquireError{}));
    }

   private:
    friend class Semaphore;
    AcquireOwned(std::shared_ptr<Semaphore> sem, std::size_t n)
        : sem_(std::move(sem)), inner_(sem_->inner_.acquire(n)) {}
    std::shared_ptr<Semaphore> sem_;  // declared first: outlives inner_
    detail::BatchSemaphore::Acquire inner_;
  };

  // Waits for one permit. Cancel-safe.
  Acquire acquire() { return Acquire(this, 1); }
  // Waits for n permits at once (std::invalid_argument if n > MAX_PERMITS). Cancel-safe.
  Acquire acquire_many(std::size_t n) { return Acquire(this, n); }

  Result<SemaphorePermit, TryAcquireError> try_acquire() { return try_acquire_many(1); }
  Result<SemaphorePermit, TryAcquireError> try_acquire_many(std::size_t n) {
    auto r = inner_.try_acquire(n);
    if (r.is_err()) return Err(r.error());
    return SemaphorePermit(this, n);
  }

  // acquire() / acquire_many() on the calling thread, parking it while it waits. Tries
  // the permits first (one CAS; never ahead of a queued waiter), so the uncontended case
  // sets up no future and no parker.
  Result<SemaphorePermit, AcquireError> blocking_acquire() { return blocking_acquire_many(1); }
  Result<SemaphorePermit, AcquireError> blocking_acquire_many(std::size_t n) {
    if (inner_.try_acquire(n).is_ok()) return SemaphorePermit(this, n);
    return block_on(acquire_many(n));
  }
  // The same, giving up at the deadline: Err(Elapsed) around blocking_acquire's own
  // Result (sync/deadline.h, as Tokio's timeout(acquire())). The cancelled acquire gives
  // back the permits it was handed: none is lost.
  Result<Result<SemaphorePermit, AcquireError>, Elapsed> blocking_acquire_until(Deadline deadline) {
    return blocking_acquire_many_until(1, deadline);
  }
  Result<Result<SemaphorePermit, AcquireError>, Elapsed> blocking_acquire_many_until(
      std::size_t n, Deadline deadline) {
    if (inner_.try_acquire(n).is_ok())
      return Result<SemaphorePermit, AcquireError>(SemaphorePermit(this, n));
    return detail::block_on_or_elapsed(acquire_many(n), deadline);
  }
  template <class Rep, class Period>
  Result<Result<SemaphorePermit, AcquireError>, Elapsed> blocking_acquire_for(
      std::chrono::duration<Rep, Period> timeout) {
    return blocking_acquire_many_until(1, platform::deadline_after(timeout));
  }
  template <class Rep, class Period>
  Result<Result<SemaphorePermit, AcquireError>, Elapsed> blocking_acquire_many_for(
      std::size_t n, std::chrono::duration<Rep, Period> timeout) {
    return blocking_acquire_many_until(n, platform::deadline_after(timeout));
  }

  // Owned variants (Tokio's methods on Arc<Semaphore>): the permit holds a reference to
  // the semaphore. `sem` must not be null.
  static AcquireOwned acquire_owned(std::shared_ptr<Semaphore> sem) {
    return AcquireOwned(std::move(sem), 1);
  }
  static AcquireOwned acquire_many_owned(std::shared_ptr<Semaphore> sem, std::size_t n) {
    return AcquireOwned(std::move(sem), n);
  }
  static Result<OwnedSemaphorePermit, TryAcquireError> try_acquire_owned(
      std::shared_ptr<Semaphore> sem) {
    return try_acquire_many_owned(std::move(sem), 1);
  }
  static Result<OwnedSemaphorePermit, TryAcquireError> try_acquire_many_owned(
      std::shared_ptr<Semaphore> sem, std::size_t n) {
    auto r = sem->inner_.try_acquire(n);
    if (r.is_err()) return Err(r.error());
    return OwnedSemaphorePermit(std::move(sem), n);
  }
  static Result<OwnedSemaphorePermit, AcquireError> blocking_acquire_owned(
      std::shared_ptr<Semaphore> sem) {
    return blocking_acquire_many_owned(std::move(sem), 1);
  }
  // As blocking_acquire_many: tries the permits first.
  static Result<OwnedSemaphorePermit, AcquireError> blocking_acquire_many_owned(
      std::shared_ptr<Semaphore> sem, std::size_t n) {
    if (sem->inner_.try_acquire(n).is_ok()) return OwnedSemaphorePermit(std::move(sem), n);
    return block_on(acquire_many_owned(std::move(sem), n));
  }
  static Result<Result<OwnedSemaphorePermit, AcquireError>, Elapsed>
  blocking_acquire_many_owned_until(std::shared_ptr<Semaphore> sem, std::size_t n,
                                    Deadline deadline) {
    if (sem->inner_.try_acquire(n).is_ok()) {
      return Result<OwnedSemaphorePermit, AcquireError>(OwnedSemaphorePermit(std::move(sem), n));
    }
    return detail::block_on_or_elapsed(acquire_many_owned(std::move(sem), n), deadline);
  }
  static Result<Result<OwnedSemaphorePermit, AcquireError>, Elapsed> blocking_acquire_owned_until(
      std::shared_ptr<Semaphore> sem, Deadline deadline) {
    return blocking_acquire_many_owned_until(std::move(sem), 1, deadline);
  }
  template <class Rep, class Period>
  static Result<Result<OwnedSemaphorePermit, AcquireError>, Elapsed> blocking_acquire_owned_for(
      std::shared_ptr<Semaphore> sem, std::chrono::duration<Rep, Period> timeout) {
    return blocking_acquire_many_owned_until(std::move(sem), 1, platform::deadline_after(timeout));
  }
  template <class Rep, class Period>
  static Result<Result<OwnedSemaphorePermit, AcquireError>, Elapsed>
  blocking_acquire_many_owned_for(std::shared_ptr<Semaphore> sem, std::size_t n,
                                  std::chrono::duration<Rep, Period> timeout) {
    return blocking_acquire_many_owned_until(std::move(sem), n, platform::deadline_after(timeout));
  }

 private:
  friend class SemaphorePermit;
  friend class OwnedSemaphorePermit;
  // A permit's give-back: saturates at MAX_PERMITS, never throws (see the header).
  // Out of line: a permit's destructor is then a test and a call, small enough to inline
  // wherever a permit dies, so destroying the moved-from permits that an acquire leaves
  // behind (in its Result and Poll temporaries) compiles to nothing. Inline, it made the
  // variant's destructor too big to inline: two calls per acquire.
  [[gnu::noinline]] void give_back(std::size_t n) noexcept { inner_.release_saturating(n); }

  detail::BatchSemaphore inner_;
};

namespace detail {
// merge()'s checks, shared by both permit kinds.
inline void check_merge(const void* sem, const void* other_sem, std::size_t permits,
                        std::size_t other_permits) {
  if (other_sem != sem) {
    throw std::invalid_argument("merging permits from different semaphore instances");
  }
  if (other_permits > Semaphore::MAX_PERMITS - permits) {
    throw std::length_error("merged permits would hold " + std::to_string(permits) + " + " +
                            std::to_string(other_permits) + ", more than MAX_PERMITS (" +
                            std::to_string(Semaphore::MAX_PERMITS) + ")");
  }
}
}  // namespace detail

inline void SemaphorePermit::merge(SemaphorePermit&& other) {
  detail::check_merge(sem_, other.sem_, permits_, other.permits_);
  permits_ += std::exchange(other.permits_, 0);
}

inline void SemaphorePermit::release() noexcept {
  if (permits_ != 0) sem_->give_back(std::exchange(permits_, 0));
}

inline void OwnedSemaphorePermit::merge(OwnedSemaphorePermit&& other) {
  detail::check_merge(sem_.get(), other.sem_.get(), permits_, other.permits_);
  permits_ += std::exchange(other.permits_, 0);
}

inline void OwnedSemaphorePermit::release() noexcept {
  if (permits_ != 0) sem_->give_back(std::exchange(permits_, 0));
  sem_.reset();
}

}  // namespace weft
