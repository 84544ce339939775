// weft/sync/mpsc/bounded.h: the bounded multi-producer, single-consumer channel, with
// backpressure: at most `buffer` values are queued or reserved at once.
//
// Follows tokio/src/sync/mpsc/bounded.rs. Capacity is weft's fair batch semaphore
// (sync/detail/batch_semaphore.h): a send takes one permit, the receive of that value
// gives it back (lazily: bounded_capacity.h); reserve() takes it ahead of time as a
// Permit.
//
//   auto [tx, rx] = weft::mpsc::channel<int>(16);
//   auto permit = weft::block_on(tx.reserve());   // capacity first ...
//   if (permit) std::move(*permit).send(-1);      // ... then the value
//   weft::platform::thread producer([tx = std::move(tx)] {
//     for (int i = 0; i < 100; ++i) {
//       if (!tx.blocking_send(i)) return;         // the receiver is gone
//     }
//   });
//   std::vector<int> got;
//   while (std::optional<int> v = rx.blocking_recv()) got.push_back(*v);  // -1, 0 .. 99
//   producer.join();
//
// Contract:
//  - channel(0) throws std::invalid_argument; a buffer over the semaphore's MAX_PERMITS
//    throws too. Senders are copyable and usable from any number of threads; the one
//    receiver is move-only, used by one thread at a time. Values from one sender arrive
//    in the order it sent them; send() and reserve() calls are served in the order they
//    first waited (the semaphore is fair).
//  - Closing: when every Sender is gone the receiver drains what was sent, then gets
//    nullopt. When the receiver calls close() or is destroyed, new sends and
//    reservations fail; Permits already held can still send (close() waits for them:
//    recv() reports the end only once every permit is used or dropped). A value that
//    cannot be sent comes back: SendError<T>::value, TrySendError<T>::value.
//  - Cancel-safety (destroying a pending future): recv() and recv_many() are cancel-safe.
//    reserve(), reserve_many(), reserve_owned() lose their place in the queue and
//    nothing else. send() loses its place in the queue, and the value is destroyed with
//    the future, as in Tokio; SendFuture::take_value() cancels and hands the value back,
//    and send_timeout() hands it back in SendTimeoutError (Timeout or Closed): wrapping
//    send() in weft::timeout would destroy it with the future.
//    closed() is cancel-safe. A failed or cancelled send / reserve future gives back the
//    capacity it was assigned while waiting and, if that ends a closed channel, wakes the
//    receiver waiting for the end (as a dropped Permit does; tokio#8260).
//  - Misuse: polling a send(), reserve(), reserve_many() or reserve_owned() future again
//    after it completed (or after take_value()) throws std::invalid_argument (a
//    std::logic_error). recv(), recv_many() and closed() futures are views of the
//    handle: polled again, they receive the next value / stay ready.
//  - Lifetimes: a future, a Permit or a PermitIterator borrows the channel through the
//    Sender (or Receiver) that made it and must not outlive that handle (Rust's borrow
//    rules, written down; moving the handle is fine).
//    OwnedPermit owns a Sender. Pending futures must not move (they hold queue nodes).
//  - Fast paths: an uncontended send is one CAS on the semaphore, one fetch_add and one
//    fetch_or on the list: no lock, no allocation (blocks are recycled). A receive gives
//    its permit back with a store to the receiver's own count (no RMW on the senders'
//    word); senders take those back in one harvest when the semaphore runs out.
//  - Memory ordering: as unbounded.h; also, a receive that frees capacity happens-before
//    the reserve that obtains it.
//  - Exceptions: as unbounded.h; a send whose value's move throws also gives back the
//    capacity it held (a Permit's included).
#pragma once

#include "sync/deadline.h"
#include "sync/detail/batch_semaphore.h"
#include "sync/mpsc/bounded_capacity.h"
#include "sync/mpsc/chan.h"
#include "sync/mpsc/error.h"
#include "sync/mpsc/receiver.h"
#include "sync/result.h"
#include "sync/task/block_on.h"
#include "sync/time/clock.h"
#include "sync/time/sleep.h"
#include "sync/time/timeout.h"

