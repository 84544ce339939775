// weft/sync/once_cell.h: OnceCell<T>, a cell initialized once, by an asynchronous
// initializer that only one task runs at a time.
//
// Ported from tokio/src/sync/once_cell.rs, built as Tokio builds it on a Semaphore of one
// permit: the task holding the permit may initialize; setting the value closes the
// semaphore, which releases every waiter at once.
//
//   get()                 the value, or nullptr while empty; never waits
//   set(v)                stores v if the cell is empty and nobody is initializing it;
//                         otherwise gives v back in SetError (AlreadyInitialized /
//                         Initializing)
//   get_or_init(f)        a future: the value, initializing it with f() if the cell is
//                         empty. f() returns a future of T (or a T). Only one initializer
//                         runs at a time; the others wait for it.
//   get_or_try_init(f)    as get_or_init, but f() returns (a future of) Result<T, E>; an
//                         error is returned to this caller and lets the next waiter try
//   initialized()         whether a value is stored
//   get_mut(), take(), into_inner()  with exclusive access to the cell
//
// Concurrency: get, set, get_or_init, get_or_try_init and initialized may run from any
// thread at once; get_mut, take, into_inner need the cell exclusively. The value never
// changes while shared; references stay valid as long as the cell (or until take()).
//
// Cancel-safety: a get_or_init / get_or_try_init future destroyed while waiting loses only
// its place in the queue; destroyed while its initializer runs, it drops the initializer
// and gives up the permit, so the next waiter starts its own initializer. A failing or throwing
// initializer does the same (the exception propagates from poll); such a future must not be polled
// again (destroying it is fine).
//
// Memory ordering: the store of the value happens-before every get() or initialized()
// that sees it and every get_or_init / get_or_try_init that returns it.
//
//   weft::OnceCell<int> cell;
//   const int& v = weft::block_on(cell.get_or_init([] { return compute_async(); }));
//   const int& w = weft::block_on(cell.get_or_init([] { return 3; }));  // v, not 3
#pragma once

#include "sync/platform/atomic.h"
#include "sync/platform/cell.h"
#include "sync/platform/invariant.h"
#include "sync/result.h"
#include "sync/semaphore.h"
#include "sync/task/future.h"
#include "sync/task/poll.h"
#include "sync/task/poll_slot.h"

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

namespace weft {

// The error of OnceCell::set. Gives the value back.
template <class T>
struct SetError {
  enum class Kind {
    AlreadyInitialized,  // the cell already held a value
    Initializing,        // another task is initializing the cell right now
  };
  Kind kind;
  T value;

  bool is_already_init_err() const noexcept { return kind == Kind::AlreadyInitialized; }
  bool is_initializing_err() const noexcept { return kind == Kind::Initializing; }
};

template <class T>
class OnceCell {
 public:
  template <class F>
  class GetOrInit;
  template <class F>
  class GetOrTryInit;

  // An empty cell.
  OnceCell() { semaphore_.emplace(1); }
  // A cell that already holds `value` (Tokio's From<T>).
  explicit OnceCell(T value) : value_(std::in_place, std::move(value)) {
    value_set_.store(true, std::memory_order_relaxed);  // not shared yet
    semaphore_.emplace(Semaphore::closed);
  }
  // A cell holding `value` if there is one, else an empty cell (Tokio's new_with).
  static OnceCell new_with(std::optional<T> value) {
    if (value.has_value()) return OnceCell(std::move(*value));
    return OnceCell();
  }
  // A cell holding a copy of other's value, if any (Tokio's Clone).
  OnceCell(const OnceCell& other) : OnceCell() {
    if (const T* v = other.get()) {
      value_.with_mut([&](std::optional<T>& slot) { slot.emplace(*v); });
      value_set_.store(true, std::memory_order_relaxed);  // not shared yet
      semaphore_->close();
    }
  }
  OnceCell& operator=(const OnceCell&) = delete;

  // Whether a value is stored.
  bool initialized() const {
    // Acquire: pairs with the Release store in set_value().
    return value_set_.load(std::memory_order_acquire);
  }

  // The value, or nullptr while the cell is empty.
  const T* get() const { return initialized() ? value_ptr() : nullptr; }

  // The value for modification, or nullptr while empty. Needs the cell exclusively.
  T* get_mut() {
    // Relaxed: exclusive access, ordered by whatever handed the cell to the caller.
    if (!value_set_.load(std::memory_order_relaxed)) return nullptr;
    return value_.with_mut([](std::optional<T>& slot) { return &*slot; });
  }

