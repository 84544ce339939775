// Unit tests of Notify. Ported from tokio/src/sync/tests/notify.rs and
// tokio/tests/sync_notify.rs, plus notify_last, owned futures, batches, moves and the
// guarded list that notify_waiters uses.
#include "sync/notify.h"
#include "sync/platform/atomic.h"

#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"
#include "testing/wake_contract_check.h"
#include "testing/waker_leak_check.h"

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using weft::Context;
using weft::MockTask;
using weft::Notified;
using weft::Notify;
using weft::RawWaker;
using weft::RawWakerVTable;
using weft::Waker;

// A reference-counted waker whose clone, wake and last drop run test callbacks.
struct CallbackWaker {
  weft::platform::atomic<int> refs{1};
  std::function<void()> on_clone;
  std::function<void()> on_wake;
  std::function<void()> on_last_drop;

  static Waker make(CallbackWaker* self) { return Waker::from_raw(RawWaker{self, &vtable}); }

  static CallbackWaker* of(const void* data) {
    return const_cast<CallbackWaker*>(static_cast<const CallbackWaker*>(data));
  }
  static RawWaker clone(const void* data) {
    CallbackWaker* self = of(data);
    if (self->on_clone) self->on_clone();  // may throw: no reference taken yet
    self->refs.fetch_add(1, std::memory_order_relaxed);
    return RawWaker{data, &vtable};
  }
  static void release(CallbackWaker* self) noexcept {
    if (self->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      if (self->on_last_drop) self->on_last_drop();
      delete self;
    }
  }
  static void wake(const void* data) {
    CallbackWaker* self = of(data);
    struct Release {
      CallbackWaker* self;
      ~Release() { CallbackWaker::release(self); }
    } release_after{self};
    if (self->on_wake) self->on_wake();
  }
  static void wake_by_ref(const void* data) {
    if (of(data)->on_wake) of(data)->on_wake();
  }
  static void drop(const void* data) noexcept { release(of(data)); }
  static constexpr RawWakerVTable vtable{&clone, &wake, &wake_by_ref, &drop};
};

// ----- tokio/tests/sync_notify.rs -----

TEST_CASE("notify_notified_one") {
  Notify notify;
  MockTask task;
  auto notified = notify.notified();
  notify.notify_one();
  CHECK(task.poll(notified).is_ready());
}

TEST_CASE("notified_one_notify") {
  Notify notify;
  MockTask task;
  auto notified = notify.notified();
  CHECK(task.poll(notified).is_pending());
  notify.notify_one();
  CHECK(task.is_woken());
  CHECK(task.poll(notified).is_ready());
}

TEST_CASE("notified_multi_notify") {
  Notify notify;
  MockTask task1, task2;
  auto notified1 = notify.notified();
  auto notified2 = notify.notified();
  CHECK(task1.poll(notified1).is_pending());
  CHECK(task2.poll(notified2).is_pending());
  notify.notify_one();
  CHECK(task1.is_woken());
  CHECK_FALSE(task2.is_woken());
  CHECK(task1.poll(notified1).is_ready());
  CHECK(task2.poll(notified2).is_pending());
}

TEST_CASE("notify_notified_multi") {
  Notify notify;
  notify.notify_one();
  MockTask task1, task2;
  auto notified1 = notify.notified();
  auto notified2 = notify.notified();
  CHECK(task1.poll(notified1).is_ready());
  CHECK(task2.poll(notified2).is_pending());
  notify.notify_one();
  CHECK(task2.is_woken());
  CHECK(task2.poll(notified2).is_ready());
}

TEST_CASE("notified_drop_notified_notify") {
  Notify notify;
  MockTask task1, task2;
  auto notified2 = notify.notified();
  {
    auto notified1 = notify.notified();
    CHECK(task1.poll(notified1).is_pending());
  }
  CHECK(task2.poll(notified2).is_pending());
  notify.notify_one();
  CHECK(task2.is_woken());
  CHECK(task2.poll(notified2).is_ready());
}

TEST_CASE("notified_multi_notify_drop_one") {
  Notify notify;
  MockTask task1, task2;
  auto notified2 = notify.notified();
  {
    auto notified1 = notify.notified();
    CHECK(task1.poll(notified1).is_pending());
    CHECK(task2.poll(notified2).is_pending());
    notify.notify_one();
    CHECK(task1.is_woken());
    CHECK_FALSE(task2.is_woken());
  }  // notified1 dropped: forwards its notification
  CHECK(task2.is_woken());
  CHECK(task2.poll(notified2).is_ready());
}