#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace weft::mpsc {

template <class T>
class Sender;
template <class T>
class Receiver;
template <class T>
class WeakSender;
template <class T>
class Permit;
template <class T>
class PermitIterator;
template <class T>
class OwnedPermit;

template <class T>
std::pair<Sender<T>, Receiver<T>> channel(std::size_t buffer);

namespace detail {
template <class T>
using BTx = Tx<T, BoundedSemaphore>;
template <class T>
using BChan = Chan<T, BoundedSemaphore>;
template <class T, class Out>
class ReserveFuture;

// Wakes the receiver if capacity given back just now ended a closed channel: after
// close(), recv() waits until every permit is back (is_idle). Called after the give-back
// (a Release RMW on the permit word); the Acquire loads here see close() if it came
// first in the word's order, and otherwise close() sees the give-back; the last give-back
// sees the word idle. The wake (AtomicWaker::take_waker()'s AcqRel fetch_or) pairs with
// the AcqRel CAS in AtomicWaker::register_by_ref() (recv()'s register-then-check): either
// the register comes first and is woken, or it comes after and its is_idle() load sees
// this give-back.
template <class T>
void wake_rx_if_drained(BChan<T>& chan) {
  BoundedSemaphore& semaphore = chan.semaphore();
  if (semaphore.is_closed() && semaphore.is_idle()) chan.wake_rx();
}

// Gives back `n` unused permits; wakes the receiver if that ends a closed channel.
template <class T>
void release_permits(BChan<T>& chan, std::size_t n) {
  chan.semaphore().add_permits(n);
  // The receiver may be waiting for the last reservation to end (close() with permits
  // out): tell it, as Tokio does.
  wake_rx_if_drained(chan);
}

[[noreturn]] inline void misuse(const char* what) { throw std::invalid_argument(what); }

// The capacity wait inside send(), reserve(), reserve_many() and reserve_owned(): the
// semaphore's Acquire, plus the receiver's wake when the permits that Acquire took come
// back on a failed or cancelled wait (tokio#8260). An Acquire that waited can hold
// permits assigned to it; a poll that fails on close() or the Acquire's destructor gives
// them back straight to the semaphore, which knows nothing of the channel, so this
// wrapper checks for the end of a closed channel after that (wake_rx_if_drained). Only a
// wait that was pending at least once can hold permits: a first poll that fails took
// none (poll_acquire takes permits and queues under the waiter lock, and close() sets
// CLOSED under it, so a first poll sees the close before its CAS or not at all). A wait
// that succeeded holds none of its own (the caller's Permit does). Neither checks; a
// waited one may wake the receiver spuriously (if it was assigned nothing), which recv()
// tolerates. It also feeds the semaphore from the receiver's count (bounded_capacity.h):
// a first poll short of permits harvests before the Acquire (one load more on the fast
// path, of the senders' own word); a wait that queued counts itself in waiters_ until it
// ends and harvests once after counting in.
// Movable until first polled, like the Acquire.
template <class T>
class CapacityWait {
 public:
  CapacityWait(BChan<T>& chan, std::size_t n)
      : chan_(&chan), acquire_(std::in_place, chan.semaphore().semaphore.acquire(n)) {}
  CapacityWait(CapacityWait&& other)
      : chan_(other.chan_), acquire_(std::move(other.acquire_)), waited_(other.waited_) {
    other.acquire_.reset();
  }
  CapacityWait(const CapacityWait&) = delete;
  CapacityWait& operator=(const CapacityWait&) = delete;
  CapacityWait& operator=(CapacityWait&&) = delete;
  ~CapacityWait() { cancel(); }

