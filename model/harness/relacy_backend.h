// weft/model/harness/relacy_backend.h: runs a scenario under the Relacy model checker.
// Included by scenario.h in the model build; users never include it directly.
//
// The harness drives Relacy itself (rather than through rl::simulate) so that it can pick
// its own schedulers (random and PCT), keep Relacy's progress lines and suite name out of
// a failure's output, stop at a time limit, and resume after a discarded execution.
#pragma once

#include "model/harness/execution.h"
#include "model/harness/relacy_sampling_scheduler.h"
#include "model/harness/strategy.h"
#include "sync/platform/config.h"

#include <string>

namespace weft::model::detail {

template <class S>
constexpr int spawned_threads() {
  if constexpr (requires { S::spawned; }) {
    return S::spawned;
  } else {
    return 0;
  }
}

// What a Relacy simulation leaves allocated when it ends: its threads' fiber stacks (64
// KiB each; Relacy's delete_fiber frees nothing) and its test suite's storage. A discarded
// execution ends a simulation, so a run of many discards grew by ~11 KiB each (200,000:
// over 2 GiB); the driver frees them once each simulation is gone.
struct Leftovers {
  static constexpr rl::thread_id_t max_threads = 64;
  void* blocks[1 + max_threads] = {};
  unsigned count = 0;
  void release();  // after rl::run_test returned: the simulation no longer uses them
};
Leftovers& leftovers();

// Notes the running simulation's leftovers, from one of its fibers: every thread's fiber
// lies in one array of Relacy's context, and the running thread is element index_ of it.
template <rl::thread_id_t thread_count>
void note_leftovers(void* suite) {
  static_assert(thread_count <= Leftovers::max_threads);
  using info = rl::aligned<rl::thread_info<thread_count>>;
  rl::thread_info_base* const running = rl::ctx().threadx_;
  const info* const threads =
      static_cast<info*>(static_cast<rl::thread_info<thread_count>*>(running)) - running->index_;
  Leftovers& left = leftovers();
  left.count = 0;
  left.blocks[left.count++] = suite;
  for (rl::thread_id_t i = 0; i != thread_count; ++i) {
    left.blocks[left.count++] = threads[i].fiber_.fib.uc_stack.ss_sp;
  }
}

// One Relacy test suite per scenario type: Relacy constructs it afresh for every
// execution, so the scenario object (a member) is new each time.
template <class S>
struct relacy_suite : rl::test_suite<relacy_suite<S>, S::threads> {
  static_assert(S::threads >= 1, "a scenario runs at least one thread");
  static const rl::thread_id_t dynamic_thread_count = spawned_threads<S>();

  relacy_suite() { note_leftovers<relacy_suite::params::thread_count>(this); }

  S scenario;

  void before() {
    if constexpr (requires { scenario.setup(); }) scenario.setup();
  }
  void thread(unsigned index) { scenario.thread(static_cast<int>(index)); }
  void after() {
    if constexpr (requires { scenario.check(); }) scenario.check();
  }
};

// Relacy's depth-first schedulers (full and context-bounded search) with what the hooks
// below need: the share of the tree done, and the step past a discarded execution.
template <class Base>
struct tree_scheduler : Base {
  using Base::Base;

  // Each decision's index over its count, weighted by the share of the tree under it:
  // exact for a tree whose subtrees at one depth are alike, an estimate otherwise.
  double explored() const {
    double done = 0;
    double weight = 1;
    for (const auto& node : this->stree_) {
      weight /= node.count_;
      done += weight * node.index_;
    }
    return done + weight;
  }
  // Moves the search to the first execution after the current one, which ended early:
  // its decisions past the point where it ended were never made. False at the end of the
  // tree.
  bool skip_discarded() {
    this->stree_.resize(this->stree_depth_);
    while (!this->stree_.empty()) {
      auto& last = this->stree_.back();
      if (last.index_ + 1 < last.count_) {
        last.index_ += 1;
        return true;
      }
      this->stree_.pop_back();
    }
    return false;
  }
};

// Where the driver learns what a scheduler saw (one simulation runs at a time).
struct DriverState {
  bool stopped = false;    // execution_end() asked to stop (time limit)
  bool exhausted = false;  // a discarded execution was the last of the search
};
DriverState& driver_state();

// Reports every execution to the backend hooks (execution.h) and stops at their request.
template <class Base>
struct hooked : Base {
  using Base::Base;

  rl::thread_id_t iteration_begin(rl::iteration_t iter) {
    execution_begin();
    return Base::iteration_begin(iter);
  }
  bool iteration_end() {
    const bool go_on = execution_end(this->explored());
    if (Base::iteration_end()) return true;
    driver_state().stopped = !go_on;
    return !go_on;
  }
  void get_state(std::ostream& out) {
    if (execution_discarded() && !this->skip_discarded()) driver_state().exhausted = true;
    Base::get_state(out);
  }
};

// The non-template part, in relacy_runner.cc: one run of a scenario is one or more
// Relacy simulations (a discarded execution ends one; the next resumes after it), then,
// on a failure, a replay of the failing execution that records its history.
class Driver {
 public:
  explicit Driver(const RunOptions& options);
  rl::test_params& params() { return params_; }
  // After a simulation that wrote `state` (empty on success): whether to run another.
  bool next(const std::string& state);
  // Whether a failure was found; if so, sets the next simulation to replay it alone,
  // recording its history for the trace.
  bool prepare_replay();
  Outcome outcome();

 private:
  RunOptions options_;
  rl::test_params params_;
  rl::ostringstream log_;
  std::string state_;
  std::uint64_t first_iteration_ = 1;
};

template <class Suite, class Scheduler>
Outcome explore(const RunOptions& options) {
  Driver driver(options);
  for (;;) {
    rl::ostringstream state;
    rl::run_test<Suite, hooked<Scheduler>>(driver.params(), state, false);
    leftovers().release();
    if (!driver.next(state.str().c_str())) break;
  }
  if (driver.prepare_replay()) {
    rl::ostringstream unused;
    rl::run_test<Suite, hooked<Scheduler>>(driver.params(), unused, true);
    leftovers().release();
  }
  return driver.outcome();
}

template <class S>
Outcome run_scenario(const RunOptions& options) {
  using suite = relacy_suite<S>;
  constexpr rl::thread_id_t n = suite::params::thread_count;
  switch (options.strategy.search) {
    case Search::exhaustive:
      return explore<suite, tree_scheduler<rl::full_search_scheduler<n>>>(options);
    case Search::bounded:
      return explore<suite, tree_scheduler<rl::context_bound_scheduler<n>>>(options);
    case Search::random:
    case Search::pct: break;
  }
  return explore<suite, sampling_scheduler<n>>(options);
}

}  // namespace weft::model::detail
