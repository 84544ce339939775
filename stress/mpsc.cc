// Stress test of the mpsc channels on real threads: several senders and one receiver per
// run, each picking its operations at random (send, try_send, reserve, reserve_many,
// reserve_owned; recv, try_recv, recv_many, poll with a mock task). Conservation: every
// message is delivered exactly once and in per-sender order, or handed back in an error;
// every value is destroyed exactly once. bounded_cancel_after_close cancels send and
// reserve_many futures around a close() with every Sender alive (tokio#8260), and checks
// that no task's waker is left in the channel at the end (tokio#8095).
// {un,}bounded_throwing_values send values whose move into the channel may throw: the
// others arrive in order and nothing waits at the holes those leave.
// Seeded: see stress/stress.h (WEFT_STRESS_SEED, printed and flushed at start with the
// rerun command; a failing run prints its scenario, run index and run seed).
#include "model/harness/scenario.h"
#include "stress/stress.h"
#include "sync/mpsc/bounded.h"
#include "sync/mpsc/unbounded.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/counted.h"
#include "testing/move_may_throw.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace platform = weft::platform;
namespace mpsc = weft::mpsc;

namespace {

namespace stress = weft::stress;

const std::uint64_t seed_printed = stress::base_seed("mpsc");

// Counted (testing/counted.h) on the run's own count, stamped with its sender and number.
using Message = weft::testing::MoveOnlyCountedOf<stress::Stamp>;

constexpr int senders = 3;
constexpr int messages_per_sender = 600;

// Where a run's values went, checked at its end: delivered (each sender's in order, none
// twice, none skipped), handed back in an error, and none left alive.
struct Ledger {
  stress::Deliveries delivered{senders, /*gapless=*/true};  // receiver only
  stress::Tally returned;                                   // values handed back in errors
  Message::Count live{0};
};

// Receives with a random mix of operations until the channel reports its end; if
// `close_after` >= 0, closes the channel after that many messages. Polls as `task`.
template <class Rx>
void receive_all(Rx& rx, Ledger& ledger, stress::Rng& rng, long close_after, weft::MockTask& task) {
  std::vector<Message> buffer;
  bool closed = false;
  for (;;) {
    if (!closed && close_after >= 0 && ledger.delivered.received >= close_after) {
      rx.close();
      closed = true;
    }
    switch (rng.below(4)) {
      case 0: {
        auto v = rx.blocking_recv();
        if (!v) return;
        ledger.delivered.take(v->value);
        break;
      }
      case 1: {
        auto r = rx.try_recv();
        if (r) {
          ledger.delivered.take(r->value);
        } else if (r.error() == mpsc::TryRecvError::Disconnected) {
          WEFT_INVARIANT(!rx.blocking_recv().has_value());
          return;
        }
        break;
      }
      case 2: {
        buffer.clear();
        const std::size_t n = rx.blocking_recv_many(buffer, 1 + rng.below(16));
        if (n == 0) return;
        for (const Message& m : buffer) ledger.delivered.take(m.value);
        break;
      }
      default: {
        auto recv = rx.recv();
        auto p = task.poll(recv);
        if (p.is_ready()) {
          if (!p.value()) return;
          ledger.delivered.take(p.value()->value);
        }
        break;
      }
    }
  }
}

void check_ledger(Ledger& ledger) {
  long expected = static_cast<long>(senders) * messages_per_sender;
  WEFT_INVARIANT(ledger.delivered.received + ledger.returned.total() == expected);
  WEFT_INVARIANT(ledger.live.load(std::memory_order_relaxed) == 0);
}

// Unbounded: senders send everything; the receiver takes it all (or closes midway, and
// the rest comes back in SendError).
template <bool CloseMidway>
struct unbounded_run {
  static constexpr int threads = senders + 1;
  std::uint64_t seed = stress::run_seed<unbounded_run>(CloseMidway ? "unbounded_close_midway"
                                                                   : "unbounded_conservation");
  Ledger ledger;
  std::optional<mpsc::UnboundedSender<Message>> tx;
  std::optional<mpsc::UnboundedReceiver<Message>> rx;
  std::vector<mpsc::UnboundedSender<Message>> handles;

  void setup() {
    auto [t, r] = mpsc::unbounded_channel<Message>();
    for (int s = 0; s < senders; ++s) handles.push_back(t);
    rx.emplace(std::move(r));
  }
  void thread(int index) {
    if (index == senders) {
      stress::Rng local{seed, index};
      weft::MockTask task;
      receive_all(*rx, ledger, local, CloseMidway ? local.below(senders * messages_per_sender) : -1,
                  task);
      rx.reset();
      return;
    }
    auto sender = std::move(handles[index]);
    for (int i = 0; i < messages_per_sender; ++i) {
      auto r = sender.send(Message(&ledger.live, {index, i}));
      if (r.is_err()) {
        WEFT_INVARIANT(r.error().value.value.seq == i);
        ledger.returned.add(1);
      }
    }
  }
  void check() { check_ledger(ledger); }
};

// A bounded run's channel (bound 1..max_bound) and one Sender per sender thread; thread i
// draws from Rng{seed, i} (the receiver is the last), the bound from the stream after.
template <std::uint32_t max_bound>
struct BoundedWorld {
  static constexpr int threads = senders + 1;
  explicit BoundedWorld(std::uint64_t run_seed) : seed{run_seed} {}
  std::uint64_t seed;
  Ledger ledger;
  std::optional<mpsc::Receiver<Message>> rx;
  std::vector<mpsc::Sender<Message>> handles;

