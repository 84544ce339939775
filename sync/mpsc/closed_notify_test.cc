// Unit tests of ClosedNotify (the mpsc channel's Sender::closed() wake-up): more waiters
// than one wake batch, and the library's wake policy (sync/task/waker.h) on its one path.
#include "sync/mpsc/closed_notify.h"

#include "sync/detail/wake_list.h"
#include "sync/task/mock_task.h"
#include "testing/wake_contract_check.h"

#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

namespace {

using weft::mpsc::detail::ClosedNotify;

TEST_CASE("notify_all wakes every waiter, across batches, and stays closed") {
  ClosedNotify notify;
  weft::MockTask task;
  std::vector<ClosedNotify::Waiter> waiters(weft::detail::WakeList::capacity + 3);
  for (ClosedNotify::Waiter& w : waiters) CHECK_FALSE(notify.poll(w, task.waker()));
  notify.notify_all();
  CHECK(task.wake_count() == waiters.size());
  CHECK(task.waker_ref_count() == 0);
  ClosedNotify::Waiter late;
  CHECK(notify.poll(late, task.waker()));
}

TEST_CASE("a throwing wake is a failed invariant: notify_all") {
  CHECK(weft::testing::aborts_on_throwing_wake([] {
    ClosedNotify notify;
    ClosedNotify::Waiter waiter;
    (void)notify.poll(waiter, weft::testing::throwing_wake_waker());
    notify.notify_all();
  }));
}

}  // namespace