TEST_CASE("notify_in_drop_after_wake") {
  auto notify = std::make_shared<Notify>();
  auto* raw = new CallbackWaker();
  raw->on_last_drop = [notify] { notify->notify_waiters(); };
  auto fut = notify->notified();
  {
    Waker waker = CallbackWaker::make(raw);
    Context cx(waker);
    CHECK(fut.poll(cx).is_pending());
  }
  // The waiter's waker is the last reference: waking it (outside the lock) runs
  // notify_waiters again, which must not deadlock.
  notify->notify_waiters();
  MockTask task;
  CHECK(task.poll(fut).is_ready());
}

TEST_CASE("notify_one_after_dropped_all") {
  Notify notify;
  MockTask task1, task2;
  {
    auto notified1 = notify.notified();
    CHECK(task1.poll(notified1).is_pending());
    notify.notify_waiters();
    notify.notify_one();
  }  // a notify_waiters completion is not forwarded
  auto notified2 = notify.notified();
  CHECK(task2.poll(notified2).is_ready());
}

TEST_CASE("test_notify_one_not_enabled") {
  Notify notify;
  MockTask task;
  auto future = notify.notified();
  notify.notify_one();
  CHECK(task.poll(future).is_ready());
}

TEST_CASE("test_notify_one_after_enable") {
  Notify notify;
  MockTask task;
  auto future = notify.notified();
  CHECK_FALSE(future.enable());
  notify.notify_one();
  CHECK(task.poll(future).is_ready());
  CHECK(future.enable());
}

TEST_CASE("test_poll_after_enable") {
  Notify notify;
  MockTask task;
  auto future = notify.notified();
  CHECK_FALSE(future.enable());
  CHECK(task.poll(future).is_pending());
}

TEST_CASE("test_enable_after_poll") {
  Notify notify;
  MockTask task;
  auto future = notify.notified();
  CHECK(task.poll(future).is_pending());
  CHECK_FALSE(future.enable());
}

TEST_CASE("test_enable_consumes_permit") {
  Notify notify;
  notify.notify_one();
  auto future1 = notify.notified();
  CHECK(future1.enable());
  auto future2 = notify.notified();
  CHECK_FALSE(future2.enable());
}

TEST_CASE("test_waker_update") {
  Notify notify;
  MockTask task;
  auto future = notify.notified();
  const Waker noop = Waker::noop();
  Context noop_cx(noop);
  CHECK(future.poll(noop_cx).is_pending());
  CHECK(task.poll(future).is_pending());
  notify.notify_one();
  CHECK(task.is_woken());
}

// ----- tokio/src/sync/tests/notify.rs -----

TEST_CASE("notify_clones_waker_before_lock") {
  auto notify = std::make_shared<Notify>();
  auto* raw = new CallbackWaker();
  // Arbitrary code that must not run while the wait list is locked.
  raw->on_clone = [notify] { notify->notify_one(); };
  Waker waker = CallbackWaker::make(raw);
  Context cx(waker);
  auto future = notify->notified();
  (void)future.poll(cx);  // the result does not matter: no deadlock
}

// Tokio's notify_waiters_handles_panicking_waker, under weft's wake policy
// (sync/task/waker.h): a waker that throws is a contract violation, reported by
// WEFT_INVARIANT wherever Notify wakes it (one path each), never an exception.
namespace {
template <class Fire>
bool throwing_waker_woken_by(Fire fire) {
  return weft::testing::aborts_on_throwing_wake([&] {
    Notify notify;
    auto bad_fut = notify.notified();
    const Waker bad = weft::testing::throwing_wake_waker();
    Context cx(bad);
    (void)bad_fut.poll(cx);
    fire(notify);
  });
}
}  // namespace

TEST_CASE("a throwing wake is a failed invariant: notify_one, notify_last") {
  CHECK(throwing_waker_woken_by([](Notify& n) { n.notify_one(); }));
  CHECK(throwing_waker_woken_by([](Notify& n) { n.notify_last(); }));
}

TEST_CASE("a throwing wake is a failed invariant: notify_waiters (batches)") {
  CHECK(throwing_waker_woken_by([](Notify& n) { n.notify_waiters(); }));
}