  // Ready(true) with the permits (now the caller's), Ready(false) if the channel closed,
  // or pending. Throws std::invalid_argument once it has completed (`what` names the
  // future).
  Poll<bool> poll(Context& cx, const char* what) {
    if (!acquire_) misuse(what);
    BoundedSemaphore& capacity = chan_->semaphore();
    // A first poll short of permits harvests first: the capacity may be in values
    // received and not given back yet, and then it need not queue.
    if (!waited_ && capacity.semaphore.available_permits() < acquire_->num_permits()) {
      (void)capacity.harvest();
    }
    auto acquired = acquire_->poll(cx);
    if (acquired.is_pending()) {
      if (!waited_) {
        waited_ = true;
        // Queued: counted in, the receiver harvests for the queue from now on; this
        // harvest covers the receives before that (store-buffering: bounded_capacity.h).
        capacity.wait_started();
        (void)capacity.harvest();
      }
      return pending;
    }
    if (acquired.value().is_ok()) {
      acquire_.reset();  // holds nothing now: the permits are the caller's
      if (std::exchange(waited_, false)) capacity.wait_ended();
      return true;
    }
    cancel();  // gives back what it was assigned while it waited, if it waited
    return false;
  }

  // Ends the wait (if still on): gives back what it holds and wakes a receiver waiting
  // for the end of a closed channel. Afterwards poll() throws.
  void cancel() noexcept {
    if (!acquire_) return;
    acquire_.reset();  // unlinks the waiter, gives back its assigned permits
    if (std::exchange(waited_, false)) {
      chan_->semaphore().wait_ended();
      wake_rx_if_drained(*chan_);
    }
  }

 private:
  BChan<T>* chan_;
  std::optional<weft::detail::BatchSemaphore::Acquire> acquire_;
  // Was pending (counted in waiters_ until it ends): it may hold assigned permits.
  bool waited_ = false;
};
}  // namespace detail

// Capacity for one value, reserved by Sender::reserve / try_reserve. send() uses it;
// destroying it unused gives it back. Borrows the Sender: must not outlive it.
template <class T>
class [[nodiscard]] Permit {
 public:
  Permit(Permit&& other) noexcept : chan_(std::exchange(other.chan_, nullptr)) {}
  Permit(const Permit&) = delete;
  Permit& operator=(const Permit&) = delete;
  Permit& operator=(Permit&&) = delete;
  ~Permit() {
    if (chan_ != nullptr) detail::release_permits(*chan_, 1);
  }

  // Sends `value` with the reserved capacity. Never fails: even if the receiver closed
  // meanwhile, the value is queued (and destroyed with the channel if never received).
  void send(T value) && { std::exchange(chan_, nullptr)->send(std::move(value)); }

 private:
  friend class Sender<T>;
  friend class PermitIterator<T>;
  template <class, class>
  friend class detail::ReserveFuture;
  explicit Permit(detail::BChan<T>& chan) noexcept : chan_(&chan) {}

  detail::BChan<T>* chan_;
};

// Capacity for `n` values, from reserve_many / try_reserve_many: next() hands out one
// Permit at a time; destroying it gives back the permits it still holds. Borrows the
// Sender: must not outlive it.
template <class T>
class [[nodiscard]] PermitIterator {
 public:
  PermitIterator(PermitIterator&& other) noexcept
      : chan_(other.chan_), n_(std::exchange(other.n_, 0)) {}
  PermitIterator(const PermitIterator&) = delete;
  PermitIterator& operator=(const PermitIterator&) = delete;
  PermitIterator& operator=(PermitIterator&&) = delete;
  ~PermitIterator() {
    if (n_ != 0) detail::release_permits(*chan_, n_);
  }

  std::optional<Permit<T>> next() {
    if (n_ == 0) return std::nullopt;
    --n_;
    return Permit<T>(*chan_);
  }
  // Permits left.
  std::size_t len() const noexcept { return n_; }

 private:
  friend class Sender<T>;
  template <class, class>
  friend class detail::ReserveFuture;
  PermitIterator(detail::BChan<T>& chan, std::size_t n) noexcept : chan_(&chan), n_(n) {}