  void setup() {
    stress::Rng rng{seed, threads};
    auto [t, r] = mpsc::channel<Message>(1 + rng.below(max_bound));
    for (int s = 0; s < senders; ++s) handles.push_back(t);
    rx.emplace(std::move(r));
  }
  void check() { check_ledger(ledger); }
};

// Bounded: senders pick send / try_send / reserve / reserve_many / reserve_owned.
template <bool CloseMidway>
struct bounded_run : BoundedWorld<8> {
  bounded_run()
      : BoundedWorld<8>(stress::run_seed<bounded_run>(CloseMidway ? "bounded_close_midway"
                                                                  : "bounded_conservation")) {}
  void thread(int index) {
    stress::Rng local{seed, index};
    if (index == senders) {
      weft::MockTask task;
      receive_all(*rx, ledger, local, CloseMidway ? local.below(senders * messages_per_sender) : -1,
                  task);
      rx.reset();
      return;
    }
    auto sender = std::move(handles[index]);
    auto give_back = [&](int i) {
      WEFT_INVARIANT(sender.is_closed());
      (void)i;
      ledger.returned.add(1);
    };
    int i = 0;
    while (i < messages_per_sender) {
      switch (local.below(5)) {
        case 0: {
          auto r = sender.blocking_send(Message(&ledger.live, {index, i}));
          if (r.is_err()) {
            WEFT_INVARIANT(r.error().value.value.seq == i);
            give_back(i);
          }
          ++i;
          break;
        }
        case 1: {
          auto r = sender.try_send(Message(&ledger.live, {index, i}));
          if (r.is_ok()) {
            ++i;
          } else if (r.error().is_closed()) {
            WEFT_INVARIANT(r.error().value.value.seq == i);
            give_back(i);
            ++i;
          } else {
            platform::yield_now();  // full: the value came back; try again
          }
          break;
        }
        case 2: {
          auto permit = weft::block_on(sender.reserve());
          if (permit.is_ok()) {
            std::move(*permit).send(Message(&ledger.live, {index, i}));
          } else {
            give_back(i);
          }
          ++i;
          break;
        }
        case 3: {
          const std::size_t want =
              1 + local.below(static_cast<std::uint32_t>(sender.max_capacity()));
          auto permits = weft::block_on(sender.reserve_many(want));
          if (permits.is_err()) {
            give_back(i);
            ++i;
            break;
          }
          while (i < messages_per_sender) {
            auto p = permits->next();
            if (!p) break;
            std::move(*p).send(Message(&ledger.live, {index, i}));
            ++i;
          }
          break;  // unused permits go back with the iterator
        }
        default: {
          auto owned = weft::block_on(mpsc::Sender<Message>(sender).reserve_owned());
          if (owned.is_ok()) {
            auto back = std::move(*owned).send(Message(&ledger.live, {index, i}));
            WEFT_INVARIANT(back.same_channel(sender));
          } else {
            give_back(i);
          }
          ++i;
          break;
        }
      }
    }
  }
};

// Bounded, cancellation after close (the lost wakeup of tokio#8260): senders poll send /
// reserve_many futures once and then either finish them or cancel them (drop, or
// take_value), while the receiver closes midway and waits for the end with every Sender
// still alive. The end must then come through the capacity that the cancelled and failed
// futures give back (or the Permits): a lost wake hangs the run. Senders hold their
// handle until the receiver is done, so the last-sender wake cannot stand in. A Sender
// kept to the end of the run holds the channel: once every thread is done, no task's
// waker may be left in it (the receiver's drop and every future's end release theirs;
// tokio#8095).
struct bounded_cancel_after_close : BoundedWorld<3> {
  bounded_cancel_after_close()
      : BoundedWorld<3>(
            stress::run_seed<bounded_cancel_after_close>("bounded_cancel_after_close")) {}
  platform::atomic<int> receiver_done{0};
  weft::MockTask tasks[senders + 1];  // each thread's, the receiver's last
  std::optional<mpsc::Sender<Message>> keeper;

  void setup() {
    BoundedWorld<3>::setup();
    keeper.emplace(handles.front());
  }
  void check() {
    BoundedWorld<3>::check();
    for (const weft::MockTask& task : tasks) WEFT_INVARIANT(task.waker_ref_count() == 0);
    keeper.reset();
  }

