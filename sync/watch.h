// weft/sync/watch.h: a multi-producer, multi-consumer channel that keeps only the last
// value sent.
//
// Ported from tokio/src/sync/watch.rs.
//
// weft::watch::channel(init) returns a {Sender, Receiver} pair around one shared value.
// Senders replace or modify it (send, send_replace, send_modify, send_if_modified) and wake
// every waiting receiver; receivers read it (borrow) and wait for a version they have not
// seen (changed, wait_for). A receiver tracks the version it last marked seen;
// borrow_and_update(), changed() and wait_for() mark the current one seen.
//
// Errors: send() fails with SendError<T> (the value comes back) when no receiver exists;
// send_replace / send_modify / send_if_modified always store. changed() and has_changed()
// fail with RecvError once every Sender is gone and the current value was seen; wait_for()
// fails once the Senders are gone and the predicate was false for the last value. Using a
// moved-from handle throws std::invalid_argument.
//
// Concurrency: every handle may be copied (Sender and Receiver both count their copies) and
// used from any thread. A Sender's methods are const and may run on several threads at
// once (as Tokio's take &self); a Receiver and the futures are used by one thread at a
// time. Two layouts of the value, chosen by T:
// - a trivially copyable T of at most 64 bytes (an integer, a small struct of numbers) is
//   copied out by borrow(): the Ref holds a copy, borrowing takes no lock and writes
//   nothing a sender writes (a seqlock, detail/seq_value.h), and holding a Ref blocks no
//   one. A send() is one CAS on the state word (which also excludes other writers); a
//   borrow that saw its version waits the few stores until its value is in.
// - any other T sits behind a reader-writer lock, as in Tokio: a Ref holds the read lock,
//   so keep it short and never hold it across a wait, or a send (which takes the write
//   lock) blocks.
// Either way a Ref's value and has_changed() agree: they come from the same store.
//
// Cancel safety: changed() is cancel-safe: if its future is destroyed before it completes
// (a branch of a select that another branch beat), this call marked no value seen.
// wait_for() is cancel-safe in the sense that the last value it marked seen, if any, did
// not satisfy the predicate. Sender::closed() is cancel-safe.
//
// Memory ordering: everything a sender did before storing a value happens-before the
// return of any borrow / changed / wait_for that observes that version, and a borrow after
// a changed() that saw a version returns that value or a later one. Wake-ups go through
// weft::Notify, woken outside every lock; a send wakes only the shards where a receiver
// waits, and a receiver checks the version again after it enqueues (a SeqCst Dekker pair:
// ChangedWait), so a send that meets no waiter writes nothing but the value and the state
// word (and, for the lock layout, the lock).
//
//   auto [tx, rx] = weft::watch::channel<std::string>("hello");
//   std::thread t([rx = std::move(rx)]() mutable {
//     while (weft::block_on(rx.changed()).is_ok()) use(*rx.borrow_and_update());
//   });
//   tx.send("world");           // Result<void, SendError<std::string>>
#pragma once

#include "sync/detail/seq_value.h"
#include "sync/notify.h"
#include "sync/platform/atomic.h"
#include "sync/platform/cell.h"
#include "sync/platform/invariant.h"
#include "sync/platform/mutex.h"
#include "sync/platform/rwlock.h"
#include "sync/platform/spin.h"
#include "sync/platform/thread.h"
#include "sync/result.h"
#include "sync/task/future.h"
#include "sync/task/poll.h"
#include "sync/task/waker.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace weft::watch {

// send() found no receiver: the value comes back.
template <class T>
struct SendError {
  T value;
  const char* what() const noexcept { return "channel closed"; }
};

// Every Sender is gone (and, for changed(), the current value was seen).
struct RecvError {
  friend bool operator==(RecvError, RecvError) noexcept { return true; }
  const char* what() const noexcept { return "channel closed"; }
};

template <class T>
class Sender;
template <class T>
class Receiver;
template <class T>
class Ref;

