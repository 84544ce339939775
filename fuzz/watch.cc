// Operation-sequence fuzzing of watch (sync/watch.h) against a sequential model: the
// value, its version, the version each receiver marked seen, the handle counts.
//
// Each iteration: channel(init) or a Sender with no receiver; send (no receiver: the
// value comes back), send_replace (the old value comes back), send_modify,
// send_if_modified (true, or false after changing the value: no new version); borrow /
// borrow_and_update / has_changed / mark_changed / mark_unchanged; changed() and
// wait_for(pred) futures polled from two tasks and dropped while pending; Sender::closed()
// futures; subscribe, receiver and sender copies, the last Sender or Receiver dropped
// halfway; moved-from handles (std::invalid_argument). A Receiver with a live future is
// left alone, as Rust's borrow of it would require. Values are Counted (each destroyed
// exactly once). See fuzz/fuzz.h.
#include "fuzz/fuzz.h"
#include "sync/task/mock_task.h"
#include "sync/watch.h"

#include <doctest/doctest.h>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using weft::MockTask;
using weft::fuzz::Counted;
using weft::fuzz::Rng;
using weft::fuzz::Trace;
namespace watch = weft::watch;

using Sender = watch::Sender<Counted>;
using Receiver = watch::Receiver<Counted>;
using Pred = std::function<bool(const Counted&)>;

constexpr int tx_slots = 2;
constexpr int rx_slots = 3;
constexpr int tasks = 2;

struct ChangedHolder {
  explicit ChangedHolder(Receiver& rx) : fut(rx.changed()) {}
  Receiver::Changed fut;
};
struct WaitForHolder {
  WaitForHolder(Receiver& rx, Pred p) : fut(rx.wait_for(std::move(p))) {}
  Receiver::WaitFor<Pred> fut;
};

struct RxSlot {
  std::optional<Receiver> rx;
  long seen = 0;  // model: the version marked seen
  std::unique_ptr<ChangedHolder> changed;
  std::unique_ptr<WaitForHolder> wait_for;
  long divisor = 1;        // wait_for's predicate: value % divisor == 0
  bool wait_first = true;  // wait_for not polled yet
  int task = -1;           // registered by the pending future
  bool busy() const { return changed || wait_for; }
};

using TxSlot = weft::fuzz::SenderSlot<Sender>;  // with its closed() future

struct World : weft::fuzz::Tasks<tasks> {
  std::array<TxSlot, tx_slots> tx;
  std::array<RxSlot, rx_slots> rx;
  // The model.
  long value = 0;
  long version = 0;
  bool closed = false;  // every Sender gone
  long next_value = 1;

  std::size_t senders() const { return weft::fuzz::filled(tx, &TxSlot::tx); }
  std::size_t receivers() const { return weft::fuzz::filled(rx, &RxSlot::rx); }
  // Expectations are computed after the operation: wakes count from snap().
  void new_version() {
    ++version;
    for (RxSlot& r : rx) expect_wake_since_snap(r.task);
  }
  void check_waker_refs() {
    require_waker_refs([&](int t) {
      std::size_t expected = 0;
      for (const RxSlot& r : rx) expected += (r.busy() && r.task == t) ? 1 : 0;
      for (const TxSlot& s : tx) expected += s.waker_refs_of(t);
      return expected;
    });
  }
};

void drop_futures(World& w, int r, Trace& trace) {
  RxSlot& x = w.rx[r];
  if (!x.busy()) return;
  trace.op("rx", r, x.changed ? ".changed()" : ".wait_for()", " future drop");
  x.changed.reset();
  x.wait_for.reset();
  x.task = -1;
}

void drop_receiver(World& w, int r, Trace& trace) {
  RxSlot& x = w.rx[r];
  if (!x.rx) return;
  drop_futures(w, r, trace);
  trace.op("rx", r, " drop");
  w.snap();
  if (w.receivers() == 1) {
    for (TxSlot& s : w.tx) w.expect_wake_since_snap(s.closed_task);
  }
  x.rx.reset();
  w.check_wakes("the last receiver's drop");
}

