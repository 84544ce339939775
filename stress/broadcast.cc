// Stress test of broadcast on real threads: two senders, a blocking receiver, a polling
// receiver that lags, and receivers that subscribe and drop mid-stream. Every receiver
// accounts for every value (received or reported lagged), sees each sender's values in
// order, and every value is destroyed exactly once. A second scenario has four receivers
// reading the same slots of a small channel at once. Each runs with both slot layouts
// (sync/broadcast.h): Counted values, copied under the slot's lock, and Plain ones,
// trivially copyable, copied by the seqlock receive.
// Seeded and bounded: see stress/stress.h (WEFT_STRESS_SEED, WEFT_STRESS_SOAK).
#include "model/harness/scenario.h"
#include "stress/stress.h"
#include "sync/broadcast.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "testing/counted.h"

#include <cstdint>
#include <optional>
#include <type_traits>

namespace platform = weft::platform;
namespace stress = weft::stress;
namespace broadcast = weft::broadcast;

namespace {

const std::uint64_t seed_printed = stress::base_seed("broadcast");

// Counted (testing/counted.h) on the run's own count, stamped with its sender and number.
using Counted = weft::testing::CountedOf<stress::Stamp>;

// Trivially copyable, two words: the second a function of the first, so a copy torn
// between two sends (a seqlock check that let it through) shows.
struct Plain {
  stress::Stamp stamp;
  std::uint64_t check;
  static std::uint64_t of(const stress::Stamp& s) {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(s.sender)) << 32 |
            static_cast<std::uint32_t>(s.seq)) *
           0x9E3779B97F4A7C15u;
  }
};
static_assert(std::is_trivially_copyable_v<Plain> && sizeof(Plain) == 16);

Counted make(Counted::Count* live, const stress::Stamp& s, Counted*) { return Counted(live, s); }
Plain make(Counted::Count*, const stress::Stamp& s, Plain*) { return Plain{s, Plain::of(s)}; }
const stress::Stamp& stamp_of(const Counted& c) { return c.value; }
const stress::Stamp& stamp_of(const Plain& p) {
  WEFT_INVARIANT(p.check == Plain::of(p.stamp));
  return p.stamp;
}
template <class V>
V make(Counted::Count* live, const stress::Stamp& s) {
  return make(live, s, static_cast<V*>(nullptr));
}

const int sends_per_sender = stress::ops(2000);
const std::uint64_t total = 2 * static_cast<std::uint64_t>(sends_per_sender);

// What one receiver accounted for: the values it received, in each sender's order (a gap
// is what it lagged past), plus the values reported lagged.
struct Account {
  stress::Deliveries seen{2, /*gapless=*/false};
  std::uint64_t accounted = 0;
  template <class V>
  void value(const V& v) {
    seen.take(stamp_of(v));
    accounted += 1;
  }
  // Accounts a received value or a Lagged report; false for anything else (Closed, Empty).
  template <class R>
  bool take(const R& r) {
    if (r.is_ok()) {
      value(*r);
    } else if (r.error().is_lagged()) {
      accounted += r.error().skipped();
    } else {
      return false;
    }
    return true;
  }
};

template <class V>
struct senders_and_receivers {
  static constexpr int threads = 5;
  Counted::Count live{0};
  std::optional<broadcast::Sender<V>> tx[2];
  std::optional<broadcast::Receiver<V>> rx[3];
  std::uint64_t seed = 0;

