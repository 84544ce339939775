// weft/sync/mpsc/receiver.h: ReceiverBase, the receiving half both mpsc flavours share
// (Receiver in bounded.h and UnboundedReceiver in unbounded.h derive from it and add
// only what is theirs), and WeakSenderBase, the same for WeakSender and
// WeakUnboundedSender. Thin layers over chan.h's Rx and WeakTx: no state of their own,
// no virtual function, nothing added to a call.
//
// Follows tokio/src/sync/mpsc/chan.rs (Rx) and the receivers of bounded.rs / unbounded.rs.
//
// Contract (both flavours): move-only; one thread at a time. recv() and recv_many() are
// cancel-safe (a value is taken only when it is returned) and are views of the handle:
// polled again after they completed, they receive the next value. blocking_* park the
// calling thread (never call them from inside a future). close() stops new sends (and,
// bounded, new reservations); what was sent, or is sent through capacity reserved
// before, can still be received. Destroying the receiver drops the waker it registered
// at once, though senders keep the channel (tokio#8095); a recv() future destroyed
// pending leaves it until the receiver's next poll or drop, as Tokio. Memory ordering:
// as chan.h.
#pragma once

#include "sync/deadline.h"
#include "sync/mpsc/chan.h"
#include "sync/mpsc/error.h"
#include "sync/result.h"
#include "sync/task/block_on.h"
#include "sync/task/poll.h"

#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

namespace weft::mpsc::detail {

template <class T, class S>
class ReceiverBase {
 public:
  using RecvFuture = detail::RecvFuture<T, S>;
  using RecvManyFuture = detail::RecvManyFuture<T, S>;

  ReceiverBase(ReceiverBase&&) noexcept = default;
  ReceiverBase& operator=(ReceiverBase&&) noexcept = default;

  // The next value, or nullopt once the channel is closed (every sender gone, or close()
  // called) and every value was received (bounded: and every reserved permit was used or
  // dropped; tokio#7920). Cancel-safe.
  RecvFuture recv() { return RecvFuture(rx_); }
  // Up to `limit` values appended to `buffer`; 0 only if limit is 0 or the channel is
  // closed and drained. Cancel-safe.
  RecvManyFuture recv_many(std::vector<T>& buffer, std::size_t limit) {
    return RecvManyFuture(rx_, buffer, limit);
  }
  Poll<std::optional<T>> poll_recv(Context& cx) { return rx_.recv(cx); }
  Poll<std::size_t> poll_recv_many(Context& cx, std::vector<T>& buffer, std::size_t limit) {
    return rx_.recv_many(cx, buffer, limit);
  }
  // A value now; Empty if none but one may still come, Disconnected if none can (every
  // sender gone, or close() called and every permit back): see TryRecvError.
  Result<T, TryRecvError> try_recv() { return rx_.try_recv(); }
  // recv() on this thread, parking it while it waits. A value already there is taken
  // without block_on (its per-call setup is most of a receive's cost).
  std::optional<T> blocking_recv() {
    if (std::optional<std::optional<T>> now = rx_.recv_now()) return std::move(*now);
    return block_on(recv());
  }
  std::size_t blocking_recv_many(std::vector<T>& buffer, std::size_t limit) {
    return block_on(recv_many(buffer, limit));
  }
  // The same, giving up at the deadline with Err(Elapsed) (sync/deadline.h). recv() is
  // cancel-safe: a value sent as the time runs out is received or stays queued, never lost.
  Result<std::optional<T>, Elapsed> blocking_recv_until(Deadline deadline) {
    return weft::detail::block_on_or_elapsed(recv(), deadline);
  }
  Result<std::size_t, Elapsed> blocking_recv_many_until(std::vector<T>& buffer, std::size_t limit,
                                                        Deadline deadline) {
    return weft::detail::block_on_or_elapsed(recv_many(buffer, limit), deadline);
  }
  template <class Rep, class Period>
  Result<std::optional<T>, Elapsed> blocking_recv_for(std::chrono::duration<Rep, Period> timeout) {
    return blocking_recv_until(platform::deadline_after(timeout));
  }
  template <class Rep, class Period>
  Result<std::size_t, Elapsed> blocking_recv_many_for(std::vector<T>& buffer, std::size_t limit,
                                                      std::chrono::duration<Rep, Period> timeout) {
    return blocking_recv_many_until(buffer, limit, platform::deadline_after(timeout));
  }

  // Closes the channel for senders; what was sent can still be received.
  void close() { rx_.close(); }
  // Closed by close() or because every sender is gone.
  bool is_closed() const { return rx_.is_closed(); }
  bool is_empty() const { return rx_.is_empty(); }
  // Values sent and not yet received.
  std::size_t len() const { return rx_.len(); }
  std::size_t sender_strong_count() const { return rx_.sender_strong_count(); }
  std::size_t sender_weak_count() const { return rx_.sender_weak_count(); }

 protected:
  explicit ReceiverBase(Rx<T, S> rx) noexcept : rx_(std::move(rx)) {}
  ~ReceiverBase() = default;

  Rx<T, S> rx_;
};

// A weak sender of either flavour; Strong is that flavour's sender, which befriends this
// class for its constructor from a Tx.
template <class T, class S, class Strong>
class WeakSenderBase {
 public:
  // A sender, unless every strong sender is gone (then the channel is closed for good).
  std::optional<Strong> upgrade() const {
    if (auto tx = weak_.upgrade()) return Strong(std::move(*tx));
    return std::nullopt;
  }
  std::size_t strong_count() const { return weak_.strong_count(); }
  std::size_t weak_count() const { return weak_.weak_count(); }

 protected:
  explicit WeakSenderBase(WeakTx<T, S> weak) noexcept : weak_(std::move(weak)) {}
  // Declared because the destructor is: else a move would copy (a weak count too many).
  WeakSenderBase(const WeakSenderBase&) = default;
  WeakSenderBase(WeakSenderBase&&) noexcept = default;
  WeakSenderBase& operator=(const WeakSenderBase&) = default;
  WeakSenderBase& operator=(WeakSenderBase&&) noexcept = default;
  ~WeakSenderBase() = default;

  WeakTx<T, S> weak_;
};

}  // namespace weft::mpsc::detail