namespace detail {

[[noreturn]] inline void misuse(const char* what) { throw std::invalid_argument(what); }

// Whether borrow() copies the value out (a seqlock: CopiedValue) instead of reading it under
// a read lock (LockedValue). A copy of up to 64 bytes costs less than the read lock's two
// RMWs on a line every send writes, and lets a send be one locked instruction: about twice
// as fast in watch_4rx (bench/README.md, "`watch_4rx`: borrow copies a small value; a send
// is one CAS").
template <class T>
inline constexpr bool borrowed_by_copy = std::is_trivially_copyable_v<T> && sizeof(T) <= 64;

// Versions grow by STEP per stored value and are compared as serial numbers (RFC 1982), so
// a receiver's version may be ahead of the state word: a copied value carries its version
// and may be seen before the state word's bump.
inline bool newer(std::uintptr_t current, std::uintptr_t seen) noexcept {
  return static_cast<std::intptr_t>(current - seen) > 0;
}

// How many Notify objects can share the receivers' waits (Tokio's BigNotify: 8, to spread lock
// contention). The model build keeps 2, so a send still wakes through more than one.
#if defined(WEFT_MODEL)
inline constexpr std::size_t notify_width = 2;
#else
inline constexpr std::size_t notify_width = 8;
#endif

class BigNotify {
 public:
  // Uses the first `width` Notify objects: by default one per core, at most notify_width.
  // Shards beyond the cores spread no contention (no more threads wait or send at once),
  // and each costs every send a load of its state (and an RMW while a receiver waits).
  explicit BigNotify(std::size_t width = default_width()) : width_(width) {
    WEFT_INVARIANT(width >= 1 && width <= notify_width);
  }
  static std::size_t default_width() noexcept {
    return std::min<std::size_t>(platform::available_parallelism(), notify_width);
  }

  // A shard for a new Receiver, which waits on it for its whole life (Tokio picks one per
  // wait with a thread-local RNG; a fixed shard per Receiver spares a shared RMW per wait).
  std::size_t next_shard() {
    // Relaxed: only spreads waiters over the Notify objects.
    return next_.fetch_add(1, std::memory_order_relaxed) % width_;
  }
  Notified notified(std::size_t shard) { return inner_[shard].notified(); }
  // Every shard a Receiver can wait on, so none misses a send (or the close).
  void notify_waiters() {
    for (std::size_t i = 0; i < width_; ++i) inner_[i].notify_waiters();
  }
  // A send's wake: only the shards where a receiver is enqueued, so that a send meeting
  // no waiter writes no shard's line (a locked RMW per shard that the receivers use,
  // about half of a send's time in watch_4rx: bench/README.md). Notified futures created
  // but not yet enqueued are not completed: the caller bumped the version by a SeqCst RMW
  // before this, and ChangedWait re-checks it by a SeqCst load after it enqueues
  // (Notify::has_enqueued's Dekker pair).
  void notify_enqueued() {
    for (std::size_t i = 0; i < width_; ++i) {
      if (inner_[i].has_enqueued()) inner_[i].notify_waiters();
    }
  }

 private:
  const std::size_t width_;
  platform::atomic<std::size_t> next_{0};
  Notify inner_[notify_width];
};

// The value of a borrowed_by_copy T, copied out with the version it was stored with.
template <class T>
struct Snapshot {
  T value;
  std::uintptr_t version;
};

// A borrowed_by_copy T. Readers copy it out (SeqValue) and never take a lock. Writers take
// the state word's WRITING bit by a CAS (Shared::begin_write): send() and send_replace()
// bump the version in that same CAS, so a send is one locked instruction; a send_modify /
// send_if_modified runs its closure holding the bit and send_lock, and bumps the version
// after it (the closure decides whether there is a new version).
template <class T>
struct CopiedValue {
  template <class... Args>
  explicit CopiedValue(Args&&... args)
      : current(0, Snapshot<T>{T(std::forward<Args>(args)...), 0}) {}