void drop_sender(World& w, int s, Trace& trace) {
  TxSlot& x = w.tx[s];
  if (!x.tx) return;
  if (x.closed) {
    trace.op("tx", s, ".closed() future drop");
    x.drop_closed();
  }
  trace.op("tx", s, " drop");
  w.snap();
  if (w.senders() == 1) {
    w.closed = true;
    for (RxSlot& r : w.rx) w.expect_wake_since_snap(r.task);
  }
  x.tx.reset();
  w.check_wakes("the last sender's drop");
}

// The driver's operations, each picked with its weight in step() below.
enum class Op {
  send,
  send_replace,
  send_modify,
  send_if_modified,
  borrow,
  mark,
  sender_borrow,
  changed,
  wait_for,
  drop_futures,
  subscribe,
  drop_receiver,
  copy_or_drop_sender,
  closed,
  moved_from
};

void step(World& w, Rng& rng, Trace& trace) {
  const int s = static_cast<int>(rng.below(tx_slots));
  const int r = static_cast<int>(rng.below(rx_slots));
  const int t = static_cast<int>(rng.below(tasks));
  w.snap();
  switch (rng.pick<Op>({{Op::send, 6},
                        {Op::send_replace, 3},
                        {Op::send_modify, 3},
                        {Op::send_if_modified, 3},
                        {Op::borrow, 4},
                        {Op::mark, 3},
                        {Op::sender_borrow, 2},
                        {Op::changed, 8},
                        {Op::wait_for, 5},
                        {Op::drop_futures, 2},
                        {Op::subscribe, 3},
                        {Op::drop_receiver, 3},
                        {Op::copy_or_drop_sender, 2},
                        {Op::closed, 2},
                        {Op::moved_from, 1}})) {
    case Op::send: {
      if (!w.tx[s].tx) return;
      const long v = w.next_value++;
      trace.op("tx", s, ".send(", v, ")");
      const bool ok = w.receivers() > 0;
      if (ok) w.new_version();
      auto res = w.tx[s].tx->send(Counted(v));
      if (ok) {
        REQUIRE(res.is_ok());
        w.value = v;
      } else {
        REQUIRE(res.is_err());
        REQUIRE(res.error().value.value() == v);
      }
      w.check_wakes("send");
      break;
    }
    case Op::send_replace: {
      if (!w.tx[s].tx) return;
      const long v = w.next_value++;
      trace.op("tx", s, ".send_replace(", v, ")");
      w.new_version();
      Counted old = w.tx[s].tx->send_replace(Counted(v));
      REQUIRE(old.value() == w.value);
      w.value = v;
      w.check_wakes("send_replace");
      break;
    }
    case Op::send_modify: {
      if (!w.tx[s].tx) return;
      const long v = w.next_value++;
      trace.op("tx", s, ".send_modify(value = ", v, ")");
      w.new_version();
      w.tx[s].tx->send_modify([&](Counted& c) {
        REQUIRE(c.value() == w.value);
        c = Counted(v);
      });
      w.value = v;
      w.check_wakes("send_modify");
      break;
    }
      // send_if_modified: true, or false after changing the value anyway
    case Op::send_if_modified: {
      if (!w.tx[s].tx) return;
      const long v = w.next_value++;
      const bool report = rng.chance(1, 2);
      trace.op("tx", s, ".send_if_modified(value = ", v, ", return ", report, ")");
      if (report) w.new_version();
      const bool got = w.tx[s].tx->send_if_modified([&](Counted& c) {
        c = Counted(v);
        return report;
      });
      REQUIRE(got == report);
      w.value = v;
      w.check_wakes("send_if_modified");
      break;
    }
    case Op::borrow: {  // borrow / borrow_and_update / has_changed (a receiver with no live future)
      RxSlot& x = w.rx[r];
      if (!x.rx || x.busy()) return;
      switch (rng.below(3)) {
        case 0: {
          trace.op("rx", r, ".borrow()");
          auto ref = x.rx->borrow();
          REQUIRE(ref->value() == w.value);
          REQUIRE(ref.has_changed() == (x.seen != w.version));
          break;
        }
        case 1: {
          trace.op("rx", r, ".borrow_and_update()");
          auto ref = x.rx->borrow_and_update();
          REQUIRE(ref->value() == w.value);
          REQUIRE(ref.has_changed() == (x.seen != w.version));
          x.seen = w.version;
          break;
        }
        default: {
          trace.op("rx", r, ".has_changed()");
          auto h = x.rx->has_changed();
          if (w.closed) {
            REQUIRE(h.is_err());
          } else {
            REQUIRE(h.is_ok());
            REQUIRE(h.value() == (x.seen != w.version));
          }
          break;
        }
      }
      break;
    }
    case Op::mark: {  // mark_changed / mark_unchanged
      RxSlot& x = w.rx[r];
      if (!x.rx || x.busy()) return;
      if (rng.chance(1, 2)) {
        trace.op("rx", r, ".mark_changed()");
        x.rx->mark_changed();
        x.seen = w.version - 1;
      } else {
        trace.op("rx", r, ".mark_unchanged()");
        x.rx->mark_unchanged();
        x.seen = w.version;
      }
      break;
    }
    case Op::sender_borrow: {  // Sender::borrow and the counts
      if (!w.tx[s].tx) return;
      trace.op("tx", s, ".borrow() / counts");
      {
        auto ref = w.tx[s].tx->borrow();
        REQUIRE(ref->value() == w.value);
        REQUIRE_FALSE(ref.has_changed());
      }
      REQUIRE(w.tx[s].tx->receiver_count() == w.receivers());
      REQUIRE(w.tx[s].tx->sender_count() == w.senders());
      REQUIRE(w.tx[s].tx->is_closed() == (w.receivers() == 0));
      break;
    }
    case Op::changed: {  // changed(): poll (made on first use)
      RxSlot& x = w.rx[r];
      if (!x.rx || x.wait_for) return;
      trace.op("rx", r, ".changed() poll as task ", t);
      if (!x.changed) x.changed = std::make_unique<ChangedHolder>(*x.rx);
      auto p = w.task[t].poll(x.changed->fut);
      if (x.seen != w.version) {
        REQUIRE(p.is_ready());
        REQUIRE(p.value().is_ok());
        x.seen = w.version;
      } else if (w.closed) {
        REQUIRE(p.is_ready());
        REQUIRE(p.value().is_err());
      } else {
        REQUIRE(p.is_pending());
        x.task = t;
        break;
      }
      x.changed.reset();
      x.task = -1;
      break;
    }
    case Op::wait_for: {  // wait_for(value % d == 0): poll (made on first use)
      RxSlot& x = w.rx[r];
      if (!x.rx || x.changed) return;
      if (!x.wait_for) {
        x.divisor = 1 + static_cast<long>(rng.below(3));
        const long d = x.divisor;
        x.wait_for = std::make_unique<WaitForHolder>(
            *x.rx, [d](const Counted& c) { return c.value() % d == 0; });
        x.wait_first = true;
      }
      trace.op("rx", r, ".wait_for(value % ", x.divisor, " == 0) poll as task ", t);
      auto p = w.task[t].poll(x.wait_for->fut);
      const bool changed = x.wait_first || x.seen != w.version;
      x.wait_first = false;
      x.seen = w.version;
      if (changed && w.value % x.divisor == 0) {
        REQUIRE(p.is_ready());
        REQUIRE(p.value().is_ok());
        REQUIRE(p.value().value()->value() == w.value);
      } else if (w.closed) {
        REQUIRE(p.is_ready());
        REQUIRE(p.value().is_err());
      } else {
        REQUIRE(p.is_pending());
        x.task = t;
        break;
      }
      x.wait_for.reset();  // after the Ref (and its read lock) is gone
      x.task = -1;
      break;
    }
    case Op::drop_futures: drop_futures(w, r, trace); break;
    case Op::subscribe: {  // subscribe, or copy a receiver, into an empty slot
      if (w.rx[r].rx) return;
      const int from = static_cast<int>(rng.below(rx_slots));
      if (w.rx[from].rx && !w.rx[from].busy() && rng.chance(1, 2)) {
        trace.op("rx", r, " = copy of rx", from);
        w.rx[r].rx.emplace(*w.rx[from].rx);
        w.rx[r].seen = w.rx[from].seen;
      } else if (w.tx[s].tx) {
        trace.op("rx", r, " = tx", s, ".subscribe()");
        w.rx[r].rx.emplace(w.tx[s].tx->subscribe());
        w.rx[r].seen = w.version;
      }
      break;
    }
    case Op::drop_receiver: drop_receiver(w, r, trace); break;
    case Op::copy_or_drop_sender: {  // copy or drop a sender
      const int other = 1 - s;
      if (w.tx[s].tx && !w.tx[other].tx && rng.chance(1, 2)) {
        trace.op("tx", other, " = copy of tx", s);
        w.tx[other].tx.emplace(*w.tx[s].tx);
      } else {
        drop_sender(w, s, trace);
      }
      break;
    }
    case Op::closed: {  // Sender::closed()
      TxSlot& x = w.tx[s];
      if (!x.tx) return;
      trace.op("tx", s, ".closed() poll as task ", t);
      REQUIRE(x.poll_closed(w.task[t], t) == (w.receivers() == 0));
      break;
    }
    case Op::moved_from: {  // moved-from handles throw
      if (!w.tx[s].tx || w.tx[s].closed) return;
      trace.op("tx", s, " moved out, the moved-from one used, moved back");
      Sender moved(std::move(*w.tx[s].tx));
      REQUIRE_THROWS_AS((void)w.tx[s].tx->send(Counted(-1)), std::invalid_argument);
      REQUIRE_THROWS_AS((void)w.tx[s].tx->subscribe(), std::invalid_argument);
      REQUIRE_THROWS_AS((void)w.tx[s].tx->borrow(), std::invalid_argument);
      *w.tx[s].tx = std::move(moved);
      if (w.rx[r].rx && !w.rx[r].busy()) {
        Receiver moved_rx(std::move(*w.rx[r].rx));
        REQUIRE_THROWS_AS((void)w.rx[r].rx->borrow(), std::invalid_argument);
        REQUIRE_THROWS_AS((void)w.rx[r].rx->has_changed(), std::invalid_argument);
        *w.rx[r].rx = std::move(moved_rx);
      }
      break;
    }
  }
  w.check_waker_refs();
}

}  // namespace