TEST_CASE("a throwing wake is a failed invariant: a cancelled notification forwarded") {
  CHECK(weft::testing::aborts_on_throwing_wake([] {
    Notify notify;
    MockTask task;
    auto chosen = std::make_unique<Notified>(notify.notified());
    auto bad_fut = notify.notified();
    CHECK(task.poll(*chosen).is_pending());
    const Waker bad = weft::testing::throwing_wake_waker();
    Context cx(bad);
    (void)bad_fut.poll(cx);
    notify.notify_one();  // chooses `chosen`
    chosen.reset();       // forwards to bad_fut, whose wake throws
  }));
}

TEST_CASE("notify_simple") {
  Notify notify;
  MockTask task1, task2;
  auto fut1 = notify.notified();
  CHECK(task1.poll(fut1).is_pending());
  auto fut2 = notify.notified();
  CHECK(task2.poll(fut2).is_pending());
  notify.notify_waiters();
  CHECK(task1.poll(fut1).is_ready());
  CHECK(task2.poll(fut2).is_ready());
}

// ----- beyond Tokio's tests -----

TEST_CASE("a single permit is stored however many notify_one calls") {
  Notify notify;
  notify.notify_one();
  notify.notify_one();
  notify.notify_one();
  auto first = notify.notified();
  CHECK(first.enable());
  auto second = notify.notified();
  CHECK_FALSE(second.enable());
}

TEST_CASE("notify_one wakes the oldest, notify_last the newest") {
  Notify notify;
  MockTask t1, t2, t3;
  auto f1 = notify.notified();
  auto f2 = notify.notified();
  auto f3 = notify.notified();
  CHECK(t1.poll(f1).is_pending());
  CHECK(t2.poll(f2).is_pending());
  CHECK(t3.poll(f3).is_pending());
  notify.notify_last();
  CHECK(t3.is_woken());
  CHECK_FALSE(t1.is_woken());
  CHECK_FALSE(t2.is_woken());
  notify.notify_one();
  CHECK(t1.is_woken());
  CHECK_FALSE(t2.is_woken());
  CHECK(t1.poll(f1).is_ready());
  CHECK(t3.poll(f3).is_ready());
  CHECK(t2.poll(f2).is_pending());
  notify.notify_last();
  CHECK(t2.poll(f2).is_ready());
}

TEST_CASE("a dropped notify_last notification goes to the next newest") {
  Notify notify;
  MockTask t1, t2, t3;
  auto f1 = notify.notified();
  auto f2 = notify.notified();
  CHECK(t1.poll(f1).is_pending());
  CHECK(t2.poll(f2).is_pending());
  {
    auto f3 = notify.notified();
    CHECK(t3.poll(f3).is_pending());
    notify.notify_last();
    CHECK(t3.is_woken());
  }
  CHECK(t2.is_woken());
  CHECK_FALSE(t1.is_woken());
}

TEST_CASE("a dropped notification with nobody left becomes the permit") {
  Notify notify;
  MockTask task;
  {
    auto f = notify.notified();
    CHECK(task.poll(f).is_pending());
    notify.notify_one();
  }
  auto next = notify.notified();
  CHECK(next.enable());
}

TEST_CASE("notify_waiters completes unpolled futures created before it, not after") {
  Notify notify;
  MockTask task;
  auto before = notify.notified();
  notify.notify_waiters();
  auto after = notify.notified();
  CHECK(task.poll(before).is_ready());
  CHECK(task.poll(after).is_pending());
}

TEST_CASE("notify_waiters stores no permit and consumes none") {
  Notify notify;
  notify.notify_waiters();
  auto f = notify.notified();
  CHECK_FALSE(f.enable());
  notify.notify_waiters();  // completes the enqueued f
  CHECK(f.enable());
  notify.notify_one();      // nobody enqueued: the permit
  notify.notify_waiters();  // leaves the permit alone
  auto g = notify.notified();
  CHECK(g.enable());
  auto h = notify.notified();
  CHECK_FALSE(h.enable());
}

// Tokio #7996 (tests/sync_notify.rs): a future completed by notify_waiters() completes
// on its first poll without taking the permit a later notify_one() stored.
TEST_CASE("unpolled_future_completed_by_notify_waiters_preserves_notify_one_permit") {
  Notify notify;
  MockTask task;
  auto notified1 = notify.notified();
  notify.notify_waiters();
  notify.notify_one();
  CHECK(task.poll(notified1).is_ready());
  auto notified2 = notify.notified();
  CHECK(task.poll(notified2).is_ready());
}

