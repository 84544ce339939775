#include "model/dpor/fiber.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#if defined(__x86_64__)
// The switch saves only what the System V ABI makes callee-saved (rbx, rbp, r12-r15; the
// stack pointer in memory): unlike swapcontext it makes no sigprocmask system call, which
// took about half of an exploration's time.
extern "C" void weft_dpor_switch(void** save_sp, void* load_sp);
extern "C" void weft_dpor_fiber_start();
asm(R"(
.text
.globl weft_dpor_switch
.type weft_dpor_switch, @function
weft_dpor_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size weft_dpor_switch, .-weft_dpor_switch

.globl weft_dpor_fiber_start
.type weft_dpor_fiber_start, @function
weft_dpor_fiber_start:
  movq %r12, %rdi
  callq *%r13
  ud2
.size weft_dpor_fiber_start, .-weft_dpor_fiber_start
)");
#endif

namespace weft::dpor {

Fiber::Fiber(std::size_t stack_bytes) : stack_bytes_(stack_bytes), stack_(new char[stack_bytes]) {}

#if defined(__x86_64__)

void Fiber::reset(Entry entry, void* arg) {
  entry_ = entry;
  arg_ = arg;
  // The frame weft_dpor_switch pops: r15, r14, r13 (start's target), r12 (its argument),
  // rbx, rbp, then the return address; 16-byte aligned at the call start makes.
  auto top = reinterpret_cast<std::uintptr_t>(stack_.get() + stack_bytes_) & ~std::uintptr_t{15};
  auto* frame = reinterpret_cast<void**>(top - 24 - 6 * sizeof(void*));
  frame[0] = nullptr;
  frame[1] = nullptr;
  frame[2] = reinterpret_cast<void*>(&Fiber::trampoline);
  frame[3] = this;
  frame[4] = nullptr;
  frame[5] = nullptr;
  frame[6] = reinterpret_cast<void*>(&weft_dpor_fiber_start);
  context_sp_ = frame;
}

void Fiber::trampoline(Fiber* self) {
  self->entry_(self->arg_);
  self->suspend();  // an entry that returns goes back to the scheduler, for good
  std::fprintf(stderr, "weft dpor: a finished fiber was resumed\n");
  std::abort();
}

void Fiber::resume() { weft_dpor_switch(&scheduler_sp_, context_sp_); }

void Fiber::suspend() { weft_dpor_switch(&context_sp_, scheduler_sp_); }

#else

void Fiber::reset(Entry entry, void* arg) {
  entry_ = entry;
  arg_ = arg;
  if (getcontext(&context_) != 0) {
    std::perror("weft dpor: getcontext");
    std::abort();
  }
  context_.uc_stack.ss_sp = stack_.get();
  context_.uc_stack.ss_size = stack_bytes_;
  context_.uc_link = &scheduler_;  // an entry that returns goes back to the scheduler
  // makecontext passes int arguments only: the pointer travels in two halves.
  const auto self = reinterpret_cast<std::uintptr_t>(this);
  makecontext(&context_, reinterpret_cast<void (*)()>(&Fiber::trampoline_halves), 2,
              static_cast<unsigned>(self >> 32), static_cast<unsigned>(self & 0xffffffffu));
}

void Fiber::trampoline_halves(unsigned high, unsigned low) {
  auto* self = reinterpret_cast<Fiber*>((static_cast<std::uintptr_t>(high) << 32) | low);
  self->entry_(self->arg_);
}

void Fiber::resume() { swapcontext(&scheduler_, &context_); }

void Fiber::suspend() { swapcontext(&context_, &scheduler_); }

#endif

}  // namespace weft::dpor
