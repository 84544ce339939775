// Stress test of watch on real threads: two senders bump a counted value (send_modify and
// send_replace), receivers follow it with changed() / borrow_and_update() and wait_for(),
// and a closed() waiter sees the last receiver go. Values only grow, each receiver ends on
// the final value, and every value is destroyed exactly once. That value sits behind the
// read-write lock; copied_values_* run the by-copy layout (sync/watch.h: a seqlock whose
// writers take the state word's WRITING bit) with a value whose tear shows.
// Seeded and bounded: see stress/stress.h (WEFT_STRESS_SEED, WEFT_STRESS_SOAK).
#include "model/harness/scenario.h"
#include "stress/stress.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/watch.h"
#include "testing/counted.h"

#include <algorithm>
#include <cstdint>
#include <optional>

namespace platform = weft::platform;
namespace stress = weft::stress;
namespace watch = weft::watch;

namespace {

const std::uint64_t seed_printed = stress::base_seed("watch");

using Counted = weft::testing::Counted;

const long bumps_per_sender = stress::ops(500);
const long final_value = 2 * bumps_per_sender;

struct senders_and_watchers {
  static constexpr int threads = 6;
  platform::atomic<long> live{0};
  std::optional<watch::Sender<Counted>> tx[2];
  std::optional<watch::Sender<Counted>> closer;
  std::optional<watch::Receiver<Counted>> rx[3];
  std::uint64_t seed = 0;

  void setup() {
    seed = stress::run_seed<senders_and_watchers>("senders_and_watchers");
    auto [s, r] = watch::channel<Counted>(Counted(&live, 0));
    rx[1].emplace(r);
    rx[2].emplace(r);
    rx[0].emplace(std::move(r));
    tx[1].emplace(s);
    closer.emplace(s);
    tx[0].emplace(std::move(s));
  }
  void thread(int index) {
    stress::Rng rng{seed, index};
    switch (index) {
      case 0:
      case 1:  // senders: +1 each time, under the write lock
        for (long i = 0; i < bumps_per_sender; ++i) {
          if (rng.next() % 2 == 0) {
            tx[index]->send_modify([](Counted& c) { c.value += 1; });
          } else {
            // read-modify-replace is not atomic across senders: use send_if_modified.
            const bool modified = tx[index]->send_if_modified([](Counted& c) {
              c.value += 1;
              return true;
            });
            WEFT_INVARIANT(modified);
          }
          if (rng.next() % 32 == 0) platform::yield_now();
        }
        tx[index].reset();
        break;
      case 2:
      case 3: {  // followers: changed() up to the final value, values only grow
        auto& r = *rx[index - 2];
        long last = 0;
        while (last != final_value) {  // (the channel stays open: `closer` is a Sender)
          WEFT_INVARIANT(weft::block_on(r.changed()).is_ok());
          const long v = r.borrow_and_update()->value;
          WEFT_INVARIANT(v > last);
          last = v;
        }
        rx[index - 2].reset();
        break;
      }
      case 4: {  // wait_for the final value, then drop
        auto& r = *rx[2];
        {
          auto got =
              weft::block_on(r.wait_for([](const Counted& c) { return c.value == final_value; }));
          WEFT_INVARIANT(got.is_ok() && (*got)->value == final_value);
        }
        rx[2].reset();
        break;
      }
      default: {  // closed(): completes once every receiver is gone
        weft::block_on(closer->closed());
        WEFT_INVARIANT(closer->is_closed());
        auto refused = closer->send(Counted(&live, -1));
        WEFT_INVARIANT(refused.is_err() && refused.error().value.value == -1);
        closer.reset();
        break;
      }
    }
  }
  void check() { WEFT_INVARIANT(live.load(std::memory_order_relaxed) == 0); }
};
WEFT_MODEL_SCENARIO(senders_and_watchers, weft::model::random(1));

// Borrowed by copy: four words that all hold the same count, so a copy torn between two
// stores (words of both) shows as words that differ.
struct Quad {
  std::uint64_t word[4];
  static Quad of(std::uint64_t n) { return {{n, n, n, n}}; }
  // The count, once the copy is checked whole.
  std::uint64_t count() const {
    WEFT_INVARIANT(word[0] == word[1] && word[1] == word[2] && word[2] == word[3]);
    return word[0];
  }
};
static_assert(watch::detail::borrowed_by_copy<Quad>);

const long stores_per_copy_sender = stress::ops(2000);

// Each store adds one to the count, by every kind of store; some silently (a closure that
// changes the value and returns false: no new version), never the last, which receivers wait
// for. Receivers: a follower (changed(), borrow_and_update(), now and then mark_changed() or
// mark_unchanged(), which must not step back behind a copy's version that the state word
// has not reached yet: the next changed() would repeat a count), a borrower that holds its
// Refs across yields (copies: nothing a send does reaches them) and a wait_for() that
// replaces itself with copies. Every copy whole, counts only grow.
// Senders == 1: one writer; its borrow gives exactly its last count, send_replace the one
// before. Senders == 2: writers that meet at the WRITING bit and send_lock, until the first
// to finish goes and the other writes alone.
template <int Senders>
struct copied_values {
  static constexpr int threads = Senders + 3;
  static constexpr const char* name =
      Senders == 1 ? "copied_values_lone_sender" : "copied_values_two_senders";
  const std::uint64_t final_count = static_cast<std::uint64_t>(Senders * stores_per_copy_sender);
  std::optional<watch::Sender<Quad>> tx[Senders];
  std::optional<watch::Receiver<Quad>> rx[3];
  std::uint64_t seed = 0;

