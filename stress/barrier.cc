// Stress test of Barrier on real threads: four tasks pass a barrier of four many times,
// each writing its slot of the round before arriving and reading everyone's after: one
// leader per generation, nobody released early. Random delays before arriving shake up
// the arrival order; conservation: exactly one leader per generation.
// Seeded and bounded: see stress/stress.h (WEFT_STRESS_SEED, WEFT_STRESS_SOAK).
#include "model/harness/scenario.h"
#include "stress/stress.h"
#include "sync/barrier.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"

namespace platform = weft::platform;
namespace stress = weft::stress;

namespace {
const std::uint64_t seed_printed = stress::base_seed("barrier");
}  // namespace

struct barrier_rounds {
  static constexpr int threads = 4;
  const int rounds = stress::ops(200);
  weft::Barrier barrier{threads};
  // slot[round % 2][task]: a round's slots are rewritten two rounds later, after everyone
  // read them (the next round's barrier orders the reads before the rewrites).
  platform::cell<int> slot[2][threads];
  platform::atomic<int> leaders{0};
  std::uint64_t seed = stress::run_seed<barrier_rounds>("barrier_rounds");

  void thread(int index) {
    stress::Rng rng{seed, index};
    for (int round = 0; round < rounds; ++round) {
      slot[round % 2][index].with_mut([round](int& x) { x = round; });
      if (rng.one_in(4)) rng.jitter(2);
      if (weft::block_on(barrier.wait()).is_leader()) {
        leaders.fetch_add(1, std::memory_order_relaxed);
      }
      for (int other = 0; other < threads; ++other) {
        slot[round % 2][other].with([round](const int& x) { WEFT_INVARIANT(x == round); });
      }
    }
  }
  void check() { WEFT_INVARIANT(leaders.load(std::memory_order_relaxed) == rounds); }
};
WEFT_MODEL_SCENARIO(barrier_rounds, weft::model::random(1));

// A barrier of three shared by six tasks: generations overlap, each passes in threes. The
// tasks draw arrival tickets until a multiple of three is used up (a fixed number of
// rounds per task could strand the last two behind four finished tasks).
struct barrier_overlap {
  static constexpr int threads = 6;
  const int total_arrivals = stress::ops(300) / 3 * 3 + 3;  // a multiple of 3
  weft::Barrier barrier{3};
  platform::atomic<int> tickets{0};
  platform::atomic<int> releases{0};
  platform::atomic<int> leaders{0};
  std::uint64_t seed = stress::run_seed<barrier_overlap>("barrier_overlap");

  void thread(int index) {
    stress::Rng rng{seed, index};
    for (;;) {
      if (rng.one_in(4)) rng.jitter(2);
      // AcqRel: one release sequence per counter, so the counts read below include every
      // arrival of a completed generation.
      if (tickets.fetch_add(1, std::memory_order_acq_rel) >= total_arrivals) return;
      if (weft::block_on(barrier.wait()).is_leader()) {
        leaders.fetch_add(1, std::memory_order_relaxed);
      }
      const int released = releases.fetch_add(1, std::memory_order_acq_rel) + 1;
      int arrived = tickets.fetch_add(0, std::memory_order_acq_rel);
      if (arrived > total_arrivals) arrived = total_arrivals;
      WEFT_INVARIANT(released <= arrived / 3 * 3);
    }
  }
  void check() { WEFT_INVARIANT(leaders.load(std::memory_order_relaxed) == total_arrivals / 3); }
};
WEFT_MODEL_SCENARIO(barrier_overlap, weft::model::random(1));