TEST_CASE("watch: random operation sequences against the model") {
  weft::fuzz::run("watch", [](Rng& rng, Trace& trace) {
    auto w = std::make_unique<World>();
    const long init = w->next_value++;
    w->value = init;
    if (rng.chance(1, 5)) {
      trace.op("tx0 = Sender(", init, ") (no receiver)");
      w->tx[0].tx.emplace(Counted(init));
    } else {
      trace.op("channel(", init, ")");
      auto [tx, rx] = watch::channel<Counted>(Counted(init));
      w->tx[0].tx.emplace(std::move(tx));
      w->rx[0].rx.emplace(std::move(rx));
    }
    const int steps = static_cast<int>(rng.between(1, 80));
    for (int i = 0; i < steps; ++i) {
      step(*w, rng, trace);
      WEFT_FUZZ_LEDGER_CLEAN();
    }
    trace.op("tear down");
    if (rng.chance(1, 2)) {
      for (int s = 0; s < tx_slots; ++s) drop_sender(*w, s, trace);
      for (int r = 0; r < rx_slots; ++r) drop_receiver(*w, r, trace);
    } else {
      for (int r = 0; r < rx_slots; ++r) drop_receiver(*w, r, trace);
      for (int s = 0; s < tx_slots; ++s) drop_sender(*w, s, trace);
    }
    w->require_no_waker_refs();
  });
}
