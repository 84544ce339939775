// weft/sync/mpsc/error.h: the errors of weft's mpsc channels.
//
// Follows tokio/src/sync/mpsc/error.rs. A value that could not be delivered always comes
// back inside the error: SendError<T>::value, TrySendError<T>::value,
// SendTimeoutError<T>::value (or into_inner()).
// The types live in weft::mpsc (each channel family has its own errors, as in Tokio).
// The void specializations are the errors of reserve() / try_reserve(), which carry no
// value. Operations return them inside weft::Result (sync/result.h):
//
//   weft::Result<void, weft::mpsc::SendError<Job>> r = tx.send(std::move(job));
//   if (!r) retry_later(std::move(r.error().value));   // the job, untouched
//
//   auto t = tx.try_send(std::move(job));
//   if (!t && t.error().is_full()) ...                  // t.error().value is the job
#pragma once

#include <utility>

namespace weft::mpsc {

// Returned by Sender::send / blocking_send and UnboundedSender::send: the channel is
// closed (the receiver is gone or called close()); carries the value.
template <class T>
struct SendError {
  T value;
  T into_inner() && { return std::move(value); }
  static constexpr const char* message() noexcept { return "channel closed"; }
};

// Returned by Sender::reserve / reserve_many / reserve_owned: the channel is closed
// (reserve_many: or n > max_capacity()).
template <>
struct SendError<void> {
  static constexpr const char* message() noexcept { return "channel closed"; }
};

// Why try_send / try_reserve failed.
enum class TrySendErrorKind {
  Full,    // no capacity right now
  Closed,  // the receiver is gone or called close()
};

// Returned by Sender::try_send (carries the value) and, as TrySendError<void> or
// TrySendError<Sender>, by try_reserve / try_reserve_many / try_reserve_owned: the
// channel is full or closed.
template <class T>
struct TrySendError {
  TrySendErrorKind kind;
  T value;

  TrySendError(TrySendErrorKind k, T v) : kind(k), value(std::move(v)) {}
  // A send that failed is a try_send that found the channel closed, value and all (Tokio's
  // From<SendError<T>>); implicit, as Rust's `?` converts.
  TrySendError(SendError<T> error)  // NOLINT(google-explicit-constructor)
      : kind(TrySendErrorKind::Closed), value(std::move(error.value)) {}

  static TrySendError Full(T v) { return TrySendError{TrySendErrorKind::Full, std::move(v)}; }
  static TrySendError Closed(T v) { return TrySendError{TrySendErrorKind::Closed, std::move(v)}; }
  bool is_full() const noexcept { return kind == TrySendErrorKind::Full; }
  bool is_closed() const noexcept { return kind == TrySendErrorKind::Closed; }
  T into_inner() && { return std::move(value); }
  const char* message() const noexcept {
    return is_full() ? "no available capacity" : "channel closed";
  }
};

template <>
struct TrySendError<void> {
  TrySendErrorKind kind = TrySendErrorKind::Closed;

  constexpr TrySendError() noexcept = default;
  constexpr explicit TrySendError(TrySendErrorKind k) noexcept : kind(k) {}
  // From SendError<void> (reserve's error): closed.
  constexpr TrySendError(SendError<void>) noexcept {}  // NOLINT(google-explicit-constructor)

  static TrySendError Full() { return TrySendError{TrySendErrorKind::Full}; }
  static TrySendError Closed() { return TrySendError{TrySendErrorKind::Closed}; }
  bool is_full() const noexcept { return kind == TrySendErrorKind::Full; }
  bool is_closed() const noexcept { return kind == TrySendErrorKind::Closed; }
  const char* message() const noexcept {
    return is_full() ? "no available capacity" : "channel closed";
  }
};

// Why send_timeout failed.
enum class SendTimeoutErrorKind {
  Timeout,  // no capacity before the deadline
  Closed,   // the receiver is gone or called close()
};

// Returned by Sender::send_timeout (tokio's SendTimeoutError): carries the value.
template <class T>
struct SendTimeoutError {
  SendTimeoutErrorKind kind;
  T value;

  static SendTimeoutError Timeout(T v) {
    return SendTimeoutError{SendTimeoutErrorKind::Timeout, std::move(v)};
  }
  static SendTimeoutError Closed(T v) {
    return SendTimeoutError{SendTimeoutErrorKind::Closed, std::move(v)};
  }
  bool is_timeout() const noexcept { return kind == SendTimeoutErrorKind::Timeout; }
  bool is_closed() const noexcept { return kind == SendTimeoutErrorKind::Closed; }
  T into_inner() && { return std::move(value); }
  const char* message() const noexcept {
    return is_timeout() ? "timed out waiting on send operation" : "channel closed";
  }
};

// Returned by Receiver::try_recv / UnboundedReceiver::try_recv: no value now.
enum class TryRecvError {
  // One may still come: senders remain and the receiver has not called close(), or a
  // permit reserved before close() is still out (tokio#8074).
  Empty,
  // None can ever come: every sender is gone, or close() was called and every permit is
  // back (tokio#7686).
  Disconnected,
};

inline const char* message(TryRecvError error) noexcept {
  return error == TryRecvError::Empty ? "receiving on an empty channel"
                                      : "receiving on a closed channel";
}

}  // namespace weft::mpsc
