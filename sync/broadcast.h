// weft/sync/broadcast.h: a multi-producer, multi-consumer broadcast queue: every value
// sent is seen by every receiver subscribed at the time.
//
// Ported from tokio/src/sync/broadcast.rs.
//
// weft::broadcast::channel<T>(capacity) returns a {Sender, Receiver} pair. The channel
// keeps the last `capacity` values (rounded up to a power of two). A value stays until
// every receiver that was subscribed when it was sent has received a copy of it (T is
// copied once per receiver), or until a newer value overwrites its slot. A receiver that
// fell more than the (rounded) capacity behind gets RecvError::lagged(n) from its next
// recv / try_recv, n being the values overwritten before its cursor; it stays subscribed,
// its cursor moves to the oldest value the channel still keeps, and the next receive
// returns that value (unless a send overwrote it again meanwhile), then the rest in send
// order. len() counts the overwritten values too until the lag is reported (Tokio #8239).
// When every Sender is gone, receivers drain what is left, then get RecvError::closed().
//
// Errors: send() returns the receiver count, or SendError<T> carrying the value back when
// there is no receiver. channel(0) throws std::invalid_argument; a capacity above
// SIZE_MAX / 2, or more than SIZE_MAX / 4 receivers, throws std::length_error. Using a
// moved-from handle throws std::invalid_argument. blocking_recv_until(deadline) /
// blocking_recv_for(timeout) return blocking_recv's Result inside Result<_, Elapsed>
// (sync/deadline.h).
//
// Concurrency: Senders and Receivers (both copyable) may be used from any threads
// at once; each Receiver, and each future, is used by one thread at a time.
//
// Cancel safety: recv() is cancel-safe: if its future is destroyed before it completes
// (a branch of a select that another branch beat), no value was received, and the value
// stays for the next recv(). Sender::closed() is cancel-safe. A Receiver must outlive its
// recv() futures.
//
// Memory ordering: everything a thread did before send(v) happens-before the return of
// every recv / try_recv that yields v, and the return of the drop of the last Sender
// happens-before a recv that reports closed. The queue is one mutex for the tail, which
// every send holds; wakers are collected under it and woken after it is released.
//
// T must be copy-constructible (each receiver gets a copy) and nothrow-move-constructible.
// A copy that throws propagates from recv / try_recv; that value is then skipped by this
// receiver (as Tokio's panicking clone), and nothing leaks.
//
// Two slot layouts, the same semantics. A trivially copyable T (an integer, a POD struct)
// is copied out of its slot without writing it (a seqlock: the sender stamps the slot
// before and after writing the value, the receiver checks the stamp around its copy), so
// receivers do not take the slot's cache line from the sender; such a T has no destructor
// to run, so "released when every receiver has seen it" only shows in len(), which takes
// the lowest receiver position instead of a per-slot count. Any other T (a seqlock copy of
// it would read a value being overwritten: undefined behaviour) is copied under the slot's
// mutex and destroyed by its last reader, as Tokio does for every T.
//
//   auto [tx, rx1] = weft::broadcast::channel<int>(16);
//   auto rx2 = tx.subscribe();
//   tx.send(10);                                   // Result<std::size_t, SendError<int>>: 2
//   auto a = weft::block_on(rx1.recv());           // Result<int, RecvError>: 10
//   auto b = rx2.try_recv();                       // Result<int, TryRecvError>: 10
#pragma once

#include "sync/deadline.h"
#include "sync/detail/linked_list.h"
#include "sync/detail/seq_value.h"
#include "sync/detail/wake_list.h"
#include "sync/platform/atomic.h"
#include "sync/platform/cell.h"
#include "sync/platform/invariant.h"
#include "sync/platform/mutex.h"
#include "sync/result.h"
#include "sync/task/block_on.h"
#include "sync/task/future.h"
#include "sync/task/poll.h"
#include "sync/task/waker.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace weft::broadcast {

// send() found no receiver: the value comes back.
template <class T>
struct SendError {
  T value;
  const char* what() const noexcept { return "channel closed"; }
};

// Why recv() returned no value: every Sender is gone (closed), or this receiver fell
// behind and `skipped()` values were overwritten before it saw them (lagged).
class RecvError {
 public:
  enum class Kind { Closed, Lagged };
  static RecvError closed() noexcept { return RecvError(Kind::Closed, 0); }
  static RecvError lagged(std::uint64_t skipped) noexcept {
    return RecvError(Kind::Lagged, skipped);
  }
  Kind kind() const noexcept { return kind_; }
  bool is_closed() const noexcept { return kind_ == Kind::Closed; }
  bool is_lagged() const noexcept { return kind_ == Kind::Lagged; }
  std::uint64_t skipped() const noexcept { return skipped_; }
  friend bool operator==(const RecvError&, const RecvError&) = default;
  const char* what() const noexcept { return is_closed() ? "channel closed" : "channel lagged"; }

 private:
  RecvError(Kind kind, std::uint64_t skipped) noexcept : kind_(kind), skipped_(skipped) {}
  Kind kind_;
  std::uint64_t skipped_;
};

