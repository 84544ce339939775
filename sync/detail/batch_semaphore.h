// weft/sync/detail/batch_semaphore.h: BatchSemaphore, the fair asynchronous counting
// semaphore under Semaphore, Mutex, RwLock and the bounded mpsc channel; a waiter may
// ask for many permits at once.
//
// Follows tokio/src/sync/batch_semaphore.rs.
//
// How it works: an atomic word counts the available permits. An acquire that finds
// enough takes them with one CAS (inline in Acquire::poll, before the waiter node or the
// lock is touched) and never locks; a release with no waiter queued is one CAS too. One that does
// not takes what is there, then queues a waiter node (living inside its Acquire future, so queuing
// never allocates) at the front of an intrusive FIFO list under a lock. Released permits go to the
// oldest waiter first (partially, if it wants more than there are); a waiter whose need is met is
// unlinked and its waker collected into a WakeList, run after the lock is released; its re-poll
// finds its need met in the node and completes without the lock. Because permits are handed to
// the oldest waiter and never left in the counter while anyone waits, a waiter for many permits
// is never starved by takers of few (RwLock's writers by its readers).
//
// Concurrency: every member function may be called from any thread at once. An Acquire
// is polled by one task at a time (it is not thread-safe as an object).
//
// Cancel-safety: destroying an Acquire (polled or not) unlinks its waiter and gives the
// permits already assigned to it back to the semaphore (to the next waiters first), so
// cancelling loses no permits. Its place in the queue is lost.
//
// Memory ordering: a release of permits happens-before the acquire that obtains them
// (through the Release/Acquire operations on the permit word, or through the waiter
// lock when they were handed over to a waiter). close() happens-before every acquire
// that reports AcquireError / TryAcquireError::Closed.
//
// Errors: AcquireError and TryAcquireError are values (sync/result.h). Misuse throws:
// more than MAX_PERMITS requested (std::invalid_argument) or held after an explicit
// release() (std::length_error), with a message naming the limit.
//
// Overflow on give-back: the paths that give permits back on their own (destroying an
// Acquire that holds assigned permits, a poll that returns surplus or closes, and
// release_saturating(), which the permits and guards built on this class call from
// their destructors) never throw: the count saturates at MAX_PERMITS and the permits
// beyond it are forgotten, as forget_permits() would. Waiters are served first, as by
// release(). Only the explicit release() (Semaphore::add_permits) reports the overflow.
// (Tokio panics in both cases; a C++ destructor cannot throw, and a count already at
// MAX_PERMITS has nothing left to gain from the excess.)
//
//   weft::detail::BatchSemaphore sem(2);
//   weft::MockTask task;
//   auto acquire = sem.acquire(3);                 // wants more than there are
//   CHECK(task.poll(acquire).is_pending());        // took 2, waits for 1 more
//   sem.release(1);                                // completes it: the task is woken
//   CHECK(task.poll(acquire).value().is_ok());
#pragma once

#include "sync/detail/linked_list.h"
#include "sync/detail/wake_list.h"
#include "sync/platform/atomic.h"
#include "sync/platform/cell.h"
#include "sync/platform/invariant.h"
#include "sync/platform/mutex.h"
#include "sync/result.h"
#include "sync/task/poll.h"
#include "sync/task/waker.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace weft {

// Error of an acquire: the semaphore was closed. (Tokio's AcquireError.)
struct AcquireError {
  const char* what() const noexcept { return "semaphore closed"; }
  friend bool operator==(const AcquireError&, const AcquireError&) = default;
};

// Error of a try_acquire. (Tokio's TryAcquireError.)
enum class TryAcquireError {
  Closed,     // the semaphore was closed and issues no permits
  NoPermits,  // not enough permits right now
};

inline const char* describe(TryAcquireError error) noexcept {
  return error == TryAcquireError::Closed ? "semaphore closed" : "no permits available";
}

}  // namespace weft

