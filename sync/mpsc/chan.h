// weft/sync/mpsc/chan.h: Chan, the state both mpsc flavours share (the list, the
// receiver's waker, the sender counts, closing), and the Tx / Rx handles the public
// Sender and Receiver types are built on.
//
// Follows tokio/src/sync/mpsc/chan.rs.
//
// A channel's capacity is a policy S. The bounded one (BoundedSemaphore, over weft's batch
// semaphore, in bounded_capacity.h) is a semaphore with this interface (the one Tokio
// calls chan::Semaphore):
//   is_idle()                 no value is in flight or reserved (every permit is back)
//   close(), is_closed()      the receiver closed the channel (sticky)
//   receiver_released(n), receiver_flush()   the receiver received n values / is about
//                             to read is_idle()
// The unbounded one (Unbounded, below) has no state: S::closes_in_list says the
// receiver's close is a bit in the list's tail word (ListTx::RX_CLOSED), so a send is one
// claim on that word, with no count beside it; the receiver reads every value claimed
// before its close, then reports the end. Tokio counts unbounded values in a semaphore
// word (one more RMW per send on a line the receiver also writes).
//
// Waking the receiver: a send does not wake it unless it is waiting. The receiver, before
// it returns pending, registers its waker, sets RX_WAITING (rx_waiting_, a SeqCst store
// W), then looks at the list again (SeqCst loads of the links and ready words); a sender
// pushes (its last step, the ready-bit fetch_or A, is SeqCst), loads RX_WAITING SeqCst
// (L), and wakes only if it takes the flag (exchange to false). A store-buffering pair
// on the single order S of SeqCst operations, with no fence on either side: if L does
// not see W (or a later value), L precedes W in S, so A does too, and the receiver's
// SeqCst look after W sees A (and the link of A's block, which precedes A in S: every
// CAS and load that leads a sender to its block is SeqCst, see Block::try_push);
// otherwise the sender sees RX_WAITING and wakes. One sender clears the flag per wait, so a pending
// receiver costs the senders one wake, and a running one costs them one load. Every other wake (the
// last sender's close, a bounded channel's give-back after close) is unconditional and AcqRel:
// take_waker()'s fetch_or pairs with the AcqRel CAS in AtomicWaker::register_by_ref().
//
// Concurrency: any number of Tx (senders) on any threads; one Rx (the receiver), used by
// one thread at a time. Memory ordering: everything a sender did before a send
// happens-before the receive that returns that value; everything every sender did before
// dropping happens-before the receive that reports the channel closed; everything the
// receiver did before close() happens-before a send that fails, and the return of a
// closed() future.
#pragma once

