// Unit tests of AtomicWaker. Ported from tokio/src/sync/tests/atomic_waker.rs, plus the
// re-registration and exception paths.
#include "sync/task/atomic_waker.h"

#include "sync/task/mock_task.h"
#include "testing/throwing_waker.h"
#include "testing/waker_leak_check.h"

#include <doctest/doctest.h>

#include <optional>

#include <stdexcept>

namespace {

using weft::AtomicWaker;
using weft::Context;
using weft::MockTask;
using weft::RawWaker;
using weft::RawWakerVTable;
using weft::Waker;

constexpr RawWakerVTable quiet_vtable{
    [](const void*) {
      return RawWaker{nullptr, &quiet_vtable};
    },
    [](const void*) { FAIL("wake"); },
    [](const void*) { FAIL("wake_by_ref"); },
    [](const void*) noexcept {},
};

TEST_CASE("basic_usage") {
  MockTask task;
  AtomicWaker waker;
  task.enter([&](Context& cx) { waker.register_by_ref(cx.waker()); });
  waker.wake();
  CHECK(task.is_woken());
}

TEST_CASE("wake_without_register") {
  MockTask task;
  AtomicWaker waker;
  waker.wake();
  // Registering should not result in a notification.
  task.enter([&](Context& cx) { waker.register_by_ref(cx.waker()); });
  CHECK_FALSE(task.is_woken());
}

TEST_CASE("atomic_waker_panic_safe") {
  const Waker throwing = weft::testing::throwing_clone_waker();
  const Waker quiet = Waker::from_raw(RawWaker{nullptr, &quiet_vtable});
  AtomicWaker atomic_waker;
  CHECK_THROWS_AS(atomic_waker.register_by_ref(throwing), std::runtime_error);
  CHECK_FALSE(atomic_waker.take_waker().has_value());
  atomic_waker.register_by_ref(quiet);
  CHECK(atomic_waker.take_waker().has_value());
}

TEST_CASE("a throwing clone keeps the previous registration") {
  MockTask task;
  AtomicWaker waker;
  task.enter([&](Context& cx) { waker.register_by_ref(cx.waker()); });
  const Waker throwing = weft::testing::throwing_clone_waker();
  CHECK_THROWS(waker.register_by_ref(throwing));
  waker.wake();
  CHECK(task.is_woken());
}

TEST_CASE("re-registering the same task keeps one handle") {
  MockTask task;
  AtomicWaker waker;
  for (int i = 0; i < 3; ++i) task.enter([&](Context& cx) { waker.register_by_ref(cx.waker()); });
  CHECK(task.waker_ref_count() == 1);
  waker.wake();
  CHECK(task.waker_ref_count() == 0);
  CHECK(task.wake_count() == 1);
}

TEST_CASE("a newer registration replaces and drops the older one") {
  MockTask first;
  MockTask second;
  AtomicWaker waker;
  first.enter([&](Context& cx) { waker.register_by_ref(cx.waker()); });
  second.enter([&](Context& cx) { waker.register_by_ref(cx.waker()); });
  CHECK(first.waker_ref_count() == 0);
  waker.wake();
  CHECK_FALSE(first.is_woken());
  CHECK(second.is_woken());
}

TEST_CASE("take_waker empties the slot") {
  MockTask task;
  AtomicWaker waker;
  CHECK_FALSE(waker.take_waker().has_value());
  task.enter([&](Context& cx) { waker.register_by_ref(cx.waker()); });
  auto taken = waker.take_waker();
  REQUIRE(taken.has_value());
  CHECK_FALSE(waker.take_waker().has_value());
  CHECK_FALSE(task.is_woken());
  taken->wake();
  CHECK(task.is_woken());
}

// The class check of issue 18 (testing/waker_leak_check.h), for the handle itself.
TEST_CASE("dropping a registered AtomicWaker releases the waker") {
  std::optional<AtomicWaker> waker(std::in_place);
  CHECK(weft::testing::waker_released_on_destroy(
      [&](Context& cx) {
        waker->register_by_ref(cx.waker());
        return weft::Poll<void>(weft::pending);
      },
      [&] { waker.reset(); }));
}

}  // namespace
