// weft/sync/oneshot.h: a channel for sending a single value between tasks.
//
// Ported from tokio/src/sync/oneshot.rs.
//
// weft::oneshot::channel<T>() returns a {Sender, Receiver} pair. The Sender sends one value
// (send() consumes it: `std::move(tx).send(v)`); the Receiver is itself a future whose
// poll() yields Result<T, RecvError>: the value, or RecvError when the Sender was
// destroyed without sending. A value that cannot be delivered goes back to the caller:
// send() returns it inside the error when the receiver is gone or closed. A value sent but
// never received is destroyed by the Receiver's destructor (on the receiving thread).
//
// Concurrency: the Sender and the Receiver may be used from two different threads at the
// same time; each handle itself is used by one thread at a time (as any object).
//
// Cancel safety: polling the Receiver is cancel-safe: a task that stops polling it (used
// as a branch of a select and another branch completed first) has received nothing; a
// value sent meanwhile stays for a later poll or try_recv. Destroying the Receiver closes
// the channel: a value sent afterwards is refused (send returns it), a value sent before
// is destroyed with the Receiver. Sender::closed() is cancel-safe. A handle that goes
// (the Receiver destroyed or closed, the Sender destroyed or consumed by send) drops the
// waker it registered at once, not when the other handle goes too (Tokio #7886).
//
// Memory ordering: everything the sending thread did before send() happens-before the
// poll / try_recv / blocking_recv that returns the value. Everything the receiving thread
// did before close() (or destroying the Receiver) happens-before a poll_closed() that
// returns ready.
//
// Timed receive: blocking_recv_until(deadline) / blocking_recv_for(timeout) return
// blocking_recv's Result inside Result<_, Elapsed> (sync/deadline.h) and leave the
// Receiver usable after a timeout.
//
// Misuse throws std::invalid_argument: polling a Receiver after it completed, or using a
// Sender after send() consumed it.
//
// Cost: a channel is one block (the value, two waker slots, one state word), taken from
// the block of that size the thread freed last (sync/platform/spare_block.h) or from the
// allocator; a send and a receive that finds the value make one atomic RMW in all.
//
//   auto [tx, rx] = weft::oneshot::channel<int>();
//   std::thread producer([tx = std::move(tx)]() mutable {
//     if (std::move(tx).send(3).is_err()) { /* the receiver is gone; 3 came back */ }
//   });
//   weft::Result<int, weft::oneshot::RecvError> r = std::move(rx).blocking_recv();
//   producer.join();
#pragma once

#include "sync/deadline.h"
#include "sync/platform/atomic.h"
#include "sync/platform/cell.h"
#include "sync/platform/invariant.h"
#include "sync/platform/spare_block.h"
#include "sync/result.h"
#include "sync/task/block_on.h"
#include "sync/task/future.h"
#include "sync/task/poll.h"
#include "sync/task/waker.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <utility>

namespace weft::oneshot {

// The Receiver completes with RecvError when the Sender was destroyed without sending.
struct RecvError {
  friend bool operator==(RecvError, RecvError) noexcept { return true; }
  const char* what() const noexcept { return "channel closed"; }
};

enum class TryRecvError {
  Empty,   // nothing was sent yet, the Sender is still alive
  Closed,  // the Sender is gone without sending, or the value was already received
};

template <class T>
class Sender;
template <class T>
class Receiver;

namespace detail {

// The state both handles share: one value slot, one waker per side, a state word.
template <class T>
class OneshotInner {
 public:
  // The state's memory is the thread's spare block of its size (SpareBlock): a channel is
  // often made and freed once per request, and malloc / free were half of that.
  static void* operator new(std::size_t bytes) {
    WEFT_INVARIANT(bytes == sizeof(OneshotInner));
    return weft::platform::SpareBlock<sizeof(OneshotInner), alignof(OneshotInner)>::allocate();
  }
  static void operator delete(void* block) noexcept {
    weft::platform::SpareBlock<sizeof(OneshotInner), alignof(OneshotInner)>::free(block);
  }