  detail::BChan<T>* chan_;
  std::size_t n_;
};

// Capacity for one value that owns its Sender (Sender::reserve_owned / try_reserve_owned).
template <class T>
class [[nodiscard]] OwnedPermit {
 public:
  OwnedPermit(OwnedPermit&&) noexcept = default;
  OwnedPermit(const OwnedPermit&) = delete;
  OwnedPermit& operator=(const OwnedPermit&) = delete;
  OwnedPermit& operator=(OwnedPermit&&) = delete;
  ~OwnedPermit() {
    if (tx_) detail::release_permits(tx_.chan(), 1);
  }

  // Sends `value` with the reserved capacity (never fails) and returns the Sender.
  Sender<T> send(T value) && {
    detail::BTx<T> tx = std::move(tx_);
    tx.chan().send(std::move(value));
    return Sender<T>(std::move(tx));
  }
  // Gives the capacity back without sending and returns the Sender.
  Sender<T> release() && {
    detail::BTx<T> tx = std::move(tx_);
    detail::release_permits(tx.chan(), 1);
    return Sender<T>(std::move(tx));
  }
  bool same_channel(const OwnedPermit& other) const { return tx_.same_channel(other.tx_); }
  // True if this permit reserves capacity on `sender`'s channel; false for a moved-from
  // permit (tokio's OwnedPermit::same_channel_as_sender).
  bool same_channel_as_sender(const Sender<T>& sender) const;
  std::size_t max_capacity() const { return tx_.semaphore().bound; }

 private:
  friend class Sender<T>;
  explicit OwnedPermit(detail::BTx<T> tx) noexcept : tx_(std::move(tx)) {}

  detail::BTx<T> tx_;
};

namespace detail {

// The future of reserve() and reserve_many(n): waits for n permits (fairly).
template <class T, class Out>
class [[nodiscard]] ReserveFuture {
 public:
  ReserveFuture(BChan<T>& chan, std::size_t n) : chan_(&chan), n_(n) {
    if (n <= chan.semaphore().bound) wait_.emplace(chan, n);
  }

  // Throws std::invalid_argument if polled again after it completed.
  Poll<Result<Out, SendError<void>>> poll(Context& cx) {
    if (!wait_) {  // n > bound: fails at once, and only once
      if (std::exchange(failed_, true)) misuse(completed_message());
      return Result<Out, SendError<void>>(Err(SendError<void>{}));
    }
    auto acquired = wait_->poll(cx, completed_message());
    if (acquired.is_pending()) return pending;
    if (!acquired.value()) return Result<Out, SendError<void>>(Err(SendError<void>{}));
    if constexpr (std::is_same_v<Out, Permit<T>>) {
      return Result<Out, SendError<void>>(Out(*chan_));
    } else {
      return Result<Out, SendError<void>>(Out(*chan_, n_));
    }
  }

 private:
  static const char* completed_message() {
    if constexpr (std::is_same_v<Out, Permit<T>>) {
      return "mpsc::Sender::reserve future polled after completion";
    } else {
      return "mpsc::Sender::reserve_many future polled after completion";
    }
  }

  BChan<T>* chan_;
  std::size_t n_;
  std::optional<CapacityWait<T>> wait_;
  bool failed_ = false;
};

}  // namespace detail

template <class T>
class Sender {
  using Tx = detail::BTx<T>;

 public:
  using ClosedFuture = detail::ClosedFuture<T, detail::BoundedSemaphore>;
  using ReserveFuture = detail::ReserveFuture<T, Permit<T>>;
  using ReserveManyFuture = detail::ReserveFuture<T, PermitIterator<T>>;

