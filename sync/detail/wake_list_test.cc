#include "sync/detail/wake_list.h"

#include "sync/platform/mutex.h"
#include "sync/task/mock_task.h"
#include "testing/wake_contract_check.h"

#include <doctest/doctest.h>

#include <cstddef>

namespace {

TEST_CASE("wake_all wakes every waker once and empties the list") {
  weft::MockTask a, b;
  weft::detail::WakeList list;
  list.push(weft::Waker(a.waker()));
  list.push(weft::Waker(b.waker()));
  CHECK(list.size() == 2);
  list.wake_all();
  CHECK(list.empty());
  CHECK(a.wake_count() == 1);
  CHECK(b.wake_count() == 1);
  CHECK(a.waker_ref_count() == 0);
}

TEST_CASE("holds 32 wakers") {
  weft::MockTask task;
  weft::detail::WakeList list;
  for (std::size_t i = 0; i < weft::detail::WakeList::capacity; ++i) {
    list.push(weft::Waker(task.waker()));
  }
  CHECK_FALSE(list.can_push());
  list.wake_all();
  CHECK(task.wake_count() == 32);
}

// The wake policy (sync/task/waker.h): a throwing wake is a failed invariant, never an
// exception out of wake_all.
TEST_CASE("a throwing wake in wake_all is a failed invariant") {
  CHECK(weft::testing::aborts_on_throwing_wake([] {
    weft::detail::WakeList list;
    list.push(weft::testing::throwing_wake_waker());
    list.wake_all();
  }));
}

// wake_in_batches: every batch is woken with the lock released, and collect runs again
// (under the lock) until it reports nothing more.
TEST_CASE("wake_in_batches wakes batch after batch outside the lock") {
  weft::platform::mutex lock;
  weft::MockTask task;
  const std::size_t total = 2 * weft::detail::WakeList::capacity + 3;
  std::size_t collected = 0;
  int batches = 0;
  weft::platform::mutex_guard guard(lock);
  weft::detail::wake_in_batches(guard, lock, [&](weft::detail::WakeList& wakers) {
    ++batches;
    CHECK_FALSE(lock.try_lock());  // held while collecting
    while (wakers.can_push() && collected < total) {
      wakers.push(weft::Waker(task.waker()));
      ++collected;
    }
    return collected < total;
  });
  CHECK(batches == 3);
  CHECK(task.wake_count() == total);
  CHECK(lock.try_lock());  // released on return
  lock.unlock();
}

TEST_CASE("a throwing wake in wake_in_batches is a failed invariant") {
  CHECK(weft::testing::aborts_on_throwing_wake([] {
    weft::platform::mutex lock;
    weft::platform::mutex_guard guard(lock);
    weft::detail::wake_in_batches(guard, lock, [](weft::detail::WakeList& wakers) {
      wakers.push(weft::testing::throwing_wake_waker());
      return false;
    });
  }));
}

TEST_CASE("destroying an unwoken list drops its wakers") {
  weft::MockTask task;
  {
    weft::detail::WakeList list;
    list.push(weft::Waker(task.waker()));
    CHECK(task.waker_ref_count() == 1);
  }
  CHECK(task.waker_ref_count() == 0);
  CHECK(task.wake_count() == 0);
}
}  // namespace
