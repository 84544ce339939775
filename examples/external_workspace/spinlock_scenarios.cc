// The spinlock's scenarios: two threads increment plain data under the lock. A missing
// Acquire or Release would show up as a DATA RACE on `count`, a broken exclusion as a
// lost increment.
#include "spinlock.h"

#include "model/harness/scenario.h"
#include "sync/platform/platform.h"

// guide:begin spinlock_scenario
struct two_lockers {
  static constexpr int threads = 2;
  my_project::Spinlock lock;
  weft::platform::cell<int> count{0};  // protected by `lock`
  void thread(int) {
    lock.lock();
    count.with_mut([](int& c) { ++c; });
    lock.unlock();
  }
  void check() {
    count.with([](const int& c) { WEFT_INVARIANT(c == 2); });
  }
};
WEFT_MODEL_SCENARIO(two_lockers, weft::model::bounded(3));
// guide:end spinlock_scenario
