// weft/sync/result.h: Result<T, E>, weft's one convention for errors.
//
// weft follows Tokio's split between the two kinds of failure:
//  - An outcome the caller must handle (a closed channel, no permits right now, an empty
//    queue) is a value: operations return Result<T, E>, and an error that carries the
//    caller's value (SendError<T>, TrySendError<T>) gives it back inside the error.
//    Futures complete with Result<T, E> too (`co_await tx.send(v)` yields Result).
//  - Misuse that Tokio answers with a panic (channel capacity 0, more than MAX_PERMITS,
//    a Barrier of 0) throws: std::invalid_argument or std::length_error, with a message
//    naming the limit. Never undefined behaviour.
//
//   weft::Result<int, weft::TryRecvError> r = rx.try_recv();
//   if (r) use(*r);
//   else if (r.error() == weft::TryRecvError::Empty) ...
#pragma once

#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace weft {

// Wraps an error for the Result constructor: `return Err(TryRecvError::Empty);`.
template <class E>
struct Err {
  E error;
  explicit Err(E e) : error(std::move(e)) {}
};

template <class T, class E>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  using error_type = E;

  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: ok
  template <class F>
  Result(Err<F> err) : data_(std::in_place_index<1>, std::move(err.error)) {}  // NOLINT

  bool is_ok() const noexcept { return data_.index() == 0; }
  bool is_err() const noexcept { return data_.index() == 1; }
  explicit operator bool() const noexcept { return is_ok(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  E& error() & { return std::get<1>(data_); }
  const E& error() const& { return std::get<1>(data_); }
  E&& error() && { return std::get<1>(std::move(data_)); }

 private:
  std::variant<T, E> data_;
};

template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  Result() noexcept = default;
  template <class F>
  Result(Err<F> err) : error_(std::in_place, std::move(err.error)) {}  // NOLINT

  bool is_ok() const noexcept { return !error_.has_value(); }
  bool is_err() const noexcept { return error_.has_value(); }
  explicit operator bool() const noexcept { return is_ok(); }
  void value() const noexcept {}

  E& error() & { return error_.value(); }
  const E& error() const& { return error_.value(); }
  E&& error() && { return std::move(error_.value()); }

 private:
  // Empty on success; E need not be default-constructible (a value handed back, say).
  std::optional<E> error_;
};

namespace detail {
// Whether R is a Result (OnceCell's init futures, PollSlot::take).
template <class R>
struct is_result : std::false_type {};
template <class T, class E>
struct is_result<Result<T, E>> : std::true_type {};
}  // namespace detail

// Ok() for Result<void, E>.
struct Ok {
  template <class E>
  operator Result<void, E>() const {  // NOLINT
    return Result<void, E>();
  }
};

}  // namespace weft
