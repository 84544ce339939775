// Unit tests of the mpsc block list: values cross many blocks in FIFO order, and in the
// steady state the channels allocate nothing per message (emptied blocks are recycled,
// as tokio/src/sync/mpsc/list.rs reclaim_blocks / try_push do).
#include "sync/mpsc/bounded.h"
#include "sync/platform/atomic.h"
#include "sync/mpsc/list.h"
#include "sync/mpsc/unbounded.h"
#include "sync/task/mock_task.h"
#include "testing/counting_new.h"  // counts every allocation of this test binary

#include <doctest/doctest.h>

#include <cstdlib>
#include <new>
#include <optional>

namespace {

namespace mpsc = weft::mpsc;
using mpsc::detail::BLOCK_CAP;

long allocations_now() { return weft::testing::allocations(); }

TEST_CASE("list_fifo_across_blocks") {
  auto* initial = new mpsc::detail::Block<int>(0);
  mpsc::detail::ListTx<int> tx(initial);
  mpsc::detail::ListRx<int> rx(initial);
  std::optional<int> value;
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 7 * round % 100; ++i) tx.push(next_in++);
    while (rx.pop(tx, value) == mpsc::detail::ReadStatus::Value) {
      CHECK(*value == next_out++);
    }
    CHECK(rx.len(tx) == 0);
  }
  CHECK(next_in == next_out);
  tx.close();
  CHECK(rx.pop(tx, value) == mpsc::detail::ReadStatus::Closed);
  CHECK(rx.try_pop(tx, value) == mpsc::detail::TryPop::Closed);
  rx.free_blocks();
}

TEST_CASE("unbounded_steady_state_allocates_nothing") {
  auto [tx, rx] = mpsc::unbounded_channel<long>();
  // Warm up: a few blocks' worth in flight, so the list holds its working set.
  for (long i = 0; i < static_cast<long>(4 * BLOCK_CAP); ++i) REQUIRE(tx.send(i).is_ok());
  for (long i = 0; i < static_cast<long>(4 * BLOCK_CAP); ++i) REQUIRE(rx.try_recv().is_ok());
  const long before = allocations_now();
  long sum = 0;
  for (long i = 0; i < 100000; ++i) {
    (void)tx.send(i);
    sum += *rx.try_recv();
  }
  const long after = allocations_now();
  CHECK(after - before == 0);
  CHECK(sum == 100000L * 99999L / 2);
}

TEST_CASE("bounded_steady_state_allocates_nothing") {
  auto [tx, rx] = mpsc::channel<long>(64);
  weft::MockTask task;
  for (long i = 0; i < 64; ++i) REQUIRE(tx.try_send(i).is_ok());
  for (long i = 0; i < 64; ++i) REQUIRE(rx.try_recv().is_ok());
  const long before = allocations_now();
  long received = 0;
  for (long i = 0; i < 100000; ++i) {
    {
      auto send = tx.send(i);  // the async path: permit, push, wake
      (void)task.poll(send);
    }
    if (i % 3 == 0) {
      auto recv = rx.recv();
      while (true) {
        auto p = task.poll(recv);
        if (p.is_pending() || !p.value()) break;
        ++received;
        if (rx.is_empty()) break;
      }
    }
  }
  const long after = allocations_now();
  CHECK(after - before == 0);
  CHECK(received + static_cast<long>(rx.len()) == 100000);
}

}  // namespace
