// weft/sync/notify.h: Notify, wake one task or all waiting tasks, with no data attached.
//
// Ported from tokio/src/sync/notify.rs.
//
// A Notify holds at most one permit, like a Semaphore that starts with 0 permits and never
// exceeds 1 (the contract of std::thread::park / unpark):
//   notified()        a Notified future; it completes when it receives a notification or
//                     consumes the stored permit. Enqueued (FIFO) by its first poll or by
//                     enable(); completion is sticky (polling again returns ready).
//   notify_one()      wakes the oldest enqueued Notified; with none enqueued it stores the
//                     permit (several calls store one permit).
//   notify_last()     as notify_one(), but wakes the newest enqueued Notified.
//   notify_waiters()  completes every Notified created before the call, polled or not;
//                     stores no permit and consumes none.
//
// Concurrency: every operation may be called from any thread at once. A Notified is polled
// (or enabled) by one thread at a time; once polled or enabled it must not move.
//
// Cancel-safety: destroying a Notified cancels it and gives up its place in the queue. A
// Notified destroyed after notify_one() / notify_last() chose it, but before it returned
// ready, forwards that notification to the next waiter (or stores it as the permit), so
// no notification is lost. A notification from notify_waiters() is not forwarded.
//
// Memory ordering: everything a thread did before a notify_*() call happens-before the
// return of the Notified poll (or enable) that completes because of it, and of the poll
// that consumes the permit it stored. A notified() that observes a notify_waiters() call
// (it is created after it, so that call does not complete it) also happens-after it.
//
// Exceptions: a waker clone that throws leaves the Notified as it was and propagates. A
// waker whose wake throws breaks the library's wake policy (sync/task/waker.h): a failed
// invariant wherever it is woken.
//
// Waiters live inside the Notified futures, in an intrusive list under a platform::mutex;
// wakers are collected under it and woken after it is released, so no user code (a waker
// clone, wake or drop) ever runs with the lock held. notify_one, notify_last and
// notify_waiters cost one atomic read-modify-write, and no lock, when nobody waits.
//
//   weft::Notify notify;
//   // consumer (at most one per permit, else see enable() below):
//   auto fut = notify.notified();
//   weft::block_on(fut);                          // or poll it from a task
//   // producer:
//   notify.notify_one();
//
// An MPMC consumer enables its future before checking the condition, so a notify_one()
// between the check and the first poll picks this future instead of storing the one permit:
//
//   auto fut = notify.notified();
//   fut.enable();
//   if (auto msg = queue.try_pop()) return *msg;
//   weft::block_on(fut);
#pragma once

#include "sync/detail/linked_list.h"
#include "sync/detail/wake_list.h"
#include "sync/platform/atomic.h"
#include "sync/platform/cell.h"
#include "sync/platform/invariant.h"
#include "sync/platform/mutex.h"
#include "sync/task/poll.h"
#include "sync/task/waker.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

namespace weft {

class Notify;

namespace watch::detail {
class BigNotify;
}  // namespace watch::detail

namespace detail {

// How many wakers notify_waiters() collects before it releases the lock to wake them
// (Tokio's NUM_WAKERS, the WakeList's capacity). The model build shrinks it, as Tokio
// shrinks BLOCK_CAP under Loom: the scenarios that cross a batch boundary create
// batch + 1 waiters, and 33 of them put bounded search out of reach.
#if defined(WEFT_MODEL)
inline constexpr std::size_t notify_waiters_batch = 2;
#else
inline constexpr std::size_t notify_waiters_batch = WakeList::capacity;
#endif
static_assert(notify_waiters_batch <= WakeList::capacity);

// A Notified's place in the queue.
struct NotifyWaiter {
  // Protected by Notify::mutex_ while the waiter is linked (in the list, or in the guarded
  // list of a notify_waiters() in progress).
  ListLinks<NotifyWaiter> links;

  // The waker to wake. While `notification` is NONE it is protected by Notify::mutex_;
  // once a notifier stored a notification (Release) the owning Notified, having loaded it
  // (Acquire), owns it exclusively.
  platform::cell<std::optional<Waker>> waker;