  // Held by a writer that runs a closure, and by a writer that found WRITING taken, so that
  // at most one writer spins for the bit, and never while a closure runs.
  platform::mutex send_lock;
  weft::detail::SeqValue<Snapshot<T>> current;  // its stamps count the writes
};

template <class T>
struct LockedValue {
  template <class... Args>
  explicit LockedValue(Args&&... args) : value(std::forward<Args>(args)...) {}

  platform::rwlock lock;
  platform::cell<T> value;  // read under lock_shared(), written under lock()
};

template <class T>
class Shared {
 public:
  static constexpr bool by_copy = borrowed_by_copy<T>;

  // State word (state): bit 0 is CLOSED (every Sender is gone; never cleared); bit 1 is
  // WRITING (a by-copy writer holds it: CopiedValue); the other bits the version, bumped by
  // STEP for each stored value by the writer. Compared as serial numbers (newer()).
  static constexpr std::uintptr_t CLOSED = 1;
  static constexpr std::uintptr_t WRITING = 2;
  static constexpr std::uintptr_t STEP = 4;

  template <class... Args>
  explicit Shared(Args&&... args) : slot(std::forward<Args>(args)...) {}

  void acquire() noexcept {
    // Relaxed: made from a reference the caller holds (as Arc::clone).
    refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    // AcqRel: the deleting thread sees every other handle's last use.
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  std::uintptr_t load_state() const {
    // Acquire: pairs with the fetch_add in bump_version(), the CAS in try_begin_write() and
    // the store in end_write() (each writes the version after its value is stored or
    // claimed) and the Release fetch_or in Sender::drop() (the last Sender).
    return state.load(std::memory_order_acquire);
  }
  static std::uintptr_t version_of(std::uintptr_t s) noexcept { return s & ~(CLOSED | WRITING); }

  // Under the senders' lock, after the value is stored.
  void bump_version() {
    // SeqCst (Release would publish the value): pairs with load_state()'s Acquire, and is
    // the first half of the Dekker pair with ChangedWait's recheck after it enqueues
    // (BigNotify::notify_enqueued).
    state.fetch_add(STEP, std::memory_order_seq_cst);
  }

  // Stores the value modify(value) leaves, a new version if modify returns true (the
  // caller then wakes the receivers); returns modify's answer. A modify that returns false
  // or throws after changing the value stores it silently, as Tokio documents.
  template <class F>
  bool store(F&& modify) {
    if constexpr (by_copy) {
      platform::mutex_guard guard(slot.send_lock);
      const std::uintptr_t s = begin_write(0);
      Snapshot<T> snap = slot.current.writer_load();
      const std::uint64_t stamp = slot.current.writer_stamp() + 2;
      const T before = snap.value;
      const auto silently = [&] {
        if (std::memcmp(&before, &snap.value, sizeof(T)) != 0) slot.current.store(stamp, snap);
        end_write(s);
      };
      bool modified;
      try {
        modified = static_cast<bool>(std::forward<F>(modify)(snap.value));
      } catch (...) {
        silently();
        throw;
      }
      if (!modified) {
        silently();
        return false;
      }
      snap.version += STEP;
      slot.current.store(stamp, snap);
      // SeqCst: as bump_version(); clears WRITING (STEP - WRITING added to a word holding it).
      state.fetch_add(STEP - WRITING, std::memory_order_seq_cst);
      return true;
    } else {
      slot.lock.lock();
      struct Unlock {
        platform::rwlock& lock;
        ~Unlock() { lock.unlock(); }
      } held{slot.lock};
      const bool modified =
          slot.value.with_mut([&](T& v) { return static_cast<bool>(std::forward<F>(modify)(v)); });
      if (modified) bump_version();  // under the write lock: a borrow sees value and version agree
      return modified;
    }
  }

  // send_replace for a by-copy T: the new version is taken with the writer's bit, in one
  // CAS, before the value is stored; a reader that sees it waits for the value (read()).
  // Returns the old value.
  T replace(const T& value) requires by_copy {
    std::uintptr_t s = try_begin_write(STEP);
    if ((s & WRITING) != 0) {
      platform::mutex_guard guard(slot.send_lock);
      s = begin_write(STEP);
      return replace_held(s, value);
    }
    return replace_held(s, value);
  }

  // The value and its version for a borrow of a by-copy T: at least as new as the version
  // in the state word now, so a borrow after changed() sees what changed() saw.
  Snapshot<T> read() const requires by_copy {
    std::uintptr_t s = load_state();
    platform::Backoff backoff;
    for (;;) {
      std::optional<Snapshot<T>> snap = slot.current.try_load();
      if (!snap) {
        backoff.snooze();  // a store overlapped the copy: copy again
      } else if (newer(version_of(s), snap->version)) {
        // A send's value is on its way (its version and WRITING are in `s`): its writer
        // clears WRITING when the value is stored (end_write). Waiting on that one word,
        // not the value's, spares the model checker a branch per store of the value.
        for (std::uintptr_t now = load_state();; now = load_state()) {
          if (now != s) {
            s = now;
            break;
          }
          backoff.snooze();
        }
      } else {
        return *snap;
      }
    }
  }

  // Receiver side of changed(): Ok when a version this receiver has not seen exists (and
  // marks it seen), Err when closed and nothing is new, nullopt otherwise.
  // `order`: Acquire, or SeqCst for the recheck after enqueueing (see ChangedWait).
  std::optional<Result<void, RecvError>> maybe_changed(
      std::uintptr_t& version, std::memory_order order = std::memory_order_acquire) const {
    // Acquire (at least): as load_state().
    const std::uintptr_t s = state.load(order);
    const std::uintptr_t current = version_of(s);
    if (newer(current, version)) {
      version = current;
      return Result<void, RecvError>(Ok());
    }
    if ((s & CLOSED) != 0) return Result<void, RecvError>(Err(RecvError{}));
    return std::nullopt;
  }

  std::conditional_t<by_copy, CopiedValue<T>, LockedValue<T>> slot;
  platform::atomic<std::uintptr_t> state{0};

 private:
  // One CAS for WRITING, adding `bump` to the version; the state word seen, WRITING set in
  // it if another writer holds the bit (then nothing was taken).
  std::uintptr_t try_begin_write(std::uintptr_t bump) {
    // Relaxed: the CAS below re-reads it.
    std::uintptr_t s = state.load(std::memory_order_relaxed);
    while ((s & WRITING) == 0) {
      // SeqCst: Acquire pairs with end_write's Release (the last writer's stores
      // happen-before this one's); with a bump it is also bump_version()'s Release and the
      // first half of the Dekker pair with ChangedWait's recheck.
      if (state.compare_exchange_strong(s, s + bump + WRITING, std::memory_order_seq_cst,
                                        std::memory_order_relaxed)) {
        return s;
      }
    }
    return s;
  }
  // try_begin_write until it takes the bit. Under send_lock: the bit's holder runs no
  // closure (those hold send_lock too), so it lets go within a few stores.
  std::uintptr_t begin_write(std::uintptr_t bump) {
    platform::Backoff backoff;
    for (;;) {
      const std::uintptr_t s = try_begin_write(bump);
      if ((s & WRITING) == 0) return s;
      backoff.snooze();
    }
  }
  // Gives the bit back, the state word otherwise `s` (as before begin_write, plus its
  // bump). Only a writer changes the word, but for the last Sender's CLOSED, which cannot
  // be set while a Sender is in use.
  void end_write(std::uintptr_t s) {
    // Release: pairs with the CAS in try_begin_write() (the next writer) and load_state()'s
    // Acquire.
    state.store(s, std::memory_order_release);
  }
  T replace_held(std::uintptr_t s, const T& value) {
    Snapshot<T> snap = slot.current.writer_load();
    const T old = snap.value;
    snap.value = value;
    snap.version = version_of(s) + STEP;
    slot.current.store(slot.current.writer_stamp() + 2, snap);
    end_write(s + STEP);
    return old;
  }

 public:
  platform::atomic<std::size_t> ref_count_rx{1};
  platform::atomic<std::size_t> ref_count_tx{1};
  platform::atomic<std::size_t> refs{2};
  BigNotify notify_rx;  // receivers waiting for a new version
  Notify notify_tx;     // Sender::closed() waiting for the last receiver
};

// Waits for a version the receiver has not seen (after Tokio's changed_impl). A send wakes
// only the receivers enqueued when it looks (BigNotify::notify_enqueued), so the check that
// counts comes after the poll that enqueues: a send that looked before the enqueue bumped
// the version before it looked, and this SeqCst load sees that bump (a Dekker pair with
// the SeqCst bump and the SeqCst enqueue CAS). A close wakes every shard as Tokio does.
class ChangedWait {
 public:
  template <class T>
  Poll<Result<void, RecvError>> poll(Shared<T>& shared, std::uintptr_t& version, std::size_t shard,
                                     Context& cx) {
    for (;;) {
      if (!notified_) {
        if (auto done = shared.maybe_changed(version)) return std::move(*done);
        notified_.emplace(shared.notify_rx.notified(shard));
      }
      if (notified_->poll(cx).is_pending()) {
        // SeqCst: the second half of the Dekker pair (above).
        if (auto done = shared.maybe_changed(version, std::memory_order_seq_cst)) {
          notified_.reset();  // leaves the queue
          return std::move(*done);
        }
        return pending;
      }
      notified_.reset();  // woken (maybe spuriously): check again
    }
  }