  // Stores `value` if the cell is empty and no initializer holds it.
  Result<void, SetError<T>> set(T value) {
    using Kind = typename SetError<T>::Kind;
    if (initialized()) return Err(SetError<T>{Kind::AlreadyInitialized, std::move(value)});
    auto permit = semaphore_->try_acquire();
    if (permit.is_ok()) {
      WEFT_INVARIANT(!initialized());
      set_value(std::move(value), std::move(*permit));
      return Ok();
    }
    if (permit.error() == TryAcquireError::NoPermits) {
      return Err(SetError<T>{Kind::Initializing, std::move(value)});  // someone initializes
    }
    return Err(SetError<T>{Kind::AlreadyInitialized, std::move(value)});  // closed: set
  }

  // A future of the value; if the cell is empty, it initializes it with f() (a future
  // whose output is T, or a T), one initializer at a time.
  template <class F>
  [[nodiscard]] GetOrInit<F> get_or_init(F f) {
    return GetOrInit<F>(this, std::move(f));
  }

  // As get_or_init, but f() gives (a future of) Result<T, E>; the future completes with
  // Result<std::reference_wrapper<const T>, E>.
  template <class F>
  [[nodiscard]] GetOrTryInit<F> get_or_try_init(F f) {
    return GetOrTryInit<F>(this, std::move(f));
  }

  // Moves the value out, leaving the cell empty and ready to be initialized again.
  // Needs the cell exclusively.
  std::optional<T> take() {
    // Relaxed: exclusive access.
    if (!value_set_.load(std::memory_order_relaxed)) return std::nullopt;
    value_set_.store(false, std::memory_order_relaxed);
    std::optional<T> out =
        value_.with_mut([](std::optional<T>& slot) { return std::exchange(slot, std::nullopt); });
    semaphore_.reset();
    semaphore_.emplace(1);
    return out;
  }

  // Moves the value out of a cell about to be destroyed (Tokio's into_inner).
  std::optional<T> into_inner() && { return take(); }

  // Tokio's PartialEq: equal when both are empty or both hold equal values.
  friend bool operator==(const OnceCell& a, const OnceCell& b) {
    const T* x = a.get();
    const T* y = b.get();
    if (x == nullptr || y == nullptr) return x == y;
    return *x == *y;
  }

  // The machinery shared by GetOrInit and GetOrTryInit: wait for the permit or the
  // value, then run the initializer while holding the permit.
  template <class F, class Traits>
  class Initializing {
   public:
    using Produced = std::invoke_result_t<F&>;  // a future or a plain value

    Initializing(OnceCell* cell, F f) : cell_(cell), f_(std::move(f)) {}
    Initializing(Initializing&&) = default;  // before the first poll only

    // Ready with the initializer's output (Traits::output), or with the stored value.
    template <class Out>
    Poll<Out> poll(Context& cx) {
      if (!permit_) {
        if (const T* v = cell_->get()) return Traits::ok(*v);
        if (!acquire_) acquire_.emplace(cell_->semaphore_->acquire());
        auto acquired = acquire_->poll(cx);
        if (acquired.is_pending()) return pending;
        auto result = std::move(acquired).value();
        acquire_.reset();
        if (!result) {
          // Closed: only set_value closes the semaphore, after storing the value
          // (close() happens-before the acquire that reports it).
          const T* v = cell_->get();
          WEFT_INVARIANT(v != nullptr);
          return Traits::ok(*v);
        }
        permit_.emplace(std::move(*result));
        WEFT_INVARIANT(!cell_->initialized());  // the value is set only with the permit
        WEFT_INVARIANT(f_.has_value());
        if constexpr (Future<Produced>) {
          give_up_on_throw([&] { init_.emplace(std::invoke(std::move(*f_))); });
          f_.reset();
        } else {
          std::optional<Produced> produced;
          give_up_on_throw([&] { produced.emplace(std::invoke(std::move(*f_))); });
          f_.reset();
          return finish(std::move(*produced));
        }
      }
      if constexpr (Future<Produced>) {
        weft::detail::PollSlot<Produced> produced;
        bool ready = false;
        give_up_on_throw([&] { ready = produced.poll(*init_, cx); });
        if (!ready) return pending;
        return finish(produced.take());
      } else {
        WEFT_INVARIANT(false);  // a completed future is not polled again
        return pending;
      }
    }

