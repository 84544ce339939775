// Stress test of OnceCell on real threads: tasks race get_or_init / get_or_try_init with
// initializers that fail, are cancelled after one poll, or succeed; set() races them too.
// Exactly one value is stored, every completed call sees it, and every value is destroyed
// exactly once.
// Seeded: WEFT_STRESS_SEED=N replays a run; the seed is printed at start.
#include "model/harness/scenario.h"
#include "sync/once_cell.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace platform = weft::platform;

namespace {

std::uint64_t base_seed() {
  static const std::uint64_t seed = [] {
    const char* env = std::getenv("WEFT_STRESS_SEED");
    const std::uint64_t s =
        env != nullptr ? std::strtoull(env, nullptr, 10)
                       : static_cast<std::uint64_t>(
                             std::chrono::steady_clock::now().time_since_epoch().count());
    std::printf("stress/once_cell: WEFT_STRESS_SEED=%llu\n", static_cast<unsigned long long>(s));
    return s;
  }();
  return seed;
}
const std::uint64_t seed_printed = base_seed();
platform::atomic<std::uint64_t> run_counter{0};

struct Rng {
  std::uint64_t state;
  std::uint32_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>(state >> 33);
  }
  std::uint32_t below(std::uint32_t n) { return next() % n; }
};

struct Counted {
  platform::atomic<long>* live;
  int value;
  Counted(platform::atomic<long>* l, int v) : live(l), value(v) {
    live->fetch_add(1, std::memory_order_relaxed);
  }
  Counted(Counted&& o) noexcept : live(o.live), value(o.value) {
    live->fetch_add(1, std::memory_order_relaxed);
  }
  Counted(const Counted&) = delete;
  ~Counted() { live->fetch_sub(1, std::memory_order_relaxed); }
};

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
  std::uint64_t seed = base_seed() + run_counter.fetch_add(1, std::memory_order_relaxed);

  void thread(int index) {
    Rng rng{seed * 13 + static_cast<std::uint64_t>(index)};
    for (;;) {
      switch (rng.below(4)) {
        case 0: {  // cancelled after one poll (maybe holding the permit)
          weft::MockTask task;
          auto f = cell->get_or_init([&] { return Slow{&live, index, 3}; });
          if (task.poll(f).is_ready()) return;
          break;
        }
        case 1: {  // a failing initializer
          auto f = cell->get_or_try_init(
              [] { return weft::Result<Counted, int>(weft::Err(-1)); });
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
