// The model backend's runner: drives Relacy for one scenario run, and turns what it
// found into an Outcome with a readable trace.
#include "model/harness/relacy_backend.h"
#include "model/harness/runner.h"

#include <cstdlib>
#include <sstream>
#include <string>

namespace weft::model::detail {
namespace {

Strategy g_strategy;

// Relacy's progress lines ("99% (65536/65537)") go nowhere: the hooks print progress.
std::ostream& nowhere() {
  static std::ostream sink(nullptr);
  return sink;
}

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

// Cuts GCC's " [with T = ...]" template argument lists out of a line.
std::string without_template_arguments(const std::string& line) {
  std::string out;
  std::size_t at = 0;
  for (std::size_t with; (with = line.find(" [with ", at)) != std::string::npos;) {
    out.append(line, at, with - at);
    std::size_t i = with + 1;
    for (int depth = 0; i < line.size(); ++i) {  // to the matching ']'
      if (line[i] == '[') ++depth;
      if (line[i] == ']' && --depth == 0) break;
    }
    at = i + 1;
  }
  if (at < line.size()) out.append(line, at, std::string::npos);
  return out;
}

// Relacy's failure report, made readable: the failure, the execution number and one line
// per step, each ending with the weft or user source line that made it. Steps made inside
// Relacy itself (the scenario's construction, a thread's end) keep their event but lose
// Relacy's location; the per-thread repetition of the same steps is left out.
std::string readable_trace(const std::string& raw) {
  std::istringstream in(raw);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("thread ", 0) == 0) break;  // the per-thread sections
    line = without_template_arguments(line);
    const std::size_t in_function = line.rfind(", in ");
    if (in_function != std::string::npos &&
        line.find("/relacy/", in_function) != std::string::npos) {
      line.erase(in_function);
    }
    for (std::size_t dot; (dot = line.find(" ./")) != std::string::npos;) line.erase(dot + 1, 2);
    out += line;
    out += '\n';
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::uint64_t leading_number(const std::string& state) {
  return std::strtoull(state.c_str(), nullptr, 10);
}

}  // namespace

const Strategy& current_strategy() { return g_strategy; }

Leftovers& leftovers() {
  static Leftovers left;
  return left;
}

void Leftovers::release() {
  for (unsigned i = 0; i != count; ++i) (::free)(blocks[i]);  // Relacy's (::malloc)
  count = 0;
}

DriverState& driver_state() {
  static DriverState state;
  return state;
}

[[noreturn]] void abandon_execution(const char* why, std::source_location loc) {
  rl::ctx().fail_test(why, rl::test_result_until_condition_hit, platform::detail::where(loc));
  __builtin_unreachable();  // fail_test leaves the execution's fiber for good
}

Driver::Driver(const RunOptions& options) : options_(options) {
  g_strategy = options.strategy;
  driver_state() = DriverState{};
  params_.output_stream = &log_;
  params_.progress_stream = &nowhere();
  if (options.depth_limit != 0) params_.execution_depth_limit = options.depth_limit;
  // Relacy's memory model depends on the search type: under random search a relaxed load
  // may read two stale values (one under tree search), and frees are deferred more often.
  switch (options.strategy.search) {
    case Search::exhaustive: params_.search_type = rl::sched_full; break;
    case Search::bounded: params_.search_type = rl::sched_bound; break;
    case Search::random:
    case Search::pct: params_.search_type = rl::sched_random; break;
  }
  params_.context_bound = options.strategy.bound;
  params_.iteration_count = options.strategy.iterations;
  if (!options.replay.empty()) {
    state_ = options.replay;
    first_iteration_ = leading_number(state_);
  }
  params_.initial_state = state_.c_str();
}

bool Driver::next(const std::string& state) {
  if (params_.test_result == rl::test_result_success) return false;
  if (!execution_discarded()) {
    params_.final_state = state.c_str();  // a failure: the state that replays it
    return false;
  }
  const std::uint64_t discarded = leading_number(state);
  const bool sampling =
      options_.strategy.search == Search::random || options_.strategy.search == Search::pct;
  const bool finished =
      driver_state().exhausted || (sampling && discarded >= options_.strategy.iterations);
  if (finished || !within_time_limit()) {
    driver_state().stopped = !finished;
    params_.test_result = rl::test_result_success;
    params_.stop_iteration = discarded;
    return false;
  }
  // Resume with the execution after the discarded one; the rest of the state is the
  // scheduler's, already moved past it.
  state_ = std::to_string(discarded + 1) + state.substr(state.find(' '));
  params_.initial_state = state_.c_str();
  return true;
}

bool Driver::prepare_replay() {
  if (params_.test_result == rl::test_result_success) return false;
  params_.initial_state = params_.final_state;
  params_.collect_history = true;
  return true;
}

Outcome Driver::outcome() {
  Outcome outcome;
  outcome.failure = classify(params_.test_result);
  outcome.failure_text = rl::test_result_str(params_.test_result);
  outcome.executions = params_.stop_iteration + 1 - first_iteration_;
  outcome.stopped_early = driver_state().stopped;
  if (outcome.failure != Failure::none) {
    outcome.trace = readable_trace(log_.str().c_str());
    outcome.replay = params_.final_state.c_str();
    while (!outcome.replay.empty() && outcome.replay.back() == ' ') outcome.replay.pop_back();
  }
  return outcome;
}

}  // namespace weft::model::detail

int main(int argc, char** argv) {
  return weft::model::detail::run_registered(argc, argv, {"model", true, true});
}