  void setup() {
    seed = stress::run_seed<senders_and_receivers>("senders_and_receivers");
    auto [s, r] = broadcast::channel<V>(16);
    rx[1].emplace(s.subscribe());
    rx[2].emplace(s.subscribe());
    tx[1].emplace(s);
    tx[0].emplace(std::move(s));
    rx[0].emplace(std::move(r));
  }
  void thread(int index) {
    stress::Rng rng{seed, index};
    switch (index) {
      case 0:
      case 1: {  // senders
        for (int i = 0; i < sends_per_sender; ++i) {
          WEFT_INVARIANT(tx[index]->send(make<V>(&live, {index, i})).is_ok());
          if (rng.next() % 64 == 0) platform::yield_now();
        }
        tx[index].reset();
        break;
      }
      case 2: {  // blocking receiver
        Account tally;
        for (;;) {
          if (!tally.take(rx[0]->blocking_recv())) break;  // closed
        }
        WEFT_INVARIANT(tally.accounted == total);
        rx[0].reset();
        break;
      }
      case 3: {  // polling, slow receiver: lags
        Account tally;
        for (;;) {
          auto r = rx[1]->try_recv();
          if (r.is_ok()) {
            tally.value(*r);
            if (rng.next() % 4 == 0) platform::yield_now();
          } else if (r.error().is_lagged()) {
            tally.accounted += r.error().skipped();
          } else if (r.error().is_empty()) {
            platform::yield_now();
          } else {
            break;
          }
        }
        WEFT_INVARIANT(tally.accounted == total);
        rx[1].reset();
        break;
      }
      default: {  // receivers that come and go while values flow
        for (int round = 0; round < 200; ++round) {
          broadcast::Receiver<V> extra = rx[2]->resubscribe();
          for (int k = rng.next() % 8; k > 0; --k) {
            auto r = extra.try_recv();
            if (r.is_err() && r.error().is_closed()) break;
          }
          (void)extra.len();
          if (rng.next() % 8 == 0) platform::yield_now();
        }  // each `extra` releases its share of whatever it did not read
        rx[2].reset();
        break;
      }
    }
  }
  void check() { WEFT_INVARIANT(live.load(std::memory_order_relaxed) == 0); }
};
using senders_and_receivers_counted = senders_and_receivers<Counted>;
using senders_and_receivers_plain = senders_and_receivers<Plain>;
WEFT_MODEL_SCENARIO(senders_and_receivers_counted, weft::model::random(1));
WEFT_MODEL_SCENARIO(senders_and_receivers_plain, weft::model::random(1));

// One sender and four receivers on a small channel, all reading the same slots at once:
// copies racing the sender's overwrites, and one receiver that reads through a fresh copy of
// itself now and then (its clone raises the shares of the slots it has yet to read).
template <class V>
struct receivers_share_slots {
  static constexpr int threads = 5;
  Counted::Count live{0};
  std::optional<broadcast::Sender<V>> tx;
  std::optional<broadcast::Receiver<V>> rx[4];
  std::uint64_t seed = 0;

  void setup() {
    seed = stress::run_seed<receivers_share_slots>("receivers_share_slots");
    auto [s, r] = broadcast::channel<V>(2);
    for (int i = 1; i < 4; ++i) rx[i].emplace(s.subscribe());
    rx[0].emplace(std::move(r));
    tx.emplace(std::move(s));
  }
  void thread(int index) {
    stress::Rng rng{seed, index};
    if (index == 4) {
      for (int i = 0; i < 2 * sends_per_sender; ++i) {
        WEFT_INVARIANT(tx->send(make<V>(&live, {0, i})).is_ok());
        if (rng.next() % 64 == 0) platform::yield_now();
      }
      tx.reset();
      return;
    }
    Account tally;
    for (;;) {
      if (index == 0 && rng.next() % 16 == 0) {
        broadcast::Receiver<V> copy = *rx[0];  // same position, one more share each
        rx[0].emplace(std::move(copy));        // the old one releases its shares
      }
      if (index % 2 == 0) {
        if (!tally.take(rx[index]->blocking_recv())) break;  // closed
      } else {
        auto r = rx[index]->try_recv();
        if (!tally.take(r)) {
          if (r.error().is_closed()) break;
          platform::yield_now();  // nothing new yet
        }
      }
    }
    WEFT_INVARIANT(tally.accounted == total);
    rx[index].reset();
  }
  void check() { WEFT_INVARIANT(live.load(std::memory_order_relaxed) == 0); }
};
using receivers_share_slots_counted = receivers_share_slots<Counted>;
using receivers_share_slots_plain = receivers_share_slots<Plain>;
WEFT_MODEL_SCENARIO(receivers_share_slots_counted, weft::model::random(1));
WEFT_MODEL_SCENARIO(receivers_share_slots_plain, weft::model::random(1));

}  // namespace
