// Model scenarios of SetOnce. Ported from tokio/src/sync/tests/loom_set_once.rs, under the
// same names, plus scenarios of our own for waiting, cancellation and racing setters.
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"
#include "sync/set_once.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"

#include <memory>

namespace platform = weft::platform;
using weft::SetOnce;

namespace {

// A value that counts its destructions (Tokio's Foo).
struct Foo {
  std::shared_ptr<platform::atomic<unsigned>> num_drops;
  bool moved_from = false;
  explicit Foo(std::shared_ptr<platform::atomic<unsigned>> drops) : num_drops(std::move(drops)) {}
  Foo(Foo&& other) noexcept : num_drops(other.num_drops) { other.moved_from = true; }
  ~Foo() {
    // Release: pairs with the Acquire load of the final count below.
    if (!moved_from) num_drops->fetch_add(1, std::memory_order_release);
  }
};

}  // namespace

WEFT_MODEL_TEST(set_once_drop_test, weft::model::bounded(2), 1) {
  auto tx = std::make_shared<SetOnce<Foo>>();
  auto drop_counter = std::make_shared<platform::atomic<unsigned>>(0);
  auto res = std::make_shared<platform::atomic<int>>(0);
  platform::thread th([tx, drop_counter, res] {
    res->store(tx->set(Foo(drop_counter)).is_ok() ? 1 : 0, std::memory_order_relaxed);
  });
  const bool set = tx->set(Foo(drop_counter)).is_ok();
  th.join();
  tx.reset();
  // Acquire: pairs with the Release increments in ~Foo.
  WEFT_INVARIANT(drop_counter->load(std::memory_order_acquire) == 2);
  const bool other = res->load(std::memory_order_relaxed) == 1;
  WEFT_INVARIANT(other != set);  // exactly one set wins
}

WEFT_MODEL_TEST(set_once_wait_test, weft::model::bounded(2), 1) {
  auto tx = std::make_shared<SetOnce<int>>();
  platform::thread th([tx] { WEFT_INVARIANT(tx->set(2).is_ok()); });
  const int& value = weft::block_on(tx->wait());
  WEFT_INVARIANT(value == 2);
  th.join();
}

// ----- our own -----

// Two waiters, one of which gives up after its first poll, racing the setter: the other
// still completes, and the cancelled one leaves no waiter behind (Notify's destructor
// checks its list is empty).
WEFT_MODEL_TEST(set_once_wait_cancel, weft::model::pct(30000, 3).on_dpor(weft::model::exhaustive()),
                2) {
  auto once = std::make_shared<SetOnce<int>>();
  platform::thread setter([once] { WEFT_INVARIANT(once->set(7).is_ok()); });
  platform::thread quitter([once] {
    weft::MockTask task;
    auto w = once->wait();
    auto p = task.poll(w);
    if (p.is_ready()) WEFT_INVARIANT(p.value().get() == 7);
  });
  WEFT_INVARIANT(weft::block_on(once->wait()).get() == 7);
  setter.join();
  quitter.join();
}
