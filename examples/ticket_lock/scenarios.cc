// Scenarios of the ticket lock example. `relaxed_unlock` (the hand-over store without
// Release) passes only if the model checker finds the next holder's racy read.
#include "examples/exclusive_count.h"
#include "examples/ticket_lock/ticket_lock.h"
#include "model/harness/scenario.h"

using weft::examples::exclusive_count;
using weft::examples::TicketLock;
using weft::model::Failure;

#if defined(WEFT_MODEL)
constexpr int rounds = 1;
#else
constexpr int rounds = 2000;
#endif

using two_threads = exclusive_count<TicketLock<>, 2, rounds>;
using three_threads = exclusive_count<TicketLock<>, 3, rounds>;
using relaxed_unlock = exclusive_count<TicketLock</*RelaxedUnlock=*/true>, 2, rounds>;
WEFT_MODEL_SCENARIO(two_threads, weft::model::exhaustive());
WEFT_MODEL_SCENARIO(three_threads, weft::model::bounded(2));
WEFT_MODEL_SCENARIO_FAILS(relaxed_unlock, weft::model::exhaustive(), Failure::data_race);