#include "sync/mpsc/block.h"
#include "sync/mpsc/closed_notify.h"
#include "sync/mpsc/error.h"
#include "sync/mpsc/list.h"
#include "sync/platform/atomic.h"
#include "sync/platform/cache_padded.h"
#include "sync/platform/cell.h"
#include "sync/platform/invariant.h"
#include "sync/result.h"
#include "sync/task/atomic_waker.h"
#include "sync/task/poll.h"
#include "sync/task/poll_slot.h"
#include "sync/task/thread_waker.h"
#include "sync/task/waker.h"

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace weft::mpsc::detail {

// The unbounded channel's capacity policy: none (see the top of this file).
struct Unbounded {
  static constexpr bool closes_in_list = true;
};

template <class T, class S>
class Tx;
template <class T, class S>
class WeakTx;
template <class T, class S>
class Rx;
template <class T, class S>
class ClosedFuture;

template <class T, class S>
class Chan {
 public:
  // A new channel with its first Tx and its Rx (two references).
  template <class... SemArgs>
  static Chan* create(SemArgs&&... sem_args) {
    auto* initial = new Block<T>(0);
    try {
      return new Chan(initial, std::forward<SemArgs>(sem_args)...);
    } catch (...) {
      delete initial;
      throw;
    }
  }

  Chan(const Chan&) = delete;
  Chan& operator=(const Chan&) = delete;

  S& semaphore() noexcept { return semaphore_; }
  const S& semaphore() const noexcept { return semaphore_; }

  // Pushes a value whose capacity the caller holds, and wakes the receiver if it waits.
  // A value whose constructor throws leaves a hole the receiver passes; the exception
  // propagates (send_failed()).
  template <class U>
  void send(U&& value) {
    try {
      tx_.push(std::forward<U>(value));
    } catch (...) {
      send_failed();
      throw;
    }
    wake_rx_if_waiting();
  }
  // The unbounded send: pushes `value` (moved from) unless the receiver closed the
  // channel (false, `value` as it was), and wakes the receiver if it waits.
  bool try_send(T& value) {
    static_assert(S::closes_in_list);
    try {
      if (!tx_.try_push(value)) return false;
    } catch (...) {
      send_failed();
      throw;
    }
    wake_rx_if_waiting();
    return true;
  }
  // Wakes the receiver unconditionally (AtomicWaker orders it with the registration).
  void wake_rx() { rx_waker_.wake(); }

  // The receiver closed the channel (sticky).
  bool is_rx_closed() const {
    if constexpr (S::closes_in_list) {
      return tx_.is_rx_closed();
    } else {
      return semaphore_.is_closed();
    }
  }

  std::size_t strong_count() const {
    // Acquire: pairs with the AcqRel decrements in Tx::reset() of dropped senders.
    return tx_count_.load(std::memory_order_acquire);
  }
  std::size_t weak_count() const {
    // Relaxed: a statistic, ordered with nothing (as Tokio).
    return tx_weak_count_.load(std::memory_order_relaxed);
  }

 private:
  // A push whose value's constructor threw left a hole in the list (Block::write): the
  // bounded channel's capacity it held goes back, and the receiver is woken (always: a
  // rare path) in case it waits on that slot, or, after close(), for that capacity.
  void send_failed() {
    if constexpr (!S::closes_in_list) semaphore_.add_permits(1);
    wake_rx();
  }

  // After a push: wakes the receiver if it announced a wait (see the top of this file).
  void wake_rx_if_waiting() {
    // SeqCst: pairs with the SeqCst store of RX_WAITING in Rx::register_waker
    // (store-buffering with the SeqCst push: either the receiver's look after that store
    // sees the push, or this load sees RX_WAITING; see the top of this file). The exchange,
    // Relaxed, only decides which sender wakes: whoever takes the flag.
    if (rx_waiting_.load(std::memory_order_seq_cst) &&
        rx_waiting_.exchange(false, std::memory_order_relaxed)) {
      rx_waker_.wake();
    }
  }

  friend class Tx<T, S>;
  friend class WeakTx<T, S>;
  friend class Rx<T, S>;
  friend class ClosedFuture<T, S>;

  struct RxFields {
    explicit RxFields(Block<T>* initial) : list(initial) {}
    ListRx<T> list;
    bool rx_closed = false;  // Rx::close() ran
  };

  // Cache-line groups: what the senders write, what they only read (and the receiver
  // writes when it waits), and the receiver's own fields.
  static constexpr std::size_t line = platform::cache_line;

  template <class... SemArgs>
  explicit Chan(Block<T>* initial, SemArgs&&... sem_args)
      : tx_(initial), semaphore_(std::forward<SemArgs>(sem_args)...), rx_fields_(initial) {}

  ~Chan() {
    // The last handle is gone: destroy the values still queued (sent through a permit
    // after the receiver left, say), then every block.
    rx_fields_.with_mut([&](RxFields& fields) {
      std::optional<T> value;
      while (fields.list.pop(tx_, value) == ReadStatus::Value) value.reset();
      fields.list.free_blocks();
    });
  }

  void acquire_ref() {
    // Relaxed: a reference is made from one the caller holds (as Arc::clone).
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void release_ref() {
    // AcqRel: the last owner's destructor must see every other owner's use of the
    // channel; pairs with the other owners' decrements.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // Written by every send: the list's tail words and, on the same line, the bounded
  // semaphore's permit word (its first member; bounded_capacity.h), so that a send's two
  // RMWs take one line from the other senders, not two (bench/README).
  alignas(line) ListTx<T> tx_;
  [[no_unique_address]] S semaphore_;
  // Read by every send; written when the receiver waits.
  alignas(line) AtomicWaker rx_waker_;
  // RX_WAITING: set by the receiver before it returns pending (after registering its
  // waker), cleared by the one sender that then wakes it (see the top of this file).
  platform::atomic<bool> rx_waiting_{false};
  alignas(line) ClosedNotify notify_rx_closed_;
  // Strong senders (Tx); the list closes when it falls to zero, which is final.
  platform::atomic<std::size_t> tx_count_{1};
  platform::atomic<std::size_t> tx_weak_count_{0};
  // Handles of any kind (Tx, WeakTx, Rx): the last one destroys the channel.
  platform::atomic<std::size_t> refs_{2};
  // Only the receiver touches these (and the destructor, after every handle is gone).
  alignas(line) platform::cell<RxFields> rx_fields_;
};

// A strong sender handle: keeps the channel open for sending.
template <class T, class S>
class Tx {
 public:
  using chan_type = Chan<T, S>;

  Tx() noexcept = default;
  explicit Tx(chan_type* adopted) noexcept : chan_(adopted) {}  // adopts a count and a ref
  Tx(const Tx& other) : chan_(other.chan_) {
    if (chan_ == nullptr) return;
    // Relaxed: the caller holds a strong count, so it cannot fall to zero meanwhile.
    chan_->tx_count_.fetch_add(1, std::memory_order_relaxed);
    chan_->acquire_ref();
  }
  Tx(Tx&& other) noexcept : chan_(std::exchange(other.chan_, nullptr)) {}
  Tx& operator=(Tx other) noexcept {
    std::swap(chan_, other.chan_);
    return *this;
  }
  ~Tx() { reset(); }

  // Drops this handle; the last strong one closes the list and wakes the receiver.
  void reset() {
    chan_type* chan = std::exchange(chan_, nullptr);
    if (chan == nullptr) return;
    // AcqRel: the sender that reaches zero closes the list after every other sender's
    // pushes (pairs with their decrements: one release sequence).
    if (chan->tx_count_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      chan->tx_.close();
      chan->wake_rx();
    }
    chan->release_ref();
  }

  explicit operator bool() const noexcept { return chan_ != nullptr; }
  chan_type& chan() const noexcept { return *chan_; }
  S& semaphore() const noexcept { return chan_->semaphore_; }
  bool is_closed() const { return chan_->is_rx_closed(); }
  bool same_channel(const Tx& other) const noexcept { return chan_ == other.chan_; }
  std::size_t strong_count() const { return chan_->strong_count(); }
  std::size_t weak_count() const { return chan_->weak_count(); }

  WeakTx<T, S> downgrade() const {
    // Relaxed: a statistic (as Tokio); the reference below keeps the channel alive.
    chan_->tx_weak_count_.fetch_add(1, std::memory_order_relaxed);
    chan_->acquire_ref();
    return WeakTx<T, S>(chan_);
  }

  // A strong handle from a weak one, unless every strong handle is gone.
  static std::optional<Tx> upgrade(chan_type* chan) {
    // Acquire: pairs with the AcqRel decrements in Tx::reset() of dropped senders (as
    // Tokio).
    std::size_t count = chan->tx_count_.load(std::memory_order_acquire);
    for (;;) {
      if (count == 0) return std::nullopt;  // closed for good
      // AcqRel: as above; count > 0 means close() has not run and will wait for us.
      if (chan->tx_count_.compare_exchange_weak(count, count + 1, std::memory_order_acq_rel,
                                                std::memory_order_acquire)) {
        chan->acquire_ref();
        return Tx(chan);
      }
    }
  }

 private:
  chan_type* chan_ = nullptr;
};

// A weak sender handle: keeps the channel's memory, not the channel open.
template <class T, class S>
class WeakTx {
 public:
  using chan_type = Chan<T, S>;

  explicit WeakTx(chan_type* adopted) noexcept : chan_(adopted) {}  // adopts a weak count
  WeakTx(const WeakTx& other) : chan_(other.chan_) {
    if (chan_ == nullptr) return;
    // Relaxed: a statistic (as Tokio).
    chan_->tx_weak_count_.fetch_add(1, std::memory_order_relaxed);
    chan_->acquire_ref();
  }
  WeakTx(WeakTx&& other) noexcept : chan_(std::exchange(other.chan_, nullptr)) {}
  WeakTx& operator=(WeakTx other) noexcept {
    std::swap(chan_, other.chan_);
    return *this;
  }
  ~WeakTx() {
    if (chan_ == nullptr) return;
    // Relaxed: a statistic (as Tokio).
    chan_->tx_weak_count_.fetch_sub(1, std::memory_order_relaxed);
    chan_->release_ref();
  }

  std::optional<Tx<T, S>> upgrade() const { return Tx<T, S>::upgrade(chan_); }
  std::size_t strong_count() const { return chan_->strong_count(); }
  std::size_t weak_count() const { return chan_->weak_count(); }

 private:
  chan_type* chan_ = nullptr;
};

// Completes when the receiver closes the channel (or is dropped). Must not move once
// polled; destroying it cancels the wait. Cancel-safe.
template <class T, class S>
class [[nodiscard]] ClosedFuture {
 public:
  explicit ClosedFuture(Chan<T, S>& chan) noexcept : chan_(&chan) {}
  // Before the first poll only, e.g. into weft::timeout().
  ClosedFuture(ClosedFuture&& other) noexcept : chan_(other.chan_) {
    WEFT_INVARIANT(!other.registered_);
  }
  ClosedFuture(const ClosedFuture&) = delete;
  ClosedFuture& operator=(const ClosedFuture&) = delete;
  ~ClosedFuture() {
    if (registered_) chan_->notify_rx_closed_.cancel(waiter_);
  }

  Poll<void> poll(Context& cx) {
    if (chan_->is_rx_closed()) return ready;
    registered_ = true;
    if (chan_->notify_rx_closed_.poll(waiter_, cx.waker())) return ready;
    return pending;
  }

 private:
  Chan<T, S>* chan_;
  ClosedNotify::Waiter waiter_;
  bool registered_ = false;
};

// The receiver handle.
template <class T, class S>
class Rx {
 public:
  using chan_type = Chan<T, S>;

  Rx() noexcept = default;
  explicit Rx(chan_type* adopted) noexcept : chan_(adopted) {}
  Rx(const Rx&) = delete;
  Rx& operator=(const Rx&) = delete;
  Rx(Rx&& other) noexcept : chan_(std::exchange(other.chan_, nullptr)) {}
  Rx& operator=(Rx&& other) noexcept {
    if (this != &other) {
      reset();
      chan_ = std::exchange(other.chan_, nullptr);
    }
    return *this;
  }
  ~Rx() { reset(); }

  explicit operator bool() const noexcept { return chan_ != nullptr; }
  S& semaphore() const noexcept { return chan_->semaphore_; }

  // Closes the channel for senders; values already sent (or sent through permits held
  // now) can still be received.
  void close() {
    const bool first = chan_->rx_fields_.with_mut([&](typename chan_type::RxFields& f) {
      if (std::exchange(f.rx_closed, true)) return false;
      if constexpr (S::closes_in_list) f.list.close_rx(chan_->tx_);
      return true;
    });
    if (!first) return;
    if constexpr (!S::closes_in_list) chan_->semaphore_.close();
    chan_->notify_rx_closed_.notify_all();
  }

  bool is_closed() const {
    // Acquire: pairs with the AcqRel decrement in Tx::reset() of the last sender.
    return chan_->is_rx_closed() || chan_->tx_count_.load(std::memory_order_acquire) == 0;
  }
  bool is_empty() const {
    return chan_->rx_fields_.with(
        [&](const typename chan_type::RxFields& f) { return f.list.is_empty(chan_->tx_); });
  }
  std::size_t len() const {
    return chan_->rx_fields_.with(
        [&](const typename chan_type::RxFields& f) { return f.list.len(chan_->tx_); });
  }
  std::size_t sender_strong_count() const { return chan_->strong_count(); }
  std::size_t sender_weak_count() const { return chan_->weak_count(); }

  // Receives the next value: ready with it, ready with nullopt once the channel is closed
  // and drained, or pending with cx's waker registered. A ready answer leaves no waker
  // registered by this call.
  Poll<std::optional<T>> recv(Context& cx) {
    return chan_->rx_fields_.with_mut(
        [&](typename chan_type::RxFields& f) -> Poll<std::optional<T>> {
          auto look = [&] { return look_once(f); };
          if (auto answer = look()) return weft::detail::moved_by_parts(*answer);
          return register_and_look_again(cx, look);
        });
  }

  // recv()'s first look, with no waker: the value, nullopt (closed and drained), or
  // nothing yet (the outer nullopt). blocking_recv() tries it before block_on.
  std::optional<std::optional<T>> recv_now() {
    return chan_->rx_fields_.with_mut(
        [&](typename chan_type::RxFields& f) { return look_once(f); });
  }

  // Receives up to `limit` values at the end of `buffer`: ready with how many (0 only if
  // limit is 0 or the channel is closed and drained), or pending. As recv(), a ready
  // answer leaves no waker registered by this call.
  Poll<std::size_t> recv_many(Context& cx, std::vector<T>& buffer, std::size_t limit) {
    if (limit == 0) return std::size_t{0};
    return chan_->rx_fields_.with_mut([&](typename chan_type::RxFields& f) -> Poll<std::size_t> {
      auto look = [&]() -> std::optional<std::size_t> {
        std::size_t added = 0;
        std::optional<T> value;
        bool closed = false;
        while (added < limit) {
          if (buffer.size() == buffer.capacity()) {
            // Grow before popping, so a failed allocation loses no value.
            try {
              buffer.reserve(buffer.capacity() == 0 ? 4 : 2 * buffer.capacity());
            } catch (...) {
              if (added > 0) received(f, added);
              throw;
            }
          }
          const ReadStatus status = f.list.pop(chan_->tx_, value);
          if (status != ReadStatus::Value) {
            closed = status == ReadStatus::Closed;
            break;
          }
          ++added;
          try {
            buffer.push_back(std::move(*value));  // no reallocation: only T's move may throw
          } catch (...) {
            value.reset();  // a throwing move constructor destroys this one value
            received(f, added);
            throw;
          }
          value.reset();
        }
        if (added > 0) {
          received(f, added);
          return added;
        }
        if (closed) {
          give_back_received(f);
          WEFT_INVARIANT(all_capacity_back());
          return std::size_t{0};
        }
        if (drained_after_close(f)) return std::size_t{0};  // before registering, as recv()
        return std::nullopt;
      };
      if (auto answer = look()) return *answer;
      return register_and_look_again(cx, look);
    });
  }

  // Receives a value if one is there now. If the next value is still being written by
  // its sender, waits (parks the thread) until it is, as Tokio does: try_recv never
  // reports Empty while a value is in flight.
  Result<T, TryRecvError> try_recv() {
    return chan_->rx_fields_.with_mut(
        [&](typename chan_type::RxFields& f) -> Result<T, TryRecvError> {
          std::optional<T> value;
          auto attempt = [&]() -> std::optional<Result<T, TryRecvError>> {
            switch (f.list.try_pop(chan_->tx_, value)) {
              case TryPop::Value: received(f, 1); return Result<T, TryRecvError>(std::move(*value));
              case TryPop::Closed:
                give_back_received(f);
                return Result<T, TryRecvError>(Err(TryRecvError::Disconnected));
              case TryPop::Empty:
                if (drained_after_close(f)) {
                  return Result<T, TryRecvError>(Err(TryRecvError::Disconnected));
                }
                return Result<T, TryRecvError>(Err(TryRecvError::Empty));
              case TryPop::Busy: break;
            }
            return std::nullopt;
          };
          if (auto done = attempt()) return std::move(*done);
          // A sender is mid-write. Hand any poll_recv waker its wake (a value is coming),
          // then wait for the write with this thread's own waker in the slot.
          chan_->rx_waker_.wake();
          struct Parker {
            weft::detail::ThreadWaker* thread = weft::detail::ThreadWaker::create();
            ~Parker() { thread->release(); }
          } parker;
          const Waker waker = parker.thread->waker();
          for (;;) {
            register_waker(waker);
            if (auto done = attempt()) {
              (void)chan_->rx_waker_.take_waker();  // this thread's waker: no one to wake now
              return std::move(*done);
            }
            parker.thread->park();
          }
        });
  }

 private:
  using RxFields = typename chan_type::RxFields;

  // One look at the list for recv(): the answer, if there is one now.
  std::optional<std::optional<T>> look_once(RxFields& f) {
    // The value is popped into the answer itself (one object, returned by NRVO): copying
    // a just-written optional<T> as one block would stall on store forwarding
    // (sync/task/poll_slot.h).
    std::optional<std::optional<T>> answer(std::in_place);
    switch (f.list.pop(chan_->tx_, *answer)) {
      case ReadStatus::Value: received(f, 1); return answer;
      case ReadStatus::Closed:
        // Every sender is gone, and each released what it held before it went.
        give_back_received(f);
        WEFT_INVARIANT(all_capacity_back());
        return answer;  // the inner optional is empty: closed and drained
      case ReadStatus::Empty: break;
    }
    // The end after close() is checked before registering, as Tokio does.
    if (!drained_after_close(f)) answer.reset();
    return answer;
  }

  // After a look that found nothing: registers cx's waker, then looks again (`look`
  // returns the answer, if any); a value pushed in between wakes the new waker. An answer
  // on the second look takes the waker back (only the receiver registers, so the slot
  // holds its own or nothing): a ready poll leaves no waker behind.
  template <class Look>
  auto register_and_look_again(Context& cx, Look& look)
      -> Poll<typename std::invoke_result_t<Look&>::value_type> {
    register_waker(cx.waker());
    auto answer = look();
    if (!answer) return pending;
    (void)chan_->rx_waker_.take_waker();
    return weft::detail::moved_by_parts(*answer);
  }

  // Registers the receiver's waker and announces the wait to senders (see the top of
  // this file). The caller looks at the list again afterwards.
  void register_waker(const Waker& waker) {
    chan_->rx_waker_.register_by_ref(waker);
    // SeqCst: store-buffering with Chan::send's SeqCst push and load (see the top of
    // this file); the receiver's loads of the list after it are SeqCst too.
    chan_->rx_waiting_.store(true, std::memory_order_seq_cst);
  }

  // `n` values were received: the bounded channel's capacity counts them.
  void received(RxFields&, std::size_t n) {
    if constexpr (!S::closes_in_list) chan_->semaphore_.receiver_released(n);
  }
  // The receiver is about to look for the end: the bounded channel's count is made exact.
  void give_back_received(RxFields&) {
    if constexpr (!S::closes_in_list) chan_->semaphore_.receiver_flush();
  }
  // No value is in flight or reserved (the end can be reported).
  bool all_capacity_back() const {
    if constexpr (S::closes_in_list) {
      return true;  // the list itself says when the last value is read
    } else {
      return chan_->semaphore_.is_idle();
    }
  }

  // The receiver closed the channel and every value sent or reserved is received.
  bool drained_after_close(RxFields& f) {
    if (!f.rx_closed) return false;
    if constexpr (S::closes_in_list) {
      return f.list.drained_after_rx_close();
    } else {
      give_back_received(f);
      return chan_->semaphore_.is_idle();
    }
  }

  void reset() {
    chan_type* chan = chan_;
    if (chan == nullptr) return;
    close();
    // Nothing can poll this receiver again: its waker goes now, not with the channel,
    // which senders may keep for long (tokio#8095). A sender waking meanwhile takes it
    // instead; either way the slot ends empty (only the receiver registers).
    (void)chan->rx_waker_.take_waker();
    // Destroy what is queued now, returning capacity for each value, as Tokio does.
    chan->rx_fields_.with_mut([&](typename chan_type::RxFields& f) {
      std::optional<T> value;
      while (f.list.pop(chan->tx_, value) == ReadStatus::Value) {
        value.reset();
        received(f, 1);
      }
      give_back_received(f);
    });
    chan_ = nullptr;
    chan->release_ref();
  }

  chan_type* chan_ = nullptr;
};

// The future of Receiver::recv(): cancel-safe (a value is taken only when it is returned).
template <class T, class S>
class [[nodiscard]] RecvFuture {
 public:
  explicit RecvFuture(Rx<T, S>& rx) noexcept : rx_(&rx) {}
  Poll<std::optional<T>> poll(Context& cx) { return rx_->recv(cx); }

 private:
  Rx<T, S>* rx_;
};

// The future of Receiver::recv_many(): cancel-safe.
template <class T, class S>
class [[nodiscard]] RecvManyFuture {
 public:
  RecvManyFuture(Rx<T, S>& rx, std::vector<T>& buffer, std::size_t limit) noexcept
      : rx_(&rx), buffer_(&buffer), limit_(limit) {}
  Poll<std::size_t> poll(Context& cx) { return rx_->recv_many(cx, *buffer_, limit_); }

 private:
  Rx<T, S>* rx_;
  std::vector<T>* buffer_;
  std::size_t limit_;
};

}  // namespace weft::mpsc::detail
