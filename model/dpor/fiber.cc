#include "model/dpor/fiber.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace weft::dpor {

Fiber::Fiber(std::size_t stack_bytes) : stack_bytes_(stack_bytes), stack_(new char[stack_bytes]) {}

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
  makecontext(&context_, reinterpret_cast<void (*)()>(&Fiber::trampoline), 2,
              static_cast<unsigned>(self >> 32), static_cast<unsigned>(self & 0xffffffffu));
}

void Fiber::trampoline(unsigned high, unsigned low) {
  auto* self = reinterpret_cast<Fiber*>((static_cast<std::uintptr_t>(high) << 32) | low);
  self->entry_(self->arg_);
}

void Fiber::resume() { swapcontext(&scheduler_, &context_); }

void Fiber::suspend() { swapcontext(&context_, &scheduler_); }

}  // namespace weft::dpor
