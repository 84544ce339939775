// Stress test of watch on real threads: two senders bump a counted value (send_modify and
// send_replace), receivers follow it with changed() / borrow_and_update() and wait_for(),
// and a closed() waiter sees the last receiver go. Values only grow, each receiver ends on
// the final value, and every value is destroyed exactly once.
// Seeded and bounded: see stress/stress.h (WEFT_STRESS_SEED, WEFT_STRESS_SOAK).
#include "model/harness/scenario.h"
#include "stress/stress.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/watch.h"
#include "testing/counted.h"

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

}  // namespace
