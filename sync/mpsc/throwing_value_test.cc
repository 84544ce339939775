// weft/sync/mpsc/throwing_value_test.cc: a value whose constructor throws inside a send
// (Block::write): the exception reaches the sender, the slot it claimed becomes a hole
// the receiver passes, a bounded channel gets the capacity back, nothing hangs or leaks.
#include "sync/mpsc/bounded.h"
#include "sync/mpsc/unbounded.h"
#include "testing/move_may_throw.h"

#include <doctest/doctest.h>

#include <optional>
#include <stdexcept>
#include <utility>

namespace {

using weft::testing::MoveMayThrow;

// `send(v)` sends a copy of v through one flavour; the checks are the same for both. With
// a bound of 1, each send needs the capacity of the one before it back.
template <class Send, class Rx>
void check_hole_is_passed(Send send, Rx& rx) {
  for (int round = 0; round < 3; ++round) {
    const MoveMayThrow bad(10 * round + 1, true);
    CHECK_THROWS_AS(send(bad), std::runtime_error);
    const MoveMayThrow good(10 * round + 2, false);
    send(good);
    std::optional<MoveMayThrow> got = rx.blocking_recv();
    REQUIRE(got.has_value());
    CHECK(got->value == 10 * round + 2);
  }
  CHECK(rx.try_recv().error() == weft::mpsc::TryRecvError::Empty);
  CHECK(rx.len() == 0);
}

}  // namespace

TEST_CASE("unbounded: a throwing value leaves a hole the receiver passes") {
  auto [tx, rx] = weft::mpsc::unbounded_channel<MoveMayThrow>();
  check_hole_is_passed([&tx](const MoveMayThrow& v) { (void)tx.send(v); }, rx);
}

TEST_CASE("bounded: a throwing value gives its capacity back") {
  auto [tx, rx] = weft::mpsc::channel<MoveMayThrow>(1);
  check_hole_is_passed(
      [&tx](const MoveMayThrow& v) {
        if (tx.try_send(v).is_err()) FAIL("try_send found no capacity");
      },
      rx);
  CHECK(tx.capacity() == 1);
}

TEST_CASE("bounded: a permit's throwing send gives its capacity back to a closed receiver") {
  auto [tx, rx] = weft::mpsc::channel<MoveMayThrow>(1);
  auto permit = tx.try_reserve();
  REQUIRE(permit.is_ok());
  rx.close();
  const MoveMayThrow bad(1, true);
  CHECK_THROWS_AS(std::move(permit.value()).send(bad), std::runtime_error);
  CHECK(rx.blocking_recv() == std::nullopt);  // the capacity is back: the end, no hang
}