  // How this waiter was notified: written once, under the lock, by the notifier that
  // unlinks it; read by the owning Notified.
  //   NONE  not notified; the waiter is linked (or not enqueued yet)
  //   ONE   notify_one() chose it (forwarded if the Notified is destroyed)
  //   LAST  notify_last() chose it (forwarded, newest first, if destroyed)
  //   ALL   notify_waiters() completed it (never forwarded)
  static constexpr unsigned NONE = 0;
  static constexpr unsigned ONE = 1;
  static constexpr unsigned LAST = 2;
  static constexpr unsigned ALL = 3;
  platform::atomic<unsigned> notification{NONE};
};

using NotifyWaitList = LinkedList<NotifyWaiter, &NotifyWaiter::links>;

class NotifiedCore;

}  // namespace detail

class Notified;
class OwnedNotified;

class Notify {
 public:
  Notify() = default;
  Notify(const Notify&) = delete;
  Notify& operator=(const Notify&) = delete;
  // Every Notified of this Notify must be gone (they borrow it).
  ~Notify() {
    waiters_.with([](const detail::NotifyWaitList& list) { WEFT_INVARIANT(list.is_empty()); });
  }

  // A future that completes on the next notification (see the file comment). It records the
  // current number of notify_waiters() calls: any later call completes it.
  [[nodiscard]] Notified notified();

  // As notified(), but the future owns a reference to the Notify (Tokio's notified_owned).
  [[nodiscard]] static OwnedNotified notified_owned(std::shared_ptr<Notify> notify);

  // Wakes the oldest enqueued Notified, or stores the permit when none is enqueued.
  void notify_one() { notify_with(detail::NotifyWaiter::ONE); }

  // Wakes the newest enqueued Notified, or stores the permit when none is enqueued.
  void notify_last() { notify_with(detail::NotifyWaiter::LAST); }

  // Completes every Notified created before this call; stores no permit.
  void notify_waiters();

 private:
  friend class detail::NotifiedCore;
  friend class watch::detail::BigNotify;

  // Whether a Notified is enqueued now. SeqCst: the second half of a Dekker pair with the
  // SeqCst enqueue CAS (EMPTY -> WAITING) in NotifiedCore::poll: a caller that stores its
  // condition by a SeqCst RMW before this load, and skips notify_waiters() when it returns
  // false, is sure that a waiter enqueueing later sees the condition, provided the waiter
  // re-checks it by a SeqCst load after the poll that enqueued it (watch's send and
  // ChangedWait). Either this load sees the WAITING that the enqueue stored, or the
  // waiter's check follows it in the single total order and sees the condition.
  bool has_enqueued() const { return get_state(state_.load(std::memory_order_seq_cst)) == WAITING; }

  // State word (state_): bits 0-1 hold the permit state, the other bits count the calls
  // of notify_waiters() (wrapping; only equality is ever tested).
  //   EMPTY     no stored permit and no waiter in the list
  //   WAITING   at least one waiter in the list (so no permit can be stored)
  //   NOTIFIED  the permit is stored, and no waiter is in the list
  // Transitions:
  //   EMPTY/NOTIFIED -> NOTIFIED  notify_one / notify_last: lock-free CAS, or under the lock
  //   NOTIFIED -> EMPTY           a Notified consumes the permit: lock-free CAS, or under
  //                               the lock
  //   EMPTY -> WAITING            a Notified enqueues itself, under the lock
  //   WAITING -> EMPTY            the last waiter leaves the list, under the lock
  //   count + 1                   notify_waiters: a lock-free CAS while the state is not
  //                               WAITING, else under the lock (with WAITING -> EMPTY)
  // Invariant: a word whose state is WAITING changes only under mutex_ (every lock-free
  // CAS expects EMPTY or NOTIFIED); so a load made under the lock that sees WAITING sees
  // the current word. A non-WAITING word seen under the lock may be stale (permit bits
  // and count alike): the lock holder acts on it only through a CAS, which re-reads it.
  // Since the list holds a waiter only while WAITING, every linked waiter's recorded count
  // is current, and a lock-free count change never has a waiter to complete.
  static constexpr std::uintptr_t EMPTY = 0;
  static constexpr std::uintptr_t WAITING = 1;
  static constexpr std::uintptr_t NOTIFIED = 2;
  static constexpr unsigned CALLS_SHIFT = 2;
  static constexpr std::uintptr_t STATE_MASK = (std::uintptr_t{1} << CALLS_SHIFT) - 1;
  static constexpr std::uintptr_t ONE_CALL = std::uintptr_t{1} << CALLS_SHIFT;

