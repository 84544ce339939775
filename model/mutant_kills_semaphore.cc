// Model scenarios that kill mutations of sync/semaphore.h the main suite
// (model/semaphore.cc) lets survive (ci/mutations.py names them).
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"
#include "sync/semaphore.h"

#include <memory>

namespace platform = weft::platform;
using weft::Semaphore;

// Kills semaphore.acquire_many_counts_one: two tasks each take both permits with
// acquire_many(2). Each permit must hold 2 and give 2 back, or the other task waits for a
// permit that never comes back (and the count ends short).
WEFT_MODEL_TEST(acquire_many_permit_holds_all, weft::model::bounded(2), 1) {
  auto sem = std::make_shared<Semaphore>(2);
  platform::thread t([sem] {
    auto permit = sem->blocking_acquire_many(2);
    WEFT_INVARIANT(permit.is_ok() && permit->num_permits() == 2);
  });
  {
    auto permit = sem->blocking_acquire_many(2);
    WEFT_INVARIANT(permit.is_ok() && permit->num_permits() == 2);
  }
  t.join();
  WEFT_INVARIANT(sem->available_permits() == 2);
}
