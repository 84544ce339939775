// weft/sync/mpsc/error.h: the errors of weft's mpsc channels.
//
// Follows tokio/src/sync/mpsc/error.rs. A value that could not be delivered always comes
// back inside the error: SendError<T>::value, TrySendError<T>::value (or into_inner()).
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

// The channel is closed (the receiver is gone or called close()); carries the value.
template <class T>
struct SendError {
  T value;
  T into_inner() && { return std::move(value); }
  static constexpr const char* message() noexcept { return "channel closed"; }
};

template <>
struct SendError<void> {
  static constexpr const char* message() noexcept { return "channel closed"; }
};

// Why try_send / try_reserve failed.
enum class TrySendErrorKind {
  Full,    // no capacity right now
  Closed,  // the receiver is gone or called close()
};

// try_send / try_reserve failed: the channel is full or closed; carries the value.
template <class T>
struct TrySendError {
  TrySendErrorKind kind;
  T value;

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

  static TrySendError Full() { return TrySendError{TrySendErrorKind::Full}; }
  static TrySendError Closed() { return TrySendError{TrySendErrorKind::Closed}; }
  bool is_full() const noexcept { return kind == TrySendErrorKind::Full; }
  bool is_closed() const noexcept { return kind == TrySendErrorKind::Closed; }
  const char* message() const noexcept {
    return is_full() ? "no available capacity" : "channel closed";
  }
};

// try_recv found no value.
enum class TryRecvError {
  Empty,         // no value now, but senders (or permits) remain
  Disconnected,  // no value, and none can ever come
};

inline const char* message(TryRecvError error) noexcept {
  return error == TryRecvError::Empty ? "receiving on an empty channel"
                                      : "receiving on a closed channel";
}

}  // namespace weft::mpsc