 private:
  std::optional<Notified> notified_;
};

}  // namespace detail

// A borrow of the current value: a copy of it (detail::borrowed_by_copy T), or the value
// itself under the read lock, held until destroyed. Move-only.
template <class T>
class Ref {
  static constexpr bool by_copy = detail::borrowed_by_copy<T>;

 public:
  Ref(Ref&& other) noexcept
      : shared_(std::exchange(other.shared_, nullptr)),
        value_(other.value_),
        copy_(other.copy_),
        version_(other.version_),
        has_changed_(other.has_changed_) {}
  Ref& operator=(Ref&&) = delete;
  Ref(const Ref&) = delete;
  ~Ref() {
    if constexpr (!by_copy) {
      if (shared_ != nullptr) shared_->slot.lock.unlock_shared();
    }
  }
  const T& operator*() const noexcept { return get(); }
  const T* operator->() const noexcept { return &get(); }
  const T& get() const noexcept {
    if constexpr (by_copy) {
      return copy_;
    } else {
      return *value_;
    }
  }
  // Whether this value was new to the receiver that borrowed it (false from a Sender).
  bool has_changed() const noexcept { return has_changed_; }

 private:
  friend class Sender<T>;
  friend class Receiver<T>;
  struct NoCopy {};
  using Copy = std::conditional_t<by_copy, T, NoCopy>;

