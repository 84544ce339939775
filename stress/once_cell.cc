// Stress test of OnceCell on real threads: tasks race get_or_init / get_or_try_init with
// initializers that fail, are cancelled after one poll, or succeed; set() races them too.
// Exactly one value is stored, every completed call sees it, and every value is destroyed
// exactly once.
// Seeded and bounded: see stress/stress.h (WEFT_STRESS_SEED, WEFT_STRESS_SOAK).
#include "model/harness/scenario.h"
#include "stress/stress.h"
#include "sync/once_cell.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/counted.h"

#include <cstdint>
#include <memory>

namespace platform = weft::platform;
namespace stress = weft::stress;

namespace {

const std::uint64_t seed_printed = stress::base_seed("once_cell");

using Counted = weft::testing::MoveOnlyCounted;

// An initializer future that needs a few polls, yielding in between.
struct Slow {
  platform::atomic<long>* live;
  int value;
  int polls_left;
  weft::Poll<Counted> poll(weft::Context& cx) {
    if (polls_left-- > 0) {
      cx.waker().wake_by_ref();  // ready to be polled again at once
      return weft::pending;
    }
    return Counted(live, value);
  }
};

}  // namespace

struct once_cell_race {
  static constexpr int threads = 5;
  platform::atomic<long> live{0};
  std::unique_ptr<weft::OnceCell<Counted>> cell = std::make_unique<weft::OnceCell<Counted>>();
  platform::atomic<int> inits{0};
  std::uint64_t seed = stress::run_seed<once_cell_race>("once_cell_race");

  void thread(int index) {
    stress::Rng rng{seed, index};
    for (;;) {
      switch (rng.below(4)) {
        case 0: {  // cancelled after one poll (maybe holding the permit)
          weft::MockTask task;
          auto f = cell->get_or_init([&] { return Slow{&live, index, 3}; });
          if (task.poll(f).is_ready()) return;
          break;
        }
        case 1: {  // a failing initializer
          auto f = cell->get_or_try_init([] { return weft::Result<Counted, int>(weft::Err(-1)); });
          if (weft::block_on(f).is_ok()) return;
          break;
        }
        case 2: {
          auto r = cell->set(Counted(&live, index));
          if (r.is_ok()) inits.fetch_add(1, std::memory_order_relaxed);
          if (r.is_ok() || r.error().is_already_init_err()) return;
          break;
        }
        default: {
          const Counted& v = weft::block_on(cell->get_or_init([&] {
            inits.fetch_add(1, std::memory_order_relaxed);
            return Slow{&live, index, static_cast<int>(rng.below(3))};
          }));
          WEFT_INVARIANT(cell->get() == &v);
          return;
        }
      }
      platform::yield_now();
    }
  }
  void check() {
    WEFT_INVARIANT(cell->initialized());
    WEFT_INVARIANT(inits.load(std::memory_order_relaxed) == 1);
    cell.reset();
    WEFT_INVARIANT(live.load(std::memory_order_relaxed) == 0);
  }
};
WEFT_MODEL_SCENARIO(once_cell_race, weft::model::random(1));