  // State word (one atomic, all transitions are single RMW operations):
  //   RX_TASK_SET  rx_task_ holds the receiver's waker. Set and cleared by the Receiver
  //                only; while set, the Sender may read (wake_by_ref) rx_task_.
  //   VALUE_SENT   the Sender is done: value_ holds the value (send) or nothing (the
  //                Sender was destroyed). Set once, by the Sender, and never when CLOSED
  //                is already set. Before it is set only the Sender touches value_;
  //                after, only the Receiver.
  //   CLOSED       the Receiver closed the channel (close() or its destructor). Set once.
  //   TX_TASK_SET  tx_task_ holds the sender's waker (poll_closed). Set and cleared by
  //                the Sender only; while set, the Receiver may read tx_task_.
  //   TX_RELEASED  the Sender will never touch the state again (its reference). Set
  //                once, by the Sender, only together with or after VALUE_SENT or CLOSED.
  //   RX_RELEASED  the same for the Receiver: set once, only after it saw VALUE_SENT or
  //                CLOSED (so the Sender's completing CAS never finds it set).
  // A side writes its waker slot only while its own TASK_SET bit is clear, and clears the
  // bit (to replace the waker) only when the other side can no longer look at the slot
  // (CLOSED not yet set for tx_task_, VALUE_SENT not yet set for rx_task_).
  //
  // Lifetime: the two RELEASED bits are the reference count. A handle that is done sets
  // its bit with one AcqRel RMW and frees the state if the other bit was already set; a
  // handle that sees (Acquire load) the other bit set is the sole owner and frees it
  // without any RMW. So the common create / send / receive costs one RMW: the send's CAS
  // sets VALUE_SENT and TX_RELEASED at once when no receiver waker is registered (there
  // is nothing left for the Sender to do), and the Receiver, finding both, frees.
  static constexpr std::uintptr_t RX_TASK_SET = 0b000001;
  static constexpr std::uintptr_t VALUE_SENT = 0b000010;
  static constexpr std::uintptr_t CLOSED = 0b000100;
  static constexpr std::uintptr_t TX_TASK_SET = 0b001000;
  static constexpr std::uintptr_t TX_RELEASED = 0b010000;
  static constexpr std::uintptr_t RX_RELEASED = 0b100000;

  OneshotInner() = default;
  OneshotInner(const OneshotInner&) = delete;
  OneshotInner& operator=(const OneshotInner&) = delete;
  ~OneshotInner() {
    // Both handles are gone: a sent value was taken or destroyed by the Receiver, a
    // refused one went back to the Sender.
    WEFT_INVARIANT(!value_.with([](const std::optional<T>& v) { return v.has_value(); }));
  }

  // The Sender is done with the state (after complete() or a refused send). Frees it if
  // the Receiver is done too.
  void release_tx() noexcept {
    // AcqRel: Release orders the Sender's last accesses (the waker it woke, the value it
    // took back) before the Receiver frees; Acquire pairs with release_rx()'s fetch_or.
    if ((state_.fetch_or(TX_RELEASED, std::memory_order_acq_rel) & RX_RELEASED) != 0) {
      delete this;
    }
  }

  // The Receiver is done with the state (it saw VALUE_SENT or CLOSED). Frees it if the
  // Sender is done too.
  void release_rx() noexcept {
    // Acquire: pairs with the AcqRel RMWs in complete() and release_tx() that set
    // TX_RELEASED: the Sender's accesses happen-before the free, and it never comes back,
    // so no RMW is needed.
    if ((state_.load(std::memory_order_acquire) & TX_RELEASED) != 0) {
      delete this;
      return;
    }
    // AcqRel: Release orders the Receiver's accesses before the Sender frees; Acquire
    // pairs with the AcqRel RMWs in complete() and release_tx() that set TX_RELEASED
    // meanwhile.
    if ((state_.fetch_or(RX_RELEASED, std::memory_order_acq_rel) & TX_RELEASED) != 0) {
      delete this;
    }
  }

