// Operation-sequence fuzzing of broadcast (sync/broadcast.h) against a sequential model:
// the values by send position, each receiver's next position, the shares still held per
// position, and the sender / receiver counts.
//
// Each iteration: channel(0) (std::invalid_argument), a capacity above SIZE_MAX / 2
// (std::length_error), channel(1..5) (rounded up to a power of two) or a Sender with no
// receiver; sends (with no receiver the value comes back), receivers that lag (RecvError /
// TryRecvError lagged with the exact count), subscribe / resubscribe, recv() futures
// polled from two tasks and dropped while pending, try_recv, Sender::closed() futures,
// weak senders, the last Sender or the last Receiver dropped halfway, use of moved-from
// handles (std::invalid_argument), len / is_empty / counts. Values are CloneCounted (one
// copy per receiver), each destroyed exactly once. See fuzz/fuzz.h.
#include "fuzz/fuzz.h"
#include "sync/broadcast.h"
#include "sync/task/mock_task.h"

#include <doctest/doctest.h>

#include <array>
#include <bit>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using weft::MockTask;
using weft::fuzz::CloneCounted;
using weft::fuzz::Rng;
using weft::fuzz::Trace;
namespace broadcast = weft::broadcast;

using Sender = broadcast::Sender<CloneCounted>;
using Weak = broadcast::WeakSender<CloneCounted>;
using Receiver = broadcast::Receiver<CloneCounted>;

constexpr int tx_slots = 2;
constexpr int rx_slots = 3;
constexpr int tasks = 2;

// recv() futures neither copy nor move: built in place (closed() futures: see TxSlot).
struct RecvHolder {
  explicit RecvHolder(Receiver& rx) : fut(rx.recv()) {}
  Receiver::Recv fut;
};

struct RxSlot {
  std::optional<Receiver> rx;
  std::uint64_t next = 0;  // model
  std::unique_ptr<RecvHolder> recv;
  int recv_task = -1;  // registered by a pending recv future
};

using TxSlot = weft::fuzz::SenderSlot<Sender>;

struct World : weft::fuzz::Tasks<tasks> {
  std::array<TxSlot, tx_slots> tx;
  std::array<RxSlot, rx_slots> rx;
  std::optional<Weak> weak;
  // The model.
  std::uint64_t cap = 1;
  std::uint64_t tail = 0;
  std::map<std::uint64_t, long> sent;        // position -> value
  std::map<std::uint64_t, std::size_t> rem;  // position -> shares not yet released
  bool closed = false;                       // as the channel's closed_ flag
  long next_value = 1;

  std::size_t strong() const { return weft::fuzz::filled(tx, &TxSlot::tx); }
  std::size_t receivers() const { return weft::fuzz::filled(rx, &RxSlot::rx); }

  // Expectations are computed after the operation: wakes count from snap().
  void wake_receivers() {
    for (RxSlot& r : rx) expect_wake_since_snap(r.recv_task);
  }
  void check_waker_refs() {
    require_waker_refs([&](int t) {
      std::size_t expected = 0;
      for (const RxSlot& r : rx) expected += (r.recv && r.recv_task == t) ? 1 : 0;
      for (const TxSlot& s : tx) expected += s.waker_refs_of(t);
      return expected;
    });
  }
  // Values queued: positions kept whose shares are not all released.
  std::size_t len() const {
    std::size_t n = 0;
    for (std::uint64_t p = tail > cap ? tail - cap : 0; p < tail; ++p) {
      auto it = rem.find(p);
      if (it != rem.end() && it->second > 0) ++n;
    }
    return n;
  }
  // A receiver at `next` releases its shares up to the tail (its destructor).
  void release_shares(std::uint64_t next) {
    for (std::uint64_t p = std::max(next, tail > cap ? tail - cap : 0); p < tail; ++p) --rem[p];
  }

