// weft/model/harness/execution.h: what scenario code tells the harness about the current
// execution, and the hooks through which a backend reports executions to the runner.
//
//   WEFT_ASSUME(cond)    the execution is meaningful only if cond holds: when it does not,
//                        the execution is discarded (counted apart, never a failure)
//   WEFT_REACHED(label)  a reached point: the summary lists the points compiled into the
//                        binary that no execution reached, and WEFT_MODEL_REACHES makes a
//                        scenario fail unless one of its executions reached the label
//
// Backend-neutral: every backend (Relacy, real threads, any later one) implements the
// contract of the "Backend hooks" section below; model/harness/README.md describes it.
#pragma once

#include <atomic>
#include <cstdint>
#include <source_location>
#include <string>

namespace weft::model::detail {

// Where a WEFT_REACHED point is.
struct PointSite {
  const char* label;
  const char* file;
  unsigned line;
};

// One WEFT_REACHED point. Each is a variable template specialization (point_of below),
// initialized before main() even when its function never runs, so the runner can walk
// every point compiled into the binary, reached or not.
struct ReachedPoint {
  explicit ReachedPoint(PointSite where);  // links itself into the list of all points
  PointSite site;
  ReachedPoint* next;
  std::atomic<std::uint64_t> execution{0};  // the last execution that reached it
  std::atomic<std::uint64_t> hits{0};       // kept executions that reached it, this run
  std::atomic<bool> ever{false};            // reached in any scenario run of this process
};

// Tag: a local class of the WEFT_REACHED site, one per site (and per instantiation).
template <class Tag>
inline ReachedPoint point_of{Tag::site()};

void reach(ReachedPoint& point);

// WEFT_ASSUME's failing side: marks the execution discarded and leaves it.
[[noreturn]] void discard_execution(const char* condition, std::source_location loc);

inline void assume(bool holds, const char* condition,
                   std::source_location loc = std::source_location::current()) {
  if (!holds) [[unlikely]]
    discard_execution(condition, loc);
}

// ---- Backend hooks -------------------------------------------------------------------
// A backend calls execution_begin() before each execution and execution_end() after each
// one that ran to its end, and asks execution_discarded() when an execution stopped early
// (a discarded execution is neither a pass nor a failure: the backend resumes with the
// next one). execution_end() counts the execution, commits its reached points, prints a
// progress line every ~10 s and returns false once the run's time limit has passed: the
// backend then stops and reports Outcome::stopped_early.
void execution_begin();
bool execution_end(double explored = -1);  // explored: the share of the search done, or -1
bool execution_discarded();
// False once the run's time limit has passed (for a backend between executions).
bool within_time_limit();

// Provided by each backend (defined in its runner): leaves the current execution at once
// (Relacy: ends the simulated execution; threads: throws Discarded out of the thread).
[[noreturn]] void abandon_execution(const char* why, std::source_location loc);

// What the thread backend throws to unwind a thread whose assumption failed.
struct Discarded {};

// Declares that scenario `name` must reach `label` (WEFT_MODEL_REACHES).
struct Requirement {
  Requirement(const char* scenario, const char* label);
};

// ---- Split runs -----------------------------------------------------------------------
// A backend that splits a run over processes (the DPOR backend's --jobs): a worker counts
// its own share and prints no progress lines; the first process adds the workers' shares
// (executions, discards, the points they reached), so its progress lines, its RunReport
// and never_reached() cover the whole run.
void become_worker();                      // in a forked worker: its share starts at zero
std::string take_share();                  // this process's share since the last take
void add_share(const std::string& share);  // a worker's share, counted here
void report_progress();                    // a progress line if one is due (while waiting)

// ---- Runner side ---------------------------------------------------------------------
// The runner brackets each scenario run with these.
struct RunLimits {
  const char* backend;  // "model" or "stress", for progress lines
  const char* scenario;
  double time_limit = 0;  // seconds; 0: none
};
void run_begin(const RunLimits& limits);
struct RunReport {
  std::uint64_t discarded = 0;  // executions WEFT_ASSUME discarded
  bool time_up = false;         // execution_end() asked the backend to stop
  std::string unreached;        // labels the scenario must reach and did not, ", "-joined
};
RunReport run_end();
// Points compiled into the binary that no scenario run reached, one "label (file:line)"
// per element ("" when there is none).
std::string never_reached();

}  // namespace weft::model::detail

#define WEFT_MODEL_DETAIL_CAT2(a, b) a##b
#define WEFT_MODEL_DETAIL_CAT(a, b) WEFT_MODEL_DETAIL_CAT2(a, b)

#define WEFT_ASSUME(cond) ::weft::model::detail::assume(static_cast<bool>(cond), #cond)

#define WEFT_REACHED(label)                                                           \
  do {                                                                                \
    struct weft_reached_site {                                                        \
      static constexpr ::weft::model::detail::PointSite site() {                      \
        return {(label), __FILE__, __LINE__};                                         \
      }                                                                               \
    };                                                                                \
    ::weft::model::detail::reach(::weft::model::detail::point_of<weft_reached_site>); \
  } while (false)

#define WEFT_MODEL_REACHES(scenario, label)                              \
  static const ::weft::model::detail::Requirement WEFT_MODEL_DETAIL_CAT( \
      weft_model_requirement_, __LINE__)(#scenario, (label))
