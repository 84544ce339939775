// Scenarios of the Peterson lock example. `weak_orders` (release/acquire where the
// algorithm needs seq_cst) passes only if the model checker finds both threads inside.
#include "examples/exclusive_count.h"
#include "examples/peterson/peterson.h"
#include "model/harness/scenario.h"

using weft::examples::exclusive_count;
using weft::examples::PetersonLock;
using weft::model::Failure;

#if defined(WEFT_MODEL)
constexpr int rounds = 1;
#else
constexpr int rounds = 2000;
#endif

using peterson = exclusive_count<PetersonLock<>, 2, rounds>;
using weak_orders = exclusive_count<PetersonLock</*Weak=*/true>, 2, rounds>;
WEFT_MODEL_SCENARIO(peterson, weft::model::exhaustive());
WEFT_MODEL_SCENARIO_FAILS(weak_orders, weft::model::exhaustive(), Failure::data_race);