  void thread(int index) {
    stress::Rng local{seed, index};
    if (index == senders) {
      receive_all(*rx, ledger, local, local.below(senders * messages_per_sender / 4), tasks[index]);
      // Release: pairs with the senders' Acquire loads below (nothing to publish but the
      // end; the order keeps the ledger reads after the receiver's writes).
      receiver_done.store(1, std::memory_order_release);
      rx.reset();
      return;
    }
    auto sender = std::move(handles[index]);
    weft::MockTask& task = tasks[index];
    int seq = 0;  // sequence of the next value that gets through (cancelled ones do not)
    for (int i = 0; i < messages_per_sender; ++i) {
      if (local.below(2) == 0) {
        auto send = sender.send(Message(&ledger.live, {index, seq}));
        auto count = [&](bool ok) {
          if (ok) {
            ++seq;
          } else {
            ledger.returned.add(1);
          }
        };
        if (auto p = task.poll(send); p.is_ready()) {
          count(p.value().is_ok());
          continue;
        }
        if (local.below(2) == 0) {
          count(weft::block_on(send).is_ok());  // finish it
        } else {
          // Cancel: the value comes back (take_value) or dies with the future.
          if (local.below(2) == 0) (void)send.take_value();
          ledger.returned.add(1);
        }
      } else {
        auto reserve =
            sender.reserve_many(1 + local.below(static_cast<std::uint32_t>(sender.max_capacity())));
        std::optional<weft::Result<mpsc::PermitIterator<Message>, mpsc::SendError<void>>> got;
        if (auto p = task.poll(reserve); p.is_ready()) {
          got.emplace(std::move(p).value());
        } else if (local.below(2) == 0) {
          got.emplace(weft::block_on(reserve));  // finish it; else cancel it (drop)
        }
        if (got && got->is_ok()) {
          if (auto permit = (*got)->next()) {
            std::move(*permit).send(Message(&ledger.live, {index, seq++}));
            continue;
          }
        }
        ledger.returned.add(1);  // cancelled or failed
      }
    }
    // Acquire: pairs with the Release store of receiver_done above.
    while (receiver_done.load(std::memory_order_acquire) == 0) platform::yield_now();
  }
};

// Values whose move into the channel throws (about one in eight): every sender's other
// values arrive, in its order, and none waits at a hole; a bounded channel (bound 1..4)
// gets each failed send's capacity back, or the blocking sends would stop.
template <bool Bounded>
struct throwing_values_run {
  static constexpr int threads = senders + 1;
  std::uint64_t seed = stress::run_seed<throwing_values_run>(Bounded ? "bounded_throwing_values"
                                                                     : "unbounded_throwing_values");
  using Value = weft::testing::MoveMayThrow;
  using Channel =
      std::conditional_t<Bounded, std::pair<mpsc::Sender<Value>, mpsc::Receiver<Value>>,
                         std::pair<mpsc::UnboundedSender<Value>, mpsc::UnboundedReceiver<Value>>>;
  std::optional<Channel> channel;
  std::vector<typename Channel::first_type> handles;
  stress::Tally threw;
  stress::Deliveries delivered{senders, /*gapless=*/false};  // receiver only

  void setup() {
    stress::Rng rng{seed, threads};
    if constexpr (Bounded) {
      channel.emplace(mpsc::channel<Value>(1 + rng.below(4)));
    } else {
      channel.emplace(mpsc::unbounded_channel<Value>());
    }
    for (int s = 0; s < senders; ++s) handles.push_back(channel->first);
    { auto last = std::move(channel->first); }  // the senders' handles are the only ones
  }
  void thread(int index) {
    if (index == senders) {
      while (std::optional<Value> v = channel->second.blocking_recv()) {
        delivered.take({v->value / 1000000, v->value % 1000000});
      }
      return;
    }
    stress::Rng local{seed, index};
    auto sender = std::move(handles[index]);
    for (int i = 0; i < messages_per_sender; ++i) {
      const Value v(index * 1000000 + i, local.one_in(8));
      try {
        if constexpr (Bounded) {
          WEFT_INVARIANT(sender.blocking_send(v).is_ok());
        } else {
          WEFT_INVARIANT(sender.send(v).is_ok());
        }
        WEFT_INVARIANT(!v.throws);
      } catch (const std::runtime_error&) {
        WEFT_INVARIANT(v.throws);
        threw.add(1);
      }
    }
  }
  void check() {
    WEFT_INVARIANT(delivered.received + threw.total() ==
                   static_cast<long>(senders) * messages_per_sender);
  }
};

using unbounded_conservation = unbounded_run<false>;
using unbounded_close_midway = unbounded_run<true>;
using bounded_conservation = bounded_run<false>;
using bounded_close_midway = bounded_run<true>;
using unbounded_throwing_values = throwing_values_run<false>;
using bounded_throwing_values = throwing_values_run<true>;

}  // namespace

WEFT_MODEL_SCENARIO(unbounded_conservation, weft::model::random(1));
WEFT_MODEL_SCENARIO(unbounded_close_midway, weft::model::random(1));
WEFT_MODEL_SCENARIO(bounded_conservation, weft::model::random(1));
WEFT_MODEL_SCENARIO(bounded_close_midway, weft::model::random(1));
WEFT_MODEL_SCENARIO(unbounded_throwing_values, weft::model::random(1));
WEFT_MODEL_SCENARIO(bounded_throwing_values, weft::model::random(1));
WEFT_MODEL_SCENARIO(bounded_cancel_after_close, weft::model::random(1));