// try_recv()'s reasons: as RecvError, plus Empty (nothing new yet, Senders alive).
class TryRecvError {
 public:
  enum class Kind { Empty, Closed, Lagged };
  static TryRecvError empty() noexcept { return TryRecvError(Kind::Empty, 0); }
  static TryRecvError closed() noexcept { return TryRecvError(Kind::Closed, 0); }
  static TryRecvError lagged(std::uint64_t skipped) noexcept {
    return TryRecvError(Kind::Lagged, skipped);
  }
  Kind kind() const noexcept { return kind_; }
  bool is_empty() const noexcept { return kind_ == Kind::Empty; }
  bool is_closed() const noexcept { return kind_ == Kind::Closed; }
  bool is_lagged() const noexcept { return kind_ == Kind::Lagged; }
  std::uint64_t skipped() const noexcept { return skipped_; }
  friend bool operator==(const TryRecvError&, const TryRecvError&) = default;
  const char* what() const noexcept {
    return is_empty() ? "channel empty" : is_closed() ? "channel closed" : "channel lagged";
  }

 private:
  TryRecvError(Kind kind, std::uint64_t skipped) noexcept : kind_(kind), skipped_(skipped) {}
  Kind kind_;
  std::uint64_t skipped_;
};

template <class T>
class Sender;
template <class T>
class WeakSender;
template <class T>
class Receiver;

namespace detail {

[[noreturn]] inline void misuse(const char* what) { throw std::invalid_argument(what); }

template <class F>
struct ScopeExit {
  F fn;
  ~ScopeExit() { fn(); }
};
template <class F>
ScopeExit(F) -> ScopeExit<F>;

// A task waiting in recv() (inside the Recv future) or in Sender::closed().
struct Waiter {
  weft::detail::ListLinks<Waiter> links;
  // True while linked in a wait list. Written under the tail lock; the Release store that
  // clears it (after the waker was taken) lets the owner skip the lock when it sees false.
  platform::atomic<bool> queued{false};
  // Under the tail lock.
  platform::cell<std::optional<Waker>> waker;
  // The notify generation current when it was queued (under the tail lock): a notify
  // wakes only waiters queued before it began, so re-queued ones cannot keep it looping.
  platform::cell<std::uint64_t> generation{0};

  // For misuse checks by the owner (a future that must not move once linked): only the
  // owner's poll links it, so a waiter the owner never linked reads false. Relaxed: no data
  // is read on the strength of it.
  bool linked_as_owner_sees() const noexcept { return queued.load(std::memory_order_relaxed); }
};
using WaitList = weft::detail::LinkedList<Waiter, &Waiter::links>;

template <class C>
auto get(const platform::cell<C>& c) {
  return c.with([](const C& v) { return v; });
}
template <class C, class V>
void set(platform::cell<C>& c, V&& v) {
  c.with_mut([&](C& slot) { slot = std::forward<V>(v); });
}

template <class T>
struct Slot {
  platform::mutex lock;
  // Everything below is under `lock`.
  platform::cell<std::uint64_t> pos{0};  // the send position stored here
  platform::cell<std::size_t> rem{0};    // receivers yet to see it; at 0 the value goes
  platform::cell<std::optional<T>> value;
};

// A trivially copyable T is read without writing the slot (a seqlock: SeqSlot), so a
// receive does not take the slot's cache line from the sender; there is nothing to destroy
// when the last receiver has read it, so instead of a per-slot count of readers, len()
// takes the lowest position of the receivers (Cursor). Any other T is copied under the
// slot's lock, and the last reader destroys it (Slot), as Tokio does for every T.
template <class T>
inline constexpr bool seq_readable = std::is_trivially_copyable_v<T>;

// Not padded to a cache line: receivers behind the sender read four u64 slots per line
// fetched (padded, broadcast_1to4 ran at half the speed under SCHED_FIFO: bench/README.md).
// Its stamp is seq_stamp(the send position whose value it holds); written under the tail
// lock only.
template <class T>
using SeqSlot = weft::detail::SeqValue<T>;
inline constexpr std::uint64_t seq_stamp(std::uint64_t pos) noexcept { return pos * 2; }

// A receiver's position, where len() reads it (seq_readable T only).
struct Cursor {
  weft::detail::ListLinks<Cursor> links;  // under the tail lock
  // Stored by the owning receiver only; read by len() under the tail lock. Relaxed: a
  // count; a len() that happens after a receive reads its store or a later one.
  platform::atomic<std::uint64_t> next{0};
};
using CursorList = weft::detail::LinkedList<Cursor, &Cursor::links>;

template <class T>
class Shared {
 public:
  static constexpr bool seq = seq_readable<T>;
  using SlotT = std::conditional_t<seq, SeqSlot<T>, Slot<T>>;

  // No receiver limit reached before this many (Tokio's MAX_RECEIVERS).
  static constexpr std::size_t max_receivers = std::numeric_limits<std::size_t>::max() >> 2;

