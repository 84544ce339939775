// weft/model/dpor/fiber.h: a stackful coroutine on ucontext, one per model thread.
//
// The checker runs every model thread as a fiber of one OS thread: a fiber runs until it
// reaches its next visible operation, then suspends back to the scheduler, which decides
// whose operation runs next. A fiber can be abandoned mid-body (a failed or pruned
// execution) and started again for the next execution: its stack is reused, never unwound.
#pragma once

#include <cstddef>
#include <memory>
#include <ucontext.h>

namespace weft::dpor {

class Fiber {
 public:
  using Entry = void (*)(void* arg);

  explicit Fiber(std::size_t stack_bytes = 256 * 1024);
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Prepares the fiber to run entry(arg) from the top of its stack at the next resume().
  void reset(Entry entry, void* arg);
  // From the scheduler: runs the fiber until it suspends or its entry returns.
  void resume();
  // From inside the fiber: back to the scheduler's resume() call.
  void suspend();

 private:
  static void trampoline(unsigned high, unsigned low);

  std::size_t stack_bytes_;
  std::unique_ptr<char[]> stack_;
  ucontext_t context_{};
  ucontext_t scheduler_{};
  Entry entry_ = nullptr;
  void* arg_ = nullptr;
};

}  // namespace weft::dpor
