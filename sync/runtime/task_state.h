// weft/sync/runtime/task_state.h: TaskState, a spawned task's state word, and the named
// transitions that are the only way to change it (the scheduler's and the JoinHandle's).
//
// Follows tokio/src/runtime/task/state.rs (the bits, and transitions named as there),
// reduced to what weft's executors need.
#pragma once

#include "sync/platform/atomic.h"
#include "sync/platform/invariant.h"

#include <cstdint>

namespace weft::detail {

class TaskState {
 public:
  // State word (after tokio/src/runtime/task/state.rs):
  //   RUNNING        a worker (or the canceller) is polling or destroying the future;
  //                  only the holder of RUNNING touches the future
  //   COMPLETE       the future is gone: it finished (output stored) or was cancelled;
  //                  never cleared
  //   NOTIFIED       the task must be polled again. Set by a wake. Set while idle: the
  //                  run queue holds the task and one reference. Set while RUNNING: the
  //                  poller re-queues the task (with the reference it already holds)
  //   CANCELLED      with COMPLETE: cancelled (shut down or aborted), no output
  //   JOIN_INTEREST  the JoinHandle is alive; whoever clears it or sets COMPLETE second
  //                  destroys the output
  //   ABORTED        abort was asked before COMPLETE; never cleared. Set with NOTIFIED,
  //                  so some run will see it and cancel instead of polling
  //   bits 6..       reference count: the scheduler's task list (from the first pending
  //                  poll until complete), the JoinHandle, the run queue (while queued),
  //                  every Waker handle
  // Transitions (each one RMW on the word; the caller acts on what it returns):
  //   new task                      NOTIFIED|JOIN_INTEREST, 2 refs (handle, queue)
  //   transition_to_notified_by_ref idle -> NOTIFIED (+1 ref: push); RUNNING -> |NOTIFIED
  //   transition_to_notified_by_val the same with the Waker's own reference: handed to
  //                                 the queue (idle), dropped in the CAS (RUNNING)
  //   transition_to_notified_and_aborted
  //                                 idle -> ABORTED|NOTIFIED (+1 ref: push); else
  //                                 |ABORTED|NOTIFIED
  //   transition_to_running         NOTIFIED -> RUNNING (a run that pops the task)
  //   transition_to_idle            RUNNING -> idle (-1 ref), or NOTIFIED if woken
  //                                 meanwhile (push again); the first pending poll also
  //                                 lists the task (+1 ref, in the same CAS)
  //   transition_to_running_for_cancel  idle or queued -> RUNNING (shutdown)
  //   transition_to_complete        RUNNING -> COMPLETE (|CANCELLED)
  //   drop_join_handle_fast         -JOIN_INTEREST -1 ref, unless COMPLETE
  //   unset_join_interested         -JOIN_INTEREST
  //   ref_inc / ref_dec             +1 / -1 ref
  static constexpr std::uintptr_t RUNNING = 1u << 0;
  static constexpr std::uintptr_t COMPLETE = 1u << 1;
  static constexpr std::uintptr_t NOTIFIED = 1u << 2;
  static constexpr std::uintptr_t CANCELLED = 1u << 3;
  static constexpr std::uintptr_t JOIN_INTEREST = 1u << 4;
  static constexpr std::uintptr_t ABORTED = 1u << 5;
  static constexpr unsigned REF_SHIFT = 6;
  static constexpr std::uintptr_t REF_ONE = std::uintptr_t{1} << REF_SHIFT;

  // One value of the word, read by a load or returned by a transition.
  class Snapshot {
   public:
    constexpr explicit Snapshot(std::uintptr_t bits) noexcept : bits_(bits) {}
    constexpr bool is_running() const noexcept { return (bits_ & RUNNING) != 0; }
    constexpr bool is_complete() const noexcept { return (bits_ & COMPLETE) != 0; }
    constexpr bool is_notified() const noexcept { return (bits_ & NOTIFIED) != 0; }
    constexpr bool is_cancelled() const noexcept { return (bits_ & CANCELLED) != 0; }
    constexpr bool is_join_interested() const noexcept { return (bits_ & JOIN_INTEREST) != 0; }
    constexpr bool is_aborted() const noexcept { return (bits_ & ABORTED) != 0; }
    constexpr std::uintptr_t ref_count() const noexcept { return bits_ >> REF_SHIFT; }

   private:
    std::uintptr_t bits_;
  };

  // A new task: queued (NOTIFIED), joinable, with two references: the JoinHandle and the
  // run queue.
  TaskState() noexcept : word_(NOTIFIED | JOIN_INTEREST | 2 * REF_ONE) {}
  TaskState(const TaskState&) = delete;
  TaskState& operator=(const TaskState&) = delete;

  Snapshot load(std::memory_order order) const noexcept { return Snapshot(word_.load(order)); }

