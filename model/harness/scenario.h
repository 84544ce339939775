// weft/model/harness/scenario.h: declare a concurrent scenario once, check it on every
// backend.
//
// A scenario is a small concurrent program with a final check. Compiled into a model
// test (weft_model_test), it is explored by the Relacy model checker: every interleaving
// the search strategy allows, with a report of data races on platform::cell, failed
// WEFT_INVARIANTs, deadlocks (a thread parked forever), livelocks and leaks. Compiled into
// a stress test (weft_stress_test), the same source runs on real threads, many times.
//
// Two ways to write one:
//
//   // 1. A struct: the harness starts `threads` threads and runs thread(0..threads-1).
//   struct publish {
//     static constexpr int threads = 2;
//     platform::atomic<int> flag{0};
//     platform::cell<int> data{0};
//     void setup() {}                         // optional, before the threads
//     void thread(int index) {
//       if (index == 0) {
//         data.with_mut([](int& d) { d = 42; });
//         flag.store(1, std::memory_order_release);
//       } else if (flag.load(std::memory_order_acquire) == 1) {
//         data.with([](const int& d) { WEFT_INVARIANT(d == 42); });
//       }
//     }
//     void check() {}                         // optional, after every thread ended
//   };
//   WEFT_MODEL_SCENARIO(publish, weft::model::exhaustive());
//
//   // 2. A body, as in Loom: one thread that spawns up to `max_spawned` more.
//   WEFT_MODEL_TEST(two_increments, weft::model::bounded(2), /*max_spawned=*/1) {
//     auto n = std::make_shared<platform::atomic<int>>(0);
//     platform::thread t([n] { n->fetch_add(1, std::memory_order_relaxed); });
//     n->fetch_add(1, std::memory_order_relaxed);
//     t.join();
//     WEFT_INVARIANT(n->load(std::memory_order_relaxed) == 2);
//   }
//
// A struct may also spawn threads: declare `static constexpr int spawned = K;`.
// Scenario objects are created anew for every execution; keep large arrays on the heap
// (model threads run on 64 KiB stacks).
//
// Self-tests of a checker: WEFT_MODEL_SCENARIO_FAILS(S, strategy, failure) passes only
// if the model checker reports that failure (the stress backend skips such scenarios).
//
// The strategy given is the scenario's default; `s.on_dpor(d)` gives weft's DPOR checker
// another (`pct(30000, 3).on_dpor(bounded(2))`). The runner's command line and environment
// override it without recompiling (see model/harness/README.md).
#pragma once

#include "model/harness/execution.h"
#include "model/harness/strategy.h"

#include "sync/platform/config.h"

#include <cstdint>

#if defined(WEFT_MODEL_DPOR)
#include "model/harness/dpor_backend.h"
#elif defined(WEFT_MODEL)
#include "model/harness/relacy_backend.h"
#else
#include "model/harness/thread_backend.h"
#endif

namespace weft::model::detail {

// Registers a scenario with this binary's runner (defined in runner.cc).
struct Registration {
  Registration(const char* name, const Strategies& strategies, Failure expected, RunScenario run,
               const char* file, int line);
};

}  // namespace weft::model::detail

#define WEFT_MODEL_SCENARIO_FAILS(type, strategy, failure)                                         \
  static const ::weft::model::detail::Registration WEFT_MODEL_DETAIL_CAT(                          \
      weft_model_registration_, __COUNTER__)(#type, (strategy), (failure),                         \
                                             &::weft::model::detail::run_scenario<type>, __FILE__, \
                                             __LINE__)

#define WEFT_MODEL_SCENARIO(type, strategy) \
  WEFT_MODEL_SCENARIO_FAILS(type, strategy, ::weft::model::Failure::none)

#define WEFT_MODEL_TEST_FAILS(name, strategy, max_spawned, failure) \
  static void weft_model_body_##name();                             \
  struct name {                                                     \
    static constexpr int threads = 1;                               \
    static constexpr int spawned = (max_spawned);                   \
    void thread(int) { weft_model_body_##name(); }                  \
  };                                                                \
  WEFT_MODEL_SCENARIO_FAILS(name, strategy, failure);               \
  static void weft_model_body_##name()

#define WEFT_MODEL_TEST(name, strategy, max_spawned) \
  WEFT_MODEL_TEST_FAILS(name, strategy, max_spawned, ::weft::model::Failure::none)
