// weft/sync/platform/atomic.h: atomic<T> with an explicit order on every operation.
//
// Production: a zero-cost wrapper of std::atomic<T> (same size and alignment, every call
// inlines to the std::atomic call). Model: Relacy's rl::atomic<T>, which explores the
// values each load may return under the C++ memory model; each call records the caller's
// file and line (through std::source_location) so traces point at weft's own code.
//
// There is no default order and no operator overloads: the order is part of the design
// and must be read at every call site. T must be an integer or a pointer type.
#pragma once

#include "sync/platform/config.h"

#include <atomic>
#include <source_location>
#include <type_traits>

namespace weft::platform {

using memory_order = std::memory_order;

#if defined(WEFT_MODEL_DPOR)

// An engine location; every call is a scheduling point of the DPOR checker.
template <class T>
class atomic {
  static_assert(std::is_integral_v<T> || std::is_pointer_v<T>,
                "weft::platform::atomic holds integers and pointers");
  using here = std::source_location;

 public:
  explicit atomic(T initial) : id_(detail::engine().new_atomic(detail::to_value(initial))) {}
  atomic() : atomic(T{}) {}
  ~atomic() { dpor::Engine::destroyed(id_); }  // a later operation on it: use after free
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  T load(memory_order order, here loc = here::current()) const {
    return detail::from_value<T>(detail::engine().load(id_, order, detail::where(loc)));
  }
  void store(T value, memory_order order, here loc = here::current()) {
    detail::engine().store(id_, detail::to_value(value), order, detail::where(loc));
  }
  T exchange(T value, memory_order order, here loc = here::current()) {
    return rmw(dpor::RmwOp::exchange, detail::to_value(value), order, loc);
  }
  bool compare_exchange_strong(T& expected, T desired, memory_order success, memory_order failure,
                               here loc = here::current()) {
    return cas(expected, desired, success, failure, false, loc);
  }
  bool compare_exchange_weak(T& expected, T desired, memory_order success, memory_order failure,
                             here loc = here::current()) {
    return cas(expected, desired, success, failure, true, loc);
  }
  template <class D>
  T fetch_add(D delta, memory_order order, here loc = here::current()) {
    return rmw(dpor::RmwOp::add, step(delta), order, loc);
  }
  template <class D>
  T fetch_sub(D delta, memory_order order, here loc = here::current()) {
    return rmw(dpor::RmwOp::sub, step(delta), order, loc);
  }
  T fetch_or(T bits, memory_order order, here loc = here::current()) {
    return rmw(dpor::RmwOp::bit_or, detail::to_value(bits), order, loc);
  }
  T fetch_and(T bits, memory_order order, here loc = here::current()) {
    return rmw(dpor::RmwOp::bit_and, detail::to_value(bits), order, loc);
  }
  T fetch_xor(T bits, memory_order order, here loc = here::current()) {
    return rmw(dpor::RmwOp::bit_xor, detail::to_value(bits), order, loc);
  }

 private:
  // fetch_add on a pointer moves by whole elements.
  template <class D>
  static dpor::Value step(D delta) {
    if constexpr (std::is_pointer_v<T>) {
      return static_cast<dpor::Value>(static_cast<std::ptrdiff_t>(delta) *
                                      static_cast<std::ptrdiff_t>(sizeof(*T{})));
    } else {
      return detail::to_value(static_cast<T>(delta));
    }
  }
  T rmw(dpor::RmwOp op, dpor::Value operand, memory_order order, const here& loc) {
    return detail::from_value<T>(
        detail::engine().rmw(id_, op, operand, order, detail::where(loc), detail::value_mask<T>()));
  }
  bool cas(T& expected, T desired, memory_order success, memory_order failure, bool weak,
           const here& loc) {
    dpor::Value seen = detail::to_value(expected);
    const bool ok = detail::engine().compare_exchange(id_, seen, detail::to_value(desired), success,
                                                      failure, weak, detail::where(loc));
    expected = detail::from_value<T>(seen);
    return ok;
  }

  unsigned id_;
};

#elif defined(WEFT_MODEL_RELACY)

template <class T>
class atomic {
  static_assert(std::is_integral_v<T> || std::is_pointer_v<T>,
                "weft::platform::atomic holds integers and pointers");
  using here = std::source_location;