  // No receiver yet: closed until the first subscribes.
  explicit Shared(std::size_t capacity)
      : capacity_(round_capacity(capacity)),
        mask_(capacity_ - 1),
        buffer_(new SlotT[capacity_]),
        rx_count_(0),
        closed_(true) {
    for (std::size_t i = 0; i < capacity_; ++i) {
      // Slot i starts as position i - capacity: "already consumed", one lap behind.
      const std::uint64_t pos =
          static_cast<std::uint64_t>(i) - static_cast<std::uint64_t>(capacity_);
      if constexpr (seq) {
        // Relaxed: the channel is not shared yet.
        buffer_[i].init_stamp(seq_stamp(pos));
      } else {
        set(buffer_[i].pos, pos);
      }
    }
  }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  ~Shared() {
    WEFT_INVARIANT(waiters_.is_empty() && closed_waiters_.is_empty() && cursors_.is_empty());
  }

  static std::size_t round_capacity(std::size_t capacity) {
    if (capacity == 0) throw std::invalid_argument("broadcast channel capacity cannot be zero");
    if (capacity > (std::numeric_limits<std::size_t>::max() >> 1)) {
      throw std::length_error("broadcast channel capacity exceeds SIZE_MAX / 2");
    }
    return std::bit_ceil(capacity);
  }