  // The current value with the version it was stored with.
  explicit Ref(detail::Shared<T>& shared) : Ref(shared, read(shared)) {}
  Ref(detail::Shared<T>& shared, detail::Snapshot<Copy> look)
      : shared_(by_copy ? nullptr : &shared), copy_(look.value), version_(look.version) {
    if constexpr (!by_copy) {
      shared.slot.value.with([&](const T& v) { value_ = &v; });
    }
  }
  static detail::Snapshot<Copy> read(detail::Shared<T>& shared) {
    if constexpr (by_copy) {
      return shared.read();
    } else {
      shared.slot.lock.lock_shared();
      // Under the read lock no store can happen: the version matches the value borrowed.
      return {NoCopy{}, detail::Shared<T>::version_of(shared.load_state())};
    }
  }

  detail::Shared<T>* shared_;  // holds the read lock (!by_copy)
  const T* value_ = nullptr;   // !by_copy
  [[no_unique_address]] Copy copy_;
  std::uintptr_t version_;
  bool has_changed_ = false;
};

template <class T>
std::pair<Sender<T>, Receiver<T>> channel(T init);

// The receiving half. Copyable: a copy starts at the same seen version.
template <class T>
class Receiver {
 public:
  Receiver(const Receiver& other)
      : shared_(&other.shared()),
        version_(other.version_),
        shard_(shared_->notify_rx.next_shard()) {
    shared_->acquire();
    // Relaxed: a counter, made from a live Receiver.
    shared_->ref_count_rx.fetch_add(1, std::memory_order_relaxed);
  }
  Receiver(Receiver&& other) noexcept
      : shared_(std::exchange(other.shared_, nullptr)),
        version_(other.version_),
        shard_(other.shard_) {}
  Receiver& operator=(Receiver other) noexcept {
    std::swap(shared_, other.shared_);
    std::swap(version_, other.version_);
    std::swap(shard_, other.shard_);
    return *this;
  }
  ~Receiver() { drop(); }

