// Operation-sequence fuzzing of oneshot (sync/oneshot.h) against a sequential model.
//
// Each iteration drives a few channels through random operations on both handles: send,
// send on a consumed Sender, drop either handle at any point, poll / try_recv / close /
// blocking_recv on the Receiver (also after it completed), poll_closed and the Closed
// future, is_closed / is_empty / is_terminated, moves. Every result is compared with the
// model; misuse must throw std::invalid_argument; every waker registered must be woken
// when the model says so and released in the end; every value is a Counted, destroyed
// exactly once. See fuzz/fuzz.h for the seed and budget.
#include "fuzz/fuzz.h"
#include "sync/oneshot.h"
#include "sync/task/mock_task.h"

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace {

using weft::Context;
using weft::MockTask;
using weft::fuzz::Counted;
using weft::fuzz::Rng;
using weft::fuzz::Trace;
namespace oneshot = weft::oneshot;

constexpr int channels = 3;
constexpr int tasks = 2;

// The sequential reference model of one channel.
struct Model {
  bool tx_present = false;   // the Sender object exists
  bool tx_consumed = false;  // ... but send() consumed it
  bool rx_present = false;   // the Receiver object exists
  bool rx_terminated = false;
  bool value_sent = false;   // the Sender is done (sent, or dropped unsent)
  std::optional<long> slot;  // the value sent and not yet received
  bool closed = false;       // the Receiver closed (or was dropped)
  int rx_task = -1;          // the task whose waker the Receiver registered
  int tx_task = -1;          // the task whose waker poll_closed registered
};

struct Channel {
  std::optional<oneshot::Sender<Counted>> tx;
  std::optional<oneshot::Receiver<Counted>> rx;
  Model m;
};

struct World : weft::fuzz::Tasks<tasks> {
  std::array<std::unique_ptr<Channel>, channels> ch;
  long next_value = 1;
};

// The model's wake expectations: `who` must have been woken by the operation just done.
struct WakeProbe {
  MockTask* task = nullptr;
  std::size_t before = 0;
  void expect(MockTask& t) {
    task = &t;
    before = t.wake_count();
  }
};

void require_woken(const WakeProbe& probe, const char* why) {
  if (probe.task != nullptr)
    REQUIRE_MESSAGE(probe.task->wake_count() > probe.before, std::string(why));
}

void fresh_channel(World& w, int c) {
  auto [tx, rx] = oneshot::channel<Counted>();
  auto ch = std::make_unique<Channel>();
  ch->tx.emplace(std::move(tx));
  ch->rx.emplace(std::move(rx));
  ch->m.tx_present = ch->m.rx_present = true;
  w.ch[c] = std::move(ch);  // drops the previous channel's handles, if any
}

// The effects of the Receiver closing (close() or its destructor) on the model.
void model_close(World& w, Model& m, WakeProbe& probe) {
  if (m.tx_task >= 0 && !m.value_sent) {
    probe.expect(w.task[m.tx_task]);
    m.tx_task = -1;
  }
  m.closed = true;
}

// The driver's operations, each picked with its weight in step() below.
enum class Op {
  replace_channel,
  send,
  drop_sender,
  is_closed,
  poll_closed,
  move_sender,
  poll_receiver,
  try_recv,
  close,
  drop_receiver,
  queries,
  move_receiver,
  blocking_recv,
  move_assign_receiver
};

void step(World& w, Rng& rng, Trace& trace) {
  const int c = static_cast<int>(rng.below(channels));
  if (!w.ch[c]) {
    trace.op("ch", c, " = channel()");
    fresh_channel(w, c);
    return;
  }
  Channel& ch = *w.ch[c];
  Model& m = ch.m;
  const int t = static_cast<int>(rng.below(tasks));
  WakeProbe probe;

  switch (rng.pick<Op>({{Op::replace_channel, 1},
                        {Op::send, 6},
                        {Op::drop_sender, 2},
                        {Op::is_closed, 2},
                        {Op::poll_closed, 3},
                        {Op::move_sender, 2},
                        {Op::poll_receiver, 7},
                        {Op::try_recv, 4},
                        {Op::close, 3},
                        {Op::drop_receiver, 2},
                        {Op::queries, 2},
                        {Op::move_receiver, 2},
                        {Op::blocking_recv, 1},
                        {Op::move_assign_receiver, 1}})) {
    case Op::replace_channel: {  // replace the whole channel: both handles dropped as they are
      trace.op("ch", c, " = channel() (drops both handles)");
      if (m.rx_present && !m.rx_terminated) model_close(w, m, probe);
      fresh_channel(w, c);
      break;
    }
    case Op::send: {
      if (!m.tx_present) return;
      const long v = w.next_value++;
      trace.op("ch", c, ".tx.send(", v, ")");
      if (m.tx_consumed) {
        REQUIRE_THROWS_AS((void)std::move(*ch.tx).send(Counted(v)), std::invalid_argument);
        break;
      }
      const bool expect_ok = !m.closed;
      if (expect_ok && m.rx_task >= 0) probe.expect(w.task[m.rx_task]);
      auto r = std::move(*ch.tx).send(Counted(v));
      m.tx_consumed = true;
      if (expect_ok) {
        REQUIRE(r.is_ok());
        m.value_sent = true;
        m.slot = v;
        m.rx_task = -1;
      } else {
        REQUIRE(r.is_err());
        REQUIRE(r.error().value() == v);  // the value comes back
      }
      require_woken(probe, "send must wake the receiver's task");
      break;
    }
    case Op::drop_sender: {  // drop the Sender
      if (!m.tx_present) return;
      trace.op("ch", c, ".tx drop");
      if (!m.tx_consumed && !m.closed) {
        if (m.rx_task >= 0) probe.expect(w.task[m.rx_task]);
        m.value_sent = true;  // with an empty slot: the Receiver gets RecvError
        m.rx_task = -1;
      }
      ch.tx.reset();
      m.tx_present = false;
      m.tx_task = -1;
      require_woken(probe, "dropping the Sender must wake the receiver's task");
      break;
    }
    case Op::is_closed: {  // Sender::is_closed
      if (!m.tx_present) return;
      trace.op("ch", c, ".tx.is_closed()");
      if (m.tx_consumed) {
        REQUIRE_THROWS_AS((void)ch.tx->is_closed(), std::invalid_argument);
      } else {
        REQUIRE(ch.tx->is_closed() == m.closed);
      }
      break;
    }
    case Op::poll_closed: {  // poll_closed, directly or through the Closed future
      if (!m.tx_present) return;
      const bool via_future = rng.chance(1, 2);
      trace.op("ch", c, via_future ? ".tx.closed().poll" : ".tx.poll_closed", " as task ", t);
      auto poll = [&] {
        if (via_future) {
          auto fut = ch.tx->closed();
          return w.task[t].poll(fut);
        }
        return w.task[t].enter([&](Context& cx) { return ch.tx->poll_closed(cx); });
      };
      if (m.tx_consumed) {
        REQUIRE_THROWS_AS((void)poll(), std::invalid_argument);
        break;
      }
      const bool ready = poll().is_ready();
      REQUIRE(ready == m.closed);
      if (!ready) m.tx_task = t;
      break;
    }
    case Op::move_sender: {  // move the Sender out and back (move constructor and move assignment)
      if (!m.tx_present) return;
      trace.op("ch", c, ".tx moved out and back");
      oneshot::Sender<Counted> tmp(std::move(*ch.tx));
      *ch.tx = std::move(tmp);
      break;
    }
    case Op::poll_receiver: {  // poll the Receiver
      if (!m.rx_present) return;
      trace.op("ch", c, ".rx.poll as task ", t);
      if (m.rx_terminated) {
        REQUIRE_THROWS_AS((void)w.task[t].poll(*ch.rx), std::invalid_argument);
        break;
      }
      auto p = w.task[t].poll(*ch.rx);
      if (m.value_sent || m.closed) {
        REQUIRE(p.is_ready());
        if (m.value_sent && m.slot) {
          REQUIRE(p.value().is_ok());
          REQUIRE(p.value().value().value() == *m.slot);
        } else {
          REQUIRE(p.value().is_err());
        }
        m.slot.reset();
        m.rx_terminated = true;
        REQUIRE(ch.rx->is_terminated());
      } else {
        REQUIRE(p.is_pending());
        m.rx_task = t;
      }
      break;
    }
    case Op::try_recv: {
      if (!m.rx_present) return;
      trace.op("ch", c, ".rx.try_recv()");
      auto r = ch.rx->try_recv();
      if (m.rx_terminated) {
        REQUIRE(r.is_err());
        REQUIRE(r.error() == oneshot::TryRecvError::Closed);
      } else if (m.value_sent && m.slot) {
        REQUIRE(r.is_ok());
        REQUIRE(r.value().value() == *m.slot);
        m.slot.reset();
        m.rx_terminated = true;
      } else if (m.value_sent || m.closed) {
        REQUIRE(r.is_err());
        REQUIRE(r.error() == oneshot::TryRecvError::Closed);
        m.rx_terminated = true;
      } else {
        REQUIRE(r.is_err());
        REQUIRE(r.error() == oneshot::TryRecvError::Empty);
      }
      break;
    }
    case Op::close: {
      if (!m.rx_present) return;
      trace.op("ch", c, ".rx.close()");
      if (!m.rx_terminated) model_close(w, m, probe);
      ch.rx->close();
      require_woken(probe, "close must wake the sender's poll_closed task");
      break;
    }
    case Op::drop_receiver: {  // drop the Receiver
      if (!m.rx_present) return;
      trace.op("ch", c, ".rx drop");
      if (!m.rx_terminated) model_close(w, m, probe);
      ch.rx.reset();  // a value sent and not received is destroyed here
      m.slot.reset();
      m.rx_present = false;
      m.rx_task = -1;
      require_woken(probe, "dropping the Receiver must wake the sender's poll_closed task");
      break;
    }
    case Op::queries: {  // the queries
      if (!m.rx_present) return;
      trace.op("ch", c, ".rx.is_closed() / is_empty() / is_terminated()");
      REQUIRE(ch.rx->is_terminated() == m.rx_terminated);
      REQUIRE(ch.rx->is_closed() == (m.rx_terminated || m.value_sent || m.closed));
      REQUIRE(ch.rx->is_empty() == (m.rx_terminated || !m.slot.has_value()));
      break;
    }
    case Op::move_receiver: {  // move the Receiver out and back
      if (!m.rx_present) return;
      trace.op("ch", c, ".rx moved out and back");
      oneshot::Receiver<Counted> tmp(std::move(*ch.rx));
      *ch.rx = std::move(tmp);
      break;
    }
    case Op::blocking_recv: {  // blocking_recv, only when it cannot block
      if (!m.rx_present || m.rx_terminated || !(m.value_sent || m.closed)) return;
      trace.op("ch", c, ".rx.blocking_recv()");
      auto r = std::move(*ch.rx).blocking_recv();
      if (m.value_sent && m.slot) {
        REQUIRE(r.is_ok());
        REQUIRE(r.value().value() == *m.slot);
      } else {
        REQUIRE(r.is_err());
      }
      m.slot.reset();
      m.rx_terminated = true;
      break;
    }
      // move-assign another channel's Receiver onto this one: the old one drops
    case Op::move_assign_receiver: {
      if (!m.rx_present) return;
      const long v = w.next_value++;
      trace.op("ch", c, ".rx = rx2 of a new channel (tx2, rx2); tx2.send(", v,
               "); ch.rx.try_recv(); then ch", c, " = channel()");
      if (!m.rx_terminated) model_close(w, m, probe);
      {
        auto [tx2, rx2] = oneshot::channel<Counted>();
        *ch.rx = std::move(rx2);  // the old Receiver is dropped: its value destroyed
        require_woken(probe, "move-assigning over the Receiver must close its channel");
        if (m.tx_present && !m.tx_consumed) REQUIRE(ch.tx->is_closed());
        REQUIRE(std::move(tx2).send(Counted(v)).is_ok());
        auto r = ch.rx->try_recv();
        REQUIRE(r.is_ok());
        REQUIRE(r.value().value() == v);
      }
      fresh_channel(w, c);
      break;
    }
  }
}

}  // namespace

TEST_CASE("oneshot: random operation sequences against the model") {
  weft::fuzz::run("oneshot", [](Rng& rng, Trace& trace) {
    auto w = std::make_unique<World>();
    const int steps = static_cast<int>(rng.between(1, 60));
    for (int i = 0; i < steps; ++i) {
      step(*w, rng, trace);
      WEFT_FUZZ_LEDGER_CLEAN();
    }
    trace.op("drop everything");
    for (auto& ch : w->ch) ch.reset();
    w->require_no_waker_refs();  // every registered waker released
  });
}
