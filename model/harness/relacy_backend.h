// weft/model/harness/relacy_backend.h: runs a scenario under the Relacy model checker.
// Included by scenario.h in the model build; users never include it directly.
#pragma once

#include "model/harness/strategy.h"
#include "sync/platform/config.h"

namespace weft::model::detail {

template <class S>
constexpr int spawned_threads() {
  if constexpr (requires { S::spawned; }) {
    return S::spawned;
  } else {
    return 0;
  }
}

// One Relacy test suite per scenario type: Relacy constructs it afresh for every
// execution, so the scenario object (a member) is new each time.
template <class S>
struct relacy_suite : rl::test_suite<relacy_suite<S>, S::threads> {
  static_assert(S::threads >= 1, "a scenario runs at least one thread");
  static const rl::thread_id_t dynamic_thread_count = spawned_threads<S>();

  S scenario;

  void before() {
    if constexpr (requires { scenario.setup(); }) scenario.setup();
  }
  void thread(unsigned index) { scenario.thread(static_cast<int>(index)); }
  void after() {
    if constexpr (requires { scenario.check(); }) scenario.check();
  }
};

// The non-template part, in relacy_runner.cc.
void configure(rl::test_params& params, const RunOptions& options, rl::ostringstream& log);
Outcome outcome_of(const rl::test_params& params, const rl::ostringstream& log);

template <class S>
Outcome run_scenario(const RunOptions& options) {
  rl::ostringstream log;
  rl::test_params params;
  configure(params, options, log);
  rl::simulate<relacy_suite<S>>(params);
  return outcome_of(params, log);
}

}  // namespace weft::model::detail