// The same through enable(), and for notify_last().
TEST_CASE("enable of a future completed by notify_waiters leaves the permit") {
  Notify notify;
  auto notified1 = notify.notified();
  notify.notify_waiters();
  notify.notify_last();
  CHECK(notified1.enable());
  auto notified2 = notify.notified();
  CHECK(notified2.enable());
}

TEST_CASE("notify_waiters wakes every waiter across several batches") {
  Notify notify;
  constexpr int n = 3 * 32 + 5;
  std::vector<std::unique_ptr<MockTask>> tasks;
  std::vector<std::unique_ptr<Notified>> futs;
  for (int i = 0; i < n; ++i) {
    tasks.push_back(std::make_unique<MockTask>());
    futs.push_back(std::make_unique<Notified>(notify.notified()));
    CHECK(tasks.back()->poll(*futs.back()).is_pending());
  }
  notify.notify_waiters();
  for (int i = 0; i < n; ++i) {
    CHECK(tasks[i]->wake_count() == 1);
    CHECK(tasks[i]->poll(*futs[i]).is_ready());
    CHECK(tasks[i]->waker_ref_count() == 0);
  }
  // Nothing is left enqueued: a new waiter waits for a new notification.
  MockTask late;
  auto f = notify.notified();
  CHECK(late.poll(f).is_pending());
  notify.notify_one();
  CHECK(late.poll(f).is_ready());
}

TEST_CASE("a waiter enqueued by a wake during notify_waiters waits for the next call") {
  Notify notify;
  std::optional<Notified> late;
  MockTask late_task;
  std::vector<std::unique_ptr<MockTask>> tasks;
  std::vector<std::unique_ptr<Notified>> futs;
  // The first waker runs while notify_waiters has released the lock between batches.
  auto* raw = new CallbackWaker();
  raw->on_wake = [&] {
    late.emplace(notify.notified());
    CHECK(late_task.poll(*late).is_pending());
  };
  auto first = notify.notified();
  {
    Waker waker = CallbackWaker::make(raw);
    Context cx(waker);
    CHECK(first.poll(cx).is_pending());
  }
  for (int i = 0; i < 40; ++i) {
    tasks.push_back(std::make_unique<MockTask>());
    futs.push_back(std::make_unique<Notified>(notify.notified()));
    CHECK(tasks.back()->poll(*futs.back()).is_pending());
  }
  notify.notify_waiters();
  for (std::size_t i = 0; i < futs.size(); ++i) CHECK(tasks[i]->poll(*futs[i]).is_ready());
  REQUIRE(late.has_value());
  CHECK(late_task.poll(*late).is_pending());
  notify.notify_waiters();
  CHECK(late_task.poll(*late).is_ready());
}

TEST_CASE("a waiter dropped while notify_waiters holds it in its guarded list") {
  Notify notify;
  std::vector<std::unique_ptr<MockTask>> tasks;
  std::vector<std::unique_ptr<Notified>> futs;
  // The oldest waiter's waker runs between the batches: it drops the newest waiter and
  // polls the second newest, both still in the call's guarded list (second batch).
  auto* raw = new CallbackWaker();
  raw->on_wake = [&] {
    futs[39].reset();
    CHECK(tasks[38]->poll(*futs[38]).is_ready());
  };
  auto first = notify.notified();
  {
    Waker waker = CallbackWaker::make(raw);
    Context cx(waker);
    CHECK(first.poll(cx).is_pending());
  }
  for (int i = 0; i < 40; ++i) {
    tasks.push_back(std::make_unique<MockTask>());
    futs.push_back(std::make_unique<Notified>(notify.notified()));
    CHECK(tasks.back()->poll(*futs.back()).is_pending());
  }
  notify.notify_waiters();
  CHECK(futs[39] == nullptr);
  CHECK_FALSE(tasks[38]->is_woken());  // it completed by itself, so it is not woken
  for (int i = 0; i < 39; ++i) CHECK(tasks[i]->poll(*futs[i]).is_ready());
  MockTask task;
  CHECK(task.poll(first).is_ready());
}