namespace weft::detail {

class BatchSemaphore {
 public:
  // The permit word `permits_`:
  //
  //   bit 0      CLOSED   set once by close() (under the lock), never cleared
  //   bit 1      WAITERS  the waiter queue is not empty; set and cleared only under the
  //                       lock, by the operation that makes the queue non-empty / empty
  //   bits 2..   the count of available permits (permits << PERMIT_SHIFT)
  //
  // Invariant: WAITERS implies a count of 0. Permits are added to the count only while
  // the queue is empty (under the lock) or by release()'s lock-free path, which requires
  // WAITERS clear; a waiter queues only after its CAS took the count to 0 and set
  // WAITERS, under the lock. So a release that sees WAITERS clear may add its permits to
  // the count without the lock (no waiter can miss them), and one that sees it set hands
  // them to the waiters under the lock. Tokio reserves three flag bits and uses one;
  // weft uses two (CLOSED, WAITERS) and keeps Tokio's MAX_PERMITS.
  static constexpr std::size_t CLOSED = 1;
  static constexpr std::size_t WAITERS = 2;
  static constexpr std::size_t FLAGS = CLOSED | WAITERS;
  static constexpr unsigned PERMIT_SHIFT = 2;
  static constexpr std::size_t MAX_PERMITS = SIZE_MAX >> 3;

  struct closed_t {};
  static constexpr closed_t closed_tag{};

  explicit BatchSemaphore(std::size_t permits) : permits_(checked_initial(permits)) {}
  // A semaphore that is usually idle between uses (a Mutex: one holder at a time, rarely
  // a waiter). try_acquire() and the lock-free release then skip the load before their
  // CAS and guess the word instead: try_acquire(n) guesses "all permits in, no flag"
  // (the idle word), a release of n guesses "only this holder's n out". A right guess
  // saves the load (measured ~30% on an uncontended try_lock/unlock pair); a wrong one
  // costs a failed CAS, and the ordinary path goes on from the value it returned.
  // Semantics are unchanged.
  struct usually_idle_t {};
  static constexpr usually_idle_t usually_idle{};
  BatchSemaphore(std::size_t permits, usually_idle_t)
      : permits_(checked_initial(permits)), idle_(permits << PERMIT_SHIFT) {}
  // A closed semaphore with no permits (Tokio's Semaphore::new_closed).
  explicit BatchSemaphore(closed_t) : permits_(CLOSED) {}
  BatchSemaphore(const BatchSemaphore&) = delete;
  BatchSemaphore& operator=(const BatchSemaphore&) = delete;

  std::size_t available_permits() const {
    // Acquire: pairs with the Release CASes in release_unqueued() and release_locked(), as
    // Tokio.
    return permits_.load(std::memory_order_acquire) >> PERMIT_SHIFT;
  }

  // Whether acquirers are queued (WAITERS).
  bool has_waiters() const {
    // Acquire: pairs with the AcqRel CAS in poll_acquire() that sets WAITERS.
    return (permits_.load(std::memory_order_acquire) & WAITERS) != 0;
  }

  bool is_closed() const {
    // Acquire: pairs with the AcqRel fetch_or in close().
    return (permits_.load(std::memory_order_acquire) & CLOSED) != 0;
  }

  // Adds `added` permits: to the waiters, oldest first, then to the count. Throws
  // std::length_error if the count would then exceed MAX_PERMITS: the excess is not
  // added (waiters still get theirs). Uncontended (no waiter): one CAS, no lock.
  void release(std::size_t added) {
    if (added == 0) return;
    if (added > MAX_PERMITS) throw_overflow(added);
    if (release_unqueued(added, Overflow::report)) return;
    WaitersLock lock(waiters_lock_);
    if (!release_locked(added, lock, Overflow::report)) throw_overflow(added);
  }

  // release() for the paths that cannot report an error (destructors of permits and
  // guards): never throws; the count saturates at MAX_PERMITS and the excess is
  // forgotten (see "Overflow on give-back" above). Uncontended: one CAS, no lock.
  void release_saturating(std::size_t added) noexcept {
    if (added == 0) return;
    if (release_unqueued(added, Overflow::saturate)) return;
    WaitersLock lock(waiters_lock_);
    release_locked(added, lock, Overflow::saturate);
  }

