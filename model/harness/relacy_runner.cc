// The model backend's runner: Relacy's parameters from a Strategy, and its results back.
#include "model/harness/relacy_backend.h"
#include "model/harness/runner.h"

#include <string>

namespace weft::model::detail {

void configure(rl::test_params& params, const RunOptions& options, rl::ostringstream& log) {
  params.output_stream = &log;
  params.progress_stream = &log;
  if (options.depth_limit != 0) params.execution_depth_limit = options.depth_limit;
  const Strategy& s = options.strategy;
  switch (s.search) {
    case Search::exhaustive:
      params.search_type = rl::sched_full;
      break;
    case Search::bounded:
      params.search_type = rl::sched_bound;
      params.context_bound = s.bound;
      break;
    case Search::random:
      // Relacy seeds execution i with i: a seed is a starting execution.
      params.search_type = rl::sched_random;
      params.iteration_count = s.seed + s.iterations;
      if (s.seed != 0) params.initial_state = std::to_string(s.seed).c_str();
      break;
  }
  if (!options.replay.empty()) params.initial_state = options.replay.c_str();
}

namespace {

Failure classify(rl::test_result_e result) {
  switch (result) {
    case rl::test_result_success: return Failure::none;
    case rl::test_result_data_race: return Failure::data_race;
    case rl::test_result_user_assert_failed:
    case rl::test_result_user_invariant_failed: return Failure::assertion;
    case rl::test_result_deadlock: return Failure::deadlock;
    case rl::test_result_livelock: return Failure::livelock;
    case rl::test_result_memory_leak:
    case rl::test_result_resource_leak: return Failure::leak;
    case rl::test_result_access_to_freed_memory:
    case rl::test_result_double_free: return Failure::use_after_free;
    default: return Failure::other;
  }
}

// Relacy's trace, made readable: its first line (the suite's mangled type name) goes, and
// GCC's " [with T = ...]" template argument lists in function names are cut.
std::string readable_trace(const std::string& raw) {
  const std::size_t first_newline = raw.find('\n');
  const std::string trace = first_newline == std::string::npos ? raw : raw.substr(first_newline + 1);
  std::string out;
  out.reserve(trace.size());
  std::size_t at = 0;
  while (at < trace.size()) {
    const std::size_t with = trace.find(" [with ", at);
    if (with == std::string::npos) {
      out.append(trace, at, std::string::npos);
      break;
    }
    out.append(trace, at, with - at);
    std::size_t i = with + 1;
    int depth = 0;  // skip to the matching ']' on the same line
    for (; i < trace.size() && trace[i] != '\n'; ++i) {
      if (trace[i] == '[') ++depth;
      if (trace[i] == ']' && --depth == 0) break;
    }
    at = i < trace.size() && trace[i] == ']' ? i + 1 : i;
  }
  return out;
}

}  // namespace

Outcome outcome_of(const rl::test_params& params, const rl::ostringstream& log) {
  Outcome outcome;
  outcome.failure = classify(params.test_result);
  outcome.failure_text = rl::test_result_str(params.test_result);
  outcome.executions = params.stop_iteration;
  if (outcome.failure != Failure::none) {
    outcome.trace = readable_trace(log.str().c_str());
    outcome.replay = params.final_state.c_str();
    while (!outcome.replay.empty() && outcome.replay.back() == ' ') outcome.replay.pop_back();
  }
  return outcome;
}

}  // namespace weft::model::detail

int main(int argc, char** argv) {
  return weft::model::detail::run_registered(argc, argv, {"model", true});
}