  // The future of send(value): waits for capacity, then sends. Ready with Ok, or with
  // Err(SendError{value}) if the channel closed first.
  class [[nodiscard]] SendFuture {
   public:
    // Throws std::invalid_argument if polled again after it completed.
    Poll<Result<void, SendError<T>>> poll(Context& cx) {
      auto acquired = wait_.poll(cx, "mpsc::Sender::send future polled after completion");
      if (acquired.is_pending()) return pending;
      if (!acquired.value()) {
        return Result<void, SendError<T>>(Err(SendError<T>{std::move(*value_)}));
      }
      chan_->send(std::move(*value_));
      value_.reset();
      return Result<void, SendError<T>>(Ok());
    }
    // Cancels the send (if it has not completed) and returns the value it still holds.
    std::optional<T> take_value() {
      wait_.cancel();
      return std::exchange(value_, std::nullopt);
    }

   private:
    friend class Sender;
    SendFuture(detail::BChan<T>& chan, T value)
        : chan_(&chan), value_(std::move(value)), wait_(chan, 1) {}

    detail::BChan<T>* chan_;
    std::optional<T> value_;
    detail::CapacityWait<T> wait_;  // declared last: ends (and may wake) first
  };

  // The future of send_timeout(value, timeout): reserve() within `timeout` (counted from
  // the first poll, as Tokio's async fn, whose body starts there), then send. Ready with Ok, or
  // with Err(SendTimeoutError) holding the value: Timeout if the deadline came first (a reservation
  // ready at the deadline wins), Closed if the channel closed. As tokio's send_timeout (timeout
  // around reserve).
  class [[nodiscard]] SendTimeoutFuture {
   public:
    // Throws std::invalid_argument if polled again after it completed, and outside a
    // timer context (sync/time/timer_driver.h).
    Poll<Result<void, SendTimeoutError<T>>> poll(Context& cx) {
      if (!value_) {
        throw std::invalid_argument("mpsc::Sender::send_timeout future polled after completion");
      }
      if (!reserve_) reserve_.emplace(std::in_place, weft::sleep(timeout_), *chan_, 1);
      auto reserved = reserve_->poll(cx);
      if (reserved.is_pending()) return pending;
      T value = std::move(*value_);
      value_.reset();
      return send_reserved(std::move(reserved).value(), std::move(value));
    }

   private:
    friend class Sender;
    SendTimeoutFuture(detail::BChan<T>& chan, T value, Duration timeout)
        : chan_(&chan), timeout_(timeout), value_(std::move(value)) {}

    detail::BChan<T>* chan_;
    Duration timeout_;
    std::optional<T> value_;
    // From the first poll; destroyed at the deadline: gives back its place.
    std::optional<Timeout<ReserveFuture>> reserve_;
  };

  // The future of reserve_owned(): owns the Sender until it completes.
  class [[nodiscard]] ReserveOwnedFuture {
   public:
    // Throws std::invalid_argument if polled again after it completed.
    Poll<Result<OwnedPermit<T>, SendError<void>>> poll(Context& cx) {
      auto acquired = wait_.poll(cx, "mpsc::Sender::reserve_owned future polled after completion");
      if (acquired.is_pending()) return pending;
      if (!acquired.value()) {
        tx_.reset();
        return Result<OwnedPermit<T>, SendError<void>>(Err(SendError<void>{}));
      }
      return Result<OwnedPermit<T>, SendError<void>>(OwnedPermit<T>(std::move(tx_)));
    }

   private:
    friend class Sender;
    explicit ReserveOwnedFuture(Tx tx) : tx_(std::move(tx)), wait_(tx_.chan(), 1) {}

    Tx tx_;
    detail::CapacityWait<T> wait_;  // after tx_: ends (and may wake) before it goes
  };

  Sender(const Sender&) = default;
  Sender(Sender&&) noexcept = default;
  Sender& operator=(const Sender&) = default;
  Sender& operator=(Sender&&) noexcept = default;