  enum class Look { value, empty, closed, lagged };
  // recv in the model for receiver r: the outcome, the value, the skipped count.
  Look model_recv(RxSlot& r, long& value, std::uint64_t& skipped) {
    if (r.next < tail) {
      const std::uint64_t oldest = tail > cap ? tail - cap : 0;
      if (r.next < oldest) {
        skipped = oldest - r.next;
        r.next = oldest;
        return Look::lagged;
      }
      value = sent.at(r.next);
      --rem[r.next];
      ++r.next;
      return Look::value;
    }
    return closed ? Look::closed : Look::empty;
  }
};

void drop_recv(World& w, int r, Trace& trace) {
  if (!w.rx[r].recv) return;
  trace.op("rx", r, ".recv() future drop");
  w.rx[r].recv.reset();
  w.rx[r].recv_task = -1;
}

void drop_receiver(World& w, int r, Trace& trace) {
  RxSlot& s = w.rx[r];
  if (!s.rx) return;
  drop_recv(w, r, trace);
  trace.op("rx", r, " drop");
  w.snap();
  w.release_shares(s.next);
  if (w.receivers() == 1) {
    w.closed = true;
    for (TxSlot& t : w.tx) w.expect_wake_since_snap(t.closed_task);
  }
  s.rx.reset();
  w.check_wakes("the last receiver's drop");
}

void drop_sender(World& w, int s, Trace& trace) {
  TxSlot& t = w.tx[s];
  if (!t.tx) return;
  if (t.closed) {
    trace.op("tx", s, ".closed() future drop");
    t.drop_closed();
  }
  trace.op("tx", s, " drop");
  w.snap();
  if (w.strong() == 1) {
    w.closed = true;
    w.wake_receivers();
  }
  t.tx.reset();
  w.check_wakes("the last sender's drop");
}

void subscribe_into(World& w, int r, Receiver rx, Trace& trace) {
  (void)trace;
  if (w.receivers() == 0 && w.strong() > 0) w.closed = false;  // re-opened
  w.rx[r].rx.emplace(std::move(rx));
  w.rx[r].next = w.tail;
}

void check_recv_result(World& w, RxSlot& r,
                       const weft::Result<CloneCounted, broadcast::RecvError>& got,
                       World::Look look, long value, std::uint64_t skipped) {
  (void)w;
  (void)r;
  switch (look) {
    case World::Look::value:
      REQUIRE(got.is_ok());
      REQUIRE(got.value().value() == value);
      break;
    case World::Look::lagged:
      REQUIRE(got.is_err());
      REQUIRE(got.error().is_lagged());
      REQUIRE(got.error().skipped() == skipped);
      break;
    case World::Look::closed:
      REQUIRE(got.is_err());
      REQUIRE(got.error().is_closed());
      break;
    case World::Look::empty: FAIL("model: empty is pending");
  }
}

// The driver's operations, each picked with its weight in step() below.
enum class Op {
  send,
  poll_recv,
  try_recv,
  subscribe,
  drop_receiver,
  clone_or_drop_sender,
  weak,
  closed,
  drop_recv,
  queries,
  blocking_recv,
  moved_from,
  bad_capacity
};

