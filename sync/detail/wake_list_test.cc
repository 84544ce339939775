#include "sync/detail/wake_list.h"

#include "sync/task/mock_task.h"

#include <doctest/doctest.h>

#include <stdexcept>

namespace {

constexpr weft::RawWakerVTable throwing_wake{
    [](const void*) { return weft::RawWaker{nullptr, &throwing_wake}; },
    [](const void*) { throw std::runtime_error("wake"); },
    [](const void*) { throw std::runtime_error("wake"); },
    [](const void*) noexcept {},
};

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

TEST_CASE("a throwing wake does not stop the others, and is rethrown") {
  weft::MockTask task;
  weft::detail::WakeList list;
  list.push(weft::Waker::from_raw(weft::RawWaker{nullptr, &throwing_wake}));
  list.push(weft::Waker(task.waker()));
  CHECK_THROWS_AS(list.wake_all(), std::runtime_error);
  CHECK(task.wake_count() == 1);
  CHECK(list.empty());
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