  std::uintptr_t load_state() const {
    // Acquire: pairs with the AcqRel CAS in complete() (the value), the AcqRel fetch_or
    // in poll_recv() or poll_closed() that set a TASK_SET bit (the other side's waker) and
    // close()'s AcqRel fetch_or (the Receiver's work before close).
    return state_.load(std::memory_order_acquire);
  }

  // Marks the Sender done and, when it returns true, releases the Sender's hold on the
  // state (the caller must not touch it again). Returns false (VALUE_SENT left clear,
  // nothing released) when the channel was already closed: the value slot then still
  // belongs to the Sender, which calls release_tx() once it took the value back.
  bool complete() {
    // A guess, validated by the CAS: a fresh channel (nothing set). Right in the common
    // send-before-poll case, it saves the load before the CAS; wrong, the CAS returns the
    // real word.
    std::uintptr_t state = 0;
    for (;;) {
      if ((state & CLOSED) != 0) return false;
      // No waker to wake or drop: nothing is left for the Sender to do, so it releases
      // its hold in the same CAS.
      const std::uintptr_t next =
          state | VALUE_SENT | ((state & (RX_TASK_SET | TX_TASK_SET)) == 0 ? TX_RELEASED : 0);
      // AcqRel: Release publishes value_ to the Receiver's Acquire load (and, with
      // TX_RELEASED, ends the Sender's accesses); Acquire pairs with the AcqRel fetch_or
      // in poll_recv() that set RX_TASK_SET, so rx_task_ is readable below.
      if (state_.compare_exchange_weak(state, next, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
        break;
      }
    }
    if ((state & (RX_TASK_SET | TX_TASK_SET)) != 0) {
      if ((state & RX_TASK_SET) != 0) {
        rx_task_.with([](const std::optional<Waker>& w) { w->wake_by_ref(); });
      }
      // The Sender is done, so its closed() waker has nothing left to wait for. The
      // Receiver reads tx_task_ only if VALUE_SENT was clear when it closed, and CLOSED
      // was clear here: the slot is ours. (Not in Tokio, which keeps it until the
      // Receiver goes; the same leak as #7886 on the other side.)
      if ((state & TX_TASK_SET) != 0) drop_waker(tx_task_, TX_TASK_SET);
      release_tx();
    }
    return true;
  }

  // Marks the Receiver done (close() or its destructor); returns the previous state.
  std::uintptr_t close() {
    // AcqRel. Acquire: pairs with the AcqRel fetch_or in poll_closed() that set
    // TX_TASK_SET (tx_task_ readable), and with complete()'s CAS (value_ readable by the
    // Receiver afterwards). Release: pairs with the Acquire load in load_state(); the
    // header promises that work done before close() is visible once CLOSED is seen by
    // poll_closed or is_closed. Tokio's set_closed is Acquire only and promises nothing
    // (model: close_publishes_to_closed, drop_publishes_to_is_closed).
    const std::uintptr_t prev = state_.fetch_or(CLOSED, std::memory_order_acq_rel);
    if ((prev & TX_TASK_SET) != 0 && (prev & VALUE_SENT) == 0) {
      tx_task_.with([](const std::optional<Waker>& w) { w->wake_by_ref(); });
    }
    // Tokio #7886: nothing will complete the Receiver now, so its waker goes. The Sender
    // reads rx_task_ only after its CAS set VALUE_SENT, which CLOSED now forbids; VALUE_SENT
    // was clear: the slot is ours.
    if ((prev & RX_TASK_SET) != 0 && (prev & VALUE_SENT) == 0) drop_waker(rx_task_, RX_TASK_SET);
    return prev;
  }

  Poll<Result<T, RecvError>> poll_recv(Context& cx) {
    std::uintptr_t state = load_state();
    if ((state & VALUE_SENT) != 0) return take_value();
    if ((state & CLOSED) != 0) return Result<T, RecvError>(Err(RecvError{}));

    if ((state & RX_TASK_SET) != 0) {
      const bool same =
          rx_task_.with([&](const std::optional<Waker>& w) { return w->will_wake(cx.waker()); });
      if (!same) {
        // AcqRel: Acquire pairs with complete()'s CAS; Release orders our earlier reads
        // of rx_task_ before the Sender stops looking at it.
        state = state_.fetch_and(~RX_TASK_SET, std::memory_order_acq_rel) & ~RX_TASK_SET;
        if ((state & VALUE_SENT) != 0) {
          // The Sender may be waking the old waker right now: leave the slot alone and
          // put the bit back, so the slot stays "set" until the state is freed.
          // Relaxed: only this side reads RX_TASK_SET from now on.
          state_.fetch_or(RX_TASK_SET, std::memory_order_relaxed);
          return take_value();
        }
        rx_task_.with_mut([](std::optional<Waker>& w) { w.reset(); });
      }
    }

    if ((state & RX_TASK_SET) == 0) {
      Waker fresh = cx.waker();  // may throw: the slot is still empty and unflagged
      rx_task_.with_mut([&](std::optional<Waker>& w) { w.emplace(std::move(fresh)); });
      // AcqRel: Release publishes the waker to complete()'s Acquire CAS; Acquire pairs
      // with complete()'s CAS when the value is already there.
      state = state_.fetch_or(RX_TASK_SET, std::memory_order_acq_rel);
      if ((state & VALUE_SENT) != 0) return take_value();
    }
    return pending;
  }

  Poll<void> poll_closed(Context& cx) {
    std::uintptr_t state = load_state();
    if ((state & CLOSED) != 0) return ready;

    if ((state & TX_TASK_SET) != 0) {
      const bool same =
          tx_task_.with([&](const std::optional<Waker>& w) { return w->will_wake(cx.waker()); });
      if (!same) {
        // AcqRel: Release pairs with close()'s AcqRel fetch_or: our reads of tx_task_
        // end before the Receiver reads it. Acquire pairs with close()'s AcqRel fetch_or
        // when CLOSED is already set (the Receiver's work before close()).
        state = state_.fetch_and(~TX_TASK_SET, std::memory_order_acq_rel) & ~TX_TASK_SET;
        if ((state & CLOSED) != 0) {
          // The Receiver may be waking the old waker: keep it, put the bit back.
          // Relaxed: only this side reads TX_TASK_SET from now on.
          state_.fetch_or(TX_TASK_SET, std::memory_order_relaxed);
          return ready;
        }
        tx_task_.with_mut([](std::optional<Waker>& w) { w.reset(); });
      }
    }

    if ((state & TX_TASK_SET) == 0) {
      Waker fresh = cx.waker();  // may throw: the slot is still empty and unflagged
      tx_task_.with_mut([&](std::optional<Waker>& w) { w.emplace(std::move(fresh)); });
      // AcqRel: Release publishes the waker to close()'s Acquire fetch_or.
      state = state_.fetch_or(TX_TASK_SET, std::memory_order_acq_rel);
      if ((state & CLOSED) != 0) return ready;
    }
    return pending;
  }

  // Only while VALUE_SENT is clear (the Sender's side of the slot).
  void put_value(T&& value) {
    value_.with_mut([&](std::optional<T>& slot) { slot.emplace(std::move(value)); });
  }
  // The slot's owner takes the value out (see VALUE_SENT).
  std::optional<T> consume_value() {
    return value_.with_mut([](std::optional<T>& slot) {
      std::optional<T> out = std::move(slot);
      slot.reset();
      return out;
    });
  }
  bool has_value() const {
    return value_.with([](const std::optional<T>& slot) { return slot.has_value(); });
  }

 private:
  // Empties a waker slot the other side will never read again, and clears its TASK_SET
  // bit so that the word keeps saying what the slot holds. The waker is dropped here, on
  // the side that registered it.
  void drop_waker(platform::cell<std::optional<Waker>>& slot, std::uintptr_t task_set) {
    // Relaxed: only the owning side reads its TASK_SET bit from now on; the other side's
    // last look at the word (VALUE_SENT / CLOSED) already decided it keeps away.
    state_.fetch_and(~task_set, std::memory_order_relaxed);
    slot.with_mut([](std::optional<Waker>& w) { w.reset(); });
  }

  Result<T, RecvError> take_value() {
    if (std::optional<T> value = consume_value()) return std::move(*value);
    return Err(RecvError{});
  }

  platform::atomic<std::uintptr_t> state_{0};
  // Owned by the Sender until VALUE_SENT, by the Receiver after (see the state word).
  platform::cell<std::optional<T>> value_;
  // Written by the Sender while TX_TASK_SET is clear; read by the Receiver while set.
  platform::cell<std::optional<Waker>> tx_task_;
  // Written by the Receiver while RX_TASK_SET is clear; read by the Sender while set.
  platform::cell<std::optional<Waker>> rx_task_;
};

[[noreturn]] inline void misuse(const char* what) { throw std::invalid_argument(what); }

}  // namespace detail

template <class T>
std::pair<Sender<T>, Receiver<T>> channel();

// Sends one value to the Receiver. Move-only; destroying it unsent completes the
// Receiver with RecvError.
template <class T>
class Sender {
 public:
  Sender(Sender&& other) noexcept : inner_(std::exchange(other.inner_, nullptr)) {}
  Sender& operator=(Sender&& other) noexcept {
    if (this != &other) {
      drop();
      inner_ = std::exchange(other.inner_, nullptr);
    }
    return *this;
  }
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;
  ~Sender() { drop(); }

