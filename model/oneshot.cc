// Model scenarios of oneshot. Ported from tokio/src/sync/tests/loom_oneshot.rs, under the
// same names, plus scenarios where the Loom suite is thin (re-registration racing a send,
// a counted value racing close).
#include "model/harness/scenario.h"
#include "sync/oneshot.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

namespace platform = weft::platform;
namespace oneshot = weft::oneshot;
using weft::Context;
using weft::Poll;

namespace {

// Counts destructions of Msg values that were really built (moved-from shells excluded).
struct Drops {
  platform::atomic<int> count{0};
  int load() const { return count.load(std::memory_order_acquire); }
};

struct Msg {
  std::shared_ptr<Drops> drops;
  explicit Msg(std::shared_ptr<Drops> d) : drops(std::move(d)) {}
  Msg(Msg&&) noexcept = default;
  Msg& operator=(Msg&&) noexcept = default;
  ~Msg() {
    // AcqRel: orders the destruction with the final check's Acquire load.
    if (drops) drops->count.fetch_add(1, std::memory_order_acq_rel);
  }
};

// Polls `fut` once with a block_on task: true if it was ready.
template <class F>
bool poll_once(F& fut) {
  return weft::block_on(
      weft::poll_fn([&](Context& cx) -> Poll<bool> { return fut.poll(cx).is_ready(); }));
}

}  // namespace

WEFT_MODEL_TEST(smoke, weft::model::bounded(2), 1) {
  auto [tx, rx] = oneshot::channel<int>();
  platform::thread sender(
      [tx = std::move(tx)]() mutable { WEFT_INVARIANT(std::move(tx).send(1).is_ok()); });
  auto value = weft::block_on(rx);
  WEFT_INVARIANT(value.is_ok() && *value == 1);
  sender.join();
}

WEFT_MODEL_TEST(changing_rx_task, weft::model::bounded(2), 2) {
  auto [tx, rx] = oneshot::channel<int>();
  platform::thread sender(
      [tx = std::move(tx)]() mutable { WEFT_INVARIANT(std::move(tx).send(1).is_ok()); });
  auto slot = std::make_shared<std::optional<oneshot::Receiver<int>>>(std::move(rx));
  platform::thread first([slot] {
    // One poll by a first task; if pending, hand the receiver to a new task.
    const bool ready = weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<bool> {
      auto out = (*slot)->poll(cx);
      if (out.is_ready()) {
        WEFT_INVARIANT(out.value().is_ok() && *out.value() == 1);
        return true;
      }
      return false;
    }));
    if (ready) slot->reset();
  });
  first.join();
  if (*slot) {
    // Previous task parked, use a new task...
    auto value = weft::block_on(**slot);
    WEFT_INVARIANT(value.is_ok() && *value == 1);
  }
  sender.join();
}

// Reproduces tokio-rs/tokio#4225: close racing a send, then try_recv.
WEFT_MODEL_TEST(try_recv_close, weft::model::exhaustive(), 1) {
  auto [tx, rx] = oneshot::channel<int>();
  platform::thread sender([tx = std::move(tx)]() mutable { (void)std::move(tx).send(1); });
  rx.close();
  (void)rx.try_recv();
  sender.join();
}

// Reproduces tokio-rs/tokio#4225: close racing a send, then await.
WEFT_MODEL_TEST(recv_closed, weft::model::exhaustive(), 1) {
  auto [tx, rx] = oneshot::channel<int>();
  platform::thread sender([tx = std::move(tx)]() mutable { (void)std::move(tx).send(1); });
  rx.close();
  (void)weft::block_on(rx);
  sender.join();
}

// The header's promise: what the Receiver did before close() (or its drop) happens-before
// a ready Sender::closed() / is_closed(). Needs close()'s RMW to release.
WEFT_MODEL_TEST(close_publishes_to_closed, weft::model::bounded(2), 1) {
  auto [tx, rx] = oneshot::channel<int>();
  auto note = std::make_shared<platform::cell<int>>(0);
  platform::thread receiver([rx = std::move(rx), note]() mutable {
    note->set(7);
    rx.close();
  });
  weft::block_on(tx.closed());
  WEFT_INVARIANT(note->get() == 7);
  receiver.join();
}

WEFT_MODEL_TEST(drop_publishes_to_is_closed, weft::model::exhaustive(), 1) {
  auto [tx, rx] = oneshot::channel<int>();
  auto note = std::make_shared<platform::cell<int>>(0);
  platform::thread receiver([rx = std::move(rx), note]() mutable {
    note->set(7);
    auto gone = std::move(rx);
  });
  if (tx.is_closed()) WEFT_INVARIANT(note->get() == 7);
  receiver.join();
}

