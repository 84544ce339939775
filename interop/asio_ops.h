// weft/interop/asio_ops.h: asio-style initiating functions for weft's common waits. Each
// is async_poll (interop/asio_poll.h) of the primitive's own future, with that contract:
// the completion signature (void(std::exception_ptr, V)), where it runs (the token's
// associated executor: the coroutine's for use_awaitable; bind one to a callback with
// asio::bind_executor), cancellation through the token's cancellation slot.
//
//   std::optional<int> v = co_await weft::interop::async_recv(rx, asio::use_awaitable);
//   weft::interop::async_lock(mutex, asio::bind_executor(io, [](std::exception_ptr e,
//       std::optional<weft::MutexGuard<int>> guard) { ... }));
//   std::future<std::optional<int>> f =
//       weft::interop::async_recv(rx, asio::bind_executor(io, asio::use_future));
//
// The weft object (receiver, sender, mutex ...) must outlive the operation. Cancellation
// destroys the weft future, with that future's cancel-safety: async_recv, async_lock,
// async_acquire, async_notified and async_changed lose nothing; async_send destroys the
// value unsent (async_reserve, then send through the permit, keeps it).
#pragma once

#include "interop/asio_poll.h"

#include <utility>

namespace weft::interop {

// An mpsc (bounded or unbounded) or broadcast receiver's recv(): V is its output
// (std::optional<T> for mpsc: nullopt once closed and drained).
template <class Receiver, class Token>
auto async_recv(Receiver& rx, Token&& token) {
  return async_poll(rx.recv(), std::forward<Token>(token));
}

// A bounded mpsc sender's send(value): V is Result<void, SendError<T>> (Ok() on error:
// read the error first).
template <class Sender, class T, class Token>
auto async_send(const Sender& tx, T value, Token&& token) {
  return async_poll(tx.send(std::move(value)), std::forward<Token>(token));
}

// A bounded mpsc sender's reserve(): a Permit (in an optional Result) to send with.
template <class Sender, class Token>
auto async_reserve(const Sender& tx, Token&& token) {
  return async_poll(tx.reserve(), std::forward<Token>(token));
}

// Mutex: lock() (a MutexGuard).
template <class Mutex, class Token>
auto async_lock(Mutex& mutex, Token&& token) {
  return async_poll(mutex.lock(), std::forward<Token>(token));
}

// Semaphore: acquire() (a permit, or AcquireError once closed).
template <class Semaphore, class Token>
auto async_acquire(Semaphore& semaphore, Token&& token) {
  return async_poll(semaphore.acquire(), std::forward<Token>(token));
}

// Notify: notified() (void: completes with the error only).
template <class Notify, class Token>
auto async_notified(Notify& notify, Token&& token) {
  return async_poll(notify.notified(), std::forward<Token>(token));
}

// watch receiver: changed() (Ok, or RecvError once the sender is gone).
template <class WatchReceiver, class Token>
auto async_changed(WatchReceiver& rx, Token&& token) {
  return async_poll(rx.changed(), std::forward<Token>(token));
}

}  // namespace weft::interop