  // Sends `value`, consuming the Sender. Err(value) when the Receiver was already closed
  // or destroyed: the value was not delivered and comes back. Ok does not promise the
  // value will be received (the Receiver may close right after).
  Result<void, T> send(T value) && {
    detail::OneshotInner<T>* inner = std::exchange(inner_, nullptr);
    if (inner == nullptr) detail::misuse("oneshot::Sender::send on a consumed Sender");
    inner->put_value(std::move(value));
    if (!inner->complete()) {
      // CLOSED came first: VALUE_SENT is clear, so the slot is still ours.
      std::optional<T> back = inner->consume_value();
      inner->release_tx();
      return Err(std::move(*back));
    }
    return Ok();  // complete() released the Sender's hold
  }

  // Ready once the Receiver closed or was destroyed; otherwise registers cx's waker (only
  // the waker of the latest call is woken).
  Poll<void> poll_closed(Context& cx) { return inner().poll_closed(cx); }

  // A future that completes when the Receiver closes (see poll_closed). Cancel-safe.
  class Closed {
   public:
    explicit Closed(Sender& tx) noexcept : tx_(&tx) {}
    Poll<void> poll(Context& cx) { return tx_->poll_closed(cx); }

   private:
    Sender* tx_;
  };
  Closed closed() { return Closed(*this); }