  static constexpr std::uintptr_t get_state(std::uintptr_t word) { return word & STATE_MASK; }
  static constexpr std::uintptr_t set_state(std::uintptr_t word, std::uintptr_t state) {
    return (word & ~STATE_MASK) | state;
  }
  static constexpr std::uintptr_t get_calls(std::uintptr_t word) { return word >> CALLS_SHIFT; }

  void notify_with(unsigned strategy);
  // Under the lock: wakes (returns the waker of) one waiter by `strategy`, or stores the
  // permit. `word` is a load of state_ made under the lock.
  std::optional<Waker> notify_locked(detail::NotifyWaitList& list, std::uintptr_t word,
                                     unsigned strategy);

  platform::atomic<std::uintptr_t> state_{EMPTY};
  platform::mutex mutex_;
  // The enqueued waiters, newest at the front. Protected by mutex_.
  platform::cell<detail::NotifyWaitList> waiters_;
};

namespace detail {

// The machinery shared by Notified and OwnedNotified.
class NotifiedCore {
 public:
  NotifiedCore(Notify* notify, std::uintptr_t calls) noexcept : notify_(notify), calls_(calls) {}
  // Only a future never polled nor enabled (or already complete) may move.
  NotifiedCore(NotifiedCore&& other) noexcept
      : notify_(other.notify_), stage_(other.stage_), calls_(other.calls_) {
    WEFT_INVARIANT(other.stage_ != Stage::waiting);
  }
  NotifiedCore(const NotifiedCore&) = delete;
  NotifiedCore& operator=(const NotifiedCore&) = delete;
  NotifiedCore& operator=(NotifiedCore&&) = delete;
  ~NotifiedCore() { cancel(); }

  // Polls with `waker` (nullptr: enable without registering a waker).
  Poll<void> poll(const Waker* waker);

 private:
  enum class Stage : unsigned char { init, waiting, done };

  void cancel() noexcept;
  std::optional<Waker> take_waker() {
    return waiter_.waker.with_mut(
        [](std::optional<Waker>& slot) { return std::exchange(slot, {}); });
  }

  Notify* notify_;
  Stage stage_ = Stage::init;
  std::uintptr_t calls_;  // notify_waiters() calls counted when the future was created
  NotifyWaiter waiter_;
};

}  // namespace detail

// The future returned by Notify::notified(). See the file comment.
class [[nodiscard]] Notified {
 public:
  Notified(Notified&&) noexcept = default;  // before the first poll or enable() only

  // Ready once notified (then ready on every later poll); otherwise registers cx's waker.
  Poll<void> poll(Context& cx) { return core_.poll(&cx.waker()); }

  // Enqueues the future without registering a waker, so that notify_one() can choose it
  // before its first poll. Returns true when it is already complete: notify_waiters() was
  // called since notified(), the stored permit was consumed (first enable or poll only),
  // or a notification reached it since it was enqueued.
  bool enable() { return core_.poll(nullptr).is_ready(); }

 private:
  friend class Notify;
  explicit Notified(detail::NotifiedCore core) : core_(std::move(core)) {}
  detail::NotifiedCore core_;
};

// The future returned by Notify::notified_owned(): a Notified that keeps its Notify alive.
class [[nodiscard]] OwnedNotified {
 public:
  OwnedNotified(OwnedNotified&&) noexcept = default;  // before the first poll or enable()

  Poll<void> poll(Context& cx) { return core_.poll(&cx.waker()); }
  bool enable() { return core_.poll(nullptr).is_ready(); }