  // The current value, without marking it seen.
  Ref<T> borrow() const {
    Ref<T> ref(shared());
    ref.has_changed_ = detail::newer(ref.version_, version_);
    return ref;
  }

  // The current value, marked seen.
  Ref<T> borrow_and_update() {
    Ref<T> ref(shared());
    ref.has_changed_ = detail::newer(ref.version_, version_);
    version_ = ref.version_;
    return ref;
  }

  // Whether a value this receiver has not marked seen exists; RecvError once every
  // Sender is gone.
  Result<bool, RecvError> has_changed() const {
    const std::uintptr_t s = shared().load_state();
    if ((s & detail::Shared<T>::CLOSED) != 0) return Err(RecvError{});
    return detail::newer(detail::Shared<T>::version_of(s), version_);
  }

  // Makes the current value count as unseen (changed() returns at once).
  void mark_changed() {
    const std::uintptr_t current = detail::Shared<T>::version_of(shared().load_state());
    if (detail::newer(version_, current)) version_ = current;  // a copy ahead of the word
    version_ -= detail::Shared<T>::STEP;
  }
  // Makes the current value count as seen.
  void mark_unchanged() {
    const std::uintptr_t current = detail::Shared<T>::version_of(shared().load_state());
    if (detail::newer(current, version_)) version_ = current;  // a copy may be ahead of it
  }

  bool same_channel(const Receiver& other) const noexcept { return shared_ == other.shared_; }

  // changed(): completes when a value this receiver has not seen exists (marking it seen),
  // or with RecvError when every Sender is gone and the current value was seen. Must not
  // move once polled; the Receiver must outlive it.
  class Changed {
   public:
    explicit Changed(Receiver& rx) noexcept : rx_(&rx) {}
    // Before the first poll only (as Notified), e.g. into weft::timeout().
    Changed(Changed&&) noexcept = default;
    Changed(const Changed&) = delete;
    Poll<Result<void, RecvError>> poll(Context& cx) {
      return wait_.poll(rx_->shared(), rx_->version_, rx_->shard_, cx);
    }

   private:
    Receiver* rx_;
    detail::ChangedWait wait_;
  };
  Changed changed() { return Changed(*this); }

  // wait_for(f): completes with a Ref to the first value (the current one included, even
  // if seen) for which f returns true, marking it seen; RecvError when every Sender is gone
  // and f was false for the last value. f runs on the Ref's value (under the read lock
  // unless T is borrowed by copy); if it throws, the exception propagates from poll() and
  // the lock is released.
  template <class F>
  class WaitFor {
   public:
    WaitFor(Receiver& rx, F f) : rx_(&rx), f_(std::move(f)) {}
    // Before the first poll only (as Notified), e.g. into weft::timeout().
    WaitFor(WaitFor&&) = default;
    WaitFor(const WaitFor&) = delete;
    Poll<Result<Ref<T>, RecvError>> poll(Context& cx) {
      detail::Shared<T>& s = rx_->shared();
      for (;;) {
        if (check_) {
          Ref<T> ref(s);  // the read lock, if any, is released when it goes
          const bool changed = detail::newer(ref.version_, rx_->version_);
          rx_->version_ = ref.version_;
          if ((!closed_ || changed) && static_cast<bool>(f_(*ref))) {
            ref.has_changed_ = changed;
            return Result<Ref<T>, RecvError>(std::move(ref));
          }
          if (closed_) return Result<Ref<T>, RecvError>(Err(RecvError{}));
          check_ = false;
        }
        Poll<Result<void, RecvError>> waited = wait_.poll(s, rx_->version_, rx_->shard_, cx);
        if (waited.is_pending()) return pending;
        closed_ = waited.value().is_err();
        // The wait marked the new version seen; look at it (it is also the value f sees).
        check_ = true;
      }
    }

