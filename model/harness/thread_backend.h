// weft/model/harness/thread_backend.h: runs a scenario on real threads, many times.
// Included by scenario.h in the production build; users never include it directly.
#pragma once

#include "model/harness/execution.h"
#include "model/harness/strategy.h"
#include "sync/platform/thread.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace weft::model::detail {

// How many times the stress runner repeats each scenario (set from its command line).
std::uint64_t stress_iterations();

// Runs f, unless an earlier step of the execution already discarded it; a WEFT_ASSUME
// failing inside ends f (the thread, setup or check it is) early.
template <class F>
void unless_discarded(F&& f) {
  if (execution_discarded()) return;
  try {
    f();
  } catch (const Discarded&) {
  }
}

template <class S>
Outcome run_scenario(const RunOptions&) {
  Outcome outcome;
  const std::uint64_t iterations = stress_iterations();
  for (std::uint64_t i = 0; i < iterations; ++i) {
    execution_begin();
    auto scenario = std::make_unique<S>();
    if constexpr (requires { scenario->setup(); }) unless_discarded([&] { scenario->setup(); });
    std::vector<platform::thread> threads;
    threads.reserve(S::threads);
    for (int index = 0; index < S::threads; ++index) {
      threads.emplace_back(
          [&scenario, index] { unless_discarded([&] { scenario->thread(index); }); });
    }
    for (auto& t : threads) t.join();
    if constexpr (requires { scenario->check(); }) unless_discarded([&] { scenario->check(); });
    ++outcome.executions;
    if (!execution_discarded() && !execution_end(static_cast<double>(i + 1) / iterations)) {
      outcome.stopped_early = true;
      break;
    }
  }
  return outcome;
}

}  // namespace weft::model::detail
