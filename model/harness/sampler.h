// weft/model/harness/sampler.h: the random and PCT strategies' choices, written once for
// every backend (Relacy's scheduler in relacy_sampling_scheduler.h, the DPOR chooser in
// dpor_runner.cc), so a strategy means the same on both.
//
// Random: every step runs a thread chosen uniformly among the runnable ones.
//
// PCT (probabilistic concurrency testing; Burckhardt, Kothari, Musuvathi, Nagarakatte,
// "A Randomized Scheduler with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010):
// each execution gives the n threads distinct random priorities d .. d+n-1 and picks d-1
// change points among the k steps of an execution; the highest-priority runnable thread
// runs, and at change point i the running thread drops to priority d-i. A bug that needs
// d ordering constraints is found with probability at least 1/(n k^(d-1)) per execution,
// where random choices at every step make a thread of a few steps almost always run early.
// k is not known before the first execution: it is the longest execution seen so far.
// A thread that yields (a spin loop's backoff) drops below every other thread, so a
// spinning high-priority thread lets the thread it waits for run.
//
// Execution i of seed s draws from a generator seeded with (s, i) alone, so one execution
// is replayed from its number and k: that pair is the sampler's state.
#pragma once

#include "model/harness/strategy.h"

#include <cstdint>

namespace weft::model::detail {

// splitmix64: small, fast, and good enough to drive schedules.
class splitmix {
 public:
  void seed(std::uint64_t s) { x_ = s; }
  std::uint64_t next() {
    std::uint64_t z = (x_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  unsigned below(unsigned limit) { return static_cast<unsigned>(next() % limit); }

 private:
  std::uint64_t x_ = 0;
};

class Sampler {
 public:
  static constexpr unsigned max_threads = 64;

  // Starts execution `execution` (numbered from 1) of `strategy` over `threads` threads.
  void begin(const Strategy& strategy, std::uint64_t execution, unsigned threads) {
    random_.seed(strategy.seed * 0x2545f4914f6cdd1dull + execution);
    steps_ = 0;
    pct_ = strategy.search == Search::pct;
    if (!pct_) return;
    const int depth = static_cast<int>(strategy.depth);
    for (unsigned i = 0; i != threads; ++i) priority_[i] = depth + static_cast<int>(i);
    for (unsigned i = threads; i > 1; --i) {  // Fisher-Yates
      const unsigned j = random_.below(i);
      const int t = priority_[i - 1];
      priority_[i - 1] = priority_[j];
      priority_[j] = t;
    }
    changes_ = 0;
    for (int i = 1; i < depth && k_ != 0 && changes_ < max_changes; ++i) {
      change_at_[changes_] = 1 + random_.below(k_);
      change_to_[changes_++] = depth - i;
    }
    lowest_ = 0;
  }
  // Ends the execution: PCT's k is the longest seen.
  void end() {
    if (steps_ > k_) k_ = steps_;
  }

  // Counts a scheduling decision (a step of the execution).
  void step() { ++steps_; }
  // Which of the `count` runnable threads runs next. `running` ran the step before (-1:
  // none); `yielded`: that step was a yield.
  int pick(const int* runnable, unsigned count, int running, bool yielded) {
    if (!pct_) return runnable[random_.below(count)];
    if (running >= 0) {
      if (yielded) priority_[running] = --lowest_;
      for (unsigned i = 0; i != changes_; ++i) {
        if (change_at_[i] == steps_) priority_[running] = change_to_[i];
      }
    }
    int best = runnable[0];
    for (unsigned i = 1; i != count; ++i) {
      if (priority_[runnable[i]] > priority_[best]) best = runnable[i];
    }
    return best;
  }
  // A uniform choice among `limit` (a load's store, a timeout, a spurious wakeup).
  unsigned below(unsigned limit) { return random_.below(limit); }

  unsigned k() const { return k_; }
  void set_k(unsigned k) { k_ = k; }

 private:
  static constexpr unsigned max_changes = 16;

  splitmix random_;
  bool pct_ = false;
  unsigned steps_ = 0;
  unsigned k_ = 0;  // PCT's k: the longest execution seen so far, in steps
  int priority_[max_threads] = {};
  int lowest_ = 0;
  unsigned changes_ = 0;
  unsigned change_at_[max_changes] = {};
  int change_to_[max_changes] = {};
};

}  // namespace weft::model::detail
