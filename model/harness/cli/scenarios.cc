// Scenarios for //model/harness:cli_test, which runs this binary with chosen flags and
// reads its output. Some fail on purpose (a reached point never reached, an unexpected
// race), so the binary is no test of its own.
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"

namespace platform = weft::platform;

namespace {

// An unexpected failure deep in a search: the output must be the summary, the trace of
// weft steps and the replay command, with no progress lines and no mangled names.
template <int Rounds>
struct late_race {
  static constexpr int threads = 2;
  platform::atomic<int> ready{0};
  platform::atomic<int> noise{0};
  platform::cell<int> data{0};
  void thread(int index) {
    if (index == 0) {
      for (int i = 0; i < Rounds; ++i) noise.fetch_add(1, std::memory_order_relaxed);
      data.with_mut([](int& d) { d = 1; });
      ready.store(1, std::memory_order_relaxed);  // the bug: Release is needed
    } else {
      for (int i = 0; i < Rounds; ++i) noise.fetch_add(1, std::memory_order_relaxed);
      if (ready.load(std::memory_order_acquire) == 1) data.with([](const int&) {});
    }
  }
};
using unexpected_race = late_race<6>;
WEFT_MODEL_SCENARIO(unexpected_race, weft::model::exhaustive());

// A search too big to finish in a second: --time-limit=1 must stop it and report a skip.
struct endless_search {
  static constexpr int threads = 3;
  platform::atomic<int> n{0};
  void thread(int) {
    for (int i = 0; i < 12; ++i) n.fetch_add(1, std::memory_order_relaxed);
  }
};
WEFT_MODEL_SCENARIO(endless_search, weft::model::exhaustive());

// Requires a point its code never reaches: must fail, naming the point.
struct misses_its_point {
  static constexpr int threads = 1;
  platform::atomic<int> n{0};
  void thread(int) {
    if (n.load(std::memory_order_relaxed) == 1) WEFT_REACHED("n was 1");
  }
};
WEFT_MODEL_SCENARIO(misses_its_point, weft::model::exhaustive());
WEFT_MODEL_REACHES(misses_its_point, "n was 1");

// Counts its executions, for the random:N:SEED count.
struct one_step {
  static constexpr int threads = 2;
  platform::atomic<int> n{0};
  void thread(int) { n.fetch_add(1, std::memory_order_relaxed); }
};
WEFT_MODEL_SCENARIO(one_step, weft::model::random(100));

// A strategy of its own on DPOR: each backend must run the one named for it.
using one_step_per_backend = one_step;
WEFT_MODEL_SCENARIO(one_step_per_backend,
                    weft::model::random(100).on_dpor(weft::model::bounded(3)));

}  // namespace
