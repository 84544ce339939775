// weft/model/harness/dpor_backend.h: runs a scenario under weft's own DPOR model checker
// (model/dpor). Included by scenario.h in the WEFT_MODEL_DPOR build; users never include it.
#pragma once

#include "model/harness/execution.h"
#include "model/harness/strategy.h"
#include "sync/platform/config.h"

#include <memory>
#include <vector>

namespace weft::model::detail {

// The non-template part, in dpor_runner.cc: options from the strategy, outcome from the result.
dpor::Options dpor_options(const RunOptions& options);
Outcome dpor_outcome(const dpor::Result& result);

template <class S>
Outcome run_scenario(const RunOptions& options) {
  static_assert(S::threads >= 1, "a scenario runs at least one thread");
  const dpor::Result result = dpor::Engine::explore(
      [] {
        // Thread 0 of the execution builds the scenario, runs its threads and checks it.
        execution_begin();
        auto scenario = std::make_unique<S>();
        if constexpr (requires { scenario->setup(); }) scenario->setup();
        std::vector<unsigned> threads;
        for (int index = 0; index < S::threads; ++index) {
          threads.push_back(
              dpor::Engine::current().spawn([&scenario, index] { scenario->thread(index); }, {}));
        }
        for (unsigned t : threads) dpor::Engine::current().join(t, {});
        if constexpr (requires { scenario->check(); }) scenario->check();
      },
      dpor_options(options));
  return dpor_outcome(result);
}

}  // namespace weft::model::detail
