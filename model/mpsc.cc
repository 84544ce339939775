// Model scenarios of the mpsc channels. Ported from tokio/src/sync/tests/loom_mpsc.rs,
// under the same names (is_empty_during_close, len_during_close_* and the *_after_send
// pair follow Tokio's newer suite), plus scenarios where the Loom suite is thin: permits
// and reserve_many under close, recv_many, weak senders, try_recv racing a write, and
// counted values racing the receiver's drop (no value lost, duplicated or leaked), and
// the end of a closed channel reached through a failed or cancelled capacity future
// (tokio#8260), recv_many under close, the receiver's waker released by its drop
// (tokio#8095), OwnedPermit::release waking a closed receiver (tokio#8075) and try_recv
// after close with a permit out (tokio#7686, #8074), the unbounded receiver's close
// racing sends (a bit in the list's tail word), and a send whose value's move throws (a
// hole the receiver passes).
#include "model/harness/scenario.h"
#include "sync/detail/batch_semaphore.h"
#include "sync/mpsc/bounded.h"
#include "sync/mpsc/unbounded.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/counted.h"
#include "testing/last_drop.h"
#include "testing/move_may_throw.h"

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace platform = weft::platform;
namespace mpsc = weft::mpsc;
using weft::block_on;

namespace {

// Counted on a count the scenario builds (inside the execution): back to 0 once every
// value was destroyed exactly once.
using Counted = weft::testing::MoveOnlyCounted;

}  // namespace

// Strategies: Loom explores these with a preemption bound; here most run with every
// interleaving of one preemption (two costs minutes for 3-4 threads of ~50 atomic steps
// each), the cheap ones with two or exhaustively, and the 3-4 thread ones with PCT
// samples (pct(N, 3)). A run of the whole file stays under a minute on one core.

// ---- tokio/src/sync/tests/loom_mpsc.rs (bounded) ----

WEFT_MODEL_TEST(closing_tx, weft::model::bounded(1).on_dpor(weft::model::bounded(3)), 1) {
  auto [tx, rx] = mpsc::channel<int>(16);
  platform::thread t([tx = std::move(tx)]() mutable {
    WEFT_INVARIANT(tx.try_send(1).is_ok());
    auto dropped = std::move(tx);
  });
  WEFT_INVARIANT(block_on(rx.recv()).has_value());
  WEFT_INVARIANT(!block_on(rx.recv()).has_value());
  t.join();
}

WEFT_MODEL_TEST(closing_bounded_rx, weft::model::bounded(2), 1) {
  auto [tx1, rx] = mpsc::channel<int>(16);
  auto tx2 = tx1;
  platform::thread t([rx = std::move(rx)]() mutable { auto dropped = std::move(rx); });
  block_on(tx1.closed());
  block_on(tx2.closed());
  t.join();
}

WEFT_MODEL_TEST(closing_and_sending, weft::model::pct(30000, 3).on_dpor(weft::model::bounded(2)),
                3) {
  auto [tx, rx] = mpsc::channel<int>(16);
  auto tx1 = std::make_shared<mpsc::Sender<int>>(std::move(tx));
  auto tx2 = tx1;
  platform::thread th1([tx1] { WEFT_INVARIANT(tx1->try_send(1).is_ok()); });
  platform::thread th2([tx2] { block_on(tx2->closed()); });
  platform::thread th3([rx = std::move(rx)]() mutable {
    WEFT_INVARIANT(block_on(rx.recv()).has_value());
    auto dropped = std::move(rx);
  });
  th1.join();
  th2.join();
  th3.join();
}

WEFT_MODEL_TEST(dropping_tx, weft::model::bounded(1).on_dpor(weft::model::bounded(3)), 2) {
  auto [tx, rx] = mpsc::channel<int>(16);
  platform::thread threads[2];
  for (auto& t : threads) t = platform::thread([tx2 = tx]() mutable { auto d = std::move(tx2); });
  { auto dropped = std::move(tx); }
  WEFT_INVARIANT(!block_on(rx.recv()).has_value());
  for (auto& t : threads) t.join();
}

// Three tasks, two semaphore permits, two values: each task takes a value with try_recv
// and puts one back. try_recv may find a send in progress and must wait for it (Busy),
// never report Empty.
namespace try_recv_scenario {
constexpr std::size_t PERMITS = 2;
struct Context {
  weft::detail::BatchSemaphore sem{PERMITS};
  mpsc::Sender<int> tx;
  platform::mutex rx_lock;
  mpsc::Receiver<int> rx;
  Context(mpsc::Sender<int> t, mpsc::Receiver<int> r) : tx(std::move(t)), rx(std::move(r)) {}
};
void run(Context& ctx) {
  WEFT_INVARIANT(block_on(ctx.sem.acquire(1)).is_ok());
  {
    platform::mutex_guard guard(ctx.rx_lock);
    WEFT_INVARIANT(ctx.rx.try_recv().is_ok());
  }
  platform::yield_now();
  WEFT_INVARIANT(mpsc::Sender<int>(ctx.tx).try_send(1).is_ok());
  ctx.sem.release(1);
}
}  // namespace try_recv_scenario

WEFT_MODEL_TEST(try_recv, weft::model::pct(10000, 3), 2) {
  using namespace try_recv_scenario;
  auto [tx, rx] = mpsc::channel<int>(PERMITS);
  auto ctx = std::make_shared<Context>(std::move(tx), std::move(rx));
  for (std::size_t i = 0; i < PERMITS; ++i) {
    WEFT_INVARIANT(mpsc::Sender<int>(ctx->tx).try_send(0).is_ok());
  }
  platform::thread threads[2];
  for (auto& t : threads) t = platform::thread([ctx] { run(*ctx); });
  run(*ctx);
  for (auto& t : threads) t.join();
}

