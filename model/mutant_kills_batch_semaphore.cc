// Model scenarios that kill mutations of sync/detail/batch_semaphore.h the main suite
// (model/semaphore_batch.cc) lets survive (ci/mutations.py names them): the permit
// handover must order plain data, not only the counts the Loom ports look at.
#include "model/harness/scenario.h"
#include "sync/detail/batch_semaphore.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"

#include <memory>

namespace platform = weft::platform;
using weft::detail::BatchSemaphore;

namespace {

// A semaphore of one permit guarding a plain counter (a cell: the checker sees races).
struct Guarded {
  BatchSemaphore semaphore{1};
  platform::cell<int> counter{0};
  void bump() {
    counter.with_mut([](int& c) { ++c; });
  }
  int value() const {
    return counter.with([](const int& c) { return c; });
  }
};

}  // namespace

// Kills batch_semaphore.release_fast_relaxed and batch_semaphore.fast_take_relaxed: two
// tasks take turns through acquire(). Uncontended, the permit goes back through
// release()'s lock-free CAS and is taken by the other task's first-poll CAS (try_take):
// only that Release / Acquire pair orders the first task's write before the second's.
WEFT_MODEL_TEST(handover_orders_data_acquire, weft::model::bounded(2), 1) {
  auto g = std::make_shared<Guarded>();
  platform::thread t([g] {
    WEFT_INVARIANT(weft::block_on(g->semaphore.acquire(1)).is_ok());
    g->bump();
    g->semaphore.release(1);
  });
  WEFT_INVARIANT(weft::block_on(g->semaphore.acquire(1)).is_ok());
  g->bump();
  g->semaphore.release(1);
  t.join();
  WEFT_INVARIANT(g->value() == 2);
}

// Kills batch_semaphore.try_acquire_relaxed (and release_fast_relaxed): the same with
// try_acquire() retried until it succeeds.
WEFT_MODEL_TEST(handover_orders_data_try_acquire, weft::model::bounded(2), 1) {
  auto g = std::make_shared<Guarded>();
  auto take = [](Guarded& s) {
    while (s.semaphore.try_acquire(1).is_err()) platform::yield_now();
  };
  platform::thread t([g, take] {
    take(*g);
    g->bump();
    g->semaphore.release(1);
  });
  take(*g);
  g->bump();
  g->semaphore.release(1);
  t.join();
  WEFT_INVARIANT(g->value() == 2);
}
