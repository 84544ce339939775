// weft/model/dpor/fiber.h: a stackful coroutine, one per model thread (a register switch
// of its own on x86-64, ucontext elsewhere).
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
  std::size_t stack_bytes_;
  std::unique_ptr<char[]> stack_;
#if defined(__x86_64__)
  static void trampoline(Fiber* self);
  void* context_sp_ = nullptr;
  void* scheduler_sp_ = nullptr;
#else
  static void trampoline_halves(unsigned high, unsigned low);
  ucontext_t context_{};
  ucontext_t scheduler_{};
#endif
  Entry entry_ = nullptr;
  void* arg_ = nullptr;
};

}  // namespace weft::dpor
