// Operation-sequence fuzzing of the unbounded mpsc channel (sync/mpsc/unbounded.h)
// against a sequential model (a FIFO queue, the sender counts and the closed flags).
//
// Each iteration sends from several senders (clones, weak handles upgraded and dropped),
// receives with poll_recv / recv() futures / recv_many (limit 0 included) / try_recv /
// blocking_recv, polls Sender::closed() futures and drops them pending, closes the
// receiver, drops the receiver with values still queued, drops the last sender, and sends
// after close (the value must come back in SendError). Long sequences cross block
// boundaries (BLOCK_CAP values per block), so block recycling is exercised too. Every
// value is a Counted, destroyed exactly once. See fuzz/fuzz.h for the seed and budget.
#include "fuzz/fuzz.h"
#include "sync/mpsc/unbounded.h"
#include "sync/task/mock_task.h"

#include <doctest/doctest.h>

#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using weft::Context;
using weft::MockTask;
using weft::fuzz::Counted;
using weft::fuzz::Rng;
using weft::fuzz::Trace;
namespace mpsc = weft::mpsc;

using Sender = mpsc::UnboundedSender<Counted>;
using Weak = mpsc::WeakUnboundedSender<Counted>;
using Receiver = mpsc::UnboundedReceiver<Counted>;

constexpr int sender_slots = 4;
constexpr int weak_slots = 2;
constexpr int tasks = 2;

// A sender with its closed() future (polled at least once, so it must not move; it goes
// first whenever the sender goes).
using SenderSlot = weft::fuzz::SenderSlot<Sender, Sender::ClosedFuture>;

struct World : weft::fuzz::Tasks<tasks> {
  std::array<SenderSlot, sender_slots> tx;
  std::array<std::optional<Weak>, weak_slots> weak;
  std::optional<Receiver> rx;
  // The model.
  std::deque<long> queue;
  bool rx_closed = false;  // close() called, or the receiver dropped
  int rx_task = -1;        // the task registered by a pending receive
  long next_value = 1;

  std::size_t strong() const { return weft::fuzz::filled(tx, &SenderSlot::tx); }
  std::size_t weak_count() const {
    std::size_t n = 0;
    for (const auto& w : weak) n += w.has_value() ? 1 : 0;
    return n;
  }
  // Nothing more can be received (once the queue is drained).
  bool ended() const { return strong() == 0 || rx_closed; }
  void model_rx_closes() {
    if (!rx_closed) {
      for (SenderSlot& s : tx) expect_wake(s.closed_task);
    }
    rx_closed = true;
  }
  void drop_sender(int s, Trace& trace) {
    if (!tx[s].tx) return;
    trace.op("tx", s, " drop", tx[s].closed ? " (its closed() future first)" : "");
    tx[s].drop_closed();
    const bool last = strong() == 1;
    if (last) expect_wake(rx_task);  // the last sender gone: the receiver learns the end
    tx[s].tx.reset();
    check_wakes("the last sender's drop");
  }
};

void check_value(const std::optional<Counted>& got, World& w) {
  if (w.queue.empty()) {
    REQUIRE_FALSE(got.has_value());
  } else {
    REQUIRE(got.has_value());
    REQUIRE(got->value() == w.queue.front());
    w.queue.pop_front();
  }
}

// The driver's operations, each picked with its weight in step() below.
enum class Op {
  send,
  clone_sender,
  drop_sender,
  downgrade,
  upgrade,
  drop_weak,
  poll_closed,
  receive,
  recv_many,
  try_recv,
  blocking_recv,
  close,
  queries,
  drop_receiver,
  move_receiver,
  same_channel
};