  // A new reference, made from one the caller holds.
  void ref_inc() noexcept {
    // Relaxed: a new reference is made from one the caller holds (as Arc::clone).
    const std::uintptr_t previous = word_.fetch_add(REF_ONE, std::memory_order_relaxed);
    WEFT_INVARIANT(refs(previous) >= 1);
  }

  // Drops a reference; true if it was the last (the caller frees the task).
  bool ref_dec() noexcept {
    // AcqRel: the last owner's delete must see every other owner's use of the task;
    // pairs with the other owners' decrements.
    const std::uintptr_t previous = word_.fetch_sub(REF_ONE, std::memory_order_acq_rel);
    WEFT_INVARIANT(refs(previous) >= 1);
    return refs(previous) == 1;
  }

  // A wake by reference. True: the task was idle and now holds a new reference for the
  // run queue, which the caller pushes it on.
  bool transition_to_notified_by_ref() noexcept {
    std::uintptr_t current = word_.load(std::memory_order_relaxed);
    for (;;) {
      // Complete: nothing to poll. Notified: a poll is already owed; it comes after
      // whatever registration this waker came from (that registration and this wake
      // synchronize through the primitive that holds the waker), so it sees what the
      // waking thread did.
      if ((current & (COMPLETE | NOTIFIED)) != 0) return false;
      std::uintptr_t next = current | NOTIFIED;
      // Idle: the run queue gets a reference. Running: the poller re-queues it.
      if ((current & RUNNING) == 0) next += REF_ONE;
      // Release: pairs with the Acquire CAS in transition_to_running(), so what this
      // thread did before the wake happens-before the poll it causes.
      if (word_.compare_exchange_strong(current, next, std::memory_order_release,
                                        std::memory_order_relaxed)) {
        return (current & RUNNING) == 0;
      }
    }
  }

  // What a wake by value, which hands over the Waker's reference, leaves to its caller.
  enum class NotifiedByVal {
    drop_ref,  // complete, or notified already: nothing to queue; drop the reference
    submit,    // was idle: push it (the reference is now the queue's)
    done,      // was running: the reference was dropped in the CAS (the poller re-queues)
  };
  NotifiedByVal transition_to_notified_by_val() noexcept {
    std::uintptr_t current = word_.load(std::memory_order_relaxed);
    for (;;) {
      if ((current & (COMPLETE | NOTIFIED)) != 0) return NotifiedByVal::drop_ref;
      const bool running = (current & RUNNING) != 0;
      const std::uintptr_t next = running ? (current | NOTIFIED) - REF_ONE : current | NOTIFIED;
      // Release: pairs with the Acquire CAS in transition_to_running() (as in
      // transition_to_notified_by_ref); a dropped reference is never the last (the poller
      // holds one), and every later RMW on the word continues this release sequence up to
      // the last ref_dec()'s Acquire.
      if (word_.compare_exchange_strong(current, next, std::memory_order_release,
                                        std::memory_order_relaxed)) {
        return running ? NotifiedByVal::done : NotifiedByVal::submit;
      }
    }
  }

  // abort: asks for the task to be cancelled. True: the task was idle and now holds a new
  // reference for the run queue, which the caller pushes it on. False: nothing to do
  // (complete, or asked already), or a run will see ABORTED (queued: when popped;
  // running: the poller re-queues it).
  bool transition_to_notified_and_aborted() noexcept {
    std::uintptr_t current = word_.load(std::memory_order_relaxed);
    for (;;) {
      if ((current & (COMPLETE | ABORTED)) != 0) return false;  // finished, or asked already
      std::uintptr_t next = current | ABORTED;
      // Idle: queue it (with a reference) as a wake would. Running: make the poller
      // re-queue it. Queued (NOTIFIED, not running): its run will see ABORTED.
      const bool queue = (current & (RUNNING | NOTIFIED)) == 0;
      if (queue) next += REF_ONE;
      next |= NOTIFIED;
      // Release: pairs with the Acquire CAS in transition_to_running() (as a wake), so the
      // run that sees ABORTED also sees what the aborting thread did before.
      if (word_.compare_exchange_strong(current, next, std::memory_order_release,
                                        std::memory_order_relaxed)) {
        return queue;
      }
    }
  }

  // What a run that popped the task (with the queue's reference) does next.
  enum class ToRunning {
    success,   // RUNNING is ours: poll the future
    aborted,   // RUNNING is ours, and abort was asked: cancel instead of polling
    complete,  // cancelled while queued: only drop the queue's reference
  };
  ToRunning transition_to_running() noexcept {
    std::uintptr_t current = word_.load(std::memory_order_relaxed);
    for (;;) {
      WEFT_INVARIANT((current & RUNNING) == 0);
      if ((current & COMPLETE) != 0) return ToRunning::complete;
      WEFT_INVARIANT((current & NOTIFIED) != 0);
      // Acquire: pairs with the Release CAS in transition_to_notified_by_ref() (and the
      // other wakes) and in transition_to_idle() (the previous poll's end): the future's
      // state, what the waker wrote.
      if (word_.compare_exchange_strong(current, (current & ~NOTIFIED) | RUNNING,
                                        std::memory_order_acquire, std::memory_order_relaxed)) {
        return (current & ABORTED) != 0 ? ToRunning::aborted : ToRunning::success;
      }
    }
  }