  // Lifetime: every handle (Sender, WeakSender, Receiver) holds one reference.
  void acquire() noexcept {
    // Relaxed: made from a reference the caller holds (as Arc::clone).
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    // AcqRel: the deleting thread sees every other handle's last use; pairs with the
    // other handles' decrements.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  std::size_t capacity() const noexcept { return capacity_; }

  std::optional<SendError<T>> send(T&& value, std::size_t& receivers) {
    std::optional<T> evicted;  // an overwritten value, destroyed after the locks
    platform::mutex_guard tail(tail_lock_);
    const std::size_t rem = get(rx_count_);
    if (rem == 0) return SendError<T>{std::move(value)};
    const std::uint64_t pos = get(tail_pos_);
    set(tail_pos_, pos + 1);
    SlotT& slot = buffer_[pos & mask_];
    if constexpr (seq) {
      slot.store(seq_stamp(pos), value);
    } else {
      platform::mutex_guard slot_guard(slot.lock);
      set(slot.pos, pos);
      set(slot.rem, rem);
      slot.value.with_mut([&](std::optional<T>& v) {
        if (v) evicted.emplace(std::move(*v));
        v.emplace(std::move(value));  // nothrow: T's move constructor
      });
    }
    receivers = rem;
    notify_rx(tail);  // releases the tail lock
    return std::nullopt;
  }

  // Drops of the last Sender: no more values; receivers drain, then see closed.
  void close_channel() {
    platform::mutex_guard tail(tail_lock_);
    set(closed_, true);
    notify_rx(tail);
  }

  // A new receiver positioned at the tail: it sees values sent after this call. `cursor`
  // (seq_readable T) is linked there.
  std::uint64_t add_receiver(Cursor* cursor) {
    platform::mutex_guard tail(tail_lock_);
    const std::size_t count = get(rx_count_);
    if (count >= max_receivers) throw std::length_error("broadcast channel: too many receivers");
    // Re-open a channel whose receivers were all gone (Senders still alive to subscribe).
    if (count == 0) set(closed_, false);
    set(rx_count_, count + 1);
    link(cursor, get(tail_pos_));
    return get(tail_pos_);
  }

  // A copy of a receiver at position `next`: counted as a receiver, and as one more
  // reader of every value kept from `next` on (Tokio's Receiver::clone).
  void add_receiver_at(std::uint64_t next, Cursor* cursor) {
    platform::mutex_guard tail(tail_lock_);
    const std::size_t count = get(rx_count_);
    if (count >= max_receivers) throw std::length_error("broadcast channel: too many receivers");
    set(rx_count_, count + 1);
    if constexpr (seq) {
      link(cursor, next);
    } else {
      for (std::uint64_t pos = next; pos != get(tail_pos_); ++pos) {
        Slot<T>& slot = buffer_[pos & mask_];
        platform::mutex_guard slot_guard(slot.lock);
        // An overwritten position stays lagged for the copy, as for the original.
        if (get(slot.pos) == pos) set(slot.rem, get(slot.rem) + 1);
      }
    }
  }

  // A Receiver goes away: returns the tail position it must catch up to (to release its
  // share of every value it has not read). The last one wakes Sender::closed() futures.
  std::uint64_t remove_receiver(Cursor* cursor) {
    platform::mutex_guard tail(tail_lock_);
    if (cursor != nullptr) cursors_.remove(cursor);
    const std::size_t count = get(rx_count_) - 1;
    set(rx_count_, count);
    const std::uint64_t until = get(tail_pos_);
    if (count == 0) {
      set(closed_, true);
      const std::uint64_t generation = next_generation();
      weft::detail::wake_in_batches(tail, tail_lock_, [&](weft::detail::WakeList& wakers) {
        return collect(closed_waiters_, generation, wakers);
      });
    }
    return until;
  }

  std::size_t receiver_count() {
    platform::mutex_guard tail(tail_lock_);
    return get(rx_count_);
  }

  std::uint64_t tail_position() {
    platform::mutex_guard tail(tail_lock_);
    return get(tail_pos_);
  }

  // Values still queued: sent and not yet seen by every receiver of their time.
  std::size_t len() {
    platform::mutex_guard tail(tail_lock_);
    const std::uint64_t base = get(tail_pos_);
    if constexpr (seq) {
      // Kept values from the lowest receiver position on: each is unread by that receiver,
      // which was subscribed when it was sent (or copied from one that was).
      std::uint64_t lowest = base;
      cursors_.for_each([&](Cursor* c) {
        // Relaxed: see Cursor::next.
        lowest = std::min(lowest, c->next.load(std::memory_order_relaxed));
      });
      const std::uint64_t oldest = base - std::min<std::uint64_t>(base, capacity_);
      return static_cast<std::size_t>(base - std::max(lowest, oldest));
    } else {
      // Slots from the oldest (at tail) to the newest: released ones (rem == 0) come first.
      std::size_t low = 0;
      std::size_t high = capacity_;
      while (low < high) {
        const std::size_t mid = low + (high - low) / 2;
        Slot<T>& slot = buffer_[(base + mid) & mask_];
        platform::mutex_guard slot_guard(slot.lock);
        if (get(slot.rem) == 0) {
          low = mid + 1;
        } else {
          high = mid;
        }
      }
      return capacity_ - low;
    }
  }

  bool is_empty() {
    if constexpr (seq) {
      return len() == 0;
    } else {
      platform::mutex_guard tail(tail_lock_);
      Slot<T>& slot = buffer_[(get(tail_pos_) - 1) & mask_];
      platform::mutex_guard slot_guard(slot.lock);
      return get(slot.rem) == 0;
    }
  }

  // Sender::closed(): ready when no receiver is subscribed; otherwise `waiter` queued.
  bool poll_closed(Waiter& waiter, const Waker& waker) {
    std::optional<Waker> old;
    platform::mutex_guard tail(tail_lock_);
    if (get(closed_)) return true;
    register_waiter(waiter, waker, closed_waiters_, old);
    tail.unlock();
    return false;  // `old` is dropped here, after the lock
  }

  // The outcome of looking at a receiver's next position.
  enum class Look { Value, Empty, Closed, Lagged };

  // Tokio's recv_ref: with the slot for `next` locked, `use(value)` gets the value; the
  // receiver's share of the slot is released afterwards, even if `use` throws. On Empty
  // `waiter` (if any) is queued for the next send.
  template <class Use>
  Look recv_ref(std::uint64_t& next, std::uint64_t& skipped, Waiter* waiter, const Waker* waker,
                Use&& use) {
    std::optional<Waker> old;   // a replaced waker, dropped after the locks
    std::optional<T> released;  // a value this receiver was the last to see
    Slot<T>& slot = buffer_[next & mask_];
    std::optional<platform::mutex_guard> tail;
    std::optional<platform::mutex_guard> slot_guard;
    slot_guard.emplace(slot.lock);
    if (get(slot.pos) != next) {
      // Not there yet (or overwritten): look again under the tail lock, taking the locks
      // in send's order (tail, then slot) so the two cannot deadlock.
      slot_guard.reset();
      tail.emplace(tail_lock_);
      slot_guard.emplace(slot.lock);
      const std::uint64_t slot_pos = get(slot.pos);
      if (slot_pos != next) {
        if (slot_pos + capacity_ == next) {
          // Nothing new for this receiver.
          if (get(closed_)) return Look::Closed;
          if (waiter != nullptr) register_waiter(*waiter, *waker, waiters_, old);
          slot_guard.reset();
          tail.reset();
          return Look::Empty;  // `old` dropped on return, after the locks
        }
        // Lagged: the slot was overwritten. Continue from the oldest value kept.
        const std::uint64_t oldest = get(tail_pos_) - capacity_;
        const std::uint64_t missed = oldest - next;
        tail.reset();
        if (missed != 0) {
          next = oldest;
          skipped = missed;
          return Look::Lagged;
        }
        // Slow but nothing missed: fall through and read this slot.
      } else {
        tail.reset();
      }
    }
    next += 1;
    // Release this receiver's share however `use` ends.
    ScopeExit share{[&] {
      const std::size_t rem = get(slot.rem) - 1;
      set(slot.rem, rem);
      if (rem == 0) {
        slot.value.with_mut([&](std::optional<T>& v) {
          if (v) released.emplace(std::move(*v));
          v.reset();
        });
      }
    }};
    slot.value.with([&](const std::optional<T>& v) { use(v); });
    return Look::Value;
  }

  // recv_ref for a seq_readable T: the value is copied into `out` without writing the
  // slot; only a slot not (or no longer) holding `next` is looked at under the tail lock.
  Look recv_seq(std::uint64_t& next, std::uint64_t& skipped, Waiter* waiter, const Waker* waker,
                std::optional<T>& out) {
    SlotT& slot = buffer_[next & mask_];
    const std::uint64_t want = seq_stamp(next);
    if (std::optional<T> copy = slot.load_if(want)) {
      out.emplace(*copy);
      next += 1;
      return Look::Value;
    }
    // Not there yet, being written, or overwritten: look under the tail lock, which every
    // write of a slot holds.
    std::optional<Waker> old;  // a replaced waker, dropped after the lock
    platform::mutex_guard tail(tail_lock_);
    const std::uint64_t stamp = slot.writer_stamp();
    if (stamp == want) {
      out.emplace(slot.writer_load());
      next += 1;
      return Look::Value;
    }
    if (stamp + 2 * static_cast<std::uint64_t>(capacity_) == want) {
      // Nothing new for this receiver.
      if (get(closed_)) return Look::Closed;
      if (waiter != nullptr) register_waiter(*waiter, *waker, waiters_, old);
      tail.unlock();
      return Look::Empty;  // `old` dropped on return, after the lock
    }
    // Overwritten: continue from the oldest value kept.
    const std::uint64_t oldest = get(tail_pos_) - capacity_;
    WEFT_INVARIANT(oldest != next);  // the slot holds `next` or the one a lap before it
    skipped = oldest - next;
    next = oldest;
    return Look::Lagged;
  }

  // Unlinks a waiter its future is done with (Recv / Closed destructor).
  void cancel(Waiter& waiter, bool closed_list) {
    // Acquire: pairs with the Release store in take_waker(), after which the waker and
    // links are no longer touched by the notifier.
    if (!waiter.queued.load(std::memory_order_acquire)) {
      // Not queued: never registered, or a notifier took the waker (that write is ordered
      // before this read by the Acquire above; the model checks it).
      WEFT_INVARIANT(
          !waiter.waker.with([](const std::optional<Waker>& w) { return w.has_value(); }));
      return;
    }
    std::optional<Waker> old;
    {
      platform::mutex_guard tail(tail_lock_);
      // Relaxed: the tail lock orders it with every store.
      if (waiter.queued.load(std::memory_order_relaxed)) {
        (closed_list ? closed_waiters_ : waiters_).remove(&waiter);
        waiter.queued.store(false, std::memory_order_relaxed);
      }
      old = waiter.waker.with_mut([](std::optional<Waker>& w) { return std::exchange(w, {}); });
    }
  }

 private:
  // Under the tail lock: `cursor` (seq_readable T only) at position `next`.
  void link(Cursor* cursor, std::uint64_t next) {
    WEFT_INVARIANT((cursor != nullptr) == seq);
    if (cursor == nullptr) return;
    // Relaxed: the owner is not using it yet.
    cursor->next.store(next, std::memory_order_relaxed);
    cursors_.push_front(cursor);
  }

  // Under the tail lock.
  void register_waiter(Waiter& waiter, const Waker& waker, WaitList& list,
                       std::optional<Waker>& old) {
    waiter.waker.with_mut([&](std::optional<Waker>& w) {
      if (w && w->will_wake(waker)) return;
      Waker fresh = waker;  // may throw: the waiter is left as it was
      old = std::exchange(w, std::move(fresh));
    });
    // Relaxed: the tail lock orders it with every other access.
    if (!waiter.queued.load(std::memory_order_relaxed)) {
      set(waiter.generation, get(notify_generation_));
      waiter.queued.store(true, std::memory_order_relaxed);
      list.push_front(&waiter);
    }
  }

  // Under the tail lock; the waiter is already unlinked.
  static void take_waker(Waiter* w, weft::detail::WakeList& wakers) {
    std::optional<Waker> waker =
        w->waker.with_mut([](std::optional<Waker>& slot) { return std::exchange(slot, {}); });
    if (waker) wakers.push(std::move(*waker));
    // Release: pairs with the Acquire load in cancel(); after it the future may be gone.
    w->queued.store(false, std::memory_order_release);
  }

  // Under the tail lock: moves the wakers of `list`'s waiters queued before notify
  // generation `generation` into `wakers`, oldest first; true if the batch filled up.
  static bool collect(WaitList& list, std::uint64_t generation, weft::detail::WakeList& wakers) {
    while (wakers.can_push()) {
      Waiter* w = list.back();
      if (w == nullptr || get(w->generation) > generation) return false;  // queued after us
      list.pop_back();
      take_waker(w, wakers);
    }
    return true;
  }

  // Under the tail lock: starts a notify round; waiters queued from now on are not its.
  std::uint64_t next_generation() {
    const std::uint64_t generation = get(notify_generation_);
    set(notify_generation_, generation + 1);
    return generation;
  }

  // Wakes every receiver waiting when it began, in batches, never under the lock
  // (Tokio's notify_rx). Releases `tail`.
  void notify_rx(platform::mutex_guard& tail) {
    const std::uint64_t generation = next_generation();
    weft::detail::wake_in_batches(tail, tail_lock_, [&](weft::detail::WakeList& wakers) {
      return collect(waiters_, generation, wakers);
    });
  }

  const std::size_t capacity_;
  const std::size_t mask_;
  std::unique_ptr<SlotT[]> buffer_;

  platform::mutex tail_lock_;
  // Under tail_lock_:
  platform::cell<std::uint64_t> tail_pos_{0};  // next position to write
  platform::cell<std::size_t> rx_count_;       // subscribed receivers
  platform::cell<bool> closed_;                // no Sender, or no receiver
  platform::cell<std::uint64_t> notify_generation_{0};
  WaitList waiters_;         // receivers in recv()
  WaitList closed_waiters_;  // Sender::closed() futures
  CursorList cursors_;       // the receivers' positions (seq_readable T)

  platform::atomic<std::size_t> refs_{1};

 public:
  // Handle counts (Tokio's num_tx / num_weak_tx).
  platform::atomic<std::size_t> num_tx{0};
  platform::atomic<std::size_t> num_weak_tx{0};
};

}  // namespace detail

template <class T>
std::pair<Sender<T>, Receiver<T>> channel(std::size_t capacity);

// The sending half. Copyable: every copy counts as a Sender; when the last one goes, the
// channel closes. Sends never wait.
template <class T>
class Sender {
  static_assert(std::is_copy_constructible_v<T>, "broadcast values are copied to each receiver");
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "broadcast values must be nothrow-move-constructible");

