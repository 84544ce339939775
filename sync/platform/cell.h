// weft/sync/platform/cell.h: cell<T>, plain shared data that the model checker watches.
//
// A cell is how weft keeps non-atomic data that several threads reach (a waker slot, a
// value in a channel block, a waiter list under a lock). It is reached only through
// with() (a read) and with_mut() (a write), each taking a callable that receives a
// reference valid for the call, or, for a small trivially copyable T (a pointer, a
// counter), get() (a read returning a copy) and set(v) (a write). Who may call them at a
// given moment is the owner's protocol (a lock, a state bit), documented next to the
// field.
//
// Production: a plain T, the calls inline to direct access. Model: every with(),
// with_mut(), get() and set() is checked against the happens-before relation; two accesses not
// ordered by it, at least one a write, are reported as DATA RACE with the caller's file and line,
// the same way Loom's UnsafeCell and Relacy's rl::var work.
#pragma once

#include "sync/platform/config.h"

#include <source_location>
#include <type_traits>
#include <utility>

namespace weft::platform {

#if defined(WEFT_MODEL_DPOR)

// Each access is checked against happens-before by the DPOR engine (not a scheduling point).
template <class T>
class cell {
  using here = std::source_location;

 public:
  template <class... Args>
  explicit cell(Args&&... args)
      : value_(std::forward<Args>(args)...), id_(detail::engine().new_cell({})) {}
  ~cell() { dpor::Engine::cell_destroyed(id_); }  // a later access: use after free
  cell(const cell&) = delete;
  cell& operator=(const cell&) = delete;

  template <class F>
  decltype(auto) with(F&& f, here loc = here::current()) const {
    detail::engine().cell_access(id_, false, detail::where(loc));
    return std::forward<F>(f)(static_cast<const T&>(value_));
  }
  template <class F>
  decltype(auto) with_mut(F&& f, here loc = here::current()) {
    detail::engine().cell_access(id_, true, detail::where(loc));
    return std::forward<F>(f)(value_);
  }
  T get(here loc = here::current()) const requires std::is_trivially_copyable_v<T> {
    detail::engine().cell_access(id_, false, detail::where(loc));
    return value_;
  }
  void set(T value, here loc = here::current()) requires std::is_trivially_copyable_v<T> {
    detail::engine().cell_access(id_, true, detail::where(loc));
    value_ = value;
  }

 private:
  T value_;
  unsigned id_;
};

#elif defined(WEFT_MODEL_RELACY)

template <class T>
class cell {
  using here = std::source_location;

 public:
  template <class... Args>
  explicit cell(Args&&... args) : value_(std::forward<Args>(args)...) {
    rl::context& c = rl::ctx();
    access_ = c.var_ctor();
    access_->init(*c.threadx_);  // construction counts as the first write
  }
  ~cell() { rl::ctx().var_dtor(access_); }
  cell(const cell&) = delete;
  cell& operator=(const cell&) = delete;

  template <class F>
  decltype(auto) with(F&& f, here loc = here::current()) const {
    check(false, loc);
    return std::forward<F>(f)(static_cast<const T&>(value_));
  }
  template <class F>
  decltype(auto) with_mut(F&& f, here loc = here::current()) {
    check(true, loc);
    return std::forward<F>(f)(value_);
  }
  T get(here loc = here::current()) const requires std::is_trivially_copyable_v<T> {
    check(false, loc);
    return value_;
  }
  void set(T value, here loc = here::current()) requires std::is_trivially_copyable_v<T> {
    check(true, loc);
    value_ = value;
  }

 private:
  void check(bool write, const here& loc) const {
    rl::context& c = rl::ctx();
    if (c.invariant_executing) return;
    const bool ordered = write ? access_->store(*c.threadx_) : access_->load(*c.threadx_);
    const rl::debug_info info = detail::where(loc);
    { RL_HIST_IMPL(c, info, rl::user_event){write ? "cell write" : "cell read"} RL_HIST_END(); }
    if (!ordered) c.fail_test("data race detected", rl::test_result_data_race, info);
  }

  T value_;
  rl::var_data* access_;
};

#else  // production

template <class T>
class cell {
 public:
  template <class... Args>
  constexpr explicit cell(Args&&... args) : value_(std::forward<Args>(args)...) {}
  cell(const cell&) = delete;
  cell& operator=(const cell&) = delete;

  template <class F>
  decltype(auto) with(F&& f) const {
    return std::forward<F>(f)(static_cast<const T&>(value_));
  }
  template <class F>
  decltype(auto) with_mut(F&& f) {
    return std::forward<F>(f)(value_);
  }
  T get() const requires std::is_trivially_copyable_v<T> { return value_; }
  void set(T value) requires std::is_trivially_copyable_v<T> { value_ = value; }

 private:
  T value_;
};

static_assert(sizeof(cell<long>) == sizeof(long));

#endif

}  // namespace weft::platform
