// The DPOR backend's runner: weft's own model checker (model/dpor) under the same runner.
#include "model/harness/dpor_backend.h"
#include "model/harness/runner.h"

#include <cstdlib>
#include <new>

// The program's heap, watched for leaks and double frees within an execution.
void* operator new(std::size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  weft::dpor::Engine::allocated(p);
  return p;
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept {
  weft::dpor::Engine::freed(p);
  std::free(p);
}
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }

namespace weft::model::detail {

[[noreturn]] void abandon_execution(const char*, std::source_location) {
  dpor::Engine::current().discard();
}

// exhaustive explores the whole DPOR tree; bounded(k) the traces with at most k
// preemptions (as on Relacy); pct the whole tree (no PCT scheduler on DPOR yet); random(N)
// stops after N executions of the tree's depth-first order.
dpor::Options dpor_options(const RunOptions& options) {
  dpor::Options out;
  if (options.depth_limit != 0) out.depth_limit = options.depth_limit;
  if (options.strategy.search == Search::bounded) {
    out.preemption_bound = static_cast<int>(options.strategy.bound);
  }
  if (options.strategy.search == Search::random) out.max_executions = options.strategy.iterations;
  out.replay = options.replay;
  out.on_complete = [] { execution_end(); };
  return out;
}

Outcome dpor_outcome(const dpor::Result& result) {
  Outcome outcome;
  switch (result.failure) {
    case dpor::Failure::none: outcome.failure = Failure::none; break;
    case dpor::Failure::assertion: outcome.failure = Failure::assertion; break;
    case dpor::Failure::data_race: outcome.failure = Failure::data_race; break;
    case dpor::Failure::deadlock: outcome.failure = Failure::deadlock; break;
    case dpor::Failure::livelock: outcome.failure = Failure::livelock; break;
    case dpor::Failure::leak: outcome.failure = Failure::leak; break;
    case dpor::Failure::double_free: outcome.failure = Failure::use_after_free; break;
    default: outcome.failure = Failure::other; break;
  }
  outcome.failure_text = dpor::describe(result.failure);
  outcome.executions = result.executions;
  outcome.trace = result.trace;
  outcome.replay = result.replay;
  return outcome;
}

}  // namespace weft::model::detail

int main(int argc, char** argv) {
  return weft::model::detail::run_registered(argc, argv, {"dpor", true, true});
}