  // Releases (saturating, as above) the permits `count(word)` returns, calling it under
  // the waiter lock with the permit word loaded under it: for a caller that keeps its
  // own tally of permits owed to the semaphore (the bounded mpsc channel's received
  // values) and updates it in `count`. The lock makes the two steps one: a later call,
  // and anything after it, sees the permits of every earlier one (a release outside the
  // lock could still be in flight), and `word` is the count with all of them in it.
  // `count` must not throw, wake, or touch the semaphore.
  template <class Count>
  void release_counted(Count count) noexcept {
    WaitersLock lock(waiters_lock_);
    lock.lock();
    // Acquire: pairs with the Release CASes in release_unqueued() and release_locked()
    // (the lock already orders those of earlier calls before it).
    const std::size_t added = count(permits_.load(std::memory_order_acquire));
    if (added == 0) return;
    release_locked(added, lock, Overflow::saturate);
  }

  // Closes the semaphore: every waiter is woken with AcquireError, every later acquire
  // fails. Permits may still be released (and counted) after close.
  void close() {
    platform::mutex_guard guard(waiters_lock_);
    // AcqRel: Release pairs with the Acquire loads in is_closed(), try_acquire() and
    // poll_acquire() that report Closed; set under the lock so that the queue (checked by
    // waiters under the lock) agrees with the bit.
    permits_.fetch_or(CLOSED, std::memory_order_acq_rel);
    wake_in_batches(guard, waiters_lock_, [&](WakeList& wakers) { return drain_locked(wakers); });
  }

