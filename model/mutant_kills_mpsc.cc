// Model scenarios that kill mutations of sync/mpsc the main suite (model/mpsc.cc,
// model/mpsc_list.cc) lets survive (ci/mutations.py names them).
#include "model/harness/scenario.h"
#include "sync/mpsc/bounded.h"
#include "sync/mpsc/unbounded.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "sync/platform/platform.h"

#include <memory>
#include <optional>
#include <vector>

namespace platform = weft::platform;
namespace mpsc = weft::mpsc;

// Kills mpsc.unbounded_closed_bit_dropped: once close() returned, a send must fail and
// give the value back, and the senders see the channel closed.
WEFT_MODEL_TEST(unbounded_send_after_close_fails, weft::model::bounded(1), 1) {
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

namespace {
struct Notes {
  platform::cell<int> a{0};
  platform::cell<int> b{0};
};
}  // namespace

// Kills mpsc.tx_count_relaxed: everything every sender did before it was destroyed
// happens-before the receive that reports the end. Two senders write plain data and go
// away; whichever is last closes the list, and the other's write must be ordered before
// that close through the sender count (AcqRel decrements, one release sequence).
WEFT_MODEL_TEST(senders_writes_ordered_before_end, weft::model::bounded(2), 2) {
  auto notes = std::make_shared<Notes>();
  auto [tx, rx] = mpsc::unbounded_channel<int>();
  auto second = std::make_shared<std::optional<mpsc::UnboundedSender<int>>>(tx);
  platform::thread a([notes, tx = std::move(tx)]() mutable {
    notes->a.with_mut([](int& v) { v = 1; });
    auto gone = std::move(tx);
  });
  platform::thread b([notes, second] {
    notes->b.with_mut([](int& v) { v = 1; });
    second->reset();
  });
  WEFT_INVARIANT(!rx.blocking_recv().has_value());  // the end: both senders are gone
  notes->a.with([](const int& v) { WEFT_INVARIANT(v == 1); });
  notes->b.with([](const int& v) { WEFT_INVARIANT(v == 1); });
  a.join();
  b.join();
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
WEFT_MODEL_TEST(ready_end_leaves_no_waker, weft::model::bounded(1), 1) {
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