WEFT_MODEL_TEST(changing_tx_task, weft::model::bounded(2), 2) {
  auto [tx, rx] = oneshot::channel<int>();
  platform::thread receiver([rx = std::move(rx)]() mutable { auto gone = std::move(rx); });
  auto slot = std::make_shared<std::optional<oneshot::Sender<int>>>(std::move(tx));
  platform::thread first([slot] {
    auto closed = (*slot)->closed();
    if (poll_once(closed)) slot->reset();
  });
  first.join();
  if (*slot) {
    // Previous task parked, use a new task...
    weft::block_on((*slot)->closed());
  }
  receiver.join();
}

// A value the receiver never takes is destroyed by the receiver's destructor, on the
// receiving thread, never later by whoever frees the shared state; a refused value comes
// back to the sender untouched. (Tokio checks this with a thread-local flag; here the
// receiving thread checks that its own destructor already destroyed the value.)
struct checking_tx_send_ok_not_drop {
  static constexpr int threads = 2;
  std::shared_ptr<Drops> drops;
  std::optional<oneshot::Sender<Msg>> tx;
  std::optional<oneshot::Receiver<Msg>> rx;
  platform::cell<int> sent_ok{-1};
  platform::cell<int> drops_after_rx{-1};
  void setup() {
    drops = std::make_shared<Drops>();
    auto [s, r] = oneshot::channel<Msg>();
    tx.emplace(std::move(s));
    rx.emplace(std::move(r));
  }
  void thread(int index) {
    if (index == 0) {
      auto result = std::move(*tx).send(Msg(drops));
      tx.reset();
      if (result.is_err()) {
        // Came back whole: not destroyed inside send.
        WEFT_INVARIANT(result.error().drops != nullptr);
      }
      sent_ok.with_mut([&](int& v) { v = result.is_ok() ? 1 : 0; });
    } else {
      rx.reset();
      drops_after_rx.with_mut([&](int& v) { v = drops->load(); });
    }
  }
  void check() {
    WEFT_INVARIANT(drops->load() == 1);
    const int ok = sent_ok.with([](const int& v) { return v; });
    const int seen = drops_after_rx.with([](const int& v) { return v; });
    if (ok == 1) WEFT_INVARIANT(seen == 1);
    drops.reset();
  }
};
WEFT_MODEL_SCENARIO(checking_tx_send_ok_not_drop, weft::model::bounded(2));

// rx_task is released when the receiver is dropped after a poll, while the sender is
// concurrently sending (the leak checker sees a lost waker).
WEFT_MODEL_TEST(drop_rx_after_poll, weft::model::exhaustive(), 1) {
  auto [tx, rx] = oneshot::channel<int>();
  (void)poll_once(rx);
  platform::thread receiver([rx = std::move(rx)]() mutable { auto gone = std::move(rx); });
  (void)std::move(tx).send(1);
  receiver.join();
}

// Tokio #7886 with the Sender alive: the Receiver, polled once, is destroyed while the
// Sender polls closed(). Its task's waker must be gone once it is (no handle can wake it
// any more), and the Receiver must not touch its slot while the Sender might wake it.
WEFT_MODEL_TEST(drop_rx_after_poll_releases_waker, weft::model::bounded(2), 1) {
  auto [tx, rx] = oneshot::channel<int>();
  auto rx_task = std::make_shared<weft::MockTask>();
  WEFT_INVARIANT(rx_task->poll(rx).is_pending());
  platform::thread receiver([rx = std::move(rx)]() mutable { auto gone = std::move(rx); });
  weft::MockTask tx_task;
  const bool closed = tx_task.enter([&](Context& cx) { return tx.poll_closed(cx); }).is_ready();
  receiver.join();
  WEFT_INVARIANT(rx_task->waker_ref_count() == 0);
  WEFT_INVARIANT(closed || tx_task.is_woken());
}

// The other side: the Sender, waiting in closed(), sends while the Receiver polls. Once
// the send succeeded its closed() waker is gone (the Receiver, alive, never reads it
// again); if the Receiver saw the value first it is woken or got it.
WEFT_MODEL_TEST(send_after_poll_closed_releases_waker, weft::model::bounded(2), 1) {
  auto [tx, rx] = oneshot::channel<int>();
  auto tx_task = std::make_shared<weft::MockTask>();
  WEFT_INVARIANT(tx_task->enter([&](Context& cx) { return tx.poll_closed(cx); }).is_pending());
  platform::thread sender(
      [tx = std::move(tx)]() mutable { WEFT_INVARIANT(std::move(tx).send(1).is_ok()); });
  weft::MockTask rx_task;
  const bool ready = rx_task.poll(rx).is_ready();
  sender.join();
  WEFT_INVARIANT(tx_task->waker_ref_count() == 0);
  WEFT_INVARIANT(ready || rx_task.is_woken());
}

// ---- beyond Loom ----

// Both handles dropped at once, nothing sent: the RELEASED bits are the reference count,
// so exactly one side frees the state, after the other's last access (the leak checker
// sees a lost free, the race detector a use after free or a double free).
WEFT_MODEL_TEST(drop_tx_races_drop_rx, weft::model::exhaustive(), 1) {
  auto [tx, rx] = oneshot::channel<int>();
  platform::thread receiver([rx = std::move(rx)]() mutable { auto gone = std::move(rx); });
  { auto gone = std::move(tx); }
  receiver.join();
}