 public:
  explicit atomic(T initial) : value_(initial) {}
  atomic() : value_(T{}) {}
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  T load(memory_order order, here loc = here::current()) const {
    return value_.load(detail::to_relacy(order), detail::where(loc));
  }
  void store(T value, memory_order order, here loc = here::current()) {
    value_.store(value, detail::to_relacy(order), detail::where(loc));
  }
  T exchange(T value, memory_order order, here loc = here::current()) {
    return value_.exchange(value, detail::to_relacy(order), detail::where(loc));
  }
  bool compare_exchange_strong(T& expected, T desired, memory_order success, memory_order failure,
                               here loc = here::current()) {
    auto info = detail::where(loc);
    return value_.compare_exchange_strong(expected, desired, detail::to_relacy(success), info,
                                          detail::to_relacy(failure), info);
  }
  bool compare_exchange_weak(T& expected, T desired, memory_order success, memory_order failure,
                             here loc = here::current()) {
    auto info = detail::where(loc);
    return value_.compare_exchange_weak(expected, desired, detail::to_relacy(success), info,
                                        detail::to_relacy(failure), info);
  }
  template <class D>
  T fetch_add(D delta, memory_order order, here loc = here::current()) {
    return value_.fetch_add(delta, detail::to_relacy(order), detail::where(loc));
  }
  template <class D>
  T fetch_sub(D delta, memory_order order, here loc = here::current()) {
    return value_.fetch_sub(delta, detail::to_relacy(order), detail::where(loc));
  }
  T fetch_or(T bits, memory_order order, here loc = here::current()) {
    return value_.fetch_or(bits, detail::to_relacy(order), detail::where(loc));
  }
  T fetch_and(T bits, memory_order order, here loc = here::current()) {
    return value_.fetch_and(bits, detail::to_relacy(order), detail::where(loc));
  }
  T fetch_xor(T bits, memory_order order, here loc = here::current()) {
    return value_.fetch_xor(bits, detail::to_relacy(order), detail::where(loc));
  }

 private:
  rl::atomic<T> value_;
};

#else  // production

template <class T>
class atomic {
  static_assert(std::is_integral_v<T> || std::is_pointer_v<T>,
                "weft::platform::atomic holds integers and pointers");

 public:
  constexpr explicit atomic(T initial) noexcept : value_(initial) {}
  constexpr atomic() noexcept : value_(T{}) {}
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  T load(memory_order order) const noexcept { return value_.load(order); }
  void store(T value, memory_order order) noexcept { value_.store(value, order); }
  T exchange(T value, memory_order order) noexcept { return value_.exchange(value, order); }
  bool compare_exchange_strong(T& expected, T desired, memory_order success,
                               memory_order failure) noexcept {
    return value_.compare_exchange_strong(expected, desired, success, failure);
  }
  bool compare_exchange_weak(T& expected, T desired, memory_order success,
                             memory_order failure) noexcept {
    return value_.compare_exchange_weak(expected, desired, success, failure);
  }
  template <class D>
  T fetch_add(D delta, memory_order order) noexcept {
    return value_.fetch_add(delta, order);
  }
  template <class D>
  T fetch_sub(D delta, memory_order order) noexcept {
    return value_.fetch_sub(delta, order);
  }
  T fetch_or(T bits, memory_order order) noexcept { return value_.fetch_or(bits, order); }
  T fetch_and(T bits, memory_order order) noexcept { return value_.fetch_and(bits, order); }
  T fetch_xor(T bits, memory_order order) noexcept { return value_.fetch_xor(bits, order); }

 private:
  std::atomic<T> value_;
};

// Zero overhead: the wrapper is the std::atomic and nothing else.
static_assert(sizeof(atomic<unsigned long>) == sizeof(std::atomic<unsigned long>));
static_assert(alignof(atomic<unsigned long>) == alignof(std::atomic<unsigned long>));
static_assert(sizeof(atomic<void*>) == sizeof(std::atomic<void*>));
static_assert(sizeof(atomic<bool>) == sizeof(std::atomic<bool>));
static_assert(std::is_standard_layout_v<atomic<unsigned long> >);

#endif

}  // namespace weft::platform
