// weft/sync/mpsc/unbounded.h: the unbounded multi-producer, single-consumer channel.
//
// Follows tokio/src/sync/mpsc/unbounded.rs.
//
//   auto [tx, rx] = weft::mpsc::unbounded_channel<int>();
//   weft::platform::thread producer([tx = std::move(tx)] {
//     for (int i = 0; i < 3; ++i) (void)tx.send(i);       // never waits
//   });                                                     // last sender gone: closed
//   std::vector<int> got;
//   while (std::optional<int> v = rx.blocking_recv()) got.push_back(*v);   // 0, 1, 2
//   producer.join();
//
// Contract:
//  - Senders are copyable handles, usable from any number of threads at once; the one
//    receiver is move-only and used by one thread at a time. Values from one sender
//    arrive in the order it sent them.
//  - The channel closes for receiving when every UnboundedSender is gone (weak senders do
//    not count) and for sending when the receiver calls close() or is destroyed. A send
//    to a closed channel returns the value in SendError; values still queued when the
//    receiver goes are destroyed then, values sent later (none can be) never exist.
//  - send() never waits and takes no lock: one fetch_add claims its slot (the same word
//    carries the receiver's close, so no count is kept beside it), one fetch_or
//    publishes it, and one more RMW wakes the receiver only if it waits. Blocks of
//    BLOCK_CAP slots are recycled, so the steady state allocates nothing.
//  - Futures (recv, recv_many, closed) follow weft's model: poll(Context&) with the
//    receiver (or sender) outliving them. recv() and recv_many() are cancel-safe:
//    dropping one before it is ready loses no value. closed() is cancel-safe.
//  - Memory ordering: everything a sender did before send(v) happens-before the receive
//    that returns v; everything every sender did before it was destroyed happens-before
//    the receive that reports the end; everything the receiver did before close()
//    happens-before a send that fails and the completion of closed().
//  - Exceptions: a send whose value's move into the channel throws propagates it (the
//    value is gone, as any moved-from argument); the slot it claimed is passed by the
//    receiver, so later values still arrive and nothing waits for it. (An allocation
//    failure while the list grows is not recovered from: see the block list, list.h.)
//  - Handles that were moved from may only be destroyed or assigned to.
#pragma once

#include "sync/mpsc/chan.h"
#include "sync/mpsc/error.h"
#include "sync/mpsc/receiver.h"
#include "sync/result.h"
#include "sync/task/block_on.h"

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

namespace weft::mpsc {

template <class T>
class UnboundedSender;
template <class T>
class UnboundedReceiver;
template <class T>
class WeakUnboundedSender;

template <class T>
std::pair<UnboundedSender<T>, UnboundedReceiver<T>> unbounded_channel();

template <class T>
class UnboundedSender {
  using Tx = detail::Tx<T, detail::Unbounded>;

 public:
  using ClosedFuture = detail::ClosedFuture<T, detail::Unbounded>;

  UnboundedSender(const UnboundedSender&) = default;
  UnboundedSender(UnboundedSender&&) noexcept = default;
  UnboundedSender& operator=(const UnboundedSender&) = default;
  UnboundedSender& operator=(UnboundedSender&&) noexcept = default;

  // Sends without waiting. Err(SendError{value}) if the receiver closed the channel.
  Result<void, SendError<T>> send(T value) const {
    if (!tx_.chan().try_send(value)) return Err(SendError<T>{std::move(value)});
    return Ok();
  }

  // Completes once the receiver has closed the channel or gone away.
  ClosedFuture closed() const { return ClosedFuture(tx_.chan()); }
  // Whether the receiver has closed the channel or gone away.
  bool is_closed() const { return tx_.is_closed(); }
  bool same_channel(const UnboundedSender& other) const { return tx_.same_channel(other.tx_); }
  // A handle that does not keep the channel open.
  WeakUnboundedSender<T> downgrade() const { return WeakUnboundedSender<T>(tx_.downgrade()); }
  std::size_t strong_count() const { return tx_.strong_count(); }
  std::size_t weak_count() const { return tx_.weak_count(); }

 private:
  friend std::pair<UnboundedSender<T>, UnboundedReceiver<T>> unbounded_channel<T>();
  friend class detail::WeakSenderBase<T, detail::Unbounded, UnboundedSender>;
  explicit UnboundedSender(Tx tx) noexcept : tx_(std::move(tx)) {}

  Tx tx_;
};

// upgrade(), strong_count(), weak_count(): see receiver.h.
template <class T>
class WeakUnboundedSender
    : public detail::WeakSenderBase<T, detail::Unbounded, UnboundedSender<T>> {
  using Base = detail::WeakSenderBase<T, detail::Unbounded, UnboundedSender<T>>;

 private:
  friend class UnboundedSender<T>;
  explicit WeakUnboundedSender(detail::WeakTx<T, detail::Unbounded> weak) noexcept
      : Base(std::move(weak)) {}
};

// The receiving half: recv, recv_many, try_recv, blocking_*, close, len, ... (see
// receiver.h).
template <class T>
class UnboundedReceiver : public detail::ReceiverBase<T, detail::Unbounded> {
  using Base = detail::ReceiverBase<T, detail::Unbounded>;

 public:
  UnboundedReceiver(UnboundedReceiver&&) noexcept = default;
  UnboundedReceiver& operator=(UnboundedReceiver&&) noexcept = default;

 private:
  friend std::pair<UnboundedSender<T>, UnboundedReceiver<T>> unbounded_channel<T>();
  explicit UnboundedReceiver(detail::Rx<T, detail::Unbounded> rx) noexcept : Base(std::move(rx)) {}
};

// A new unbounded channel: its first sender and its receiver.
template <class T>
std::pair<UnboundedSender<T>, UnboundedReceiver<T>> unbounded_channel() {
  using Chan = detail::Chan<T, detail::Unbounded>;
  Chan* chan = Chan::create();
  return {UnboundedSender<T>(detail::Tx<T, detail::Unbounded>(chan)),
          UnboundedReceiver<T>(detail::Rx<T, detail::Unbounded>(chan))};
}

}  // namespace weft::mpsc