void step(World& w, Rng& rng, Trace& trace) {
  const int s = static_cast<int>(rng.below(tx_slots));
  const int r = static_cast<int>(rng.below(rx_slots));
  const int t = static_cast<int>(rng.below(tasks));
  w.snap();
  switch (rng.pick<Op>({{Op::send, 10},
                        {Op::poll_recv, 10},
                        {Op::try_recv, 6},
                        {Op::subscribe, 3},
                        {Op::drop_receiver, 3},
                        {Op::clone_or_drop_sender, 2},
                        {Op::weak, 2},
                        {Op::closed, 3},
                        {Op::drop_recv, 2},
                        {Op::queries, 2},
                        {Op::blocking_recv, 3},
                        {Op::moved_from, 1},
                        {Op::bad_capacity, 2}})) {
    case Op::send: {
      if (!w.tx[s].tx) return;
      const long v = w.next_value++;
      trace.op("tx", s, ".send(", v, ")");
      const std::size_t n = w.receivers();
      if (n > 0) w.wake_receivers();
      auto res = w.tx[s].tx->send(CloneCounted(v));
      if (n == 0) {
        REQUIRE(res.is_err());
        REQUIRE(res.error().value.value() == v);  // the value comes back
      } else {
        REQUIRE(res.is_ok());
        REQUIRE(res.value() == n);
        w.sent[w.tail] = v;
        w.rem[w.tail] = n;
        ++w.tail;
      }
      w.check_wakes("send");
      break;
    }
    case Op::poll_recv: {  // poll a recv() future (made on first use)
      RxSlot& x = w.rx[r];
      if (!x.rx) return;
      trace.op("rx", r, ".recv() poll as task ", t);
      if (!x.recv) x.recv = std::make_unique<RecvHolder>(*x.rx);
      auto p = w.task[t].poll(x.recv->fut);
      long value = 0;
      std::uint64_t skipped = 0;
      const World::Look look = w.model_recv(x, value, skipped);
      if (look == World::Look::empty) {
        REQUIRE(p.is_pending());
        x.recv_task = t;
      } else {
        REQUIRE(p.is_ready());
        check_recv_result(w, x, p.value(), look, value, skipped);
        x.recv.reset();  // completed: a new recv() next time
        x.recv_task = -1;
      }
      break;
    }
    case Op::try_recv: {
      RxSlot& x = w.rx[r];
      if (!x.rx) return;
      trace.op("rx", r, ".try_recv()");
      auto got = x.rx->try_recv();
      long value = 0;
      std::uint64_t skipped = 0;
      switch (w.model_recv(x, value, skipped)) {
        case World::Look::value:
          REQUIRE(got.is_ok());
          REQUIRE(got.value().value() == value);
          break;
        case World::Look::lagged:
          REQUIRE(got.is_err());
          REQUIRE(got.error().is_lagged());
          REQUIRE(got.error().skipped() == skipped);
          break;
        case World::Look::closed:
          REQUIRE(got.is_err());
          REQUIRE(got.error().is_closed());
          break;
        case World::Look::empty:
          REQUIRE(got.is_err());
          REQUIRE(got.error().is_empty());
          break;
      }
      break;
    }
    case Op::subscribe: {  // subscribe / resubscribe into an empty receiver slot
      if (w.rx[r].rx) return;
      const int from = static_cast<int>(rng.below(rx_slots));
      if (w.rx[from].rx && rng.chance(1, 2)) {
        trace.op("rx", r, " = rx", from, ".resubscribe()");
        subscribe_into(w, r, w.rx[from].rx->resubscribe(), trace);
      } else if (w.tx[s].tx) {
        trace.op("rx", r, " = tx", s, ".subscribe()");
        subscribe_into(w, r, w.tx[s].tx->subscribe(), trace);
      }
      break;
    }
    case Op::drop_receiver: drop_receiver(w, r, trace); break;
    case Op::clone_or_drop_sender: {  // clone a sender into the other slot, or drop one
      const int other = 1 - s;
      if (w.tx[s].tx && !w.tx[other].tx && rng.chance(1, 2)) {
        trace.op("tx", other, " = clone of tx", s);
        w.tx[other].tx.emplace(*w.tx[s].tx);
      } else {
        drop_sender(w, s, trace);
      }
      break;
    }
    case Op::weak: {  // weak: downgrade, upgrade, drop
      if (w.weak && rng.chance(1, 2)) {
        if (w.tx[s].tx) {
          trace.op("weak drop");
          w.weak.reset();
        } else {
          trace.op("tx", s, " = weak.upgrade()");
          auto up = w.weak->upgrade();
          REQUIRE(up.has_value() == (w.strong() > 0));
          if (up) w.tx[s].tx.emplace(std::move(*up));
        }
      } else if (w.tx[s].tx) {
        trace.op("weak = tx", s, ".downgrade()");
        w.weak.emplace(w.tx[s].tx->downgrade());
      }
      break;
    }
    case Op::closed: {  // Sender::closed() future
      TxSlot& x = w.tx[s];
      if (!x.tx) return;
      trace.op("tx", s, ".closed() poll as task ", t);
      REQUIRE(x.poll_closed(w.task[t], t) == (w.receivers() == 0));
      break;
    }
    case Op::drop_recv: drop_recv(w, r, trace); break;
    case Op::queries: {
      trace.op("queries");
      for (const TxSlot& x : w.tx) {
        if (!x.tx) continue;
        REQUIRE(x.tx->receiver_count() == w.receivers());
        REQUIRE(x.tx->len() == w.len());
        REQUIRE(x.tx->is_empty() == (w.len() == 0));
        REQUIRE(x.tx->strong_count() == w.strong());
        REQUIRE(x.tx->weak_count() == (w.weak ? 1u : 0u));
      }
      for (const RxSlot& x : w.rx) {
        if (!x.rx) continue;
        REQUIRE(x.rx->len() == w.tail - x.next);
        REQUIRE(x.rx->is_empty() == (w.tail == x.next));
        REQUIRE(x.rx->is_closed() == (w.strong() == 0));
        REQUIRE(x.rx->sender_strong_count() == w.strong());
      }
      break;
    }
    case Op::blocking_recv: {  // blocking_recv, only when it cannot block
      RxSlot& x = w.rx[r];
      if (!x.rx || (x.next == w.tail && !w.closed) || x.recv) return;
      trace.op("rx", r, ".blocking_recv()");
      auto got = x.rx->blocking_recv();
      long value = 0;
      std::uint64_t skipped = 0;
      const World::Look look = w.model_recv(x, value, skipped);
      check_recv_result(w, x, got, look, value, skipped);
      break;
    }
    case Op::moved_from: {  // moved-from handles throw std::invalid_argument
      if (!w.tx[s].tx || w.tx[s].closed) return;
      trace.op("tx", s, " moved out; the moved-from one used; moved back");
      Sender moved(std::move(*w.tx[s].tx));
      REQUIRE_THROWS_AS((void)w.tx[s].tx->send(CloneCounted(-1)), std::invalid_argument);
      REQUIRE_THROWS_AS((void)w.tx[s].tx->subscribe(), std::invalid_argument);
      REQUIRE_THROWS_AS((void)w.tx[s].tx->len(), std::invalid_argument);
      *w.tx[s].tx = std::move(moved);
      if (w.rx[r].rx && !w.rx[r].recv) {
        Receiver moved_rx(std::move(*w.rx[r].rx));
        REQUIRE_THROWS_AS((void)w.rx[r].rx->try_recv(), std::invalid_argument);
        REQUIRE_THROWS_AS((void)w.rx[r].rx->resubscribe(), std::invalid_argument);
        *w.rx[r].rx = std::move(moved_rx);
      }
      break;
    }
    case Op::bad_capacity: {  // bad capacities
      trace.op("channel(0), channel(SIZE_MAX / 2 + 1)");
      REQUIRE_THROWS_AS((void)broadcast::channel<CloneCounted>(0), std::invalid_argument);
      REQUIRE_THROWS_AS((void)broadcast::channel<CloneCounted>((SIZE_MAX >> 1) + 1),
                        std::length_error);
      REQUIRE_THROWS_AS(Sender{0}, std::invalid_argument);
      break;
    }
  }
  w.check_waker_refs();
}

}  // namespace

TEST_CASE("broadcast: random operation sequences against the model") {
  weft::fuzz::run("broadcast", [](Rng& rng, Trace& trace) {
    auto w = std::make_unique<World>();
    const std::size_t capacity = 1 + rng.below(5);
    w->cap = std::bit_ceil(capacity);
    if (rng.chance(1, 5)) {
      trace.op("tx0 = Sender(", capacity, ") (no receiver)");
      w->tx[0].tx.emplace(capacity);
      w->closed = true;  // no receiver yet
    } else {
      trace.op("channel(", capacity, ")");
      auto [tx, rx] = broadcast::channel<CloneCounted>(capacity);
      w->tx[0].tx.emplace(std::move(tx));
      w->rx[0].rx.emplace(std::move(rx));
    }
    const int steps =
        static_cast<int>(rng.chance(1, 4) ? rng.between(80, 200) : rng.between(1, 60));
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
    w->weak.reset();
    w->require_no_waker_refs();
  });
}