 public:
  // A Sender with no receiver yet (Tokio's Sender::new): subscribe() to add some.
  explicit Sender(std::size_t capacity) : shared_(new detail::Shared<T>(capacity)) {
    // Relaxed: nobody else sees the new state yet.
    shared_->num_tx.store(1, std::memory_order_relaxed);
  }
  Sender(const Sender& other) : shared_(&other.shared()) {
    shared_->acquire();
    // Relaxed: made from a live Sender, so the count cannot be zero (as Arc::clone).
    shared_->num_tx.fetch_add(1, std::memory_order_relaxed);
  }
  Sender(Sender&& other) noexcept : shared_(std::exchange(other.shared_, nullptr)) {}
  Sender& operator=(Sender other) noexcept {
    std::swap(shared_, other.shared_);
    return *this;
  }
  ~Sender() { drop(); }

  // Sends `value` to every subscribed receiver; returns how many there were (not how
  // many will see it: a receiver may lag or go away). Err(SendError{value}) when there
  // is no receiver; a later send may succeed after subscribe().
  Result<std::size_t, SendError<T>> send(T value) const {
    std::size_t receivers = 0;
    if (std::optional<SendError<T>> refused = shared().send(std::move(value), receivers)) {
      return Err(std::move(*refused));
    }
    return receivers;
  }