  // True once the Receiver closed or was destroyed: a send would then fail.
  bool is_closed() const { return (inner().load_state() & detail::OneshotInner<T>::CLOSED) != 0; }

 private:
  friend std::pair<Sender<T>, Receiver<T>> channel<T>();
  explicit Sender(detail::OneshotInner<T>* inner) noexcept : inner_(inner) {}
  detail::OneshotInner<T>& inner() const {
    if (inner_ == nullptr) detail::misuse("oneshot::Sender used after send");
    return *inner_;
  }
  void drop() noexcept {
    if (detail::OneshotInner<T>* inner = std::exchange(inner_, nullptr)) {
      // VALUE_SENT with an empty slot: the Receiver gets RecvError. complete() released
      // the Sender's hold, unless the channel was closed first.
      if (!inner->complete()) inner->release_tx();
    }
  }

  detail::OneshotInner<T>* inner_;
};

// Receives the value. A future: poll() yields Result<T, RecvError>. May be moved at any
// time (its wakers live in the shared state). After poll() returned ready, or try_recv()
// returned a value or Closed, it is terminated.
template <class T>
class Receiver {
 public:
  Receiver(Receiver&& other) noexcept : inner_(std::exchange(other.inner_, nullptr)) {}
  Receiver& operator=(Receiver&& other) noexcept {
    if (this != &other) {
      drop();
      inner_ = std::exchange(other.inner_, nullptr);
    }
    return *this;
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;
  ~Receiver() { drop(); }

  // The value, RecvError if the Sender is gone unsent, or pending (cx's waker is woken
  // when that changes). Throws std::invalid_argument once the Receiver has completed.
  Poll<Result<T, RecvError>> poll(Context& cx) {
    if (inner_ == nullptr) detail::misuse("oneshot::Receiver polled after completion");
    Poll<Result<T, RecvError>> out = inner_->poll_recv(cx);
    if (out.is_ready()) terminate();
    return out;
  }

  // Never waits and never registers a waker. Empty: nothing sent yet. Closed: the Sender
  // is gone unsent, the channel was closed before a send, or the value was received.
  Result<T, TryRecvError> try_recv() {
    if (inner_ == nullptr) return Err(TryRecvError::Closed);
    const std::uintptr_t state = inner_->load_state();
    if ((state & detail::OneshotInner<T>::VALUE_SENT) != 0) {
      std::optional<T> value = inner_->consume_value();
      terminate();
      if (value) return std::move(*value);
      return Err(TryRecvError::Closed);
    }
    if ((state & detail::OneshotInner<T>::CLOSED) != 0) {
      terminate();
      return Err(TryRecvError::Closed);
    }
    return Err(TryRecvError::Empty);
  }

  // Parks the calling thread until the value or RecvError arrives. Never call it from
  // inside an asynchronous task.
  Result<T, RecvError> blocking_recv() && { return block_on(*this); }
  // blocking_recv() that gives up at the deadline with Err(Elapsed) (sync/deadline.h).
  // The Receiver is not consumed: after a timeout it is as before (a value sent as the
  // time ran out is received now or stays for the next call), so the wait can resume.
  Result<Result<T, RecvError>, Elapsed> blocking_recv_until(Deadline deadline) & {
    return weft::detail::block_on_or_elapsed(*this, deadline);
  }
  template <class Rep, class Period>
  Result<Result<T, RecvError>, Elapsed> blocking_recv_for(
      std::chrono::duration<Rep, Period> timeout) & {
    return blocking_recv_until(platform::deadline_after(timeout));
  }

  // Prevents any later send (it will fail and return the value). A value sent before
  // close() can still be received with try_recv() or poll().
  void close() {
    if (inner_ != nullptr) inner_->close();
  }

  // True when no value will arrive beyond what is already there: sent, Sender gone, or
  // closed.
  bool is_closed() const {
    if (inner_ == nullptr) return true;
    const std::uintptr_t state = inner_->load_state();
    return (state & (detail::OneshotInner<T>::VALUE_SENT | detail::OneshotInner<T>::CLOSED)) != 0;
  }

  // True when there is no value to take right now.
  bool is_empty() const {
    if (inner_ == nullptr) return true;
    if ((inner_->load_state() & detail::OneshotInner<T>::VALUE_SENT) == 0) return true;
    return !inner_->has_value();  // VALUE_SENT: the slot is the Receiver's
  }

  // True once the Receiver has yielded its result: it must not be polled again.
  bool is_terminated() const noexcept { return inner_ == nullptr; }

 private:
  friend std::pair<Sender<T>, Receiver<T>> channel<T>();
  explicit Receiver(detail::OneshotInner<T>* inner) noexcept : inner_(inner) {}
  // Only after VALUE_SENT or CLOSED was seen (see RX_RELEASED).
  void terminate() noexcept { std::exchange(inner_, nullptr)->release_rx(); }
  void drop() noexcept {
    if (detail::OneshotInner<T>* inner = std::exchange(inner_, nullptr)) {
      const std::uintptr_t prev = inner->close();
      // A value sent but never received is destroyed here, on the receiving side.
      if ((prev & detail::OneshotInner<T>::VALUE_SENT) != 0) inner->consume_value();
      inner->release_rx();  // CLOSED is set
    }
  }

  detail::OneshotInner<T>* inner_;
};

// A new channel: one allocation, shared by the two handles.
template <class T>
std::pair<Sender<T>, Receiver<T>> channel() {
  auto* inner = new detail::OneshotInner<T>();
  return {Sender<T>(inner), Receiver<T>(inner)};
}

}  // namespace weft::oneshot