  Result<void, TryAcquireError> try_acquire(std::size_t num_permits) {
    check_request(num_permits);
    const std::size_t wanted = num_permits << PERMIT_SHIFT;
    std::size_t curr;
    if (idle_ != 0 && num_permits <= (idle_ >> PERMIT_SHIFT)) {
      // usually_idle: guess the idle word first (see try_take).
      curr = idle_;
      // AcqRel: as the CAS below. Failure: Acquire, as the load in the other branch.
      if (permits_.compare_exchange_strong(curr, idle_ - wanted, std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {
        return Ok();
      }
    } else {
      // Acquire: pairs with the Release CASes in release_unqueued() and release_locked().
      curr = permits_.load(std::memory_order_acquire);
    }
    for (;;) {
      if ((curr & CLOSED) != 0) return Err(TryAcquireError::Closed);
      if ((curr & ~FLAGS) < wanted) return Err(TryAcquireError::NoPermits);
      // AcqRel: Acquire pairs with the Release CASes in release_unqueued() and
      // release_locked(); Release orders this taker before later takers (a release sequence
      // on the word). Failure: Acquire, as the load above.
      if (permits_.compare_exchange_weak(curr, curr - wanted, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        return Ok();
      }
    }
  }

  // Removes up to `n` permits from the count (not from waiters); returns how many were
  // removed. The flag bits are kept.
  std::size_t forget_permits(std::size_t n) {
    if (n == 0) return 0;
    // Acquire: as try_acquire.
    std::size_t curr = permits_.load(std::memory_order_acquire);
    for (;;) {
      const std::size_t count = curr >> PERMIT_SHIFT;
      const std::size_t removed = count < n ? count : n;
      const std::size_t next = (curr & FLAGS) | ((count - removed) << PERMIT_SHIFT);
      // AcqRel: as try_acquire (forgetting is taking permits that are never returned).
      if (permits_.compare_exchange_weak(curr, next, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        return removed;
      }
    }
  }

  class Acquire;
  // A future for `num_permits` permits (Poll<Result<void, AcquireError>>). Throws
  // std::invalid_argument if num_permits > MAX_PERMITS.
  Acquire acquire(std::size_t num_permits);

 private:
  // A hold on waiters_lock_ that is taken late (only by the paths that need it), given
  // up early (before waking) and retaken in a loop. A plain pointer plus a flag rather
  // than std::optional<mutex_guard>: g++ 12 cannot prove the optional's payload
  // initialized on every path (-Wmaybe-uninitialized at -O1 with asan and at -O3), and
  // the flag costs nothing on the lock-free paths that never lock.
  class WaitersLock {
   public:
    explicit WaitersLock(platform::mutex& m) noexcept : mutex_(&m) {}
    WaitersLock(const WaitersLock&) = delete;
    WaitersLock& operator=(const WaitersLock&) = delete;
    ~WaitersLock() {
      if (held_) mutex_->unlock();
    }
    void lock() {
      if (held_) return;
      mutex_->lock();
      held_ = true;
    }
    void unlock() noexcept {
      if (!held_) return;
      held_ = false;
      mutex_->unlock();
    }
    bool held() const noexcept { return held_; }

   private:
    platform::mutex* mutex_;
    bool held_ = false;
  };

  // A queued acquirer; lives inside an Acquire future.
  struct Waiter {
    explicit Waiter(std::size_t needed) : state(needed) {}
    // Its end writes its cells (free in production): the model checker then reports a
    // release still touching the node as its owner destroys it, as a data race.
    ~Waiter() {
      waker.with_mut([](std::optional<Waker>&) {});
      links.prev.with_mut([](Waiter*&) {});
    }
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;
    // Permits still needed. Written only under the lock; read without it by a re-poll.
    // A release that meets the need unlinks the node and takes its waker first, then
    // stores 0: its last touch of the node, after which the owner may complete without
    // the lock (served()) and destroy it.
    platform::atomic<std::size_t> state;
    // The task to wake once state reaches 0. Protected by the lock.
    platform::cell<std::optional<Waker>> waker{};
    // Protected by the lock.
    ListLinks<Waiter> links;
  };
  using Queue = LinkedList<Waiter, &Waiter::links>;

  static std::size_t checked_initial(std::size_t permits) {
    if (permits > MAX_PERMITS) {
      throw std::length_error("a semaphore may not have more than MAX_PERMITS permits (" +
                              std::to_string(MAX_PERMITS) + "), asked for " +
                              std::to_string(permits));
    }
    return permits << PERMIT_SHIFT;
  }
  static void check_request(std::size_t num_permits) {
    if (num_permits > MAX_PERMITS) {
      throw std::invalid_argument("a semaphore may not have more than MAX_PERMITS permits (" +
                                  std::to_string(MAX_PERMITS) + "): cannot acquire " +
                                  std::to_string(num_permits));
    }
  }
  // What a give-back does with permits that would take the count past MAX_PERMITS.
  enum class Overflow {
    report,    // add none of the excess; the caller throws std::length_error
    saturate,  // fill the count to MAX_PERMITS and forget the rest
  };

  // The count after adding `added` permits to the word `curr` (flags kept, WAITERS
  // cleared), or nullopt if it would exceed MAX_PERMITS and `overflow` is report.
  static std::optional<std::size_t> add_to_count(std::size_t curr, std::size_t added,
                                                 Overflow overflow) {
    const std::size_t count = curr >> PERMIT_SHIFT;
    // count <= MAX_PERMITS always, so the test cannot wrap.
    std::size_t next_count = MAX_PERMITS;
    if (added <= MAX_PERMITS - count) {
      next_count = count + added;
    } else if (overflow == Overflow::report) {
      return std::nullopt;
    }
    return (curr & CLOSED) | (next_count << PERMIT_SHIFT);
  }

  // The lock-free half of a release: adds `added` to the count while WAITERS is clear.
  // Returns true if done (false: waiters are queued, hand over under the lock). Throws
  // std::length_error on overflow when `overflow` is report.
  bool release_unqueued(std::size_t added, Overflow overflow) {
    std::size_t curr;
    if (idle_ != 0 && added <= (idle_ >> PERMIT_SHIFT)) {
      // usually_idle: guess that only these permits are out (no flag set, so the
      // lock-free add is allowed and cannot overflow: the result is the idle word).
      curr = idle_ - (added << PERMIT_SHIFT);
      // Release: as the CAS below. Failure: relaxed, curr is only a new guess.
      if (permits_.compare_exchange_strong(curr, idle_, std::memory_order_release,
                                           std::memory_order_relaxed)) {
        return true;
      }
    } else {
      // Relaxed: a guess for the CAS, which validates it.
      curr = permits_.load(std::memory_order_relaxed);
    }
    while ((curr & WAITERS) == 0) {
      std::size_t next = curr + (added << PERMIT_SHIFT);
      if (added > MAX_PERMITS - (curr >> PERMIT_SHIFT)) {  // rare: would overflow
        const std::optional<std::size_t> capped = add_to_count(curr, added, overflow);
        if (!capped) throw_overflow(added);
        if (*capped == curr) return true;  // saturated already: nothing to publish
        next = *capped;
      }
      // Release: pairs with the Acquire loads and CASes in try_acquire(), try_take() and
      // poll_acquire(), so what this thread did before releasing happens-before the use
      // of the permits.
      if (permits_.compare_exchange_weak(curr, next, std::memory_order_release,
                                         std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  // An acquire's uncontended fast path (first poll of an Acquire, before it touches its
  // waiter node or the lock): takes n permits with one CAS if the count has them and
  // the semaphore is open. A non-zero count means nobody is queued (WAITERS implies a
  // count of 0), so this never overtakes a waiter. false: nothing was taken (no
  // permits, closed, or the CAS lost a race); the caller takes the slow path.
  // No usually_idle guess here: a lock() future is mostly polled when the lock may be
  // held (else try_lock would do), and a wrong guess is a wasted CAS on a contended line
  // (measured: -8% on mutex_contended_4, nothing gained uncontended).
  bool try_take(std::size_t n) noexcept {
    // Relaxed: a guess for the CAS, which validates it.
    std::size_t curr = permits_.load(std::memory_order_relaxed);
    if ((curr & CLOSED) != 0 || (curr >> PERMIT_SHIFT) < n) return false;
    // AcqRel: Acquire pairs with the Release CASes in release_unqueued() and
    // release_locked(); Release continues the word's release sequence, as in poll_acquire.
    // Failure: relaxed, its value is not used (the slow path reloads with Acquire).
    return permits_.compare_exchange_strong(curr, curr - (n << PERMIT_SHIFT),
                                            std::memory_order_acq_rel, std::memory_order_relaxed);
  }

  [[noreturn]] static void throw_overflow(std::size_t added) {
    throw std::length_error("number of added permits (" + std::to_string(added) +
                            ") would overflow MAX_PERMITS (" + std::to_string(MAX_PERMITS) + ")");
  }

  // Gives `rem` permits to the waiters, oldest first, and the rest to the count; clears
  // WAITERS when it empties the queue. Called with the lock held (in `lock`); returns
  // with it released and every collected waker woken. Returns false if the count would
  // exceed MAX_PERMITS and `overflow` is report: the excess is then not added (the
  // caller throws). With saturate the count stops at MAX_PERMITS and it returns true.
  bool release_locked(std::size_t rem, WaitersLock& lock, Overflow overflow) {
    bool added = true;
    lock.lock();
    wake_in_batches(lock, waiters_lock_, [&](WakeList& wakers) {
      while (wakers.can_push()) {
        Waiter* oldest = queue_.back();
        if (oldest == nullptr) {
          // Relaxed: the flag bits only change under the lock we hold; the CAS below
          // validates the count.
          std::size_t curr = permits_.load(std::memory_order_relaxed);
          for (;;) {
            const std::optional<std::size_t> next = add_to_count(curr, rem, overflow);
            if (!next) {
              added = false;
              break;
            }
            if (*next == curr) break;
            // Release: pairs with the Acquire loads and CASes in try_acquire(), try_take()
            // and poll_acquire(), as in release_unqueued().
            if (permits_.compare_exchange_weak(curr, *next, std::memory_order_release,
                                               std::memory_order_relaxed)) {
              break;
            }
          }
          rem = 0;
          return false;
        }
        // Relaxed: state is written only under the lock we hold.
        const std::size_t need = oldest->state.load(std::memory_order_relaxed);
        if (need > rem) {
          (void)assign_permits(*oldest, rem);  // still short: stays at the head
          return false;
        }
        rem -= need;
        queue_.pop_back();
        oldest->waker.with_mut([&](std::optional<Waker>& w) {
          if (w) wakers.push(std::move(*w));
          w.reset();
        });
        // Release: pairs with the Acquire load in served(); the last touch of the node
        // (see Waiter::state), so its owner's destruction of it comes after ours.
        oldest->state.store(0, std::memory_order_release);
      }
      return rem != 0;  // more waiters than one WakeList: lock again and go on
    });
    return added;
  }

  // Pops up to one WakeList of waiters for close(); clears WAITERS when the queue is
  // empty. Returns whether waiters remain. Lock held.
  bool drain_locked(WakeList& wakers) {
    while (wakers.can_push()) {
      Waiter* waiter = queue_.pop_back();
      if (waiter == nullptr) {
        // Relaxed: WAITERS only changes under the lock we hold.
        permits_.fetch_and(~WAITERS, std::memory_order_relaxed);
        return false;
      }
      waiter->waker.with_mut([&](std::optional<Waker>& w) {
        if (w) wakers.push(std::move(*w));
        w.reset();
      });
    }
    return !queue_.is_empty();
  }

  // Assigns up to `n` of the permits to `waiter` (lock held); returns whether its need
  // is met.
  static bool assign_permits(Waiter& waiter, std::size_t& n) {
    // Relaxed: state is written only under the lock we hold.
    const std::size_t curr = waiter.state.load(std::memory_order_relaxed);
    const std::size_t assign = curr < n ? curr : n;
    // Release: pairs with the Acquire load of state in poll_acquire (a re-poll).
    waiter.state.store(curr - assign, std::memory_order_release);
    n -= assign;
    return curr == assign;
  }

  // A queued waiter's re-poll without the lock: true if a release met its need (and so
  // unlinked it and took its waker) and the semaphore is open. Else the slow path
  // decides (a closed semaphore reports AcquireError, as Tokio; cancel gives back).
  bool served(const Waiter& node) const noexcept {
    // Acquire: pairs with the Release store of 0 in release_locked(), so the permits'
    // release and the releaser's accesses to the node happen-before the completion.
    if (node.state.load(std::memory_order_acquire) != 0) return false;
    // Relaxed: the permits came through state; this only keeps the Closed answer.
    return (permits_.load(std::memory_order_relaxed) & CLOSED) == 0;
  }

  // The slow paths, kept out of line so that Acquire::poll and ~Acquire inline into
  // their callers (the fast path is a load and a CAS).
  Poll<Result<void, AcquireError>> poll_acquire(Context& cx, std::size_t num_permits, Waiter& node,
                                                bool& queued);
  void cancel(Waiter& node, std::size_t num_permits);

  // See the layout above.
  platform::atomic<std::size_t> permits_;
  // The guessed idle word (usually_idle), or 0: no guessing. Immutable.
  const std::size_t idle_ = 0;
  platform::mutex waiters_lock_;
  // Waiters, newest at the front, oldest at the back. Protected by waiters_lock_.
  Queue queue_;
};

// The future of BatchSemaphore::acquire(n). Movable until first polled (and after it
// completed); once pending, its waiter is linked into the semaphore's queue and it must
// not move. Destroying it cancels the acquire (see the header). The semaphore must
// outlive it.
class [[nodiscard]] BatchSemaphore::Acquire {
 public:
  Acquire(BatchSemaphore& semaphore, std::size_t num_permits)
      : node_(num_permits), semaphore_(&semaphore), num_permits_(num_permits) {}
  Acquire(Acquire&& other)
      : node_(other.num_permits_),
        semaphore_(other.semaphore_),
        num_permits_(other.num_permits_),
        queued_(false) {
    WEFT_INVARIANT(!other.queued_);  // a queued future must not move
  }
  Acquire(const Acquire&) = delete;
  Acquire& operator=(const Acquire&) = delete;
  Acquire& operator=(Acquire&&) = delete;
  ~Acquire() {
    if (queued_) semaphore_->cancel(node_, num_permits_);
  }

  Poll<Result<void, AcquireError>> poll(Context& cx) {
    if (!queued_) {
      // Uncontended: one CAS, inline; no lock, the waiter node untouched.
      if (semaphore_->try_take(num_permits_)) return Result<void, AcquireError>();
    } else if (semaphore_->served(node_)) {
      // Woken by the release that handed it its permits: two loads, no lock.
      queued_ = false;
      return Result<void, AcquireError>();
    }
    auto result = semaphore_->poll_acquire(cx, num_permits_, node_, queued_);
    // Completed with the permits: the node is out of the queue and holds nothing.
    if (result.is_ready() && result.value().is_ok()) queued_ = false;
    return result;
  }

  std::size_t num_permits() const noexcept { return num_permits_; }
  BatchSemaphore& semaphore() const noexcept { return *semaphore_; }

 private:
  Waiter node_;
  BatchSemaphore* semaphore_;
  std::size_t num_permits_;
  // The node may be in the queue, or hold assigned permits. Only the polling task
  // touches it.
  bool queued_ = false;
};

inline BatchSemaphore::Acquire BatchSemaphore::acquire(std::size_t num_permits) {
  check_request(num_permits);
  return Acquire(*this, num_permits);
}

// Out of line (noinline), as cancel(): the slow paths stay out of the callers, so that
// Acquire::poll (a load and a CAS when uncontended) and ~Acquire inline there.
[[gnu::noinline]] inline Poll<Result<void, AcquireError>> BatchSemaphore::poll_acquire(
    Context& cx, std::size_t num_permits, Waiter& node, bool& queued) {
  using Outcome = Result<void, AcquireError>;
  // Permits taken from the count by this poll, not yet assigned to the node.
  std::size_t acquired = 0;
  // Acquire: pairs with the Release stores of state in assign_permits and release_locked().
  const std::size_t needed = queued ? node.state.load(std::memory_order_acquire) : num_permits;

  WaitersLock lock(waiters_lock_);
  // Acquire: pairs with the Release CASes in release_unqueued() and release_locked().
  std::size_t curr = permits_.load(std::memory_order_acquire);
  for (;;) {
    if ((curr & CLOSED) != 0) return Outcome(Err(AcquireError{}));
    const std::size_t available = curr >> PERMIT_SHIFT;
    const std::size_t want = needed - acquired;
    std::size_t next;
    std::size_t take;
    bool short_of_permits;
    if (available >= want) {
      take = want;
      next = curr - (want << PERMIT_SHIFT);
      short_of_permits = false;
    } else {
      // Take them all and mark the queue non-empty: this node queues (or is queued).
      take = available;
      next = WAITERS;  // CLOSED is clear (checked above)
      short_of_permits = true;
      // Lock before the CAS: once the count is 0 and WAITERS set, releases go through
      // the lock, so none can slip between this CAS and the node being queued.
      lock.lock();
    }
    // AcqRel: Acquire pairs with the Release CASes in release_unqueued() and
    // release_locked(); Release continues the word's release sequence for later takers.
    // Failure: Acquire, as the load.
    if (permits_.compare_exchange_weak(curr, next, std::memory_order_acq_rel,
                                       std::memory_order_acquire)) {
      acquired += take;
      if (!short_of_permits && !queued) {
        // Uncontended path: no lock was taken, nothing was queued.
        lock.unlock();
        return Outcome();
      }
      break;
    }
  }
  lock.lock();

  // Relaxed: CLOSED is set under the lock we hold.
  if ((permits_.load(std::memory_order_relaxed) & CLOSED) != 0) {
    // Give back what this poll took (a concurrent release may have filled the count:
    // saturate, never throw from a poll).
    if (acquired != 0) release_locked(acquired, lock, Overflow::saturate);
    return Outcome(Err(AcquireError{}));
  }

  if (assign_permits(node, acquired)) {
    // Need met: either it never queued, or a release already unlinked it. Give back
    // any surplus (and clear WAITERS if the queue is empty); saturating, as above.
    release_locked(acquired, lock, Overflow::saturate);
    return Outcome();
  }
  WEFT_INVARIANT(acquired == 0);

  if (!queued) {
    queue_.push_front(&node);
    queued = true;
  }
  // Register the waker. The old one is dropped after unlocking (dropping a waker may
  // run user code that releases permits). A throwing clone leaves the node queued with
  // its old waker (or none); the future's destructor still unlinks it.
  // A first registration (the common case: a release took the last one) constructs in
  // place.
  std::optional<Waker> old;
  node.waker.with_mut([&](std::optional<Waker>& w) {
    if (!w) {
      w.emplace(cx.waker());
    } else if (!w->will_wake(cx.waker())) {
      Waker fresh(cx.waker());
      old.emplace(std::exchange(*w, std::move(fresh)));
    }
  });
  lock.unlock();
  return pending;
}

[[gnu::noinline]] inline void BatchSemaphore::cancel(Waiter& node, std::size_t num_permits) {
  WaitersLock lock(waiters_lock_);
  lock.lock();
  queue_.remove(&node);
  // Relaxed: state is written only under the lock we hold.
  const std::size_t assigned = num_permits - node.state.load(std::memory_order_relaxed);
  // Gives back the assigned permits, and clears WAITERS if the queue is now empty. Runs
  // from ~Acquire: saturates at MAX_PERMITS, never throws (see the header).
  std::optional<Waker> old;
  node.waker.with_mut([&](std::optional<Waker>& w) {
    old = std::move(w);
    w.reset();
  });
  release_locked(assigned, lock, Overflow::saturate);
}

}  // namespace weft::detail
