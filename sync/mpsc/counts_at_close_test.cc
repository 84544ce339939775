// Unit tests: the counts an mpsc channel reports stay exact through close, at every way a
// channel ends (the class of tokio#8062, where len() underflowed when the close slot was
// counted as a value): len() / is_empty() around block boundaries, capacity() and
// max_capacity() with permits out, and the strong / weak sender counts through drops and
// failed upgrades. A count that wrapped would show as a huge number.
#include "sync/mpsc/bounded.h"
#include "sync/mpsc/unbounded.h"

#include "sync/task/mock_task.h"

#include <doctest/doctest.h>

#include <cstddef>
#include <optional>
#include <utility>

namespace {

using weft::mpsc::channel;
using weft::mpsc::unbounded_channel;
using weft::mpsc::detail::BLOCK_CAP;

// Sends n values, ends the channel (`close_by_receiver`: rx.close(); else every sender
// goes), then receives them one by one: len() is exact at each step, and 0 at the end.
template <class Make>
void check_len_through_close(Make make, std::size_t n, bool close_by_receiver) {
  CAPTURE(n);
  CAPTURE(close_by_receiver);
  auto [tx, rx] = make(n);
  std::optional<std::decay_t<decltype(tx)>> sender(std::move(tx));
  for (std::size_t i = 0; i < n; ++i) {
    if constexpr (requires { sender->try_send(0); }) {
      REQUIRE(sender->try_send(static_cast<int>(i)).is_ok());
    } else {
      REQUIRE(sender->send(static_cast<int>(i)).is_ok());
    }
  }
  CHECK(rx.len() == n);
  if (close_by_receiver) {
    rx.close();
  } else {
    sender.reset();
  }
  for (std::size_t left = n; left > 0; --left) {
    CHECK(rx.len() == left);
    CHECK_FALSE(rx.is_empty());
    REQUIRE(rx.try_recv().is_ok());
  }
  CHECK(rx.len() == 0);
  CHECK(rx.is_empty());
  CHECK(rx.blocking_recv() == std::nullopt);
  CHECK(rx.len() == 0);
  CHECK(rx.is_empty());
}

TEST_CASE("len_through_close") {
  for (std::size_t n :
       {std::size_t{0}, std::size_t{1}, BLOCK_CAP - 1, BLOCK_CAP, BLOCK_CAP + 1, 2 * BLOCK_CAP}) {
    for (bool by_receiver : {false, true}) {
      check_len_through_close([](std::size_t cap) { return channel<int>(cap + 1); }, n,
                              by_receiver);
      check_len_through_close([](std::size_t) { return unbounded_channel<int>(); }, n, by_receiver);
    }
  }
}

// A permit out over close() is capacity, not a value: len() does not count it; capacity()
// does, and is whole again once it is back.
TEST_CASE("capacity_and_len_with_permit_out_through_close") {
  auto [tx, rx] = channel<int>(3);
  REQUIRE(tx.try_send(1).is_ok());
  auto permit = tx.try_reserve();
  REQUIRE(permit.is_ok());
  rx.close();
  CHECK(rx.len() == 1);
  CHECK(tx.capacity() == 1);
  CHECK(rx.capacity() == 1);
  CHECK(tx.max_capacity() == 3);
  CHECK(rx.max_capacity() == 3);
  CHECK(rx.try_recv().value() == 1);
  CHECK(rx.capacity() == 2);
  { auto dropped = std::move(*permit); }
  CHECK(rx.len() == 0);
  CHECK(rx.capacity() == 3);
  CHECK(rx.max_capacity() == 3);
  CHECK(rx.blocking_recv() == std::nullopt);
  CHECK(rx.capacity() == 3);
}

// The receiver's drop destroys the queued values and gives their capacity back: the
// senders see the whole bound, never more.
TEST_CASE("capacity_after_receiver_drop") {
  auto [tx, rx] = channel<int>(2);
  REQUIRE(tx.try_send(1).is_ok());
  REQUIRE(tx.try_send(2).is_ok());
  CHECK(tx.capacity() == 0);
  { auto dropped = std::move(rx); }
  CHECK(tx.capacity() == 2);
  CHECK(tx.max_capacity() == 2);
  CHECK(tx.try_send(3).is_err());
  CHECK(tx.capacity() == 2);
}

// Strong and weak counts through every drop, a failed reserve_owned (its Sender goes), an
// OwnedPermit (holds one), and upgrades after the last strong sender is gone.
TEST_CASE("sender_counts_through_close") {
  auto [tx, rx] = channel<int>(1);
  auto weak = tx.downgrade();
  CHECK(rx.sender_strong_count() == 1);
  CHECK(rx.sender_weak_count() == 1);
  auto owned = weft::mpsc::Sender<int>(tx).try_reserve_owned();
  REQUIRE(owned.is_ok());
  CHECK(tx.strong_count() == 2);
  {
    weft::MockTask task;
    auto full = weft::mpsc::Sender<int>(tx).reserve_owned();
    CHECK(task.poll(full).is_pending());
    CHECK(tx.strong_count() == 3);
    rx.close();
    CHECK(task.poll(full).value().is_err());
    CHECK(tx.strong_count() == 2);  // the failed future let its Sender go
  }
  { auto dropped = std::move(*owned); }
  CHECK(rx.sender_strong_count() == 1);
  { auto dropped = std::move(tx); }
  CHECK(rx.sender_strong_count() == 0);
  CHECK(weak.strong_count() == 0);
  CHECK_FALSE(weak.upgrade().has_value());
  CHECK_FALSE(weak.upgrade().has_value());
  CHECK(weak.strong_count() == 0);
  CHECK(weak.weak_count() == 1);
  {
    auto copy = weak;
    CHECK(rx.sender_weak_count() == 2);
  }
  CHECK(rx.sender_weak_count() == 1);
  { auto dropped = std::move(weak); }
  CHECK(rx.sender_weak_count() == 0);
  CHECK(rx.sender_strong_count() == 0);
}

TEST_CASE("unbounded_sender_counts_through_close") {
  auto [tx, rx] = unbounded_channel<int>();
  auto weak = tx.downgrade();
  { auto dropped = std::move(rx); }
  CHECK(tx.strong_count() == 1);
  CHECK(tx.weak_count() == 1);
  auto upgraded = weak.upgrade();  // the receiver is gone, a strong sender is not
  REQUIRE(upgraded.has_value());
  CHECK(tx.strong_count() == 2);
  upgraded.reset();
  { auto dropped = std::move(tx); }
  CHECK(weak.strong_count() == 0);
  CHECK_FALSE(weak.upgrade().has_value());
  CHECK(weak.strong_count() == 0);
  CHECK(weak.weak_count() == 1);
}

}  // namespace
