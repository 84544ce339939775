// weft/model/harness/thread_backend.h: runs a scenario on real threads, many times.
// Included by scenario.h in the production build; users never include it directly.
#pragma once

#include "model/harness/strategy.h"
#include "sync/platform/thread.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace weft::model::detail {

// How many times the stress runner repeats each scenario (set from its command line).
std::uint64_t stress_iterations();

template <class S>
Outcome run_scenario(const RunOptions&) {
  Outcome outcome;
  const std::uint64_t iterations = stress_iterations();
  for (std::uint64_t i = 0; i < iterations; ++i) {
    auto scenario = std::make_unique<S>();
    if constexpr (requires { scenario->setup(); }) scenario->setup();
    std::vector<platform::thread> threads;
    threads.reserve(S::threads);
    for (int index = 0; index < S::threads; ++index) {
      threads.emplace_back([&scenario, index] { scenario->thread(index); });
    }
    for (auto& t : threads) t.join();
    if constexpr (requires { scenario->check(); }) scenario->check();
    ++outcome.executions;
  }
  return outcome;
}

}  // namespace weft::model::detail
