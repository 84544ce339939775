// The runner: selects scenarios, applies the command line and environment, prints one
// summary line per scenario, and on failure the trace and a replay command.
#include "model/harness/runner.h"

#include "model/harness/scenario.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace weft::model::detail {
namespace {

struct Entry {
  const char* name;
  Strategy strategy;
  Failure expected;
  RunScenario run;
  const char* file;
  int line;
};

std::vector<Entry>& entries() {
  static std::vector<Entry> registered;
  return registered;
}

const char* usage =
    "usage: %s [options]\n"
    "  --list                 print the scenarios and their default strategies\n"
    "  --scenario=NAME        run only NAME (env WEFT_MODEL_SCENARIO)\n"
    "  --filter=TEXT          run only scenarios whose name contains TEXT (WEFT_MODEL_FILTER)\n"
    "  --strategy=S           override every default: exhaustive | bounded:K |\n"
    "                         random:N[:SEED] | pct:N:D[:SEED] (env WEFT_MODEL_STRATEGY)\n"
    "  --replay=STATE         replay one failing execution (with --scenario and the\n"
    "                         strategy it failed under; env WEFT_MODEL_REPLAY)\n"
    "  --depth=N              steps before an execution counts as a livelock (default 2000,\n"
    "                         env WEFT_MODEL_DEPTH)\n"
    "  --time-limit=S         stop each scenario after S seconds and report it skipped, with\n"
    "                         what was explored (env WEFT_MODEL_TIME_LIMIT)\n"
    "  --iterations=N         stress backend: runs per scenario (env WEFT_STRESS_ITERATIONS)\n"
    "  --jobs=N               DPOR backend: split each search over N processes (default: the\n"
    "                         cores, 1 under bazel test; env WEFT_MODEL_JOBS)\n"
    "  --verbose              print traces of expected failures too\n";

std::string env_or(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

bool option(std::string_view arg, std::string_view name, std::string& out) {
  if (arg.substr(0, name.size()) != name || arg.size() <= name.size() || arg[name.size()] != '=') {
    return false;
  }
  out = std::string(arg.substr(name.size() + 1));
  return true;
}

std::uint64_t g_stress_iterations = 200;

// --jobs: the cores, but 1 under `bazel test` (TEST_TMPDIR), which already runs a test per
// core; a replay is one execution.
unsigned default_jobs() {
  if (std::getenv("TEST_TMPDIR") != nullptr) return 1;
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

// The command a developer pastes to see one failing execution again.
std::string replay_command(const char* argv0, const Entry& entry, const Strategy& strategy,
                           const std::string& state) {
  std::string target = env_or("TEST_TARGET", "");
  std::string command = target.empty() ? std::string(argv0) : "bazel run " + target + " --";
  return command + " --scenario=" + entry.name + " --strategy=" + strategy.spelling() +
         " --replay='" + state + "'";
}

}  // namespace

// A scenario's default is the strategy named for this binary's backend.
Registration::Registration(const char* name, const Strategies& strategies, Failure expected,
                           RunScenario run, const char* file, int line) {
#if defined(WEFT_MODEL_DPOR)
  const Strategy& strategy = strategies.dpor;
#else
  const Strategy& strategy = strategies.relacy;
#endif
  entries().push_back(Entry{name, strategy, expected, run, file, line});
}

std::uint64_t stress_iterations() { return g_stress_iterations; }

int run_registered(int argc, char** argv, const Backend& backend) {
  std::string scenario = env_or("WEFT_MODEL_SCENARIO", "");
  std::string filter = env_or("WEFT_MODEL_FILTER", "");
  std::string strategy_text = env_or("WEFT_MODEL_STRATEGY", "");
  std::string replay = env_or("WEFT_MODEL_REPLAY", "");
  std::string depth_text = env_or("WEFT_MODEL_DEPTH", "");
  std::string iterations_text = env_or("WEFT_STRESS_ITERATIONS", "");
  std::string time_limit_text = env_or("WEFT_MODEL_TIME_LIMIT", "");
  std::string jobs_text = env_or("WEFT_MODEL_JOBS", "");
  bool verbose = false;
  bool list = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--verbose") {
      verbose = true;
    } else if (arg == "--list") {
      list = true;
    } else if (arg == "--help" || arg == "-h") {
      std::printf(usage, argv[0]);
      return 0;
    } else if (!option(arg, "--scenario", scenario) && !option(arg, "--filter", filter) &&
               !option(arg, "--strategy", strategy_text) && !option(arg, "--replay", replay) &&
               !option(arg, "--depth", depth_text) &&
               !option(arg, "--time-limit", time_limit_text) &&
               !option(arg, "--iterations", iterations_text) && !option(arg, "--jobs", jobs_text)) {
      std::fprintf(stderr, "unknown argument: %s\n", argv[i]);
      std::fprintf(stderr, usage, argv[0]);
      return 2;
    }
  }