   private:
    Receiver* rx_;
    F f_;
    bool check_ = true;
    bool closed_ = false;
    detail::ChangedWait wait_;
  };
  template <class F>
  WaitFor<F> wait_for(F f) {
    return WaitFor<F>(*this, std::move(f));
  }

 private:
  friend class Sender<T>;
  friend std::pair<Sender<T>, Receiver<T>> channel<T>(T);
  Receiver(detail::Shared<T>* shared, std::uintptr_t version)
      : shared_(shared), version_(version), shard_(shared->notify_rx.next_shard()) {}

  detail::Shared<T>& shared() const {
    if (shared_ == nullptr) detail::misuse("watch::Receiver used after move");
    return *shared_;
  }
  void drop() noexcept {
    detail::Shared<T>* s = std::exchange(shared_, nullptr);
    if (s == nullptr) return;
    // Relaxed: a counter; Sender::closed() re-checks it after requesting a notification.
    if (s->ref_count_rx.fetch_sub(1, std::memory_order_relaxed) == 1) s->notify_tx.notify_waiters();
    s->release();
  }

  detail::Shared<T>* shared_;
  std::uintptr_t version_;
  std::size_t shard_;  // which of notify_rx's Notify objects this receiver waits on
};

// The sending half. Copyable: every copy counts; the channel closes (receivers see
// RecvError after the last value) when the last one goes.
template <class T>
class Sender {
 public:
  // A Sender with no receiver (Tokio's Sender::new): send() fails until subscribe().
  explicit Sender(T init) : shared_(new detail::Shared<T>(std::move(init))) {
    // Relaxed: nobody else sees the new state yet. No receiver, one Sender, one reference.
    shared_->ref_count_rx.store(0, std::memory_order_relaxed);
    shared_->refs.store(1, std::memory_order_relaxed);
  }
  // Sender(T{}), for a default-constructible T (Tokio's Default for Sender<T: Default>).
  Sender() requires std::is_default_constructible_v<T> : Sender(T()) {}
  Sender(const Sender& other) : shared_(&other.shared()) {
    shared_->acquire();
    // Relaxed: made from a live Sender (as Arc::clone).
    shared_->ref_count_tx.fetch_add(1, std::memory_order_relaxed);
  }
  Sender(Sender&& other) noexcept : shared_(std::exchange(other.shared_, nullptr)) {}
  Sender& operator=(Sender other) noexcept {
    std::swap(shared_, other.shared_);
    return *this;
  }
  ~Sender() { drop(); }

  // Stores `value` and wakes the receivers; Err(value back) when there is no receiver.
  Result<void, SendError<T>> send(T value) const {
    if (receiver_count() == 0) return Err(SendError<T>{std::move(value)});
    (void)send_replace(std::move(value));
    return Ok();
  }

  // Calls modify(value) under the senders' lock (for a by-copy T, on a copy it then stores);
  // if it returns true, the value counts as new and receivers are woken. Returns modify's
  // answer. If modify throws, nothing is notified, the exception propagates, and its
  // changes so far stay visible. modify must not call this channel's handles.
  template <class F>
  bool send_if_modified(F&& modify) const {
    detail::Shared<T>& s = shared();
    if (!s.store(std::forward<F>(modify))) return false;
    s.notify_rx.notify_enqueued();
    return true;
  }

