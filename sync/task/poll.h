// weft/sync/task/poll.h: Poll<T>, the result of polling a future: ready with a value, or
// pending (the future has arranged for the context's waker to be woken when it can make
// progress).
//
//   Poll<int> p = 7;               // ready
//   Poll<int> q = weft::pending;   // pending
//   if (p.is_ready()) use(std::move(p).value());
#pragma once

#include <optional>
#include <utility>

namespace weft {

struct Pending {};
inline constexpr Pending pending{};

template <class T>
class [[nodiscard]] Poll {
 public:
  using value_type = T;

  Poll(Pending) noexcept {}
  Poll(T value) : value_(std::move(value)) {}  // NOLINT: ready is spelled `return value;`

  bool is_ready() const noexcept { return value_.has_value(); }
  bool is_pending() const noexcept { return !value_.has_value(); }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }

 private:
  std::optional<T> value_;
};

struct Ready {};
inline constexpr Ready ready{};

template <>
class [[nodiscard]] Poll<void> {
 public:
  using value_type = void;

  Poll(Pending) noexcept {}
  Poll(Ready) noexcept : ready_(true) {}

  bool is_ready() const noexcept { return ready_; }
  bool is_pending() const noexcept { return !ready_; }
  void value() const noexcept {}

 private:
  bool ready_ = false;
};

}  // namespace weft
