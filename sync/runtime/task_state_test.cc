// Unit tests of TaskState: each named transition, from each state it distinguishes, on one
// thread (the races are model/task_executor.cc's and model/task_pool.cc's).
#include "sync/runtime/task_state.h"

#include <doctest/doctest.h>

using weft::detail::TaskState;

namespace {
TaskState::Snapshot now(const TaskState& s) { return s.load(std::memory_order_relaxed); }

// A new task taken by a run: RUNNING, joinable, 2 references (handle, queue).
void run(TaskState& s) { REQUIRE(s.transition_to_running() == TaskState::ToRunning::success); }
}  // namespace

TEST_CASE("a new task is queued, joinable, with the handle's and the queue's references") {
  TaskState s;
  CHECK(now(s).is_notified());
  CHECK(now(s).is_join_interested());
  CHECK_FALSE(now(s).is_running());
  CHECK(now(s).ref_count() == 2);
}

TEST_CASE("a wake by reference queues an idle task once, and only marks a running one") {
  TaskState s;
  run(s);
  CHECK_FALSE(s.transition_to_notified_by_ref());  // running: the poller re-queues it
  CHECK(now(s).is_notified());
  CHECK(now(s).ref_count() == 2);
  CHECK(s.transition_to_idle(/*join_list=*/false));  // woken meanwhile: queue again
  CHECK(now(s).ref_count() == 2);                    // the queue's reference kept
  run(s);
  CHECK_FALSE(s.transition_to_idle(/*join_list=*/true));  // idle; the list's reference added
  CHECK(now(s).ref_count() == 2);                         // -queue +list
  CHECK(s.transition_to_notified_by_ref());               // idle: push, with a new reference
  CHECK(now(s).ref_count() == 3);
  CHECK_FALSE(s.transition_to_notified_by_ref());  // notified already: nothing
  CHECK(now(s).ref_count() == 3);
}

TEST_CASE("a wake by value hands over the Waker's reference") {
  TaskState s;
  s.ref_inc();                                                                     // the Waker's
  CHECK(s.transition_to_notified_by_val() == TaskState::NotifiedByVal::drop_ref);  // queued
  run(s);
  CHECK(s.transition_to_notified_by_val() == TaskState::NotifiedByVal::done);
  CHECK(now(s).ref_count() == 2);  // dropped in the CAS
  CHECK(s.transition_to_idle(false));
  run(s);
  CHECK_FALSE(s.transition_to_idle(false));
  CHECK(now(s).ref_count() == 1);
  s.ref_inc();  // a Waker again
  CHECK(s.transition_to_notified_by_val() == TaskState::NotifiedByVal::submit);
  CHECK(now(s).ref_count() == 2);  // now the queue's
}

TEST_CASE("abort queues an idle task, marks a running one, and is asked once") {
  TaskState s;
  run(s);
  CHECK_FALSE(s.transition_to_idle(false));
  CHECK(s.transition_to_notified_and_aborted());  // idle: push it
  CHECK(now(s).is_aborted());
  CHECK(now(s).ref_count() == 2);
  CHECK_FALSE(s.transition_to_notified_and_aborted());  // asked already
  CHECK(s.transition_to_running() == TaskState::ToRunning::aborted);
  const TaskState::Snapshot before = s.transition_to_complete(/*cancelled=*/true);
  CHECK(before.is_join_interested());
  CHECK(now(s).is_complete());
  CHECK(now(s).is_cancelled());
  CHECK_FALSE(now(s).is_notified());
  CHECK_FALSE(s.transition_to_notified_and_aborted());  // complete: left alone
}

TEST_CASE("a run that pops a task cancelled while queued only drops the reference") {
  TaskState s;
  CHECK(s.transition_to_running_for_cancel());  // shutdown takes it from the queue
  CHECK_FALSE(now(s).is_notified());
  (void)s.transition_to_complete(true);
  CHECK_FALSE(s.transition_to_running_for_cancel());  // complete: nothing to cancel
  CHECK(s.transition_to_running() == TaskState::ToRunning::complete);
}

TEST_CASE("the JoinHandle gives up its interest and its reference") {
  TaskState s;
  CHECK(s.drop_join_handle_fast());  // not complete: one CAS
  CHECK_FALSE(now(s).is_join_interested());
  CHECK(now(s).ref_count() == 1);

  TaskState done;
  run(done);
  CHECK(done.transition_to_complete(false).ref_count() == 2);
  CHECK_FALSE(done.drop_join_handle_fast());          // complete: nothing done
  CHECK(done.unset_join_interested().is_complete());  // the output is the handle's
  CHECK_FALSE(done.ref_dec());
  CHECK(done.ref_dec());  // the last reference
}