  // A poll returned pending. Gives up RUNNING and the queue's reference, unless a wake
  // came during the poll (NOTIFIED): then the reference is kept and the result is true,
  // and the caller queues the task again. `join_list`: the task joins the scheduler's
  // list now, and the list's reference is added in the same CAS.
  bool transition_to_idle(bool join_list) noexcept {
    std::uintptr_t current = word_.load(std::memory_order_relaxed);
    std::uintptr_t next;
    do {
      WEFT_INVARIANT((current & RUNNING) != 0 && (current & COMPLETE) == 0);
      next = current & ~RUNNING;
      // Woken during the poll: keep the queue's reference and queue it again.
      if ((current & NOTIFIED) == 0) next -= REF_ONE;
      if (join_list) next += REF_ONE;
      // Release: pairs with the Acquire CAS in the next transition_to_running() (the
      // future's state).
    } while (!word_.compare_exchange_strong(current, next, std::memory_order_release,
                                            std::memory_order_relaxed));
    WEFT_INVARIANT(refs(next) >= 1);  // the task list's reference, at least
    return (current & NOTIFIED) != 0;
  }

  // Shutdown takes a task no worker can run any more. False: it is complete already.
  // NOTIFIED is cleared: a queued task stays queued with its reference, and its pop
  // finds it COMPLETE.
  bool transition_to_running_for_cancel() noexcept {
    std::uintptr_t current = word_.load(std::memory_order_relaxed);
    for (;;) {
      WEFT_INVARIANT((current & RUNNING) == 0);  // no worker runs any more
      if ((current & COMPLETE) != 0) return false;
      // Acquire: pairs with the Release CAS in transition_to_idle() that ended the last
      // poll (the future's state).
      if (word_.compare_exchange_strong(current, (current & ~NOTIFIED) | RUNNING,
                                        std::memory_order_acquire, std::memory_order_relaxed)) {
        return true;
      }
    }
  }

  // The holder of RUNNING destroyed the future (and stored the output unless
  // `cancelled`): sets COMPLETE (and CANCELLED). A wake during the poll or the
  // destruction (NOTIFIED while RUNNING) took no reference: it is cleared. Returns the
  // word before: whether the JoinHandle still wants the output, and how many references
  // there were (the caller's among them).
  Snapshot transition_to_complete(bool cancelled) noexcept {
    std::uintptr_t current = word_.load(std::memory_order_relaxed);
    const std::uintptr_t set = cancelled ? (COMPLETE | CANCELLED) : COMPLETE;
    // AcqRel: Release publishes the output (or the cancellation) to the JoinHandle (its
    // Acquire load of COMPLETE); Acquire pairs with unset_join_interested()'s Release
    // and with every earlier ref_dec()'s Release.
    while (!word_.compare_exchange_strong(current, (current & ~(RUNNING | NOTIFIED)) | set,
                                          std::memory_order_acq_rel, std::memory_order_relaxed)) {
    }
    return Snapshot(current);
  }

  // The JoinHandle is dropped before the task completed: gives up JOIN_INTEREST and the
  // handle's reference in one CAS (the task then holds another one: the queue's, or the
  // list's). False, with nothing done, if the task is complete.
  bool drop_join_handle_fast() noexcept {
    std::uintptr_t current = word_.load(std::memory_order_relaxed);
    while ((current & COMPLETE) == 0) {
      WEFT_INVARIANT(refs(current) >= 2);
      // Release: pairs with the Acquire of transition_to_complete()'s CAS (which then
      // owns the output, as after unset_join_interested()) and of the last ref_dec()
      // (the handle's use of the task happens-before its free).
      if (word_.compare_exchange_strong(current, (current & ~JOIN_INTEREST) - REF_ONE,
                                        std::memory_order_release, std::memory_order_relaxed)) {
        return true;
      }
    }
    return false;
  }

  // Gives up JOIN_INTEREST; returns the word before (if COMPLETE, the output is the
  // caller's to destroy).
  Snapshot unset_join_interested() noexcept {
    std::uintptr_t current = word_.load(std::memory_order_relaxed);
    // AcqRel: Release pairs with the Acquire of transition_to_complete()'s CAS (which
    // then owns the output); Acquire pairs with transition_to_complete()'s Release (if
    // COMPLETE, we own it).
    while (!word_.compare_exchange_strong(current, current & ~JOIN_INTEREST,
                                          std::memory_order_acq_rel, std::memory_order_relaxed)) {
    }
    return Snapshot(current);
  }

 private:
  static constexpr std::uintptr_t refs(std::uintptr_t word) { return word >> REF_SHIFT; }

  platform::atomic<std::uintptr_t> word_;
};

}  // namespace weft::detail