  // Waits for capacity, then sends.
  SendFuture send(T value) const { return SendFuture(tx_.chan(), std::move(value)); }
  // Sends now: Err(TrySendError) with the value if the channel is full or closed.
  Result<void, TrySendError<T>> try_send(T value) const {
    auto acquired = tx_.semaphore().try_acquire(1);
    if (acquired.is_err()) {
      return Err(acquired.error() == TryAcquireError::Closed
                     ? TrySendError<T>::Closed(std::move(value))
                     : TrySendError<T>::Full(std::move(value)));
    }
    tx_.chan().send(std::move(value));
    return Ok();
  }
  // send() on this thread, parking it while it waits. Capacity free now is taken as
  // try_send takes it, without block_on (its per-call setup is most of a send's cost);
  // try_acquire fails while anyone is queued (WAITERS implies no free permit), so the
  // queue stays fair.
  // No spin before parking: retrying try_acquire measured 1.24x slower on an idle
  // machine (both threads hammer the permit word; parking lets the receiver drain a
  // batch undisturbed).
  Result<void, SendError<T>> blocking_send(T value) const {
    auto now = try_send(std::move(value));
    if (now.is_ok()) return Ok();
    TrySendError<T>& error = now.error();
    if (error.is_closed()) return Err(SendError<T>{std::move(error.value)});
    return block_on(send(std::move(error.value)));
  }
  // blocking_send() that gives up at the deadline, handing the value back in
  // SendTimeoutError: Timeout if no capacity came in time, Closed if the channel closed
  // (capacity reserved as the time ran out wins). Waits as reserve() then sends, so the
  // value is never inside the cancelled future (sync/deadline.h).
  Result<void, SendTimeoutError<T>> blocking_send_until(T value, Deadline deadline) const {
    return send_reserved(weft::detail::block_on_or_elapsed(reserve(), deadline), std::move(value));
  }
  template <class Rep, class Period>
  Result<void, SendTimeoutError<T>> blocking_send_for(
      T value, std::chrono::duration<Rep, Period> timeout) const {
    return blocking_send_until(std::move(value), platform::deadline_after(timeout));
  }

  // send() with a deadline: Err(SendTimeoutError::Timeout(value)) if no capacity came
  // within `timeout` (from the first poll), Closed(value) if the channel closed.
  template <class Rep, class Period>
  SendTimeoutFuture send_timeout(T value, std::chrono::duration<Rep, Period> timeout) const {
    return SendTimeoutFuture(tx_.chan(), std::move(value), weft::detail::to_duration(timeout));
  }

  // Waits for capacity for one value.
  ReserveFuture reserve() const { return ReserveFuture(tx_.chan(), 1); }
  // Waits for capacity for n values (Err at once if n > max_capacity()).
  ReserveManyFuture reserve_many(std::size_t n) const { return ReserveManyFuture(tx_.chan(), n); }
  // Waits for capacity for one value, moving this Sender into the permit.
  ReserveOwnedFuture reserve_owned() && { return ReserveOwnedFuture(std::move(tx_)); }

  Result<Permit<T>, TrySendError<void>> try_reserve() const {
    auto acquired = tx_.semaphore().try_acquire(1);
    if (acquired.is_err()) return Err(try_error(acquired.error()));
    return Permit<T>(tx_.chan());
  }
  Result<PermitIterator<T>, TrySendError<void>> try_reserve_many(std::size_t n) const {
    if (n > max_capacity()) return Err(TrySendError<void>::Full());
    auto acquired = tx_.semaphore().try_acquire(n);
    if (acquired.is_err()) return Err(try_error(acquired.error()));
    return PermitIterator<T>(tx_.chan(), n);
  }
  // On failure the error carries this Sender back.
  Result<OwnedPermit<T>, TrySendError<Sender>> try_reserve_owned() && {
    auto acquired = tx_.semaphore().try_acquire(1);
    if (acquired.is_err()) {
      return Err(acquired.error() == TryAcquireError::Closed
                     ? TrySendError<Sender>::Closed(std::move(*this))
                     : TrySendError<Sender>::Full(std::move(*this)));
    }
    return OwnedPermit<T>(std::move(tx_));
  }

