// Scenarios of the Treiber stack example: //examples:treiber_stack_model_test explores them
// under the Relacy model checker, //examples:treiber_stack_threads_test runs them on real
// threads. `aba_without_tag` is the deliberately broken variant: it passes only if the
// model checker finds the ABA corruption.
#include "examples/treiber_stack/treiber_stack.h"
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"

#include <cstdint>
#include <memory>

namespace platform = weft::platform;
using weft::examples::AbaGuard;
using weft::examples::TreiberStack;
using weft::model::Failure;

namespace {

// Three nodes are enough for ABA; the real-thread run uses more to be busy.
#if defined(WEFT_MODEL)
constexpr std::uint32_t pool_size = 3;
#else
constexpr std::uint32_t pool_size = 8;
#endif

template <class Stack>
void fill(Stack& stack) {
  for (std::uint32_t i = pool_size; i-- > 0;) {
    stack.payload(i).with_mut([i](int& p) { p = 100 + static_cast<int>(i); });
    stack.push(i);  // node 0 ends on top
  }
}

// Every node is either held by exactly one thread or on the stack exactly once.
template <class Stack>
void check_ownership(Stack& stack, const std::uint32_t* held, int held_count) {
  int seen[pool_size] = {};
  for (int i = 0; i < held_count; ++i) {
    if (held[i] != Stack::nil) ++seen[held[i]];
  }
  // A corrupted stack may hold a cycle: never pop more than there are nodes.
  for (std::uint32_t pops = 0; pops <= pool_size; ++pops) {
    const std::uint32_t index = stack.pop();
    if (index == Stack::nil) break;
    ++seen[index];
  }
  for (std::uint32_t i = 0; i < pool_size; ++i) WEFT_INVARIANT(seen[i] == 1);
}

// The ABA interleaving of treiber_stack.h: thread 0 pops once, thread 1 pops two nodes
// and pushes the first one back (after writing its payload). Thread 0 may be preempted
// between reading the top node's `next` and its CAS.
template <AbaGuard Guard>
struct pop_while_recycled {
  using Stack = TreiberStack<pool_size, Guard>;
  static constexpr int threads = 2;
  Stack stack;
  std::uint32_t held[2] = {Stack::nil, Stack::nil};  // held[i] written by thread i only

  void setup() { fill(stack); }
  void thread(int index) {
    if (index == 0) {
      held[0] = stack.pop();
      if (held[0] != Stack::nil) {
        stack.payload(held[0]).with(
            [&](const int& p) { WEFT_INVARIANT(p == 7 || p == 100 + static_cast<int>(held[0])); });
      }
    } else {
      const std::uint32_t first = stack.pop();
      held[1] = stack.pop();
      stack.payload(first).with_mut([](int& p) { p = 7; });
      stack.push(first);
    }
  }
  void check() { check_ownership(stack, held, 2); }
};

}  // namespace

using aba_with_tag = pop_while_recycled<AbaGuard::tagged>;
using aba_without_tag = pop_while_recycled<AbaGuard::none>;
// On DPOR these three sample: RC11 lets each relaxed read of a recycled node's `next` see
// every coherent store: bounded(0) alone takes aba_with_tag 516 512 executions (7.6 s) and
// does not finish the other two in 20 s. Relacy keeps the bounded search.
WEFT_MODEL_SCENARIO(aba_with_tag, weft::model::bounded(3).on_dpor(weft::model::pct(100000, 3)));
// The broken variant: found with a single preemption (thread 0 between its load of
// `next` and its CAS), so bounded(1) suffices and keeps the test fast.
WEFT_MODEL_SCENARIO_FAILS(aba_without_tag,
                          weft::model::bounded(1).on_dpor(weft::model::exhaustive()),
                          Failure::assertion);

namespace {

// Every thread takes a node, rewrites its payload and gives it back, twice: payload
// writes must be ordered by the stack (no DATA RACE) and no node may be lost or
// duplicated. With 3 nodes and at most 3 threads, a pop never finds the stack empty.
template <int Threads>
struct recycle_twice_on {
  using Stack = TreiberStack<pool_size>;
  static constexpr int threads = Threads;
  Stack stack;

  void setup() { fill(stack); }
  void thread(int index) {
    for (int round = 0; round < 2; ++round) {
      const std::uint32_t node = stack.pop();
      WEFT_INVARIANT(node != Stack::nil);
      stack.payload(node).with_mut([index](int& p) { p = index; });
      stack.push(node);
    }
  }
  void check() { check_ownership(stack, nullptr, 0); }
};

}  // namespace

using recycle_twice = recycle_twice_on<2>;
using three_recyclers = recycle_twice_on<3>;
WEFT_MODEL_SCENARIO(recycle_twice, weft::model::bounded(3).on_dpor(weft::model::pct(100000, 3)));
WEFT_MODEL_SCENARIO(three_recyclers, weft::model::bounded(1).on_dpor(weft::model::pct(100000, 3)));

// Loom style: one body spawning a thread; the stack lives in a shared_ptr.
WEFT_MODEL_TEST(push_pop_spawned, weft::model::exhaustive(), 1) {
  auto stack = std::make_shared<TreiberStack<2>>();
  platform::thread pusher([stack] {
    stack->payload(0).with_mut([](int& p) { p = 1; });
    stack->push(0);
  });
  stack->payload(1).with_mut([](int& p) { p = 2; });
  stack->push(1);
  pusher.join();
  int sum = 0;
  for (std::uint32_t n; (n = stack->pop()) != TreiberStack<2>::nil;) {
    sum += stack->payload(n).with([](const int& p) { return p; });
  }
  WEFT_INVARIANT(sum == 3);
}

#if !defined(WEFT_MODEL)
namespace {

// Real threads only: four threads recycle nodes as fast as they can; at the end every
// node is on the stack exactly once.
struct recycle_storm {
  using Stack = TreiberStack<pool_size>;
  static constexpr int threads = 4;
  Stack stack;

  void setup() { fill(stack); }
  void thread(int index) {
    for (int i = 0; i < 2000; ++i) {
      const std::uint32_t a = stack.pop();
      const std::uint32_t b = stack.pop();  // two at once, as in the ABA interleaving
      if (a != Stack::nil) stack.payload(a).with_mut([index](int& p) { p = index; });
      if (a != Stack::nil) stack.push(a);
      if (b != Stack::nil) stack.push(b);
    }
  }
  void check() { check_ownership(stack, nullptr, 0); }
};

}  // namespace

WEFT_MODEL_SCENARIO(recycle_storm, weft::model::bounded(2));
#endif
