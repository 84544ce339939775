// Stress test of SetOnce on real threads: setters race with counted values, waiters block
// or give up after one poll; exactly one value is stored, every waiter that completes sees
// it, and every value is destroyed exactly once. Which thread plays which role, and the
// delays before each acts, are drawn per run.
// Seeded and bounded: see stress/stress.h (WEFT_STRESS_SEED, WEFT_STRESS_SOAK).
#include "model/harness/scenario.h"
#include "stress/stress.h"
#include "sync/platform/platform.h"
#include "sync/set_once.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/counted.h"

#include <memory>

namespace platform = weft::platform;
namespace stress = weft::stress;

namespace {

const std::uint64_t seed_printed = stress::base_seed("set_once");

using Counted = weft::testing::MoveOnlyCounted;

}  // namespace

struct set_once_race {
  static constexpr int threads = 6;
  platform::atomic<long> live{0};
  std::unique_ptr<weft::SetOnce<Counted>> once = std::make_unique<weft::SetOnce<Counted>>();
  platform::atomic<int> wins{0};
  platform::atomic<int> winner{-1};
  std::uint64_t seed = stress::run_seed<set_once_race>("set_once_race");
  int rotate = static_cast<int>(stress::Rng{seed, -1}.below(threads));

  void thread(int slot) {
    stress::Rng rng{seed, slot};
    const int index = (slot + rotate) % threads;  // the role: 0-2 set, 3 gives up, 4-5 wait
    rng.jitter(3);
    if (index < 3) {
      if (once->set(Counted(&live, index)).is_ok()) {
        wins.fetch_add(1, std::memory_order_relaxed);
        winner.store(index, std::memory_order_relaxed);
      }
      return;
    }
    if (index == 3) {
      weft::MockTask task;
      auto w = once->wait();
      auto p = task.poll(w);
      if (p.is_ready()) WEFT_INVARIANT(p.value().get().value < 3);
      return;  // gives up
    }
    const Counted& v = weft::block_on(once->wait());
    WEFT_INVARIANT(v.value >= 0 && v.value < 3);
    WEFT_INVARIANT(once->get() == &v);
  }
  void check() {
    WEFT_INVARIANT(wins.load(std::memory_order_relaxed) == 1);
    WEFT_INVARIANT(once->get()->value == winner.load(std::memory_order_relaxed));
    once.reset();
    WEFT_INVARIANT(live.load(std::memory_order_relaxed) == 0);
  }
};
WEFT_MODEL_SCENARIO(set_once_race, weft::model::random(1));