  // A new Receiver that sees the values sent after this call.
  Receiver<T> subscribe() const { return Receiver<T>(&shared()); }

  // A WeakSender: it does not keep the channel open.
  WeakSender<T> downgrade() const { return WeakSender<T>(&shared()); }

  // Values queued: sent and not yet seen by every receiver that was subscribed then
  // (values overwritten before that are not counted).
  std::size_t len() const { return shared().len(); }
  bool is_empty() const { return shared().is_empty(); }
  std::size_t receiver_count() const { return shared().receiver_count(); }
  bool same_channel(const Sender& other) const noexcept { return shared_ == other.shared_; }
  // Acquire: pairs with the AcqRel decrements in Sender::drop() and ~WeakSender().
  std::size_t strong_count() const { return shared().num_tx.load(std::memory_order_acquire); }
  std::size_t weak_count() const { return shared().num_weak_tx.load(std::memory_order_acquire); }

  // A future that completes when no receiver is subscribed. Cancel-safe. Must not move
  // once polled; the Sender must outlive it.
  class Closed {
   public:
    explicit Closed(detail::Shared<T>& shared) noexcept : shared_(&shared) {}
    // Before the first poll only (its waiter unlinked), e.g. into weft::timeout().
    Closed(Closed&& other) noexcept : shared_(other.shared_) {
      WEFT_INVARIANT(!other.waiter_.linked_as_owner_sees());
    }
    Closed(const Closed&) = delete;
    Closed& operator=(const Closed&) = delete;
    ~Closed() { shared_->cancel(waiter_, /*closed_list=*/true); }
    Poll<void> poll(Context& cx) {
      if (shared_->poll_closed(waiter_, cx.waker())) return ready;
      return pending;
    }

   private:
    detail::Shared<T>* shared_;
    detail::Waiter waiter_;
  };
  Closed closed() const { return Closed(shared()); }

 private:
  friend class WeakSender<T>;
  friend std::pair<Sender<T>, Receiver<T>> channel<T>(std::size_t);
  struct Adopt {};
  Sender(Adopt, detail::Shared<T>* shared) noexcept : shared_(shared) {}

  detail::Shared<T>& shared() const {
    if (shared_ == nullptr) detail::misuse("broadcast::Sender used after move");
    return *shared_;
  }
  void drop() noexcept {
    detail::Shared<T>* shared = std::exchange(shared_, nullptr);
    if (shared == nullptr) return;
    // AcqRel: the last Sender sees every other Sender's sends before closing; pairs with
    // the other Senders' decrements and with upgrade()'s Acquire.
    if (shared->num_tx.fetch_sub(1, std::memory_order_acq_rel) == 1) shared->close_channel();
    shared->release();
  }