void step(World& w, Rng& rng, Trace& trace) {
  const int s = static_cast<int>(rng.below(sender_slots));
  const int t = static_cast<int>(rng.below(tasks));
  switch (rng.pick<Op>({{Op::send, 12},
                        {Op::clone_sender, 3},
                        {Op::drop_sender, 2},
                        {Op::downgrade, 2},
                        {Op::upgrade, 2},
                        {Op::drop_weak, 2},
                        {Op::poll_closed, 3},
                        {Op::receive, 8},
                        {Op::recv_many, 3},
                        {Op::try_recv, 4},
                        {Op::blocking_recv, 1},
                        {Op::close, 2},
                        {Op::queries, 2},
                        {Op::drop_receiver, 2},
                        {Op::move_receiver, 1},
                        {Op::same_channel, 1}})) {
    case Op::send: {
      if (!w.tx[s].tx) return;
      const long v = w.next_value++;
      trace.op("tx", s, ".send(", v, ")");
      const bool ok = !w.rx_closed;
      if (ok) w.expect_wake(w.rx_task);
      auto r = w.tx[s].tx->send(Counted(v));
      if (ok) {
        REQUIRE(r.is_ok());
        w.queue.push_back(v);
      } else {
        REQUIRE(r.is_err());
        REQUIRE(r.error().value.value() == v);  // the value comes back
      }
      w.check_wakes("send");
      break;
    }
    case Op::clone_sender: {  // clone a sender into another slot (dropping what was there)
      const int from = static_cast<int>(rng.below(sender_slots));
      if (!w.tx[from].tx || from == s) return;
      Sender copy(*w.tx[from].tx);
      w.drop_sender(s, trace);
      trace.op("tx", s, " = clone of tx", from);
      w.tx[s].tx.emplace(std::move(copy));
      break;
    }
    case Op::drop_sender:  // drop a sender
      w.drop_sender(s, trace);
      break;
    case Op::downgrade: {
      if (!w.tx[s].tx) return;
      const int k = static_cast<int>(rng.below(weak_slots));
      trace.op("weak", k, " = tx", s, ".downgrade()");
      w.weak[k].emplace(w.tx[s].tx->downgrade());
      break;
    }
    case Op::upgrade: {  // upgrade a weak handle into an empty sender slot
      const int k = static_cast<int>(rng.below(weak_slots));
      if (!w.weak[k] || w.tx[s].tx) return;
      trace.op("tx", s, " = weak", k, ".upgrade()");
      const bool expect = w.strong() > 0;
      auto up = w.weak[k]->upgrade();
      REQUIRE(up.has_value() == expect);
      if (up) w.tx[s].tx.emplace(std::move(*up));
      break;
    }
    case Op::drop_weak: {  // drop a weak handle; and the counts
      const int k = static_cast<int>(rng.below(weak_slots));
      trace.op("weak", k, " drop; counts");
      w.weak[k].reset();
      for (const SenderSlot& sl : w.tx) {
        if (sl.tx) {
          REQUIRE(sl.tx->strong_count() == w.strong());
          REQUIRE(sl.tx->weak_count() == w.weak_count());
        }
      }
      for (const auto& wk : w.weak) {
        if (wk) {
          REQUIRE(wk->strong_count() == w.strong());
          REQUIRE(wk->weak_count() == w.weak_count());
        }
      }
      if (w.rx) {
        REQUIRE(w.rx->sender_strong_count() == w.strong());
        REQUIRE(w.rx->sender_weak_count() == w.weak_count());
      }
      break;
    }
    case Op::poll_closed: {  // poll a sender's closed() future (created on first use)
      if (!w.tx[s].tx) return;
      trace.op("tx", s, ".closed() poll as task ", t);
      REQUIRE(w.tx[s].poll_closed(w.task[t], t) == w.rx_closed);
      REQUIRE(w.tx[s].tx->is_closed() == w.rx_closed);
      break;
    }
    case Op::receive: {  // receive: poll_recv, or a recv() future polled and maybe dropped pending
      if (!w.rx) return;
      const bool via_future = rng.chance(1, 2);
      trace.op(via_future ? "rx.recv() poll as task " : "rx.poll_recv as task ", t);
      weft::Poll<std::optional<Counted>> p = weft::pending;
      if (via_future) {
        auto fut = w.rx->recv();
        p = w.task[t].poll(fut);
      } else {
        p = w.task[t].enter([&](Context& cx) { return w.rx->poll_recv(cx); });
      }
      // Only a pending poll registers: the end after close() is answered before
      // registering (as Tokio's Rx::recv), so a ready poll leaves the slot as it was.
      if (w.queue.empty() && !w.ended()) {
        REQUIRE(p.is_pending());
        w.rx_task = t;
      } else {
        REQUIRE(p.is_ready());
        check_value(p.value(), w);
      }
      break;
    }
    case Op::recv_many: {  // recv_many into a buffer that already holds a value, limit 0..4
      if (!w.rx) return;
      const std::size_t limit = rng.below(5);
      trace.op("rx.recv_many(limit ", limit, ") as task ", t);
      std::vector<Counted> buffer;
      buffer.emplace_back(-1);
      auto p =
          w.task[t].enter([&](Context& cx) { return w.rx->poll_recv_many(cx, buffer, limit); });
      if (limit == 0) {
        REQUIRE(p.is_ready());
        REQUIRE(p.value() == 0);
      } else if (w.queue.empty() && !w.ended()) {
        REQUIRE(p.is_pending());
        w.rx_task = t;
      } else {
        REQUIRE(p.is_ready());
        const std::size_t n = std::min(limit, w.queue.size());
        REQUIRE(p.value() == n);
        REQUIRE(buffer.size() == n + 1);
        REQUIRE(buffer[0].value() == -1);
        for (std::size_t i = 0; i < n; ++i) {
          REQUIRE(buffer[i + 1].value() == w.queue.front());
          w.queue.pop_front();
        }
      }
      break;
    }
    case Op::try_recv: {
      if (!w.rx) return;
      trace.op("rx.try_recv()");
      auto r = w.rx->try_recv();
      if (!w.queue.empty()) {
        REQUIRE(r.is_ok());
        REQUIRE(r.value().value() == w.queue.front());
        w.queue.pop_front();
      } else {
        REQUIRE(r.is_err());
        REQUIRE(r.error() ==
                (w.ended() ? mpsc::TryRecvError::Disconnected : mpsc::TryRecvError::Empty));
      }
      break;
    }
    case Op::blocking_recv: {  // blocking_recv, only when it cannot block
      if (!w.rx || (w.queue.empty() && !w.ended())) return;
      trace.op("rx.blocking_recv()");
      check_value(w.rx->blocking_recv(), w);
      break;
    }
    case Op::close: {
      if (!w.rx) return;
      trace.op("rx.close()");
      w.model_rx_closes();
      w.rx->close();
      w.check_wakes("close");
      break;
    }
    case Op::queries: {  // the receiver's queries
      if (!w.rx) return;
      trace.op("rx.is_closed() / is_empty() / len()");
      REQUIRE(w.rx->is_closed() == w.ended());
      REQUIRE(w.rx->is_empty() == w.queue.empty());
      REQUIRE(w.rx->len() == w.queue.size());
      break;
    }
    case Op::drop_receiver: {  // drop the receiver: queued values are destroyed
      if (!w.rx) return;
      trace.op("rx drop (", w.queue.size(), " values queued)");
      w.model_rx_closes();
      w.rx.reset();
      w.queue.clear();
      w.rx_task = -1;
      w.check_wakes("the receiver's drop");
      // Senders may keep the channel; no task's waker is left in it (the receiver's drop
      // takes its own, tokio#8095; the close completes every closed() future).
      w.require_no_waker_refs();
      break;
    }
    case Op::move_receiver: {  // move the receiver out and back
      if (!w.rx) return;
      trace.op("rx moved out and back");
      Receiver tmp(std::move(*w.rx));
      *w.rx = std::move(tmp);
      break;
    }
    case Op::same_channel: {
      const int other = static_cast<int>(rng.below(sender_slots));
      if (!w.tx[s].tx || !w.tx[other].tx) return;
      trace.op("tx", s, ".same_channel(tx", other, ")");
      REQUIRE(w.tx[s].tx->same_channel(*w.tx[other].tx));
      break;
    }
  }
}

}  // namespace