WEFT_MODEL_TEST(len_nonzero_after_send, weft::model::bounded(1).on_dpor(weft::model::bounded(3)),
                1) {
  auto [send, recv] = mpsc::channel<int>(10);
  platform::thread t([send2 = send] { WEFT_INVARIANT(send2.blocking_send(2).is_ok()); });
  WEFT_INVARIANT(send.blocking_send(1).is_ok());
  WEFT_INVARIANT(recv.len() != 0);
  t.join();
}

WEFT_MODEL_TEST(nonempty_after_send, weft::model::bounded(1).on_dpor(weft::model::bounded(3)), 1) {
  auto [send, recv] = mpsc::channel<int>(10);
  platform::thread t([send2 = send] { WEFT_INVARIANT(send2.blocking_send(2).is_ok()); });
  WEFT_INVARIANT(send.blocking_send(1).is_ok());
  WEFT_INVARIANT(!recv.is_empty());
  t.join();
}

// ---- tokio/src/sync/tests/loom_mpsc.rs (unbounded) ----

WEFT_MODEL_TEST(closing_unbounded_tx, weft::model::bounded(1).on_dpor(weft::model::bounded(3)), 1) {
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

WEFT_MODEL_TEST(dropping_unbounded_tx, weft::model::bounded(1).on_dpor(weft::model::bounded(3)),
                2) {
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  platform::thread threads[2];
  for (auto& t : threads) t = platform::thread([tx2 = tx]() mutable { auto d = std::move(tx2); });
  { auto dropped = std::move(tx); }
  WEFT_INVARIANT(!block_on(rx.recv()).has_value());
  for (auto& t : threads) t.join();
}

// The receiver waits for the first slot of a block that is not linked yet, while a
// sender (not the last: no close wake to rescue it) grows the list and pushes there. The
// receiver's look after RX_WAITING must see the new link, or the sender must see the
// flag (Chan::send, list.h's SeqCst loads of next_).
WEFT_MODEL_TEST(recv_waits_across_block_boundary,
                weft::model::bounded(1).on_dpor(weft::model::exhaustive()), 1) {
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  for (int i = 0; i < static_cast<int>(mpsc::detail::BLOCK_CAP); ++i) {
    WEFT_INVARIANT(tx.send(i).is_ok());
    WEFT_INVARIANT(block_on(rx.recv()) == i);
  }
  platform::thread t([tx2 = tx]() mutable { WEFT_INVARIANT(tx2.send(-1).is_ok()); });
  WEFT_INVARIANT(block_on(rx.recv()) == -1);
  t.join();
}

// The last sender's drop races the receiver's is_empty(): the close slot is no value
// (Tokio's is on the bounded channel; the list under both is the same).
WEFT_MODEL_TEST(is_empty_during_close, weft::model::exhaustive(), 1) {
  auto [tx, rx] = mpsc::channel<int>(1);
  platform::thread t([tx = std::move(tx)]() mutable { auto dropped = std::move(tx); });
  WEFT_INVARIANT(rx.is_empty());
  t.join();
}

// The last sender's drop races len() with `n` values queued: len() is n throughout
// (tokio#8062: the close slot is no value). Tokio's test is on the bounded channel, of
// n + 1; the _unbounded twins run the same on the unbounded one (the list is shared).
template <class Channel>
void len_during_close(Channel channel, std::size_t n) {
  auto [tx, rx] = channel();
  for (std::size_t i = 0; i < n; ++i) {
    if constexpr (requires { tx.try_send(0); }) {
      WEFT_INVARIANT(tx.try_send(static_cast<int>(i)).is_ok());
    } else {
      WEFT_INVARIANT(tx.send(static_cast<int>(i)).is_ok());
    }
  }
  platform::thread t([tx = std::move(tx)]() mutable { auto dropped = std::move(tx); });
  WEFT_INVARIANT(rx.len() == n);
  t.join();
  WEFT_INVARIANT(rx.len() == n);
}
void len_during_close(std::size_t n) {
  len_during_close([n] { return mpsc::channel<int>(n + 1); }, n);
}
void len_during_close_unbounded(std::size_t n) {
  len_during_close([] { return mpsc::unbounded_channel<int>(); }, n);
}
WEFT_MODEL_TEST(len_during_close_0, weft::model::exhaustive(), 1) { len_during_close(0); }
WEFT_MODEL_TEST(len_during_close_1, weft::model::exhaustive(), 1) { len_during_close(1); }
WEFT_MODEL_TEST(len_during_close_block_cap, weft::model::exhaustive(), 1) {
  len_during_close(mpsc::detail::BLOCK_CAP);
}
WEFT_MODEL_TEST(len_during_close_block_cap_plus_1, weft::model::exhaustive(), 1) {
  len_during_close(mpsc::detail::BLOCK_CAP + 1);
}
WEFT_MODEL_TEST(len_during_close_unbounded_0, weft::model::exhaustive(), 1) {
  len_during_close_unbounded(0);
}
WEFT_MODEL_TEST(len_during_close_unbounded_1, weft::model::exhaustive(), 1) {
  len_during_close_unbounded(1);
}
WEFT_MODEL_TEST(len_during_close_unbounded_block_cap, weft::model::exhaustive(), 1) {
  len_during_close_unbounded(mpsc::detail::BLOCK_CAP);
}
WEFT_MODEL_TEST(len_during_close_unbounded_block_cap_plus_1, weft::model::exhaustive(), 1) {
  len_during_close_unbounded(mpsc::detail::BLOCK_CAP + 1);
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
WEFT_MODEL_TEST(recv_many_unbounded, weft::model::pct(20000, 3).on_dpor(weft::model::bounded(2)),
                1) {
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
WEFT_MODEL_TEST(values_conserved_when_receiver_drops,
                weft::model::pct(20000, 3).on_dpor(weft::model::bounded(2)), 2) {
  auto live = std::make_shared<Counted::Count>(0);
  auto returned = std::make_shared<platform::atomic<int>>(0);
  int received = 0;
  {
    auto [tx, rx] = mpsc::unbounded_channel<Counted>();
    platform::thread threads[2];
    for (int s = 0; s < 2; ++s) {
      threads[s] = platform::thread([tx = tx, live, returned, s] {
        auto r = tx.send(Counted(live.get(), s));
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
  WEFT_INVARIANT(live->load(std::memory_order_relaxed) == 0);
  WEFT_INVARIANT(received + returned->load(std::memory_order_relaxed) <= 2);
}

// The receiver, pending in recv(), is dropped while a sender sends (tokio#8095): the send
// either wakes (and so drops) the registered waker or finds the channel closed and leaves
// it; the receiver's drop must take it then, since the sender keeps the channel alive.
WEFT_MODEL_TEST(rx_drop_releases_waker_while_sender_sends, weft::model::bounded(2), 1) {
  weft::MockTask task;
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  std::optional<mpsc::UnboundedReceiver<int>> held(std::move(rx));
  WEFT_INVARIANT(task.enter([&](weft::Context& cx) { return held->poll_recv(cx); }).is_pending());
  platform::thread t([tx = tx] { (void)tx.send(1); });  // main keeps tx: no last-sender wake
  held.reset();
  t.join();
  WEFT_INVARIANT(task.waker_ref_count() == 0);
}

// ---- weft's own (bounded) ----

// A permit taken before close() still sends; the receiver gets its value and only then
// the end, whichever way the close, the send and the receive interleave.
WEFT_MODEL_TEST(permit_send_races_close, weft::model::bounded(1).on_dpor(weft::model::exhaustive()),
                1) {
  auto [tx, rx] = mpsc::channel<int>(1);
  auto permit = tx.try_reserve();
  WEFT_INVARIANT(permit.is_ok());
  platform::thread t(
      [p = std::make_shared<mpsc::Permit<int>>(std::move(*permit)), tx = std::move(tx)]() mutable {
        std::move(*p).send(5);
        p.reset();
      });
  rx.close();
  WEFT_INVARIANT(block_on(rx.recv()) == 5);
  WEFT_INVARIANT(!block_on(rx.recv()).has_value());
  t.join();
}

// reserve_many waits with part of its permits when close() comes: it fails, gives back
// what it held, and the receiver sees an idle, closed channel (then the end).
WEFT_MODEL_TEST(reserve_many_races_close, weft::model::bounded(1).on_dpor(weft::model::bounded(2)),
                1) {
  auto [tx, rx] = mpsc::channel<int>(2);
  WEFT_INVARIANT(tx.try_send(1).is_ok());
  platform::thread t([tx = std::move(tx)]() mutable {
    auto permits = block_on(tx.reserve_many(2));
    if (permits.is_ok()) {
      while (auto p = permits->next()) std::move(*p).send(2);
    }
  });
  rx.close();
  int received = 0;
  while (auto v = block_on(rx.recv())) ++received;
  WEFT_INVARIANT(received == 1 || received == 3);
  t.join();
  WEFT_INVARIANT(rx.capacity() == 2);
}

// A dropped PermitIterator after close() wakes the receiver waiting for the end.
WEFT_MODEL_TEST(permit_iterator_drop_wakes_closed_receiver,
                weft::model::bounded(1).on_dpor(weft::model::exhaustive()), 1) {
  auto [tx, rx] = mpsc::channel<int>(2);
  auto permits = tx.try_reserve_many(2);
  WEFT_INVARIANT(permits.is_ok());
  rx.close();
  platform::thread t([p = std::make_shared<mpsc::PermitIterator<int>>(std::move(*permits)),
                      tx = std::move(tx)]() mutable { p.reset(); });
  WEFT_INVARIANT(!block_on(rx.recv()).has_value());
  t.join();
}

// A bounded sender blocked on a full channel: the receive that frees a slot wakes it,
// and values arrive once each, in order.
WEFT_MODEL_TEST(send_waits_for_capacity, weft::model::pct(20000, 3), 1) {
  auto [tx, rx] = mpsc::channel<int>(1);
  platform::thread t([tx = std::move(tx)] {
    for (int i = 0; i < 3; ++i) WEFT_INVARIANT(tx.blocking_send(i).is_ok());
  });
  for (int i = 0; i < 3; ++i) WEFT_INVARIANT(block_on(rx.recv()) == i);
  WEFT_INVARIANT(!block_on(rx.recv()).has_value());
  t.join();
}

// Weak bounded sender: upgrade racing the last strong drop, with a reservation.
WEFT_MODEL_TEST(weak_sender_upgrade_and_reserve, weft::model::bounded(2), 1) {
  auto [tx, rx] = mpsc::channel<int>(1);
  auto weak = tx.downgrade();
  platform::thread t([weak] {
    if (auto strong = weak.upgrade()) {
      if (auto permit = strong->try_reserve(); permit.is_ok()) std::move(*permit).send(1);
    }
  });
  { auto dropped = std::move(tx); }
  if (auto first = block_on(rx.recv())) WEFT_INVARIANT(*first == 1);
  WEFT_INVARIANT(!block_on(rx.recv()).has_value());
  t.join();
  WEFT_INVARIANT(!weak.upgrade().has_value());
}

// A bounded send racing the receiver's drop with a counted value: received, returned in
// SendError, or destroyed by the channel; exactly once.
WEFT_MODEL_TEST(bounded_value_conserved_when_receiver_drops, weft::model::bounded(2), 1) {
  auto live = std::make_shared<Counted::Count>(0);
  {
    auto [tx, rx] = mpsc::channel<Counted>(1);
    platform::thread t([tx = std::move(tx), live] {
      auto r = tx.blocking_send(Counted(live.get(), 1));
      if (r.is_err()) WEFT_INVARIANT(r.error().value.value == 1);
    });
    { auto dropped = std::move(rx); }
    t.join();
  }
  WEFT_INVARIANT(live->load(std::memory_order_relaxed) == 0);
}

// recv_many on a full bounded channel: the values it takes free capacity for a blocked
// sender in one release; every value arrives once, in order.
WEFT_MODEL_TEST(recv_many_bounded_frees_capacity, weft::model::pct(20000, 3), 1) {
  auto [tx, rx] = mpsc::channel<int>(2);
  platform::thread t([tx = std::move(tx)] {
    for (int i = 0; i < 4; ++i) WEFT_INVARIANT(tx.blocking_send(i).is_ok());
  });
  auto buffer = std::make_unique<std::vector<int>>();
  while (rx.blocking_recv_many(*buffer, 2) != 0) {
  }
  WEFT_INVARIANT(buffer->size() == 4);
  for (int i = 0; i < 4; ++i) WEFT_INVARIANT((*buffer)[i] == i);
  WEFT_INVARIANT(rx.capacity() == 2);
  t.join();
}

// OwnedPermit::release() on another thread gives back the last permit of a closed channel
// (tokio#8075): the receiver waiting for the end must be woken. Main keeps a Sender, so no
// last-sender wake can stand in; the released Sender lives on in the thread.
WEFT_MODEL_TEST(owned_permit_release_wakes_closed_receiver,
                weft::model::bounded(1).on_dpor(weft::model::bounded(3)), 1) {
  auto [tx, rx] = mpsc::channel<int>(1);
  auto owned = mpsc::Sender<int>(tx).try_reserve_owned();
  WEFT_INVARIANT(owned.is_ok());
  platform::thread t(
      [p = std::make_shared<mpsc::OwnedPermit<int>>(std::move(owned.value()))]() mutable {
        mpsc::Sender<int> inert = std::move(*p).release();  // not the last Sender
      });
  rx.close();
  WEFT_INVARIANT(!block_on(rx.recv()).has_value());
  t.join();
  WEFT_INVARIANT(rx.capacity() == 1);
}

// ---- lost wakeups after close(): capacity given back by a future (cf. tokio#8260) ----

namespace {
// A Sender and a send future borrowing it, handed to another thread together.
struct PendingSend {
  explicit PendingSend(mpsc::Sender<int> s) : tx(std::move(s)) { send.emplace(tx.send(2)); }
  mpsc::Sender<int> tx;
  weft::MockTask task;
  std::optional<mpsc::Sender<int>::SendFuture> send;  // declared last: destroyed first
};
// The same for reserve_many(n).
struct PendingReserveMany {
  PendingReserveMany(mpsc::Sender<int> s, std::size_t n) : tx(std::move(s)) {
    reserve.emplace(tx.reserve_many(n));
  }
  mpsc::Sender<int> tx;
  weft::MockTask task;
  std::optional<mpsc::Sender<int>::ReserveManyFuture> reserve;
};

// Reserves a Permit from `tx` now and sends `value` through it on a thread of its own.
// The permit borrows tx: the caller keeps tx alive past the join.
platform::thread send_through_permit_on_thread(mpsc::Sender<int>& tx, int value) {
  auto held = std::make_shared<std::optional<mpsc::Permit<int>>>();
  auto p = tx.try_reserve();
  WEFT_INVARIANT(p.is_ok());
  held->emplace(std::move(p.value()));
  return platform::thread([held = std::move(held), value]() mutable {
    std::move(**held).send(value);
    held.reset();
  });
}
}  // namespace

// A send future was handed the only permit by a receive, then is cancelled (dropped) on
// another thread while the receiver closes and waits for the end: the permit it gives
// back is the last one out, so its drop must wake the receiver. Main keeps a Sender, so
// no last-sender wake can stand in.
WEFT_MODEL_TEST(cancelled_send_wakes_closed_receiver,
                weft::model::bounded(1).on_dpor(weft::model::exhaustive()), 1) {
  auto [tx, rx] = mpsc::channel<int>(1);
  WEFT_INVARIANT(tx.try_send(1).is_ok());
  auto pending = std::make_shared<PendingSend>(tx);
  WEFT_INVARIANT(pending->task.poll(*pending->send).is_pending());  // queued for the permit
  WEFT_INVARIANT(rx.try_recv().is_ok());  // hands the permit to the queued future
  platform::thread t([pending = std::move(pending)]() mutable { pending->send.reset(); });
  rx.close();
  WEFT_INVARIANT(!block_on(rx.recv()).has_value());
  t.join();
}

// reserve_many(2) holds one of two permits and waits for the other when close() comes:
// polled again it fails, and the permit it gives back on drop is the last one out (the
// receiver took the queued value). That drop must wake the receiver waiting for the end.
WEFT_MODEL_TEST(failed_reserve_many_wakes_closed_receiver,
                weft::model::bounded(1).on_dpor(weft::model::bounded(3)), 1) {
  auto [tx, rx] = mpsc::channel<int>(2);
  WEFT_INVARIANT(tx.try_send(1).is_ok());
  auto pending = std::make_shared<PendingReserveMany>(tx, 2);
  WEFT_INVARIANT(pending->task.poll(*pending->reserve).is_pending());  // took 1 of 2
  rx.close();
  platform::thread t([pending = std::move(pending)]() mutable {
    auto r = pending->task.poll(*pending->reserve);
    WEFT_INVARIANT(r.is_ready() && r.value().is_err());  // closed
    pending->reserve.reset();
  });
  WEFT_INVARIANT(block_on(rx.recv()) == 1);
  WEFT_INVARIANT(!block_on(rx.recv()).has_value());
  t.join();
}

// A reserve_many's first poll races close() with all capacity free: it either wins (the
// PermitIterator, dropped unused, wakes the receiver) or fails having taken nothing. The
// receiver, closed with a Sender still alive, must see the end either way.
WEFT_MODEL_TEST(reserve_many_first_poll_races_close,
                weft::model::bounded(1).on_dpor(weft::model::exhaustive()), 1) {
  auto [tx, rx] = mpsc::channel<int>(2);
  auto pending = std::make_shared<PendingReserveMany>(tx, 2);
  platform::thread t([pending = std::move(pending)]() mutable {
    auto r = pending->task.poll(*pending->reserve);
    WEFT_INVARIANT(r.is_ready());  // all capacity is free: no wait
    pending->reserve.reset();      // (and an Ok PermitIterator with it, unused)
  });
  rx.close();
  WEFT_INVARIANT(!block_on(rx.recv()).has_value());
  t.join();
  WEFT_INVARIANT(rx.capacity() == 2);
}

// recv_many under close(): a Permit taken before close() sends on another thread while the
// receiver closes and drains with recv_many. The value arrives once, then 0 (the end)
// only after the permit is used; a Sender stays alive, so only the permit ends it.
WEFT_MODEL_TEST(recv_many_drains_permit_send_after_close,
                weft::model::bounded(1).on_dpor(weft::model::exhaustive()), 1) {
  auto [tx, rx] = mpsc::channel<int>(2);
  platform::thread t = send_through_permit_on_thread(tx, 7);
  rx.close();
  auto buffer = std::make_unique<std::vector<int>>();
  while (rx.blocking_recv_many(*buffer, 2) != 0) {
  }
  WEFT_INVARIANT(buffer->size() == 1 && (*buffer)[0] == 7);
  t.join();
  WEFT_INVARIANT(rx.capacity() == 2);
}

// try_recv after close() with a permit out, racing that permit's send (tokio#7686 and
// #8074): Empty while the permit may still send, the value if it did, and Disconnected
// only once nothing can come; Disconnected is final. Main keeps a Sender.
WEFT_MODEL_TEST(try_recv_after_close_with_permit_out, weft::model::bounded(2), 1) {
  auto [tx, rx] = mpsc::channel<int>(1);
  platform::thread t = send_through_permit_on_thread(tx, 7);
  rx.close();
  bool received = false;
  bool disconnected = false;
  auto look = [&] {
    auto r = rx.try_recv();
    if (r.is_ok()) {
      WEFT_INVARIANT(!received && !disconnected && *r == 7);
      received = true;
    } else if (r.error() == mpsc::TryRecvError::Disconnected) {
      disconnected = true;
    } else {
      WEFT_INVARIANT(!disconnected);  // Disconnected is final
    }
  };
  look();
  t.join();
  look();
  look();
  WEFT_INVARIANT(received && disconnected);
}

// Scenarios that kill mutations the ones above let survive (ci/mutations.py names them, by
// the scenario's comment).

// Kills mpsc.unbounded_closed_bit_dropped and mpsc.try_push_ignores_rx_closed: once
// close() returned, a send must fail and give the value back, and the senders see the
// channel closed.
WEFT_MODEL_TEST(unbounded_send_after_close_fails,
                weft::model::bounded(1).on_dpor(weft::model::exhaustive()), 1) {
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  rx.close();
  platform::thread sender([tx] {  // a copy: the channel stays open on the sending side
    auto r = tx.send(1);
    WEFT_INVARIANT(r.is_err() && r.error().value == 1);
    WEFT_INVARIANT(tx.is_closed());
  });
  sender.join();
  WEFT_INVARIANT(!rx.blocking_recv().has_value());  // closed and drained
}

// Kills mpsc.rx_close_stops_at_read_index and mpsc.len_counts_failed_claims: a send
// racing close() either fails with its value or is received before the end (the
// receiver reads every slot claimed before its close, also one still being written); a
// failed send's slot is no value (len() 0, try_recv() Disconnected). Main keeps a
// Sender: only the close can end the receives.
WEFT_MODEL_TEST(unbounded_send_racing_close_received_or_returned,
                weft::model::bounded(2).on_dpor(weft::model::exhaustive()), 1) {
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  auto sent = std::make_shared<platform::atomic<int>>(0);
  platform::thread sender([tx, sent] {
    auto r = tx.send(1);
    if (r.is_ok()) {
      sent->store(1, std::memory_order_relaxed);
    } else {
      WEFT_INVARIANT(r.error().value == 1);
    }
  });
  rx.close();
  int got = 0;
  while (std::optional<int> v = block_on(rx.recv())) got += *v;
  sender.join();
  WEFT_INVARIANT(got == sent->load(std::memory_order_relaxed));
  WEFT_INVARIANT(rx.len() == 0);
  auto r = rx.try_recv();
  WEFT_INVARIANT(r.is_err() && r.error() == mpsc::TryRecvError::Disconnected);
}

// Kills mpsc.rx_close_relaxed, mpsc.try_push_claim_release and
// mpsc.rx_closed_load_relaxed: everything the receiver did before close() happens-before
// a send that fails and an is_closed() that says so (both read the close in the list's
// tail word).
WEFT_MODEL_TEST(receivers_writes_ordered_before_failed_send,
                weft::model::bounded(2).on_dpor(weft::model::exhaustive()), 1) {
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  auto data = std::make_shared<platform::cell<int>>(0);
  platform::thread sender([tx, data] {
    if (tx.is_closed() || tx.send(1).is_err()) {
      data->with([](const int& d) { WEFT_INVARIANT(d == 7); });
    }
  });
  data->with_mut([](int& d) { d = 7; });
  rx.close();
  sender.join();
}

// Kills mpsc.hole_not_passed and mpsc.hole_bit_ignored: a send whose value's move into
// its slot throws leaves a hole; the receiver, waiting on that slot or arriving later,
// passes it and receives the next value (Block::write, ListRx::pop). `send` sends a copy
// of its argument through one flavour (bound 1 for the bounded one: the second send
// needs the first one's capacity back).
template <class Channel, class Send>
void hole_is_passed(Channel channel, Send send) {
  using weft::testing::MoveMayThrow;
  auto [tx, rx] = channel();
  platform::thread sender([&send, tx = tx] {
    const MoveMayThrow bad(1, true);
    bool threw = false;
    try {
      send(tx, bad);
    } catch (const std::runtime_error&) {
      threw = true;
    }
    WEFT_INVARIANT(threw);
    send(tx, MoveMayThrow(2, false));
  });
  std::optional<MoveMayThrow> got = block_on(rx.recv());
  WEFT_INVARIANT(got.has_value() && got->value == 2);
  sender.join();
}
WEFT_MODEL_TEST(unbounded_send_that_throws_leaves_a_hole,
                weft::model::bounded(2).on_dpor(weft::model::exhaustive()), 1) {
  hole_is_passed([] { return mpsc::unbounded_channel<weft::testing::MoveMayThrow>(); },
                 [](const auto& tx, const weft::testing::MoveMayThrow& v) {
                   WEFT_INVARIANT(tx.send(v).is_ok());
                 });
}
WEFT_MODEL_TEST(bounded_send_that_throws_gives_capacity_back,
                weft::model::bounded(2).on_dpor(weft::model::exhaustive()), 1) {
  hole_is_passed([] { return mpsc::channel<weft::testing::MoveMayThrow>(1); },
                 [](const auto& tx, const weft::testing::MoveMayThrow& v) {
                   WEFT_INVARIANT(tx.try_send(v).is_ok());
                 });
}

// Kills mpsc.failed_send_no_wake and mpsc.failed_send_keeps_capacity: after close(),
// the receiver waits for the capacity a permit holds; the permit's send throws, and the
// capacity coming back must wake the receiver, which then sees the end. Main keeps its
// Sender, so no last-sender wake can stand in.
WEFT_MODEL_TEST(throwing_permit_send_wakes_closed_receiver,
                weft::model::bounded(2).on_dpor(weft::model::exhaustive()), 1) {
  using weft::testing::MoveMayThrow;
  auto [tx, rx] = mpsc::channel<MoveMayThrow>(1);
  auto permit = std::make_shared<std::optional<mpsc::Permit<MoveMayThrow>>>();
  {
    auto p = tx.try_reserve();
    WEFT_INVARIANT(p.is_ok());
    permit->emplace(std::move(p.value()));
  }
  rx.close();
  platform::thread sender([permit] {
    const MoveMayThrow bad(1, true);
    bool threw = false;
    try {
      std::move(**permit).send(bad);
    } catch (const std::runtime_error&) {
      threw = true;
    }
    WEFT_INVARIANT(threw);
  });
  WEFT_INVARIANT(!block_on(rx.recv()).has_value());
  sender.join();
}

// Kills mpsc.tx_count_relaxed: everything every sender did before it was destroyed
// happens-before the receive that reports the end. Two senders write plain data and go
// away; whichever is last closes the list, and the other's write must be ordered before
// that close through the sender count (AcqRel decrements, one release sequence).
WEFT_MODEL_TEST(senders_writes_ordered_before_end, weft::model::bounded(2), 2) {
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  weft::testing::writes_ordered_before_last_drop(std::move(tx), [&] {
    WEFT_INVARIANT(!rx.blocking_recv().has_value());  // the end: both senders are gone
  });
}

namespace {
// A Sender and a permit borrowed from it, handed to another thread together.
struct Reservation {
  explicit Reservation(mpsc::Sender<int> s) : tx(std::move(s)) {
    auto p = tx.try_reserve();
    WEFT_INVARIANT(p.is_ok());
    permit.emplace(std::move(p.value()));
  }
  mpsc::Sender<int> tx;
  std::optional<mpsc::Permit<int>> permit;  // declared after tx: destroyed first
};
}  // namespace

// Kills mpsc.bounded_permit_drop_no_wake: after close(), the receiver waits for the last
// outstanding permit; dropping it unused must wake the receiver, which then sees the end.
// A Sender stays alive on the receiving thread, so no last-sender wake can stand in.
WEFT_MODEL_TEST(permit_drop_wakes_closed_receiver_senders_alive, weft::model::bounded(2), 1) {
  auto [tx, rx] = mpsc::channel<int>(1);
  auto held = std::make_shared<Reservation>(tx);  // a copy of tx; main keeps tx
  rx.close();
  platform::thread t([held = std::move(held)]() mutable { held->permit.reset(); });
  WEFT_INVARIANT(!weft::block_on(rx.recv()).has_value());
  t.join();
}

// Kills mpsc.ready_after_register_keeps_waker: after close(), the last permit comes back
// on another thread while the receiver polls recv(). However they interleave, a poll that
// answers the end leaves no waker in the channel (main's Sender keeps it alive): the
// first look answers before registering, a second look that answers takes it back, a
// pending poll's waker is taken by the permit's wake. recv_many() at the end likewise.
WEFT_MODEL_TEST(ready_end_leaves_no_waker,
                weft::model::bounded(1).on_dpor(weft::model::exhaustive()), 1) {
  weft::MockTask task;
  auto [tx, rx] = mpsc::channel<int>(1);
  auto held = std::make_shared<Reservation>(tx);
  rx.close();
  platform::thread t([held = std::move(held)]() mutable { held->permit.reset(); });
  {
    auto recv = rx.recv();
    auto p = task.poll(recv);
    t.join();
    if (p.is_pending()) {
      WEFT_INVARIANT(task.is_woken());  // the permit's return woke it (and dropped the clone)
      p = task.poll(recv);
    }
    WEFT_INVARIANT(p.is_ready() && !p.value().has_value());
  }
  auto buffer = std::make_unique<std::vector<int>>();
  auto many = rx.recv_many(*buffer, 1);
  auto n = task.poll(many);
  WEFT_INVARIANT(n.is_ready() && n.value() == 0);
  WEFT_INVARIANT(task.waker_ref_count() == 0);
}

// Kills mpsc.unbounded_count_cas_split (the class "a flag lost by an RMW that rebuilds
// the word"): a send counts its value with a CAS on the word that also holds CLOSED; if
// that step rebuilt the word from a stale load, a close() in between would be undone and
// a later send succeed. Once close() returned and the racing send is done, CLOSED stays.
WEFT_MODEL_TEST(close_survives_racing_send, weft::model::bounded(2), 1) {
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  platform::thread sender([tx = tx] { (void)tx.send(1); });
  rx.close();
  sender.join();
  WEFT_INVARIANT(tx.is_closed());
  auto r = tx.send(2);
  WEFT_INVARIANT(r.is_err() && r.error().value == 2);
}

// A timed blocking_recv races the send: the value is received in time or stays queued
// for the next recv, never lost (a lost value: the final recv sees the channel closed
// and empty, and the invariant fails).
WEFT_MODEL_TEST(timed_recv_races_send, weft::model::bounded(2), 1) {
  auto [tx, rx] = mpsc::channel<int>(1);
  platform::thread t([tx = std::move(tx)] { WEFT_INVARIANT(tx.blocking_send(1).is_ok()); });
  auto got = rx.blocking_recv_for(std::chrono::milliseconds(1));
  if (got.is_err()) {
    WEFT_REACHED("recv timed out");
    got = rx.blocking_recv();
  }
  WEFT_INVARIANT(*got == std::optional<int>(1));
  t.join();
}
WEFT_MODEL_REACHES(timed_recv_races_send, "recv timed out");

// A timed blocking_send on a full channel races the recv that frees capacity: the value
// is sent (and then received) or comes back in SendTimeoutError::Timeout, never both and
// never lost; the capacity is whole again at the end (a reservation kept by the
// cancelled send would leave the last try_send Full).
WEFT_MODEL_TEST(timed_send_races_recv, weft::model::pct(20000, 3).on_dpor(weft::model::bounded(2)),
                1) {
  auto [tx, rx] = mpsc::channel<int>(1);
  WEFT_INVARIANT(tx.try_send(1).is_ok());
  auto rx_box = std::make_shared<mpsc::Receiver<int>>(std::move(rx));
  platform::thread t(
      [rx_box] { WEFT_INVARIANT(rx_box->blocking_recv() == std::optional<int>(1)); });
  auto sent = tx.blocking_send_for(2, std::chrono::milliseconds(1));
  t.join();
  if (sent.is_ok()) {
    WEFT_INVARIANT(rx_box->try_recv().value() == 2);
  } else {
    WEFT_REACHED("send timed out");
    WEFT_INVARIANT(sent.error().is_timeout() && sent.error().value == 2);
    WEFT_INVARIANT(rx_box->try_recv().is_err());
  }
  WEFT_INVARIANT(tx.try_send(3).is_ok());
}
WEFT_MODEL_REACHES(timed_send_races_recv, "send timed out");

// tokio/tests/sync_mpsc.rs's recv_timeout (a test of send_timeout, despite its name:
// `assert_eq!(tx.send_timeout(60, Duration::from_secs(1)).await, Err(Timeout(60)));`),
// with the capacity freed by another thread while the future waits: send_timeout on a
// full channel, run by block_on (whose park times out at the sleep's deadline, as the
// checker chooses), races a try_recv. Ok means the value was delivered (the next recv
// gets it), Timeout hands it back and leaves nothing queued; once the receiver is gone
// the value comes back as Closed.
WEFT_MODEL_TEST(recv_timeout, weft::model::pct(20000, 3).on_dpor(weft::model::bounded(2)), 1) {
  auto [tx, rx] = mpsc::channel<int>(1);
  WEFT_INVARIANT(tx.try_send(50).is_ok());
  std::optional<mpsc::Receiver<int>> receiver(std::move(rx));
  platform::thread taker([&receiver] {
    auto first = receiver->try_recv();
    WEFT_INVARIANT(first.is_ok() && *first == 50);
  });
  auto sent = block_on(tx.send_timeout(60, std::chrono::milliseconds(1)));
  taker.join();
  auto next = receiver->try_recv();
  if (sent.is_ok()) {
    WEFT_REACHED("sent");
    WEFT_INVARIANT(next.is_ok() && *next == 60);
  } else {
    WEFT_REACHED("timed out");
    WEFT_INVARIANT(sent.error().is_timeout() && sent.error().value == 60);
    WEFT_INVARIANT(next.is_err());
  }
  receiver.reset();
  auto closed = block_on(tx.send_timeout(70, std::chrono::milliseconds(1)));
  WEFT_INVARIANT(closed.is_err() && closed.error().is_closed() && closed.error().value == 70);
}
WEFT_MODEL_REACHES(recv_timeout, "sent");
WEFT_MODEL_REACHES(recv_timeout, "timed out");

// ---- the bounded channel's lazy give-back (sync/mpsc/bounded_capacity.h, issue 16) ----
// The receiver publishes its count of received values with a store; senders harvest it
// into the semaphore when it runs out, and the receiver harvests for queued waiters.

// A try_send racing the receive that frees the only slot is Full or sent; one after both
// succeeds (the try path harvests the receiver's count before it says Full), and
// capacity() counts received values not yet harvested.
WEFT_MODEL_TEST(try_send_after_recv_harvests, weft::model::bounded(2), 1) {
  auto [tx, rx] = mpsc::channel<int>(1);
  WEFT_INVARIANT(tx.try_send(1).is_ok());
  platform::thread t([tx] {
    auto r = tx.try_send(2);
    WEFT_INVARIANT(r.is_ok() || r.error().is_full());
  });
  WEFT_INVARIANT(rx.try_recv().value() == 1);
  t.join();
  if (rx.is_empty()) {
    WEFT_INVARIANT(tx.capacity() == 1 && rx.capacity() == 1);
    WEFT_INVARIANT(tx.try_send(3).is_ok());
  }
  WEFT_INVARIANT(tx.capacity() == 0);
  WEFT_INVARIANT(rx.try_recv().is_ok());
  WEFT_INVARIANT(rx.capacity() == 1);
}

// A sender queued on a full channel against the receive that frees its slot: the
// receiver stores its count, then looks for waiters; the waiter counts itself in, then
// harvests. However they interleave, one of them hands the slot over (a lost wakeup
// leaves both blocked: main keeps its Sender, so no close ends it).
WEFT_MODEL_TEST(blocked_send_woken_by_recv, weft::model::bounded(2), 1) {
  auto [tx, rx] = mpsc::channel<int>(1);
  WEFT_INVARIANT(tx.try_send(1).is_ok());
  platform::thread t([tx] { WEFT_INVARIANT(tx.blocking_send(2).is_ok()); });
  WEFT_INVARIANT(rx.try_recv().value() == 1);
  WEFT_INVARIANT(block_on(rx.recv()) == 2);
  t.join();
  WEFT_INVARIANT(tx.capacity() == 1);
}

// reserve_many(2) on a full channel is served by two receives, one slot each: a partial
// hand-over stays with the queued waiter until the second. The permits then send, FIFO.
WEFT_MODEL_TEST(reserve_many_served_by_two_receives,
                weft::model::pct(20000, 3).on_dpor(weft::model::bounded(2)), 1) {
  auto [tx, rx] = mpsc::channel<int>(2);
  WEFT_INVARIANT(tx.try_send(1).is_ok());
  WEFT_INVARIANT(tx.try_send(2).is_ok());
  platform::thread t([tx] {
    auto permits = block_on(tx.reserve_many(2));
    WEFT_INVARIANT(permits.is_ok());
    int v = 3;
    while (auto p = permits->next()) std::move(*p).send(v++);
  });
  for (int i = 1; i <= 4; ++i) WEFT_INVARIANT(block_on(rx.recv()) == i);
  t.join();
  WEFT_INVARIANT(rx.capacity() == 2);
}

// A queued send cancelled while the receive frees its slot: the slot the receiver may
// have handed to it comes back with the cancel, so none is lost (a try_send after both
// succeeds) and the receiver's count is not harvested twice (capacity never over 1).
WEFT_MODEL_TEST(cancelled_wait_races_recv, weft::model::bounded(2), 1) {
  auto [tx, rx] = mpsc::channel<int>(1);
  WEFT_INVARIANT(tx.try_send(1).is_ok());
  auto pending = std::make_shared<PendingSend>(tx);
  WEFT_INVARIANT(pending->task.poll(*pending->send).is_pending());  // queued
  platform::thread t([pending = std::move(pending)]() mutable { pending->send.reset(); });
  WEFT_INVARIANT(rx.try_recv().value() == 1);
  t.join();
  WEFT_INVARIANT(tx.capacity() == 1);
  WEFT_INVARIANT(tx.try_send(3).is_ok());
  WEFT_INVARIANT(tx.capacity() == 0);
}

// After close(), a sender's harvest (its try_send found no permits) races the receiver
// looking for the end: a harvest half done leaves the receiver's sum short, so the
// receiver harvests itself first, under the same lock (receiver_flush), and then sees
// every earlier harvest whole. Main keeps a Sender: no last-sender wake stands in.
WEFT_MODEL_TEST(harvest_races_close_wakes_receiver, weft::model::bounded(2), 1) {
  auto [tx, rx] = mpsc::channel<int>(1);
  WEFT_INVARIANT(tx.try_send(1).is_ok());
  platform::thread t([tx] { (void)tx.try_send(2); });
  WEFT_INVARIANT(rx.try_recv().value() == 1);
  rx.close();
  while (auto v = block_on(rx.recv())) WEFT_INVARIANT(*v == 2);
  t.join();
  WEFT_INVARIANT(rx.capacity() == 1);
}

// As above with two receives: the harvester may have read the receiver's count after
// the first, the receiver then takes the second and closes; whichever harvest comes
// last, the receiver's look for the end counts every value once.
WEFT_MODEL_TEST(receiver_flushes_before_end, weft::model::bounded(2), 1) {
  auto [tx, rx] = mpsc::channel<int>(2);
  WEFT_INVARIANT(tx.try_send(1).is_ok());
  WEFT_INVARIANT(tx.try_send(2).is_ok());
  platform::thread t([tx] { (void)tx.try_send(3); });
  WEFT_INVARIANT(rx.try_recv().value() == 1);
  WEFT_INVARIANT(rx.try_recv().value() == 2);
  rx.close();
  while (auto v = block_on(rx.recv())) WEFT_INVARIANT(*v == 3);
  t.join();
  WEFT_INVARIANT(rx.capacity() == 2);
}

// A try_reserve_many(2) that cannot be served harvests the receiver's count for nothing
// while the receiver, freeing one slot, tries to send into it: its try may load the
// permit word before the other sender's harvest releases the slot, and its own harvest
// then finds nothing new. Full is decided from the word loaded under the harvest's lock,
// which holds that release, so the try_send succeeds ("Full once a harvest finds nothing
// new" fails here).
WEFT_MODEL_TEST(try_send_sees_other_senders_harvest, weft::model::bounded(2), 1) {
  auto [tx, rx] = mpsc::channel<int>(2);
  WEFT_INVARIANT(tx.try_send(1).is_ok());
  WEFT_INVARIANT(tx.try_send(2).is_ok());
  platform::thread t([tx] { WEFT_INVARIANT(tx.try_reserve_many(2).error().is_full()); });
  WEFT_INVARIANT(rx.try_recv().value() == 1);
  WEFT_INVARIANT(tx.try_send(3).is_ok());
  t.join();
  WEFT_INVARIANT(tx.capacity() == 0);
}
