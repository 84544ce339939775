// weft/bench/line_handoff.cc: see line_handoff.h.
#include "bench/line_handoff.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace bench {
namespace {

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);  // best effort
}

// The line the two threads hand back and forth, alone on its pair of lines (the
// adjacent-line prefetcher moves 128 bytes): nothing else either thread touches is near
// it, and neither reaches it through a pointer it must load. std::atomic, not
// platform::atomic: this measures the machine, not weft, as the C++ peers in
// bench/peers/ do.
struct alignas(128) Line {
  std::atomic<int> turn{0};
};
Line line;

void answer(int rounds) {
  pin_to(1);
  // Release: pairs with the Acquire load of the start in ping_pong().
  line.turn.store(0, std::memory_order_release);
  for (int i = 0; i < rounds; ++i) {
    // Acquire: pairs with the Release store in ping_pong()'s loop.
    while (line.turn.load(std::memory_order_acquire) != 2 * i + 1) {
    }
    // Release: pairs with the Acquire load in ping_pong()'s loop.
    line.turn.store(2 * i + 2, std::memory_order_release);
  }
}

// One run: `rounds` round trips of a counter between two threads; ns per one-way step.
// The clock starts once both threads run on their own CPUs (a thread still waiting to
// migrate would make the first handoffs cost a context switch each).
double ping_pong(int rounds) {
  line.turn.store(-1, std::memory_order_relaxed);  // before the thread starts
  std::thread other(answer, rounds);
  pin_to(0);
  // Acquire: pairs with the Release store of 0 in answer() (the other thread is pinned).
  while (line.turn.load(std::memory_order_acquire) != 0) {
  }
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) {
    // Release: pairs with the Acquire load in answer()'s loop.
    line.turn.store(2 * i + 1, std::memory_order_release);
    // Acquire: pairs with the Release store in answer()'s loop.
    while (line.turn.load(std::memory_order_acquire) != 2 * i + 2) {
    }
  }
  const auto stop = std::chrono::steady_clock::now();
  other.join();
  return std::chrono::duration<double, std::nano>(stop - start).count() / (2.0 * rounds);
}

}  // namespace

double line_handoff_ns() {
  std::vector<double> runs;
  for (int r = 0; r < 5; ++r) runs.push_back(ping_pong(100'000));
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

}  // namespace bench
