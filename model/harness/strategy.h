// weft/model/harness/strategy.h: how a scenario's interleavings are searched, and what
// a run reports. Shared by both backends and the runner.
#pragma once

#include "sync/platform/config.h"  // first: the model build must see Relacy before std

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft::model {

enum class Search {
  exhaustive,  // every interleaving (Relacy's full search); cost grows fast with steps
  bounded,     // every interleaving with at most `bound` preemptions (Loom's default, 2)
  random,      // `iterations` random interleavings, from `seed`
  pct,         // `iterations` PCT executions for bugs of depth `depth`, from `seed`
};

struct Strategies;

struct Strategy {
  Search search = Search::bounded;
  unsigned bound = 2;
  std::uint64_t iterations = 10000;
  std::uint64_t seed = 0;
  unsigned depth = 0;  // pct: the bug depth d (d - 1 priority change points)

  // "exhaustive", "bounded(2)", "random(10000, seed 0)", "pct(10000, depth 3, seed 0)".
  std::string describe() const;
  // Parses "exhaustive", "bounded:K", "random:N[:SEED]" or "pct:N:D[:SEED]".
  static std::optional<Strategy> parse(std::string_view text);
  // The form parse() reads, for replay command lines.
  std::string spelling() const;
  // This strategy on Relacy, `dpor` on weft's DPOR checker: `pct(30000, 3).on_dpor(bounded(2))`.
  Strategies on_dpor(Strategy dpor) const;
};

// A scenario's default strategy per model backend: a plain Strategy means the same on both;
// `s.on_dpor(d)` names what DPOR runs, whose reduced tree often affords a bound or a proof
// where Relacy must sample (model/harness/README.md, "Strategies"). The real-thread backend
// ignores both.
struct Strategies {
  Strategy relacy;
  Strategy dpor;
  Strategies(Strategy both) : relacy(both), dpor(both) {}  // NOLINT: implicit on purpose
  Strategies(Strategy on_relacy, Strategy on_dpor) : relacy(on_relacy), dpor(on_dpor) {}
};

inline Strategies Strategy::on_dpor(Strategy dpor) const { return Strategies(*this, dpor); }

inline Strategy exhaustive() { return Strategy{Search::exhaustive, 0, 0, 0}; }
inline Strategy bounded(unsigned preemptions) {
  return Strategy{Search::bounded, preemptions, 0, 0};
}
inline Strategy random(std::uint64_t iterations, std::uint64_t seed = 0) {
  return Strategy{Search::random, 0, iterations, seed};
}
// Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): finds a bug that
// needs `depth` ordering constraints with probability at least 1/(n k^(depth-1)) per
// execution (n threads, k steps), where random(N) may need exponentially many.
inline Strategy pct(std::uint64_t iterations, unsigned depth, std::uint64_t seed = 0) {
  return Strategy{Search::pct, 0, iterations, seed, depth};
}

// What a scenario run found. `none` is success.
enum class Failure {
  none,
  data_race,
  assertion,
  deadlock,
  livelock,
  leak,
  use_after_free,
  other,
};

const char* describe(Failure failure);

// The runner's instructions for one scenario run.
struct RunOptions {
  Strategy strategy;
  std::string replay;        // a failing execution's state, from an earlier report
  bool verbose = false;      // print the trace even for expected failures
  unsigned depth_limit = 0;  // steps per execution before LIVELOCK; 0: Relacy's 2000
  double time_limit = 0;     // seconds; 0: none (see execution_end())
  unsigned jobs = 1;         // DPOR backend: processes the search is split over
};

// What one scenario run reports back to the runner.
struct Outcome {
  Failure failure = Failure::none;
  std::string failure_text;      // the checker's own name for it ("DATA RACE")
  std::uint64_t executions = 0;  // discarded ones included
  bool stopped_early = false;    // the time limit ended the search before its end
  std::string trace;             // the interleaving that failed
  std::string replay;            // state that replays exactly that execution
};

namespace detail {
using RunScenario = Outcome (*)(const RunOptions&);
}

}  // namespace weft::model
