// Scenarios of the MCS lock example. `relaxed_handoff` (the successor's flag cleared
// without Release) passes only if the model checker finds the successor's racy read.
#include "examples/exclusive_count.h"
#include "examples/mcs_lock/mcs_lock.h"
#include "model/harness/scenario.h"

using weft::examples::exclusive_count;
using weft::examples::McsLock;
using weft::model::Failure;

#if defined(WEFT_MODEL)
constexpr int rounds = 1;
#else
constexpr int rounds = 2000;
#endif

using two_threads = exclusive_count<McsLock<2>, 2, rounds>;
using three_threads = exclusive_count<McsLock<3>, 3, rounds>;
using relaxed_handoff = exclusive_count<McsLock<2, /*RelaxedHandoff=*/true>, 2, rounds>;
WEFT_MODEL_SCENARIO(two_threads, weft::model::bounded(2));
// Three threads: too many interleavings for Relacy to bound, not for DPOR.
// guide:begin per_backend_strategy
WEFT_MODEL_SCENARIO(three_threads, weft::model::pct(20000, 3).on_dpor(weft::model::bounded(2)));
// guide:end per_backend_strategy
WEFT_MODEL_SCENARIO_FAILS(relaxed_handoff, weft::model::bounded(2), Failure::data_race);
// The unlock path that waits for a half-linked successor is what makes MCS subtle.
WEFT_MODEL_REACHES(two_threads, "mcs unlock waits for its successor to link in");