  ClosedFuture closed() const { return ClosedFuture(tx_.chan()); }
  bool is_closed() const { return tx_.is_closed(); }
  // Capacity free now (values that could be sent without waiting).
  std::size_t capacity() const { return tx_.semaphore().available(); }
  std::size_t max_capacity() const { return tx_.semaphore().bound; }
  WeakSender<T> downgrade() const { return WeakSender<T>(tx_.downgrade()); }
  bool same_channel(const Sender& other) const { return tx_.same_channel(other.tx_); }
  std::size_t strong_count() const { return tx_.strong_count(); }
  std::size_t weak_count() const { return tx_.weak_count(); }

 private:
  friend std::pair<Sender<T>, Receiver<T>> channel<T>(std::size_t);
  friend class detail::WeakSenderBase<T, detail::BoundedSemaphore, Sender>;
  friend class OwnedPermit<T>;
  explicit Sender(Tx tx) noexcept : tx_(std::move(tx)) {}

  static TrySendError<void> try_error(TryAcquireError error) {
    return error == TryAcquireError::Closed ? TrySendError<void>::Closed()
                                            : TrySendError<void>::Full();
  }
  // The end of send_timeout and blocking_send_until: a reserve() given a deadline either
  // reserved (send the value) or not (the value goes back, with why).
  static Result<void, SendTimeoutError<T>> send_reserved(
      Result<Result<Permit<T>, SendError<void>>, Elapsed> reserved, T value) {
    if (reserved.is_err()) return Err(SendTimeoutError<T>::Timeout(std::move(value)));
    if (reserved.value().is_err()) return Err(SendTimeoutError<T>::Closed(std::move(value)));
    std::move(reserved.value().value()).send(std::move(value));
    return Ok();
  }
  Tx tx_;
};

template <class T>
bool OwnedPermit<T>::same_channel_as_sender(const Sender<T>& sender) const {
  return tx_ && tx_.same_channel(sender.tx_);
}

// upgrade(), strong_count(), weak_count(): see receiver.h.
template <class T>
class WeakSender : public detail::WeakSenderBase<T, detail::BoundedSemaphore, Sender<T>> {
  using Base = detail::WeakSenderBase<T, detail::BoundedSemaphore, Sender<T>>;

 private:
  friend class Sender<T>;
  explicit WeakSender(detail::WeakTx<T, detail::BoundedSemaphore> weak) noexcept
      : Base(std::move(weak)) {}
};

// The receiving half: recv, recv_many, try_recv, blocking_*, close, len, ... (see
// receiver.h), plus the channel's capacity.
template <class T>
class Receiver : public detail::ReceiverBase<T, detail::BoundedSemaphore> {
  using Base = detail::ReceiverBase<T, detail::BoundedSemaphore>;

 public:
  Receiver(Receiver&&) noexcept = default;
  Receiver& operator=(Receiver&&) noexcept = default;

  // Capacity free now, and the channel's bound.
  std::size_t capacity() const { return this->rx_.semaphore().available(); }
  std::size_t max_capacity() const { return this->rx_.semaphore().bound; }

 private:
  friend std::pair<Sender<T>, Receiver<T>> channel<T>(std::size_t);
  explicit Receiver(detail::Rx<T, detail::BoundedSemaphore> rx) noexcept : Base(std::move(rx)) {}
};

// A new bounded channel holding up to `buffer` values. Throws std::invalid_argument if
// buffer is 0 (or more than the semaphore's MAX_PERMITS).
template <class T>
std::pair<Sender<T>, Receiver<T>> channel(std::size_t buffer) {
  if (buffer == 0) throw std::invalid_argument("mpsc bounded channel requires buffer > 0");
  using Chan = detail::Chan<T, detail::BoundedSemaphore>;
  Chan* chan = Chan::create(buffer);
  return {Sender<T>(detail::BTx<T>(chan)),
          Receiver<T>(detail::Rx<T, detail::BoundedSemaphore>(chan))};
}

}  // namespace weft::mpsc
