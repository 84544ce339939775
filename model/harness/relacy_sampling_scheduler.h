// weft/model/harness/relacy_sampling_scheduler.h: the random and PCT strategies as a
// Relacy scheduler. Model build only; included by relacy_backend.h.
//
// The choices themselves are sampler.h's, shared with the DPOR backend; this adapts them
// to Relacy's scheduler interface, adding timed-wait timeouts and spurious wakeups.
#pragma once

#include "model/harness/sampler.h"
#include "model/harness/strategy.h"
#include "sync/platform/config.h"

#include <cstdint>

namespace weft::model::detail {

// The strategy of the run in progress (set by the Relacy driver, read by schedulers).
const Strategy& current_strategy();

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
    sampler_.begin(current_strategy(), this->iter_, thread_count);
    rl::unpark_reason reason;
    return schedule_impl(reason, 0);
  }

  bool iteration_end_impl() {
    sampler_.end();
    return this->iter_ >= this->params_.iteration_count;
  }

  rl::thread_id_t schedule_impl(rl::unpark_reason& reason, unsigned yield) {
    sampler_.step();
    reason = rl::unpark_reason_normal;
    const unsigned running = static_cast<unsigned>(this->running_threads_count);
    const unsigned timed = static_cast<unsigned>(this->timed_thread_count_);
    const unsigned spurious = static_cast<unsigned>(this->spurious_thread_count_);
    // Timed waits time out, and spurious wakeups happen, now and then, as in Relacy's own
    // random scheduler: a timed waiter is woken for sure when nothing else can run.
    if (timed != 0) {
      const unsigned pick = sampler_.below(running != 0 ? timed * 4 : timed);
      if (pick < timed) {
        return wake(this->timed_threads_[pick], reason, rl::unpark_reason_timeout);
      }
    }
    if (spurious != 0 && running != 0) {
      const unsigned pick = sampler_.below(spurious * 8);
      if (pick < spurious) {
        return wake(this->spurious_threads_[pick], reason, rl::unpark_reason_spurious);
      }
    }
    const int current = this->thread_ != nullptr ? this->thread_->index_ : -1;
    return sampler_.pick(this->running_threads.data(), running, current, yield != 0);
  }

  unsigned rand_impl(unsigned limit, rl::sched_type) { return sampler_.below(limit); }
  rl::iteration_t iteration_count_impl() { return this->params_.iteration_count; }
  void get_state_impl(std::ostream& out) { out << sampler_.k() << " "; }
  void set_state_impl(std::istream& in) {
    unsigned k = 0;
    in >> k;
    sampler_.set_k(k);
  }
  void on_thread_block(rl::thread_id_t, bool) {}

  // The share of the run done, for progress lines.
  double explored() const {
    return static_cast<double>(this->iter_) / static_cast<double>(this->params_.iteration_count);
  }
  // A discarded execution is simply followed by the next one.
  bool skip_discarded() { return true; }

 private:
  rl::thread_id_t wake(thread_info_t* t, rl::unpark_reason& reason, rl::unpark_reason why) {
    this->unpark_thread(t->index_);
    reason = why;
    return t->index_;
  }

  Sampler sampler_;
};

}  // namespace weft::model::detail