TEST_CASE("mpsc unbounded: random operation sequences against the model") {
  weft::fuzz::run("mpsc_unbounded", [](Rng& rng, Trace& trace) {
    auto w = std::make_unique<World>();
    {
      auto [tx, rx] = mpsc::unbounded_channel<Counted>();
      w->tx[0].tx.emplace(std::move(tx));
      w->rx.emplace(std::move(rx));
    }
    // Mostly short sequences; one in four long enough to cross several blocks.
    const int steps =
        static_cast<int>(rng.chance(1, 4) ? rng.between(100, 400) : rng.between(1, 60));
    for (int i = 0; i < steps; ++i) {
      step(*w, rng, trace);
      WEFT_FUZZ_LEDGER_CLEAN();
    }
    // Tear down in a random order of the three kinds of handle.
    switch (rng.below(3)) {
      case 0:
        trace.op("drop the receiver, then the senders");
        w->rx.reset();
        w->rx_task = -1;             // the receiver's drop takes its waker (tokio#8095)
        w->require_no_waker_refs();  // though the senders keep the channel
        for (int s = 0; s < sender_slots; ++s) w->drop_sender(s, trace);
        break;
      case 1:
        trace.op("drop the senders, drain, then the receiver");
        for (int s = 0; s < sender_slots; ++s) w->drop_sender(s, trace);
        if (w->rx) {
          while (!w->queue.empty()) check_value(w->rx->blocking_recv(), *w);
          REQUIRE_FALSE(w->rx->blocking_recv().has_value());
        }
        break;
      default:
        trace.op("drop the senders, then the receiver with values queued");
        for (int s = 0; s < sender_slots; ++s) w->drop_sender(s, trace);
        break;
    }
    w->rx.reset();
    w->weak = {};
    w->require_no_waker_refs();
  });
}