// A send racing the receiver's poll: the Sender releases its hold in the completing CAS
// when no waker is registered, or after waking it; the Receiver then frees the state by
// a load or by its own RMW.
WEFT_MODEL_TEST(send_races_first_poll, weft::model::exhaustive(), 1) {
  auto [tx, rx] = oneshot::channel<int>();
  platform::thread sender(
      [tx = std::move(tx)]() mutable { WEFT_INVARIANT(std::move(tx).send(7).is_ok()); });
  weft::MockTask task;
  auto out = task.poll(rx);
  sender.join();
  if (out.is_pending()) {
    WEFT_INVARIANT(task.is_woken());
    out = task.poll(rx);
  }
  WEFT_INVARIANT(out.is_ready() && out.value().is_ok() && *out.value() == 7);
}

// The receiver moves to a second task while the send happens: the wake must reach the
// task registered last, or that task's poll must see the value.
WEFT_MODEL_TEST(rx_reregister_during_send, weft::model::exhaustive(), 1) {
  auto [tx, rx] = oneshot::channel<int>();
  weft::MockTask task1, task2;
  WEFT_INVARIANT(task1.poll(rx).is_pending());
  platform::thread sender(
      [tx = std::move(tx)]() mutable { WEFT_INVARIANT(std::move(tx).send(1).is_ok()); });
  const bool ready = task2.poll(rx).is_ready();
  sender.join();
  WEFT_INVARIANT(ready || task2.is_woken());
  if (!ready) {
    auto out = task2.poll(rx);
    WEFT_INVARIANT(out.is_ready() && *out.value() == 1);
  }
}

// The same for the sender's closed() waker racing the receiver's close().
WEFT_MODEL_TEST(tx_reregister_during_close, weft::model::exhaustive(), 1) {
  auto [tx, rx] = oneshot::channel<int>();
  weft::MockTask task1, task2;
  WEFT_INVARIANT(task1.enter([&](Context& cx) { return tx.poll_closed(cx); }).is_pending());
  platform::thread receiver([rx = std::move(rx)]() mutable { rx.close(); });
  const bool ready = task2.enter([&](Context& cx) { return tx.poll_closed(cx); }).is_ready();
  receiver.join();
  WEFT_INVARIANT(ready || task2.is_woken());
  WEFT_INVARIANT(task2.enter([&](Context& cx) { return tx.poll_closed(cx); }).is_ready());
}

// A counted value racing close(): received, or handed back to the sender, exactly once.
struct send_races_close {
  static constexpr int threads = 2;
  std::shared_ptr<Drops> drops;
  std::optional<oneshot::Sender<Msg>> tx;
  std::optional<oneshot::Receiver<Msg>> rx;
  platform::cell<int> outcome_tx{-1};
  platform::cell<int> outcome_rx{-1};
  void setup() {
    drops = std::make_shared<Drops>();
    auto [s, r] = oneshot::channel<Msg>();
    tx.emplace(std::move(s));
    rx.emplace(std::move(r));
  }
  void thread(int index) {
    if (index == 0) {
      auto result = std::move(*tx).send(Msg(drops));
      tx.reset();
      outcome_tx.with_mut([&](int& v) { v = result.is_ok() ? 1 : 0; });
    } else {
      rx->close();
      auto got = rx->try_recv();
      // After close() the outcome is settled: a value, or Closed, never Empty.
      WEFT_INVARIANT(got.is_ok() || got.error() == oneshot::TryRecvError::Closed);
      outcome_rx.with_mut([&](int& v) { v = got.is_ok() ? 1 : 0; });
    }
  }
  void check() {
    rx.reset();
    WEFT_INVARIANT(drops->load() == 1);
    const int sent = outcome_tx.with([](const int& v) { return v; });
    const int got = outcome_rx.with([](const int& v) { return v; });
    WEFT_INVARIANT(sent == got);  // received iff the send succeeded
    drops.reset();
  }
};
WEFT_MODEL_SCENARIO(send_races_close, weft::model::exhaustive());

// A timed blocking_recv races send(): the value is received in time, or stays for the
// next (untimed) receive on the same Receiver; it is never lost.
WEFT_MODEL_TEST(timed_recv_races_send, weft::model::bounded(2), 1) {
  auto [tx, rx] = oneshot::channel<int>();
  platform::thread t(
      [tx = std::move(tx)]() mutable { WEFT_INVARIANT(std::move(tx).send(7).is_ok()); });
  auto got = rx.blocking_recv_for(std::chrono::milliseconds(1));
  if (got.is_err()) {
    WEFT_REACHED("recv timed out");
    WEFT_INVARIANT(std::move(rx).blocking_recv().value() == 7);
  } else {
    WEFT_INVARIANT(got->value() == 7);
  }
  t.join();
}
WEFT_MODEL_REACHES(timed_recv_races_send, "recv timed out");
