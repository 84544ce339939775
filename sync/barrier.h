// weft/sync/barrier.h: Barrier, n tasks wait until all n have arrived, then go on together.
//
// Ported from tokio/src/sync/barrier.rs (Tokio wakes the waiters through a watch channel;
// weft uses a Notify and a generation number under the barrier's lock).
//
//   Barrier(n)    a barrier for n tasks; n == 0 behaves as n == 1, as in Tokio and std
//   wait()        a future: its first poll arrives; it completes when the n-th task of
//                 this generation arrives, with a BarrierWaitResult. Exactly one future
//                 per generation gets is_leader() == true (the one whose arrival completed
//                 the generation); the barrier is then reusable for the next n tasks.
//
// Concurrency: wait() futures may be created and polled from any thread at once; each is
// polled by one thread at a time and must not move after its first poll.
//
// Cancel-safety: not cancel-safe, as in Tokio. A future destroyed after its first poll
// still counts as arrived in its generation (the others are released when the generation
// fills up; nobody learns that one of them left). A future destroyed before its first poll
// never arrived.
//
// Memory ordering: everything each task of a generation did before its first poll of
// wait() happens-before every completion of that generation's wait() futures.
//
//   auto barrier = std::make_shared<weft::Barrier>(3);
//   // in each of 3 tasks:
//   weft::BarrierWaitResult r = weft::block_on(barrier->wait());
//   if (r.is_leader()) { ... }   // exactly one of the three
#pragma once

#include "sync/notify.h"
#include "sync/platform/cell.h"
#include "sync/platform/mutex.h"
#include "sync/task/poll.h"
#include "sync/task/waker.h"

#include <cstddef>
#include <optional>

namespace weft {

// What a Barrier wait completes with.
class BarrierWaitResult {
 public:
  explicit BarrierWaitResult(bool leader) noexcept : leader_(leader) {}
  // True for exactly one wait() future of each generation.
  bool is_leader() const noexcept { return leader_; }

 private:
  bool leader_;
};

class Barrier {
 public:
  class Wait;

  // A barrier that releases its waiters n at a time (n == 0 is taken as 1).
  explicit Barrier(std::size_t n) : n_(n == 0 ? 1 : n) {}
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  // A future that arrives at its first poll and completes when the generation is full.
  [[nodiscard]] Wait wait();

  class [[nodiscard]] Wait {
   public:
    Wait(Wait&& other) noexcept = default;  // before the first poll only

    // Ready with the result once the generation is full (and on every later poll).
    Poll<BarrierWaitResult> poll(Context& cx) {
      if (result_) return *result_;
      if (!arrived_ && arrive()) return *(result_ = BarrierWaitResult(true));
      for (;;) {
        if (notified_->poll(cx).is_pending()) return pending;
        // The Notify completes every future created before a notify_waiters() call, and a
        // later generation's leader may call it: check that ours is the one that ended.
        platform::mutex_guard guard(barrier_->lock_);
        if (barrier_->generation(guard) != generation_) {
          notified_.reset();
          return *(result_ = BarrierWaitResult(false));
        }
        notified_.emplace(barrier_->notify_.notified());
      }
    }

   private:
    friend class Barrier;
    explicit Wait(Barrier* barrier) : barrier_(barrier) {}

    // Counts this task in; returns true when it completes the generation (the leader).
    bool arrive() {
      arrived_ = true;
      bool leader = false;
      {
        platform::mutex_guard guard(barrier_->lock_);
        barrier_->state_.with_mut([&](State& s) {
          generation_ = s.generation;
          if (++s.arrived == barrier_->n_) {
            s.arrived = 0;
            ++s.generation;
            leader = true;
          }
        });
        // Created under the lock, before the leader of this generation can take it: that
        // leader's notify_waiters() comes later and completes this future.
        if (!leader) notified_.emplace(barrier_->notify_.notified());
      }
      if (leader) barrier_->notify_.notify_waiters();
      return leader;
    }

    Barrier* barrier_;
    bool arrived_ = false;
    std::size_t generation_ = 0;
    std::optional<Notified> notified_;
    std::optional<BarrierWaitResult> result_;
  };

 private:
  struct State {
    std::size_t arrived = 0;     // tasks arrived in the current generation
    std::size_t generation = 0;  // completed generations (wrapping)
  };
  std::size_t generation(const platform::mutex_guard&) const {
    return state_.with([](const State& s) { return s.generation; });
  }

  const std::size_t n_;
  platform::mutex lock_;
  platform::cell<State> state_;  // protected by lock_
  // notify_waiters() by each generation's leader, after it released lock_.
  Notify notify_;
};

inline Barrier::Wait Barrier::wait() { return Wait(this); }

}  // namespace weft