 private:
  friend class Notify;
  OwnedNotified(std::shared_ptr<Notify> notify, detail::NotifiedCore core)
      : notify_(std::move(notify)), core_(std::move(core)) {}
  std::shared_ptr<Notify> notify_;  // declared first: destroyed after core_ unlinks
  detail::NotifiedCore core_;
};

// ===== Notify =====

inline Notified Notify::notified() {
  // Acquire: pairs with the Release increment in notify_waiters(), so a future created
  // after a call (which that call does not complete) sees what preceded the call.
  const std::uintptr_t word = state_.load(std::memory_order_acquire);
  return Notified(detail::NotifiedCore(this, get_calls(word)));
}

inline OwnedNotified Notify::notified_owned(std::shared_ptr<Notify> notify) {
  WEFT_INVARIANT(notify != nullptr);
  Notify* raw = notify.get();
  // Acquire: as in notified().
  const std::uintptr_t word = raw->state_.load(std::memory_order_acquire);
  return OwnedNotified(std::move(notify), detail::NotifiedCore(raw, get_calls(word)));
}

inline void Notify::notify_with(unsigned strategy) {
  std::uintptr_t word = state_.load(std::memory_order_relaxed);
  // Fast path: nobody waits, store the permit (NOTIFIED -> NOTIFIED included, so that this
  // call's Release reaches the consumer of the permit too).
  while (get_state(word) != WAITING) {
    // Release: pairs with the Acquire CAS in NotifiedCore::poll that consumes the permit.
    if (state_.compare_exchange_strong(word, set_state(word, NOTIFIED), std::memory_order_release,
                                       std::memory_order_relaxed)) {
      return;
    }
  }
  std::optional<Waker> waker;
  {
    platform::mutex_guard guard(mutex_);
    // Relaxed: under the lock (see the state word's invariant).
    word = state_.load(std::memory_order_relaxed);
    waker = waiters_.with_mut(
        [&](detail::NotifyWaitList& list) { return notify_locked(list, word, strategy); });
  }
  if (waker) waker->wake();
}

inline std::optional<Waker> Notify::notify_locked(detail::NotifyWaitList& list, std::uintptr_t word,
                                                  unsigned strategy) {
  if (get_state(word) != WAITING) {
    // Nobody to wake: store the permit. Lock-free CASes may race this one (a permit
    // stored or consumed), never a move to WAITING, which needs the lock we hold.
    // Release: pairs with the Acquire CAS in NotifiedCore::poll that consumes the permit.
    while (!state_.compare_exchange_strong(word, set_state(word, NOTIFIED),
                                           std::memory_order_release, std::memory_order_relaxed)) {
      WEFT_INVARIANT(get_state(word) != WAITING);
    }
    return std::nullopt;
  }
  detail::NotifyWaiter* waiter =
      strategy == detail::NotifyWaiter::LAST ? list.pop_front() : list.pop_back();
  WEFT_INVARIANT(waiter != nullptr);  // WAITING means the list is not empty
  std::optional<Waker> waker =
      waiter->waker.with_mut([](std::optional<Waker>& slot) { return std::exchange(slot, {}); });
  if (list.is_empty()) {
    // Relaxed: leaving WAITING under the lock; no lock-free transition applies to WAITING.
    state_.store(set_state(word, EMPTY), std::memory_order_relaxed);
  }
  // Release: pairs with the Acquire load in NotifiedCore::poll; the waiter is unlinked and
  // its waker taken, so from here on it belongs to its Notified (which may destroy it).
  waiter->notification.store(strategy, std::memory_order_release);
  return waker;
}

inline void Notify::notify_waiters() {
  // Fast path: nobody enqueued, so only count the call (futures created before it then
  // complete when first polled, seeing the new count). No lock: a waiter enqueues by a CAS
  // EMPTY -> WAITING, ordered with this CAS on state_, so either it sees the new count
  // (and completes) or this CAS sees WAITING (and takes the lock to complete it).
  // Relaxed: the CAS below re-reads the word.
  std::uintptr_t word = state_.load(std::memory_order_relaxed);
  while (get_state(word) != WAITING) {
    // Strong: a weak CAS adds spurious-failure branches to every model execution.
    // Release: pairs with the Acquire load in notified() and the Acquire loads / CASes of
    // the count in NotifiedCore::poll.
    if (state_.compare_exchange_strong(word, word + ONE_CALL, std::memory_order_release,
                                       std::memory_order_relaxed)) {
      return;
    }
  }
  platform::mutex_guard guard(mutex_);
  // Relaxed: under the lock; a WAITING word is current (see the state word's invariant).
  word = state_.load(std::memory_order_relaxed);
  if (get_state(word) != WAITING) {
    // The last waiter left meanwhile: only count the call, by an RMW, since lock-free CASes
    // may run concurrently. Release: as in the fast path.
    state_.fetch_add(ONE_CALL, std::memory_order_release);
    return;
  }
  // Count the call and empty the state at once; WAITING admits no lock-free change.
  // Release: pairs with the Acquire load in notified().
  state_.store(set_state(word + ONE_CALL, EMPTY), std::memory_order_release);

  // Move every waiter to a list anchored at a node on this stack, so that waiters enqueued
  // while the lock is released between batches are not completed by this call, and a
  // waiter cancelled meanwhile can still unlink itself (NotifiedCore::cancel / poll).
  detail::NotifyWaiter anchor;
  auto pending =
      waiters_.with_mut([&](detail::NotifyWaitList& list) { return list.into_guarded(&anchor); });

  detail::wake_in_batches(guard, mutex_, [&](detail::WakeList& wakers) {
    while (wakers.size() < detail::notify_waiters_batch) {
      detail::NotifyWaiter* waiter = pending.pop_back();  // under the lock
      if (waiter == nullptr) return false;
      std::optional<Waker> waker = waiter->waker.with_mut(
          [](std::optional<Waker>& slot) { return std::exchange(slot, {}); });
      if (waker) wakers.push(std::move(*waker));
      // Release: pairs with the Acquire load in NotifiedCore::poll; the waiter is now its
      // Notified's alone.
      waiter->notification.store(detail::NotifyWaiter::ALL, std::memory_order_release);
    }
    return true;
  });
}

// ===== NotifiedCore =====

namespace detail {

inline Poll<void> NotifiedCore::poll(const Waker* waker) {
  Notify& notify = *notify_;
  std::optional<Waker> fresh;  // the caller's waker, cloned outside the lock
  for (;;) {
    if (stage_ == Stage::done) return ready;

    if (stage_ == Stage::init) {
      // Fast path: consume the stored permit without the lock. Only when the load sees
      // it: a CAS bound to fail (no permit: the usual case of a task that waits) is a
      // locked instruction for nothing, on a line the notifier is using. A permit stored
      // after this load is consumed under the lock below.
      // Tokio #7996: a notify_waiters() since notified() completes this future; the
      // stored permit (perhaps from a notify_one() after that call) is left for others.
      // The slow path below checks the count first, too.
      // Acquire: pairs with the Release count increment in notify_waiters(), for that
      // completion.
      std::uintptr_t word = notify.state_.load(std::memory_order_acquire);
      if (Notify::get_calls(word) != calls_) {
        stage_ = Stage::done;
        continue;
      }
      // Acquire: pairs with the Release CASes in notify_with() and notify_locked() that
      // store the permit.
      if (Notify::get_state(word) == Notify::NOTIFIED &&
          notify.state_.compare_exchange_strong(word, Notify::set_state(word, Notify::EMPTY),
                                                std::memory_order_acquire,
                                                std::memory_order_relaxed)) {
        stage_ = Stage::done;
        continue;
      }
      if (waker != nullptr && !fresh) fresh.emplace(*waker);  // may throw: nothing changed

      std::optional<Waker> old;  // dropped after the lock is released
      platform::mutex_guard guard(notify.mutex_);
      // Acquire: pairs with the Release count increment of a lock-free notify_waiters()
      // (see below). The word may be stale unless WAITING: the CASes below re-read it.
      word = notify.state_.load(std::memory_order_acquire);
      bool consumed = false;
      bool counted = false;
      for (bool enqueue = false; !enqueue && !consumed && !counted;) {
        if (Notify::get_calls(word) != calls_) {
          // notify_waiters() was called since notified(). Acquire (every load of `word`):
          // pairs with the Release increment in notify_waiters() (or a later RMW in its
          // release sequence), so this completion happens-after the call.
          counted = true;
          break;
        }
        switch (Notify::get_state(word)) {
          case Notify::EMPTY:
            // A failure means a notify_one() stored the permit or a notify_waiters()
            // counted itself meanwhile. Acquire on failure: as the load above. SeqCst on
            // success: pairs with the SeqCst load in has_enqueued() (a Dekker pair; the
            // word already acquired carries no new data, WAITING none).
            enqueue = notify.state_.compare_exchange_strong(
                word, Notify::set_state(word, Notify::WAITING), std::memory_order_seq_cst,
                std::memory_order_acquire);
            break;
          case Notify::WAITING:
            enqueue = true;  // current (the state word's invariant): the count matched
            break;
          default:  // NOTIFIED
            // Acquire: pairs with the Release CASes in notify_with() and notify_locked()
            // that store the permit. A failure means a lock-free poll consumed it or a
            // notify_waiters() counted itself meanwhile.
            consumed = notify.state_.compare_exchange_strong(
                word, Notify::set_state(word, Notify::EMPTY), std::memory_order_acquire,
                std::memory_order_acquire);
            break;
        }
      }
      if (consumed || counted) {
        stage_ = Stage::done;
        continue;
      }
      if (fresh) {
        waiter_.waker.with_mut(
            [&](std::optional<Waker>& slot) { old = std::exchange(slot, std::move(fresh)); });
      }
      notify.waiters_.with_mut([&](NotifyWaitList& list) { list.push_front(&waiter_); });
      stage_ = Stage::waiting;
      return pending;
    }

    // Stage::waiting.
    // Acquire: pairs with the Release stores of the notification in notify_locked() and
    // notify_waiters(), after which the waiter is ours alone.
    if (waiter_.notification.load(std::memory_order_acquire) != NotifyWaiter::NONE) {
      std::optional<Waker> old = take_waker();
      stage_ = Stage::done;
      return ready;
    }
    std::optional<Waker> old;  // dropped after the lock is released
    bool need_clone = false;
    {
      platform::mutex_guard guard(notify.mutex_);
      // Relaxed: notifications are stored under the lock we hold.
      if (waiter_.notification.load(std::memory_order_relaxed) != NotifyWaiter::NONE) {
        old = take_waker();
        stage_ = Stage::done;
      } else if (Notify::get_calls(notify.state_.load(std::memory_order_relaxed)) != calls_) {
        // Relaxed: while this waiter is linked only a locked notify_waiters() changes the
        // count first (lock-free ones need a non-WAITING word, so an empty list), and it
        // released the lock after counting itself.
        // A notify_waiters() call is in progress and holds this waiter in its guarded list
        // (it moved the whole list when it counted itself): complete now, and unlink.
        old = take_waker();
        notify.waiters_.with_mut([&](NotifyWaitList& list) {
          const bool linked = list.remove(&waiter_);
          WEFT_INVARIANT(linked);
        });
        stage_ = Stage::done;
      } else if (waker != nullptr) {
        const bool same = waiter_.waker.with(
            [&](const std::optional<Waker>& slot) { return slot && slot->will_wake(*waker); });
        if (!same) {
          if (fresh) {
            waiter_.waker.with_mut(
                [&](std::optional<Waker>& slot) { old = std::exchange(slot, std::move(fresh)); });
          } else {
            need_clone = true;  // clone outside the lock, then look again
          }
        }
      }
    }
    if (stage_ == Stage::done) return ready;
    if (!need_clone) return pending;
    fresh.emplace(*waker);  // may throw: the previous registration stays
  }
}

inline void NotifiedCore::cancel() noexcept {
  if (stage_ != Stage::waiting) return;
  Notify& notify = *notify_;
  std::optional<Waker> own;
  std::optional<Waker> forward;
  {
    platform::mutex_guard guard(notify.mutex_);
    // Relaxed: under the lock (see the state word's invariant).
    std::uintptr_t word = notify.state_.load(std::memory_order_relaxed);
    // Relaxed: notifications are stored under the lock we hold.
    const unsigned notification = waiter_.notification.load(std::memory_order_relaxed);
    own = take_waker();
    notify.waiters_.with_mut([&](NotifyWaitList& list) {
      // Unlink (from the list, or from a notify_waiters() call's guarded list) unless a
      // notifier already did.
      if (notification == NotifyWaiter::NONE) {
        const bool linked = list.remove(&waiter_);
        WEFT_INVARIANT(linked);
      }
      if (list.is_empty() && Notify::get_state(word) == Notify::WAITING) {
        word = Notify::set_state(word, Notify::EMPTY);
        // Relaxed: leaving WAITING under the lock; no lock-free transition applies.
        notify.state_.store(word, std::memory_order_relaxed);
      }
      // Chosen by notify_one / notify_last but never completed: pass it on.
      if (notification == NotifyWaiter::ONE || notification == NotifyWaiter::LAST) {
        forward = notify.notify_locked(list, word, notification);
      }
    });
  }
  stage_ = Stage::done;
  if (forward) forward->wake();
}

}  // namespace detail

}  // namespace weft
