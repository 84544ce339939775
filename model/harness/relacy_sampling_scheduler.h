// weft/model/harness/relacy_sampling_scheduler.h: the random and PCT strategies as a
// Relacy scheduler. Model build only; included by relacy_backend.h.
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
// is replayed from its number and k: that pair is the scheduler's state.
#pragma once

#include "model/harness/strategy.h"
#include "sync/platform/config.h"

#include <cstdint>

namespace weft::model::detail {

// The strategy of the run in progress (set by the Relacy driver, read by schedulers).
const Strategy& current_strategy();

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

template <rl::thread_id_t thread_count>
class sampling_scheduler : public rl::scheduler<sampling_scheduler<thread_count>,
                                                rl::scheduler_thread_info, thread_count> {
  using base_t =
      rl::scheduler<sampling_scheduler<thread_count>, rl::scheduler_thread_info, thread_count>;

 public:
  using thread_info_t = typename base_t::thread_info_t;
  using shared_context_t = typename base_t::shared_context_t;
  struct task_t {};

  sampling_scheduler(rl::test_params& params, shared_context_t& ctx, rl::thread_id_t dynamic)
      : base_t(params, ctx, dynamic) {}

  rl::thread_id_t iteration_begin_impl() {
    const Strategy& s = current_strategy();
    random_.seed(s.seed * 0x2545f4914f6cdd1dull + this->iter_);
    steps_ = 0;
    pct_ = s.search == Search::pct;
    if (pct_) {
      const int depth = static_cast<int>(s.depth);
      for (rl::thread_id_t i = 0; i != thread_count; ++i)
        priority_[i] = depth + static_cast<int>(i);
      for (rl::thread_id_t i = thread_count; i > 1; --i) {  // Fisher-Yates
        const unsigned j = random_.below(i);
        const int t = priority_[i - 1];
        priority_[i - 1] = priority_[j];
        priority_[j] = t;
      }
      changes_ = 0;
      for (int i = 1; i < depth && k_ != 0 && changes_ < max_changes; ++i) {
        change_at_[changes_] = 1 + random_.below(static_cast<unsigned>(k_));
        change_to_[changes_++] = depth - i;
      }
      lowest_ = 0;
    }
    rl::unpark_reason reason;
    return schedule_impl(reason, 0);
  }

  bool iteration_end_impl() {
    if (steps_ > k_) k_ = steps_;
    return this->iter_ >= this->params_.iteration_count;
  }

  rl::thread_id_t schedule_impl(rl::unpark_reason& reason, unsigned yield) {
    ++steps_;
    reason = rl::unpark_reason_normal;
    const unsigned running = static_cast<unsigned>(this->running_threads_count);
    const unsigned timed = static_cast<unsigned>(this->timed_thread_count_);
    const unsigned spurious = static_cast<unsigned>(this->spurious_thread_count_);
    // Timed waits time out, and spurious wakeups happen, now and then, as in Relacy's own
    // random scheduler: a timed waiter is woken for sure when nothing else can run.
    if (timed != 0) {
      const unsigned pick = random_.below(running != 0 ? timed * 4 : timed);
      if (pick < timed) {
        return wake(this->timed_threads_[pick], reason, rl::unpark_reason_timeout);
      }
    }
    if (spurious != 0 && running != 0) {
      const unsigned pick = random_.below(spurious * 8);
      if (pick < spurious) {
        return wake(this->spurious_threads_[pick], reason, rl::unpark_reason_spurious);
      }
    }
    if (!pct_) return this->running_threads[random_.below(running)];

    if (this->thread_ != nullptr) {
      const rl::thread_id_t current = this->thread_->index_;
      if (yield != 0) priority_[current] = --lowest_;
      for (unsigned i = 0; i != changes_; ++i) {
        if (change_at_[i] == steps_) priority_[current] = change_to_[i];
      }
    }
    rl::thread_id_t best = this->running_threads[0];
    for (unsigned i = 1; i != running; ++i) {
      const rl::thread_id_t t = this->running_threads[i];
      if (priority_[t] > priority_[best]) best = t;
    }
    return best;
  }

  unsigned rand_impl(unsigned limit, rl::sched_type) { return random_.below(limit); }
  rl::iteration_t iteration_count_impl() { return this->params_.iteration_count; }
  void get_state_impl(std::ostream& out) { out << k_ << " "; }
  void set_state_impl(std::istream& in) { in >> k_; }
  void on_thread_block(rl::thread_id_t, bool) {}

  // The share of the run done, for progress lines.
  double explored() const {
    return static_cast<double>(this->iter_) / static_cast<double>(this->params_.iteration_count);
  }
  // A discarded execution is simply followed by the next one.
  bool skip_discarded() { return true; }

 private:
  static constexpr unsigned max_changes = 16;

  rl::thread_id_t wake(thread_info_t* t, rl::unpark_reason& reason, rl::unpark_reason why) {
    this->unpark_thread(t->index_);
    reason = why;
    return t->index_;
  }

  splitmix random_;
  bool pct_ = false;
  unsigned steps_ = 0;
  unsigned k_ = 0;  // PCT's k: the longest execution seen so far, in steps
  int priority_[thread_count] = {};
  int lowest_ = 0;
  unsigned changes_ = 0;
  unsigned change_at_[max_changes] = {};
  int change_to_[max_changes] = {};
};

}  // namespace weft::model::detail