TEST_CASE("owned notified keeps the Notify alive") {
  auto notify = std::make_shared<Notify>();
  MockTask task;
  auto fut = Notify::notified_owned(notify);
  CHECK(task.poll(fut).is_pending());
  std::weak_ptr<Notify> weak = notify;
  notify->notify_one();
  notify.reset();
  CHECK_FALSE(weak.expired());
  CHECK(task.is_woken());
  CHECK(task.poll(fut).is_ready());
}

TEST_CASE("an unpolled Notified may move; it keeps its notify_waiters count") {
  Notify notify;
  MockTask task;
  std::optional<Notified> slot;
  slot.emplace(notify.notified());
  notify.notify_waiters();
  Notified moved(std::move(*slot));
  slot.reset();
  CHECK(task.poll(moved).is_ready());
}

TEST_CASE("completed futures stay complete and hold no waker") {
  Notify notify;
  MockTask task;
  auto f = notify.notified();
  CHECK(task.poll(f).is_pending());
  CHECK(task.waker_ref_count() == 1);
  notify.notify_one();
  CHECK(task.poll(f).is_ready());
  CHECK(task.poll(f).is_ready());
  CHECK(task.waker_ref_count() == 0);
}

TEST_CASE("re-polling with the same task keeps one waker handle") {
  Notify notify;
  MockTask task;
  auto f = notify.notified();
  for (int i = 0; i < 3; ++i) CHECK(task.poll(f).is_pending());
  CHECK(task.waker_ref_count() == 1);
  MockTask other;
  CHECK(other.poll(f).is_pending());  // moved to another task: the old handle is dropped
  CHECK(task.waker_ref_count() == 0);
  CHECK(other.waker_ref_count() == 1);
  notify.notify_one();
  CHECK(other.is_woken());
  CHECK_FALSE(task.is_woken());
}

TEST_CASE("a throwing waker clone leaves the future usable") {
  Notify notify;
  auto* raw = new CallbackWaker();
  raw->on_clone = [] { throw std::runtime_error("clone"); };
  Waker throwing = CallbackWaker::make(raw);
  Context cx(throwing);
  auto f = notify.notified();
  CHECK_THROWS_AS((void)f.poll(cx), std::runtime_error);
  MockTask task;
  CHECK(task.poll(f).is_pending());
  CHECK_THROWS_AS((void)f.poll(cx), std::runtime_error);  // the registration stays
  notify.notify_one();
  CHECK(task.is_woken());
  CHECK(task.poll(f).is_ready());
}

TEST_CASE("block_on across threads") {
  Notify notify;
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    notify.notify_one();
  });
  auto f = notify.notified();
  weft::block_on(f);
  producer.join();
}

// ----- the guarded list notify_waiters relies on (sync/detail/linked_list.h) -----

struct Node {
  int value;
  weft::detail::ListLinks<Node> links;
  explicit Node(int v) : value(v) {}
};
using List = weft::detail::LinkedList<Node, &Node::links>;

TEST_CASE("into_guarded moves every node; remove() on the source still unlinks them") {
  Node a(1), b(2), c(3), guard(0);
  List list;
  list.push_front(&a);
  list.push_front(&b);
  list.push_front(&c);
  auto guarded = list.into_guarded(&guard);
  CHECK(list.is_empty());
  CHECK_FALSE(guarded.is_empty());
  CHECK(list.remove(&b));  // from the middle of the guarded list
  CHECK(guarded.pop_back() == &a);
  CHECK(list.remove(&c));  // the last one
  CHECK(guarded.is_empty());
  CHECK(guarded.pop_back() == nullptr);
  CHECK_FALSE(list.remove(&a));  // unlinked nodes are not found
}

TEST_CASE("into_guarded of an empty list") {
  Node guard(0);
  List list;
  auto guarded = list.into_guarded(&guard);
  CHECK(guarded.is_empty());
  CHECK(guarded.pop_back() == nullptr);
}

// Class check (issue 18, after Tokio #7886): a future that stored its task's waker drops
// it when destroyed (testing/waker_leak_check.h).
TEST_CASE("destroyed Notified and OwnedNotified futures release their wakers") {
  auto notify = std::make_shared<Notify>();
  CHECK(weft::testing::waker_released_on_destroy([&] { return notify->notified(); }));
  CHECK(weft::testing::waker_released_on_destroy([&] { return Notify::notified_owned(notify); }));
  notify->notify_one();  // nobody waits: the permit
  CHECK(notify->notified().enable());
}

}  // namespace