  // Calls modify(value) under the senders' lock and wakes the receivers; works with no
  // receiver too.
  template <class F>
  void send_modify(F&& modify) const {
    send_if_modified([&](T& v) {
      std::forward<F>(modify)(v);
      return true;
    });
  }

  // Stores `value` (even with no receiver), wakes the receivers, returns the old value.
  T send_replace(T value) const {
    if constexpr (detail::borrowed_by_copy<T>) {
      detail::Shared<T>& s = shared();
      T old = s.replace(value);
      s.notify_rx.notify_enqueued();
      return old;
    } else {
      send_modify([&](T& v) {
        using std::swap;
        swap(v, value);
      });
      return value;
    }
  }

  // The current value (has_changed() is always false here).
  Ref<T> borrow() const { return Ref<T>(shared()); }

  // True when no receiver exists (subscribe() re-opens it).
  bool is_closed() const { return receiver_count() == 0; }

  // A new Receiver; the current value counts as seen by it.
  Receiver<T> subscribe() const {
    detail::Shared<T>& s = shared();
    s.acquire();
    // Relaxed: a counter.
    s.ref_count_rx.fetch_add(1, std::memory_order_relaxed);
    return Receiver<T>(&s, detail::Shared<T>::version_of(s.load_state()));
  }

  // Relaxed: counters, a hint at the moment of the call (as Tokio).
  std::size_t receiver_count() const {
    return shared().ref_count_rx.load(std::memory_order_relaxed);
  }
  std::size_t sender_count() const { return shared().ref_count_tx.load(std::memory_order_relaxed); }
  bool same_channel(const Sender& other) const noexcept { return shared_ == other.shared_; }

  // closed(): completes when no receiver exists. Cancel-safe. A channel closed only
  // briefly (last receiver gone, then subscribe) may or may not complete it. Must not
  // move once polled; the Sender must outlive it.
  class Closed {
   public:
    explicit Closed(const Sender& tx) noexcept : tx_(&tx) {}
    // Before the first poll only (as Notified), e.g. into weft::timeout().
    Closed(Closed&&) noexcept = default;
    Closed(const Closed&) = delete;
    Poll<void> poll(Context& cx) {
      detail::Shared<T>& s = tx_->shared();
      for (;;) {
        if (tx_->receiver_count() == 0) return ready;
        if (!notified_) {
          notified_.emplace(s.notify_tx.notified());
          if (tx_->receiver_count() == 0) return ready;  // checked after the request
        }
        if (notified_->poll(cx).is_pending()) return pending;
        notified_.reset();  // re-opened meanwhile, or spurious: check again
      }
    }

   private:
    const Sender* tx_;
    std::optional<Notified> notified_;
  };
  Closed closed() const { return Closed(*this); }

 private:
  friend std::pair<Sender<T>, Receiver<T>> channel<T>(T);
  struct Adopt {};
  Sender(Adopt, detail::Shared<T>* shared) noexcept : shared_(shared) {}

  detail::Shared<T>& shared() const {
    if (shared_ == nullptr) detail::misuse("watch::Sender used after move");
    return *shared_;
  }
  void drop() noexcept {
    detail::Shared<T>* s = std::exchange(shared_, nullptr);
    if (s == nullptr) return;
    // AcqRel: the last Sender sees the others' stores before closing.
    if (s->ref_count_tx.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      // Release: pairs with load_state()'s Acquire.
      s->state.fetch_or(detail::Shared<T>::CLOSED, std::memory_order_release);
      s->notify_rx.notify_waiters();
    }
    s->release();
  }

  detail::Shared<T>* shared_;
};

// A channel holding `init`; the Receiver starts with it marked seen.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(T init) {
  auto* shared = new detail::Shared<T>(std::move(init));
  return {Sender<T>(typename Sender<T>::Adopt{}, shared), Receiver<T>(shared, 0)};
}

}  // namespace weft::watch