  void setup() {
    seed = stress::run_seed<copied_values>(name);
    auto [s, r] = watch::channel<Quad>(Quad::of(0));
    rx[1].emplace(r);
    rx[2].emplace(r);
    rx[0].emplace(std::move(r));
    for (int i = 1; i < Senders; ++i) tx[i].emplace(s);
    tx[0].emplace(std::move(s));
  }
  void thread(int index) {
    stress::Rng rng{seed, index};
    if (index < Senders) {
      store_all(*tx[index], rng);
      tx[index].reset();
      return;
    }
    switch (index - Senders) {
      case 0: follow(*rx[0], rng); break;
      case 1: borrow_until_final(*rx[1], rng); break;
      default: wait_for_steps(2, rng); break;
    }
    rx[index - Senders].reset();
  }

  void store_all(const watch::Sender<Quad>& tx, stress::Rng& rng) {
    const auto bump = [](Quad& q) { q = Quad::of(q.count() + 1); };
    // Absolute stores (send, send_replace) only for a lone Sender: it knows the count.
    const std::uint32_t kinds = Senders == 1 ? 5 : 3;
    std::uint64_t last_own = 0;  // the count this sender last stored
    for (long i = 0; i < stores_per_copy_sender; ++i) {
      const bool last = i + 1 == stores_per_copy_sender;
      switch (last ? 0 : rng.below(kinds)) {
        case 0: tx.send_modify(bump); break;
        case 1:
          WEFT_INVARIANT(tx.send_if_modified([&](Quad& q) {
            bump(q);
            return true;
          }));
          break;
        case 2:  // stored silently: no version, no wake
          WEFT_INVARIANT(!tx.send_if_modified([&](Quad& q) {
            bump(q);
            return false;
          }));
          break;
        case 3: WEFT_INVARIANT(tx.send(Quad::of(last_own + 1)).is_ok()); break;
        default: WEFT_INVARIANT(tx.send_replace(Quad::of(last_own + 1)).count() == last_own); break;
      }
      const std::uint64_t now = tx.borrow()->count();
      WEFT_INVARIANT(Senders == 1 ? now == last_own + 1 : now > last_own);
      last_own = now;
      if (rng.one_in(32)) platform::yield_now();
    }
  }

  void follow(watch::Receiver<Quad>& r, stress::Rng& rng) {
    std::uint64_t last = 0;
    bool marked_changed = false;    // changed() returns at once, maybe on the same count
    bool marked_unchanged = false;  // maybe the final count, unborrowed: changed() may fail
    while (last != final_count) {
      const bool open = weft::block_on(r.changed()).is_ok();
      const std::uint64_t now = r.borrow_and_update()->count();
      if (open) {
        WEFT_INVARIANT(marked_changed ? now >= last : now > last);
      } else {
        WEFT_INVARIANT(marked_unchanged && now == final_count);
      }
      last = now;
      marked_changed = false;
      marked_unchanged = false;
      switch (rng.below(8)) {
        case 0:
          r.mark_unchanged();
          marked_unchanged = true;
          break;
        case 1:
          r.mark_changed();
          marked_changed = true;
          break;
        default: break;
      }
    }
  }

  void borrow_until_final(watch::Receiver<Quad>& r, stress::Rng& rng) {
    std::uint64_t last = 0;
    while (last != final_count) {
      auto ref = rng.one_in(2) ? r.borrow() : r.borrow_and_update();
      const std::uint64_t now = ref->count();
      WEFT_INVARIANT(now >= last);
      last = now;
      rng.jitter(1);
      WEFT_INVARIANT(ref->count() == now);  // a copy: the sends since did not touch it
      const auto changed = r.has_changed();
      if (changed.is_ok() && !*changed) platform::yield_now();  // nothing new to look at
    }
  }

  void wait_for_steps(int which, stress::Rng& rng) {
    std::uint64_t last = 0;
    while (last != final_count) {
      if (rng.one_in(16)) {
        watch::Receiver<Quad> copy = *rx[which];  // starts at the same seen version
        rx[which].emplace(std::move(copy));
      }
      const std::uint64_t target = std::min(final_count, last + 1 + rng.below(64));
      auto got =
          weft::block_on(rx[which]->wait_for([&](const Quad& q) { return q.count() >= target; }));
      WEFT_INVARIANT(got.is_ok());
      last = (*got)->count();
      WEFT_INVARIANT(last >= target);
    }
  }
};
using copied_values_lone_sender = copied_values<1>;
using copied_values_two_senders = copied_values<2>;
WEFT_MODEL_SCENARIO(copied_values_lone_sender, weft::model::random(1));
WEFT_MODEL_SCENARIO(copied_values_two_senders, weft::model::random(1));

}  // namespace
