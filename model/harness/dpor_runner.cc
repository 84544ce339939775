// The DPOR backend's runner: weft's own model checker (model/dpor) under the same runner.
#include "model/dpor/jobs.h"
#include "model/harness/dpor_backend.h"
#include "model/harness/runner.h"
#include "model/harness/sampler.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <optional>
#include <vector>

// The program's heap, watched for leaks and double frees within an execution; a block the
// program frees is kept by the engine until the execution ends (use after free is found).
void* operator new(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  weft::dpor::Engine::allocated(p);
  return p;
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept {
  if (!weft::dpor::Engine::freed(p)) std::free(p);
}
namespace {
const bool g_blocks_kept = (weft::dpor::Engine::keep_freed_blocks(&std::free), true);
}  // namespace
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }

namespace weft::model::detail {

[[noreturn]] void abandon_execution(const char*, std::source_location) {
  dpor::Engine::current().discard();
}

namespace {

// random(N) and pct(N, d) on DPOR: N sampled executions, each step's thread and each
// memory-model choice drawn by the same Sampler as on Relacy. Split over processes, one
// runs the executions first, first + stride, ...
class SamplingChooser final : public dpor::Chooser {
 public:
  void start(const Strategy& strategy, std::uint64_t first, std::uint64_t stride) {
    strategy_ = strategy;
    execution_ = first - stride;
    stride_ = stride;
    started_ = false;
    sampler_.set_k(0);
  }
  void begin() override {
    if (started_) sampler_.end();
    started_ = true;
    execution_ += stride_;
    sampler_.begin(strategy_, execution_, dpor::max_threads);
    stepped_ = false;
  }
  unsigned thread(std::uint32_t candidates, const std::vector<dpor::Footprint>& pending,
                  unsigned last) override {
    sampler_.step();
    int runnable[dpor::max_threads];
    unsigned count = 0;
    for (std::uint32_t rest = candidates; rest != 0; rest &= rest - 1) {
      runnable[count++] = __builtin_ctz(rest);
    }
    // The thread that ran last is pending its first step after a yield: it yielded.
    const int running = stepped_ ? static_cast<int>(last) : -1;
    const bool yielded = stepped_ && last < pending.size() && pending[last].after_yield;
    stepped_ = true;
    return static_cast<unsigned>(sampler_.pick(runnable, count, running, yielded));
  }
  unsigned choice(unsigned choices) override { return sampler_.below(choices); }
  std::uint64_t execution() const { return execution_; }

 private:
  Strategy strategy_;
  Sampler sampler_;
  std::uint64_t execution_ = 0;
  std::uint64_t stride_ = 1;
  bool started_ = false;
  bool stepped_ = false;
};

SamplingChooser& sampling_chooser() {
  static SamplingChooser chooser;
  return chooser;
}

// The current run's processes (--jobs), from dpor_options to dpor_outcome.
std::optional<dpor::Jobs>& jobs() {
  static std::optional<dpor::Jobs> current;
  return current;
}

}  // namespace

// exhaustive explores the whole DPOR tree; bounded(k) the traces with at most k
// preemptions (as on Relacy); random(N) and pct(N, d) sample N executions as on Relacy.
// With options.jobs > 1 the tree, or the N samples, are split over that many processes.
dpor::Options dpor_options(const RunOptions& options) {
  dpor::Options out;
  if (options.depth_limit != 0) out.depth_limit = options.depth_limit;
  const Search search = options.strategy.search;
  const bool sampled = search == Search::random || search == Search::pct;
  const std::uint64_t samples = options.strategy.iterations;
  const unsigned job_count =
      sampled ? static_cast<unsigned>(std::min<std::uint64_t>(options.jobs, samples))
              : options.jobs;
  jobs().reset();
  std::function<std::uint64_t()> rank;  // sampling: the lowest-numbered failure is one job's
  if (sampled) rank = [] { return sampling_chooser().execution(); };
  jobs().emplace(job_count, dpor::Jobs::Hooks{.worker_started = become_worker,
                                              .take_share = take_share,
                                              .add_share = add_share,
                                              .waiting = report_progress,
                                              .rank = rank});
  if (search == Search::bounded) out.preemption_bound = static_cast<int>(options.strategy.bound);
  if (sampled) {
    const unsigned n = jobs()->jobs();
    const unsigned index = n > 1 ? jobs()->fork_samplers() : 0;
    sampling_chooser().start(options.strategy, index + 1, n);
    out.chooser = &sampling_chooser();
    out.max_executions = (samples - index + n - 1) / n;  // executions index + 1 + k n
  }
  out.replay = options.replay;
  out.on_complete = [] { return execution_end(); };
  out.go_on = [] { return within_time_limit(); };
  jobs()->attach(out);
  return out;
}

Outcome dpor_outcome(const dpor::Result& own) {
  // A worker sends its result up and ends here; the first process gets the run's.
  const dpor::Result result = jobs() ? jobs()->finish(own) : own;
  jobs().reset();
  Outcome outcome;
  switch (result.failure) {
    case dpor::Failure::none: outcome.failure = Failure::none; break;
    case dpor::Failure::assertion: outcome.failure = Failure::assertion; break;
    case dpor::Failure::data_race: outcome.failure = Failure::data_race; break;
    case dpor::Failure::deadlock: outcome.failure = Failure::deadlock; break;
    case dpor::Failure::livelock: outcome.failure = Failure::livelock; break;
    case dpor::Failure::leak: outcome.failure = Failure::leak; break;
    case dpor::Failure::double_free:
    case dpor::Failure::use_after_free: outcome.failure = Failure::use_after_free; break;
    default: outcome.failure = Failure::other; break;
  }
  outcome.failure_text = dpor::describe(result.failure);
  outcome.executions = result.executions;
  outcome.stopped_early = result.stopped;
  outcome.trace = result.trace;
  outcome.replay = result.replay;
  return outcome;
}

}  // namespace weft::model::detail

int main(int argc, char** argv) {
  return weft::model::detail::run_registered(argc, argv, {"dpor", true, true});
}
