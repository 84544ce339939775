// The per-execution bookkeeping behind WEFT_ASSUME, WEFT_REACHED, progress lines and the
// time limit, shared by every backend.
#include "model/harness/execution.h"
#include "sync/platform/clock.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace weft::model::detail {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double progress_period_s = 10;

// The run in progress. Real threads reach points and discard executions concurrently,
// hence the atomics; the rest is touched only by the backend's driving thread.
struct Run {
  RunLimits limits;
  Clock::time_point start;
  Clock::time_point last_progress;
  std::atomic<std::uint64_t> execution{0};  // the current execution's number
  std::atomic<bool> discarded{false};       // WEFT_ASSUME failed in the current execution
  std::uint64_t kept = 0;
  std::uint64_t discards = 0;
  bool time_up = false;
  bool worker = false;  // a forked share of the run: no progress lines
};

Run& run() {
  static Run current;
  return current;
}

std::vector<std::pair<std::string, std::string>>& requirements() {
  static std::vector<std::pair<std::string, std::string>> all;
  return all;
}

// Every point of the binary, linked by their constructors (before main, one thread);
// constant-initialized, so it is null before the first of them.
ReachedPoint* g_points = nullptr;

template <class F>
void for_each_point(F&& f) {
  for (ReachedPoint* p = g_points; p != nullptr; p = p->next) f(*p);
}

// Every ~10 s: the executions so far (a worker's are counted by the first process).
void progress_line(double explored) {
  Run& r = run();
  const Clock::time_point now = Clock::now();
  if (r.worker ||
      std::chrono::duration<double>(now - r.last_progress).count() < progress_period_s) {
    return;
  }
  r.last_progress = now;
  const double elapsed = std::chrono::duration<double>(now - r.start).count();
  char share[48] = "";
  if (explored >= 0) std::snprintf(share, sizeof share, ", ~%.1f%% of the search", explored * 100);
  std::printf("[%s] ...    %s: %llu executions in %.0f s, %.0f exec/s%s\n", r.limits.backend,
              r.limits.scenario, static_cast<unsigned long long>(r.kept + r.discards), elapsed,
              static_cast<double>(r.kept + r.discards) / elapsed, share);
  std::fflush(stdout);
}

}  // namespace

ReachedPoint::ReachedPoint(PointSite where) : site(where), next(g_points) { g_points = this; }

void reach(ReachedPoint& point) {
  point.execution.store(run().execution.load(std::memory_order_relaxed), std::memory_order_relaxed);
}

void discard_execution(const char* condition, std::source_location loc) {
  if (!run().discarded.exchange(true, std::memory_order_relaxed)) ++run().discards;
  abandon_execution(condition, loc);
}

void execution_begin() {
#if defined(WEFT_MODEL)
  platform::clock::reset();  // virtual time starts at zero in every execution
#endif
  run().discarded.store(false, std::memory_order_relaxed);
  run().execution.fetch_add(1, std::memory_order_relaxed);
}

bool execution_discarded() { return run().discarded.load(std::memory_order_relaxed); }

bool execution_end(double explored) {
  Run& r = run();
  ++r.kept;
  const std::uint64_t now_execution = r.execution.load(std::memory_order_relaxed);
  for_each_point([&](ReachedPoint& p) {
    if (p.execution.load(std::memory_order_relaxed) == now_execution) {
      p.hits.fetch_add(1, std::memory_order_relaxed);
      p.ever.store(true, std::memory_order_relaxed);
    }
  });
  progress_line(explored);
  return within_time_limit();
}

void report_progress() { progress_line(-1); }

void become_worker() {
  Run& r = run();
  r.worker = true;
  r.kept = r.discards = 0;
  for_each_point([](ReachedPoint& p) { p.hits.store(0, std::memory_order_relaxed); });
}

// "kept discards hits..." with the hits in the binary's point order (the same in every
// process: they are forked from one).
std::string take_share() {
  Run& r = run();
  std::string out = std::to_string(r.kept) + ' ' + std::to_string(r.discards);
  for_each_point([&](ReachedPoint& p) {
    out += ' ' + std::to_string(p.hits.exchange(0, std::memory_order_relaxed));
  });
  r.kept = r.discards = 0;
  return out;
}

void add_share(const std::string& share) {
  Run& r = run();
  std::istringstream in(share);
  std::uint64_t kept = 0, discards = 0;
  in >> kept >> discards;
  r.kept += kept;
  r.discards += discards;
  for_each_point([&](ReachedPoint& p) {
    std::uint64_t hits = 0;
    if (!(in >> hits) || hits == 0) return;
    p.hits.fetch_add(hits, std::memory_order_relaxed);
    p.ever.store(true, std::memory_order_relaxed);
  });
}

bool within_time_limit() {
  Run& r = run();
  if (r.limits.time_limit > 0 &&
      std::chrono::duration<double>(Clock::now() - r.start).count() >= r.limits.time_limit) {
    r.time_up = true;
  }
  return !r.time_up;
}

Requirement::Requirement(const char* scenario, const char* label) {
  requirements().emplace_back(scenario, label);
}

void run_begin(const RunLimits& limits) {
  Run& r = run();
  r.limits = limits;
  r.start = r.last_progress = Clock::now();
  r.kept = r.discards = 0;
  r.time_up = false;
  r.discarded.store(false, std::memory_order_relaxed);
  for_each_point([](ReachedPoint& p) { p.hits.store(0, std::memory_order_relaxed); });
}

RunReport run_end() {
  Run& r = run();
  RunReport report;
  report.discarded = r.discards;
  report.time_up = r.time_up;
  for (const auto& [scenario, label] : requirements()) {
    if (scenario != r.limits.scenario) continue;
    bool hit = false;
    for_each_point([&, &label = label](ReachedPoint& p) {
      hit = hit || (label == p.site.label && p.hits.load(std::memory_order_relaxed) != 0);
    });
    if (!hit) report.unreached += (report.unreached.empty() ? "" : ", ") + label;
  }
  return report;
}

std::string never_reached() {
  std::set<std::string> missed;  // a point in a template is one object per instantiation
  std::set<std::string> hit;
  for_each_point([&](ReachedPoint& p) {
    std::string where =
        std::string(p.site.label) + " (" + p.site.file + ":" + std::to_string(p.site.line) + ")";
    (p.ever.load(std::memory_order_relaxed) ? hit : missed).insert(std::move(where));
  });
  std::string out;
  for (const std::string& m : missed) {
    if (hit.count(m) == 0) out += (out.empty() ? "" : ", ") + m;
  }
  return out;
}

}  // namespace weft::model::detail