   private:
    // A throwing initializer (or initializer future) is dropped and the permit given
    // back, so the next waiter starts its own; the exception propagates.
    template <class Fn>
    void give_up_on_throw(Fn&& fn) {
      try {
        fn();
      } catch (...) {
        if constexpr (Future<Produced>) init_.reset();
        permit_.reset();
        f_.reset();
        throw;
      }
    }

    template <class V>
    auto finish(V&& produced) {
      return Traits::finish(*cell_, std::forward<V>(produced), permit_);
    }

    OnceCell* cell_;
    std::optional<F> f_;
    std::optional<Semaphore::Acquire> acquire_;
    // Declared before init_: the initializer is destroyed before the permit goes back.
    std::optional<SemaphorePermit> permit_;
    std::conditional_t<Future<Produced>, std::optional<Produced>, char> init_{};
  };

  // The future of get_or_init(f): Poll<std::reference_wrapper<const T>>.
  template <class F>
  class [[nodiscard]] GetOrInit {
    struct Traits {
      using output = std::reference_wrapper<const T>;
      static output ok(const T& v) { return std::cref(v); }
      template <class V>
      static output finish(OnceCell& cell, V&& value, std::optional<SemaphorePermit>& permit) {
        return std::cref(cell.set_value(T(std::forward<V>(value)), std::move(*permit)));
      }
    };

   public:
    GetOrInit(GetOrInit&&) = default;  // before the first poll only
    Poll<std::reference_wrapper<const T>> poll(Context& cx) {
      return inner_.template poll<std::reference_wrapper<const T>>(cx);
    }

   private:
    friend class OnceCell;
    GetOrInit(OnceCell* cell, F f) : inner_(cell, std::move(f)) {}
    Initializing<F, Traits> inner_;
  };

  // The future of get_or_try_init(f): Poll<Result<std::reference_wrapper<const T>, E>>.
  template <class F>
  class [[nodiscard]] GetOrTryInit {
    using Produced = std::invoke_result_t<F&>;
    template <class R>
    struct output_of {
      using type = R;
    };
    template <class R>
    requires Future<R>
    struct output_of<R> {
      using type = future_output_t<R>;
    };
    using InitResult = typename output_of<Produced>::type;
    static_assert(detail::is_result<InitResult>::value,
                  "get_or_try_init: f() must give (a future of) weft::Result<T, E>");
    using E = typename InitResult::error_type;

    struct Traits {
      using output = Result<std::reference_wrapper<const T>, E>;
      static output ok(const T& v) { return output(std::cref(v)); }
      static output finish(OnceCell& cell, InitResult&& produced,
                           std::optional<SemaphorePermit>& permit) {
        if (!produced) {
          permit.reset();  // give the permit back: the next waiter tries
          return output(Err(std::move(produced).error()));
        }
        return output(
            std::cref(cell.set_value(T(std::move(produced).value()), std::move(*permit))));
      }
    };

   public:
    using Output = typename Traits::output;
    GetOrTryInit(GetOrTryInit&&) = default;  // before the first poll only
    Poll<Output> poll(Context& cx) { return inner_.template poll<Output>(cx); }

   private:
    friend class OnceCell;
    GetOrTryInit(OnceCell* cell, F f) : inner_(cell, std::move(f)) {}
    Initializing<F, Traits> inner_;
  };

 private:
  const T* value_ptr() const {
    return value_.with([](const std::optional<T>& slot) { return &*slot; });
  }

  // Stores the value with the one permit, then closes the semaphore, releasing every
  // waiter; the permit is forgotten (the semaphore stays closed at 0 permits).
  const T& set_value(T value, SemaphorePermit permit) {
    value_.with_mut([&](std::optional<T>& slot) { slot.emplace(std::move(value)); });
    // Release: pairs with the Acquire load in initialized().
    value_set_.store(true, std::memory_order_release);
    semaphore_->close();
    permit.forget();
    return *value_ptr();
  }

  // Invariant: if the semaphore is closed, value_set_ is true. The value is written only
  // by the holder of the semaphore's one permit, while value_set_ is false; read by anyone
  // after an Acquire load of value_set_ saw true, or after the closed semaphore said so.
  platform::atomic<bool> value_set_{false};
  platform::cell<std::optional<T>> value_;
  std::optional<Semaphore> semaphore_;  // always engaged; re-made by take()
};

}  // namespace weft
