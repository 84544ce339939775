// Model scenarios of the mpsc channels. Ported from tokio/src/sync/tests/loom_mpsc.rs,
// under the same names (is_empty_during_close, len_during_close_* and the *_after_send
// pair follow Tokio's newer suite), plus scenarios where the Loom suite is thin: permits
// and reserve_many under close, recv_many, weak senders, try_recv racing a write, and
// counted values racing the receiver's drop (no value lost, duplicated or leaked).
#include "model/harness/scenario.h"
#include "sync/mpsc/unbounded.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"

#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace platform = weft::platform;
namespace mpsc = weft::mpsc;
using weft::block_on;

namespace {

// A value that reports its destruction to a shared counter: `drops` counts destructions
// of instances still holding a value, so each value must add exactly one.
struct Counted {
  platform::atomic<int>* drops;
  int id;
  Counted(platform::atomic<int>* d, int i) : drops(d), id(i) {}
  Counted(Counted&& other) noexcept : drops(std::exchange(other.drops, nullptr)), id(other.id) {}
  Counted& operator=(Counted&&) = delete;
  ~Counted() {
    if (drops != nullptr) drops->fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace

// ---- tokio/src/sync/tests/loom_mpsc.rs (unbounded) ----

WEFT_MODEL_TEST(closing_unbounded_tx, weft::model::bounded(2), 1) {
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  platform::thread t([tx = std::move(tx)]() mutable {
    WEFT_INVARIANT(tx.send(1).is_ok());
    auto dropped = std::move(tx);
  });
  WEFT_INVARIANT(block_on(rx.recv()).has_value());
  WEFT_INVARIANT(!block_on(rx.recv()).has_value());
  t.join();
}

WEFT_MODEL_TEST(closing_unbounded_rx, weft::model::bounded(2), 1) {
  auto [tx1, rx] = mpsc::unbounded_channel<int>();
  auto tx2 = tx1;
  platform::thread t([rx = std::move(rx)]() mutable { auto dropped = std::move(rx); });
  block_on(tx1.closed());
  block_on(tx2.closed());
  t.join();
}

WEFT_MODEL_TEST(dropping_unbounded_tx, weft::model::bounded(2), 2) {
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  platform::thread threads[2];
  for (auto& t : threads) t = platform::thread([tx2 = tx]() mutable { auto d = std::move(tx2); });
  { auto dropped = std::move(tx); }
  WEFT_INVARIANT(!block_on(rx.recv()).has_value());
  for (auto& t : threads) t.join();
}

// The last sender's drop races the receiver's is_empty(): the close slot is no value.
WEFT_MODEL_TEST(is_empty_during_close, weft::model::exhaustive(), 1) {
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  platform::thread t([tx = std::move(tx)]() mutable { auto dropped = std::move(tx); });
  WEFT_INVARIANT(rx.is_empty());
  t.join();
}

// The last sender's drop races len() with `n` values queued: len() is n throughout.
void len_during_close(std::size_t n) {
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  for (std::size_t i = 0; i < n; ++i) WEFT_INVARIANT(tx.send(static_cast<int>(i)).is_ok());
  platform::thread t([tx = std::move(tx)]() mutable { auto dropped = std::move(tx); });
  WEFT_INVARIANT(rx.len() == n);
  t.join();
  WEFT_INVARIANT(rx.len() == n);
}
WEFT_MODEL_TEST(len_during_close_0, weft::model::exhaustive(), 1) { len_during_close(0); }
WEFT_MODEL_TEST(len_during_close_1, weft::model::exhaustive(), 1) { len_during_close(1); }
WEFT_MODEL_TEST(len_during_close_block_cap, weft::model::exhaustive(), 1) {
  len_during_close(mpsc::detail::BLOCK_CAP);
}
WEFT_MODEL_TEST(len_during_close_block_cap_plus_1, weft::model::exhaustive(), 1) {
  len_during_close(mpsc::detail::BLOCK_CAP + 1);
}

// ---- weft's own (unbounded) ----

// len() > 0 claims a value: try_recv must wait for a write in progress, never say Empty.
WEFT_MODEL_TEST(try_recv_waits_for_write_in_progress, weft::model::bounded(3), 1) {
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  platform::thread t([tx = tx] { WEFT_INVARIANT(tx.send(7).is_ok()); });
  if (rx.len() == 1) {
    auto r = rx.try_recv();
    WEFT_INVARIANT(r.is_ok() && *r == 7);
  }
  t.join();
}

// recv_many with a concurrent sender: every value once, in order, then 0 at the end.
WEFT_MODEL_TEST(recv_many_unbounded, weft::model::random(20000), 1) {
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  platform::thread t([tx = std::move(tx)]() mutable {
    for (int i = 0; i < 3; ++i) WEFT_INVARIANT(tx.send(i).is_ok());
    auto dropped = std::move(tx);
  });
  auto buffer = std::make_unique<std::vector<int>>();
  while (rx.blocking_recv_many(*buffer, 2) != 0) {
  }
  WEFT_INVARIANT(buffer->size() == 3);
  for (int i = 0; i < 3; ++i) WEFT_INVARIANT((*buffer)[i] == i);
  t.join();
}

// upgrade() races the last strong sender's drop: either the upgraded sender's value is
// received before the end, or the upgrade fails; never a send after close.
WEFT_MODEL_TEST(weak_upgrade_races_last_drop, weft::model::bounded(2), 1) {
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  auto weak = tx.downgrade();
  platform::thread t([weak] {
    if (auto strong = weak.upgrade()) WEFT_INVARIANT(strong->send(1).is_ok());
  });
  { auto dropped = std::move(tx); }
  std::optional<int> first = block_on(rx.recv());
  if (first) WEFT_INVARIANT(!block_on(rx.recv()).has_value());
  t.join();
  WEFT_INVARIANT(weak.strong_count() == 0);
  WEFT_INVARIANT(!weak.upgrade().has_value());
}

// Two senders race the receiver's drop with counted values: each value is received,
// returned in SendError, or destroyed by the channel; exactly once, never leaked.
WEFT_MODEL_TEST(values_conserved_when_receiver_drops, weft::model::random(20000), 2) {
  auto drops = std::make_shared<platform::atomic<int>>(0);
  auto returned = std::make_shared<platform::atomic<int>>(0);
  int received = 0;
  {
    auto [tx, rx] = mpsc::unbounded_channel<Counted>();
    platform::thread threads[2];
    for (int s = 0; s < 2; ++s) {
      threads[s] = platform::thread([tx = tx, drops, returned, s] {
        auto r = tx.send(Counted(drops.get(), s));
        if (r.is_err()) returned->fetch_add(1, std::memory_order_relaxed);
      });
    }
    { auto dropped = std::move(tx); }
    auto r = rx.try_recv();
    if (r.is_ok()) ++received;
    { auto dropped = std::move(rx); }
    for (auto& t : threads) t.join();
    // The values received and returned are destroyed with their holders here.
  }
  WEFT_INVARIANT(drops->load(std::memory_order_relaxed) == 2);
  WEFT_INVARIANT(received + returned->load(std::memory_order_relaxed) <= 2);
}