  detail::Shared<T>* shared_;
};

// A Sender that does not keep the channel open; upgrade() while a Sender lives.
template <class T>
class WeakSender {
 public:
  WeakSender(const WeakSender& other) : WeakSender(other.shared_) {
    if (shared_ == nullptr) detail::misuse("broadcast::WeakSender used after move");
  }
  WeakSender(WeakSender&& other) noexcept : shared_(std::exchange(other.shared_, nullptr)) {}
  WeakSender& operator=(WeakSender other) noexcept {
    std::swap(shared_, other.shared_);
    return *this;
  }
  ~WeakSender() {
    if (detail::Shared<T>* shared = std::exchange(shared_, nullptr)) {
      // AcqRel: pairs with weak_count()'s Acquire and other decrements.
      shared->num_weak_tx.fetch_sub(1, std::memory_order_acq_rel);
      shared->release();
    }
  }

  // A Sender, if one still exists (the channel is not closed by its Senders).
  std::optional<Sender<T>> upgrade() const {
    detail::Shared<T>& s = shared();
    // Acquire: pairs with the AcqRel decrement in Sender::drop().
    std::size_t count = s.num_tx.load(std::memory_order_acquire);
    for (;;) {
      if (count == 0) return std::nullopt;
      // Acquire (both): as the load above, pairs with the decrement in Sender::drop().
      if (s.num_tx.compare_exchange_weak(count, count + 1, std::memory_order_acquire,
                                         std::memory_order_acquire)) {
        s.acquire();
        return Sender<T>(typename Sender<T>::Adopt{}, &s);
      }
    }
  }
  std::size_t strong_count() const { return shared().num_tx.load(std::memory_order_acquire); }
  std::size_t weak_count() const { return shared().num_weak_tx.load(std::memory_order_acquire); }

 private:
  friend class Sender<T>;
  explicit WeakSender(detail::Shared<T>* shared) : shared_(shared) {
    if (shared_ == nullptr) return;
    shared_->acquire();
    // Relaxed: a counter only, made from a live handle.
    shared_->num_weak_tx.fetch_add(1, std::memory_order_relaxed);
  }
  detail::Shared<T>& shared() const {
    if (shared_ == nullptr) detail::misuse("broadcast::WeakSender used after move");
    return *shared_;
  }

  detail::Shared<T>* shared_;
};

// The receiving half: its own position in the queue. Used by one thread at a time; a copy
// starts at the same position. Destroying it releases its share of every value it has not read.
template <class T>
class Receiver {
 public:
  Receiver(Receiver&& other) noexcept
      : shared_(std::exchange(other.shared_, nullptr)),
        cursor_(std::move(other.cursor_)),
        next_(other.next_) {}
  Receiver& operator=(Receiver&& other) noexcept {
    if (this != &other) {
      drop();
      shared_ = std::exchange(other.shared_, nullptr);
      cursor_ = std::move(other.cursor_);
      next_ = other.next_;
    }
    return *this;
  }
  // A copy at the same position: it will receive every value this one has yet to read
  // (Tokio's Receiver::clone).
  Receiver(const Receiver& other)
      : shared_(&other.shared()), cursor_(new_cursor()), next_(other.next_) {
    shared_->add_receiver_at(next_, cursor_.get());
    shared_->acquire();
  }
  Receiver& operator=(const Receiver&) = delete;
  ~Receiver() { drop(); }

  // The recv() future: Result<T, RecvError>. Cancel-safe. Must not move once polled; the
  // Receiver must outlive it.
  class Recv {
   public:
    explicit Recv(Receiver& rx) noexcept : rx_(&rx), shared_(rx.shared_) {}
    // Before the first poll only (its waiter unlinked), e.g. into weft::timeout().
    Recv(Recv&& other) noexcept : rx_(other.rx_), shared_(std::exchange(other.shared_, nullptr)) {
      WEFT_INVARIANT(!other.waiter_.linked_as_owner_sees());
    }
    Recv(const Recv&) = delete;
    Recv& operator=(const Recv&) = delete;
    ~Recv() {
      if (shared_ != nullptr) shared_->cancel(waiter_, /*closed_list=*/false);
    }
    Poll<Result<T, RecvError>> poll(Context& cx) {
      std::optional<T> out;
      std::uint64_t skipped = 0;
      switch (rx_->receive(&waiter_, &cx.waker(), out, skipped)) {
        case Look::Value:
          if (out) return Result<T, RecvError>(std::move(*out));
          return Result<T, RecvError>(Err(RecvError::closed()));
        case Look::Empty: return pending;
        case Look::Lagged: return Result<T, RecvError>(Err(RecvError::lagged(skipped)));
        case Look::Closed: break;
      }
      return Result<T, RecvError>(Err(RecvError::closed()));
    }

   private:
    Receiver* rx_;
    detail::Shared<T>* shared_;  // for the destructor: the Receiver must outlive it anyway
    detail::Waiter waiter_;
  };