  std::optional<Strategy> forced;
  if (!strategy_text.empty()) {
    forced = Strategy::parse(strategy_text);
    if (!forced) {
      std::fprintf(stderr,
                   "bad strategy '%s': want exhaustive, bounded:K, random:N[:SEED] or "
                   "pct:N:D[:SEED] (D >= 1)\n",
                   strategy_text.c_str());
      return 2;
    }
  }
  if (!replay.empty() && scenario.empty()) {
    std::fprintf(stderr, "--replay needs --scenario=NAME\n");
    return 2;
  }
  unsigned depth = 0;
  if (!depth_text.empty())
    depth = static_cast<unsigned>(std::strtoul(depth_text.c_str(), nullptr, 10));
  double time_limit = 0;
  if (!time_limit_text.empty()) {
    char* end = nullptr;
    time_limit = std::strtod(time_limit_text.c_str(), &end);
    if (*end != '\0' || !(time_limit > 0)) {
      std::fprintf(stderr, "bad time limit '%s': want seconds, more than 0\n",
                   time_limit_text.c_str());
      return 2;
    }
  }
  unsigned jobs = default_jobs();
  if (!jobs_text.empty()) {
    char* end = nullptr;
    const unsigned long n = std::strtoul(jobs_text.c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 1024 || jobs_text[0] == '-') {
      std::fprintf(stderr, "bad jobs '%s': want a number of processes, 1 to 1024\n",
                   jobs_text.c_str());
      return 2;
    }
    jobs = static_cast<unsigned>(n);
  }
  if (!replay.empty()) jobs = 1;
  if (!iterations_text.empty()) {
    g_stress_iterations = std::strtoull(iterations_text.c_str(), nullptr, 10);
  }

  int passed = 0;
  int failed = 0;
  int skipped = 0;
  for (const Entry& entry : entries()) {
    if (!scenario.empty() && scenario != entry.name) continue;
    if (!filter.empty() && std::string_view(entry.name).find(filter) == std::string_view::npos) {
      continue;
    }
    if (list) {
      std::printf("%-48s %s%s%s\n", entry.name, entry.strategy.describe().c_str(),
                  entry.expected == Failure::none ? "" : "  expects ",
                  entry.expected == Failure::none ? "" : describe(entry.expected));
      continue;
    }
    if (entry.expected != Failure::none && !backend.runs_expected_failures) {
      ++skipped;
      continue;
    }

    RunOptions options;
    options.strategy = forced ? *forced : entry.strategy;
    options.replay = replay;
    options.verbose = verbose;
    options.depth_limit = depth;
    options.time_limit = time_limit;
    options.jobs = jobs;
    run_begin(RunLimits{backend.name, entry.name, time_limit});
    const auto start = std::chrono::steady_clock::now();
    const Outcome outcome = entry.run(options);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = seconds > 0 ? static_cast<double>(outcome.executions) / seconds : 0;
    const RunReport report = run_end();

    // A search the time limit cut short proves nothing: skipped, with what it explored.
    const bool cut_short = outcome.stopped_early && outcome.failure == Failure::none;
    const bool missed_point = backend.checks_reached && outcome.failure == Failure::none &&
                              !cut_short && !report.unreached.empty();
    const bool ok = outcome.failure == entry.expected && !missed_point;
    const bool show_trace = !ok || (verbose && outcome.failure != Failure::none);
    std::string verdict = cut_short ? "skip" : ok ? "ok" : "FAILED";
    std::string found =
        outcome.failure == Failure::none ? "no failure" : "found " + outcome.failure_text;
    if (entry.expected != Failure::none) {
      found += std::string(" (expected ") + describe(entry.expected) + ")";
    }
    if (report.discarded != 0) found += ", " + std::to_string(report.discarded) + " discarded";
    if (cut_short) found += " before the time limit stopped the search";
    if (missed_point) found += "; never reached: " + report.unreached;
    std::printf("[%s] %-6s %-44s %-22s %10llu executions %8.2f s %10.0f exec/s  %s\n", backend.name,
                verdict.c_str(), entry.name, options.strategy.describe().c_str(),
                static_cast<unsigned long long>(outcome.executions), seconds, rate, found.c_str());
    if (show_trace && !outcome.trace.empty()) {
      std::printf("---- trace of %s (%s:%d) ----\n%s\n", entry.name, entry.file, entry.line,
                  outcome.trace.c_str());
      if (!outcome.replay.empty()) {
        std::printf("replay: %s\n",
                    replay_command(argv[0], entry, options.strategy, outcome.replay).c_str());
      }
    }
    std::fflush(stdout);
    (cut_short ? skipped : ok ? passed : failed) += 1;
  }
  if (list) return 0;
  if (passed + failed == 0 && skipped == 0) {
    std::printf("[%s] no scenario matched\n", backend.name);
    return 1;
  }
  std::printf("[%s] %d passed, %d failed, %d skipped\n", backend.name, passed, failed, skipped);
  // A point belongs to no scenario in particular: list the missed ones only when every
  // scenario ran, or those of the scenarios left out would be listed too.
  const std::string missed = scenario.empty() && filter.empty() ? never_reached() : "";
  if (!missed.empty())
    std::printf("[%s] reached points never reached: %s\n", backend.name, missed.c_str());
  return failed == 0 ? 0 : 1;
}

}  // namespace weft::model::detail
