// weft/sync/platform/thread.h: spawn and join a thread.
//
//   platform::thread t([&] { ... });
//   t.join();   // every thread is joined before it is destroyed
//
// Production: std::thread. Model: a Relacy thread, one of the scenario's declared
// dynamic threads; the model harness sizes that pool (see model/harness/scenario.h).
#pragma once

#include "sync/platform/config.h"
#include "sync/platform/invariant.h"

#include <functional>
#include <memory>
#include <thread>
#include <type_traits>
#include <utility>

namespace weft::platform {

#if defined(WEFT_MODEL_DPOR)

class thread {
 public:
  thread() = default;
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, thread>>>
  explicit thread(F&& body)
      : id_(static_cast<int>(detail::engine().spawn(
            // std::function copies; the body may be move-only, so it is shared instead.
            [owned = std::make_shared<std::decay_t<F>>(std::forward<F>(body))] { (*owned)(); },
            {}))) {}
  thread(thread&& other) noexcept : id_(std::exchange(other.id_, -1)) {}
  thread& operator=(thread&& other) noexcept {
    WEFT_INVARIANT(!joinable());
    id_ = std::exchange(other.id_, -1);
    return *this;
  }
  ~thread() { WEFT_INVARIANT(!joinable()); }

  bool joinable() const noexcept { return id_ >= 0; }
  void join() {
    detail::engine().join(static_cast<unsigned>(id_), {});
    id_ = -1;
  }

 private:
  int id_ = -1;
};

#elif defined(WEFT_MODEL_RELACY)

class thread {
 public:
  thread() = default;
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, thread>>>
  explicit thread(F&& body) : handle_(std::make_unique<rl::dyn_thread>()) {
    handle_->start(&run<std::decay_t<F>>, new std::decay_t<F>(std::forward<F>(body)));
  }
  thread(thread&&) noexcept = default;
  thread& operator=(thread&& other) noexcept {
    WEFT_INVARIANT(!joinable());
    handle_ = std::move(other.handle_);
    return *this;
  }
  ~thread() { WEFT_INVARIANT(!joinable()); }

  bool joinable() const noexcept { return handle_ != nullptr; }
  void join() {
    handle_->join();
    handle_.reset();
  }

 private:
  template <class F>
  static void* run(void* body) {
    std::unique_ptr<F> owned(static_cast<F*>(body));
    (*owned)();
    return nullptr;
  }

  std::unique_ptr<rl::dyn_thread> handle_;
};

#else

class thread {
 public:
  thread() = default;
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, thread>>>
  explicit thread(F&& body) : impl_(std::forward<F>(body)) {}
  thread(thread&&) noexcept = default;
  thread& operator=(thread&& other) noexcept {
    WEFT_INVARIANT(!joinable());
    impl_ = std::move(other.impl_);
    return *this;
  }
  ~thread() { WEFT_INVARIANT(!joinable()); }

  bool joinable() const noexcept { return impl_.joinable(); }
  void join() { impl_.join(); }

 private:
  std::thread impl_;
};

#endif

// How many threads can run at once: std::thread::hardware_concurrency(), at least 1. The
// model build answers 2, a 2-core machine, so its scenarios size things as production does
// there (a scenario that needs another size passes it explicitly).
#if defined(WEFT_MODEL)
inline unsigned available_parallelism() noexcept { return 2; }
#else
inline unsigned available_parallelism() noexcept {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}
#endif

}  // namespace weft::platform