  // The next value (see the header for lagging and closing).
  Recv recv() { return Recv(*this); }

  // Never waits, never registers a waker.
  Result<T, TryRecvError> try_recv() {
    std::optional<T> out;
    std::uint64_t skipped = 0;
    switch (receive(nullptr, nullptr, out, skipped)) {
      case Look::Value:
        if (out) return std::move(*out);
        return Err(TryRecvError::closed());
      case Look::Empty: return Err(TryRecvError::empty());
      case Look::Lagged: return Err(TryRecvError::lagged(skipped));
      case Look::Closed: break;
    }
    return Err(TryRecvError::closed());
  }

  // Parks the calling thread until recv() completes. Not for use inside a task.
  Result<T, RecvError> blocking_recv() { return block_on(recv()); }
  // blocking_recv() that gives up at the deadline with Err(Elapsed) (sync/deadline.h).
  // recv() is cancel-safe: a value sent as the time runs out stays for the next call.
  Result<Result<T, RecvError>, Elapsed> blocking_recv_until(Deadline deadline) {
    return weft::detail::block_on_or_elapsed(recv(), deadline);
  }
  template <class Rep, class Period>
  Result<Result<T, RecvError>, Elapsed> blocking_recv_for(
      std::chrono::duration<Rep, Period> timeout) {
    return blocking_recv_until(platform::deadline_after(timeout));
  }

  // A new Receiver positioned at the tail: it sees values sent after this call, not the
  // ones this receiver has yet to read.
  Receiver resubscribe() const { return Receiver(&shared()); }

  // Values sent that this receiver has yet to receive (more than the capacity means the
  // next recv reports lagged).
  std::size_t len() const { return static_cast<std::size_t>(shared().tail_position() - next_); }
  bool is_empty() const { return len() == 0; }
  bool same_channel(const Receiver& other) const noexcept { return shared_ == other.shared_; }
  // True when every Sender is gone (values may still be left to receive).
  bool is_closed() const { return sender_strong_count() == 0; }
  // Acquire: pairs with the AcqRel decrements in Sender::drop().
  std::size_t sender_strong_count() const {
    return shared().num_tx.load(std::memory_order_acquire);
  }
  std::size_t sender_weak_count() const {
    return shared().num_weak_tx.load(std::memory_order_acquire);
  }

 private:
  friend class Sender<T>;
  friend std::pair<Sender<T>, Receiver<T>> channel<T>(std::size_t);
  using Look = typename detail::Shared<T>::Look;

  // Subscribes at the tail.
  explicit Receiver(detail::Shared<T>* shared)
      : shared_(shared), cursor_(new_cursor()), next_(shared->add_receiver(cursor_.get())) {
    shared_->acquire();
  }

  static std::unique_ptr<detail::Cursor> new_cursor() {
    if constexpr (detail::Shared<T>::seq) return std::make_unique<detail::Cursor>();
    return nullptr;
  }

  detail::Shared<T>& shared() const {
    if (shared_ == nullptr) detail::misuse("broadcast::Receiver used after move");
    return *shared_;
  }

  Look receive(detail::Waiter* waiter, const Waker* waker, std::optional<T>& out,
               std::uint64_t& skipped) {
    if constexpr (detail::Shared<T>::seq) {
      const std::uint64_t before = next_;
      const Look look = shared().recv_seq(next_, skipped, waiter, waker, out);
      // Relaxed: see Cursor::next.
      if (next_ != before) cursor_->next.store(next_, std::memory_order_relaxed);
      return look;
    } else {
      return shared().recv_ref(next_, skipped, waiter, waker, [&](const std::optional<T>& v) {
        if (v) out.emplace(*v);  // T's copy may throw: the share is released anyway
      });
    }
  }

  void drop() noexcept {
    detail::Shared<T>* shared = std::exchange(shared_, nullptr);
    if (shared == nullptr) return;
    [[maybe_unused]] const std::uint64_t until = shared->remove_receiver(cursor_.get());
    cursor_.reset();
    // Release this receiver's share of every value it has not read (a seq_readable T has
    // no shares: its cursor is gone).
    if constexpr (!detail::Shared<T>::seq) {
      while (next_ < until) {
        std::uint64_t skipped = 0;
        const auto look =
            shared->recv_ref(next_, skipped, nullptr, nullptr, [](const std::optional<T>&) {});
        if (look == detail::Shared<T>::Look::Closed) break;
        WEFT_INVARIANT(look != detail::Shared<T>::Look::Empty);  // until is the tail
      }
    }
    shared->release();
  }

  detail::Shared<T>* shared_;
  std::unique_ptr<detail::Cursor> cursor_;  // seq_readable T: the position len() reads
  std::uint64_t next_;
};

// A channel keeping up to `capacity` values (rounded up to a power of two), with one
// Sender and one Receiver.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(std::size_t capacity) {
  Sender<T> tx(capacity);
  Receiver<T> rx = tx.subscribe();
  return {std::move(tx), std::move(rx)};
}

}  // namespace weft::broadcast
