// Model scenarios of block_on and the thread waker: the park/unpark races of a blocked
// thread, wakes before / during / after the park, a waker dropped concurrently with a
// wake (the reference count frees the parker exactly once: a leak or a double free is
// reported), and a waker that outlives block_on. A lost wakeup parks the main thread
// forever, which the checker reports as DEADLOCK.
// Follows the block_on use in tokio/src/sync/tests/loom_*.rs (loom::future::block_on).
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"
#include "sync/task/atomic_waker.h"
#include "sync/task/block_on.h"

#include <chrono>
#include <memory>
#include <optional>

namespace platform = weft::platform;
using weft::Context;
using weft::Poll;
using weft::Waker;

namespace {

struct Flag {
  platform::atomic<int> set{0};
  weft::AtomicWaker waker;
  void raise() {
    // Release: pairs with the Acquire load in wait().
    set.store(1, std::memory_order_release);
    waker.wake();
  }
  void wait() {
    weft::block_on(weft::poll_fn([this](Context& cx) -> Poll<void> {
      waker.register_by_ref(cx.waker());
      // Acquire: pairs with the Release store in raise().
      if (set.load(std::memory_order_acquire) == 1) return weft::ready;
      return weft::pending;
    }));
  }
  bool wait_until(platform::clock::time_point deadline) {
    return weft::block_on_until(weft::poll_fn([this](Context& cx) -> Poll<void> {
                                  waker.register_by_ref(cx.waker());
                                  // Acquire: pairs with the Release store in raise().
                                  if (set.load(std::memory_order_acquire) == 1) return weft::ready;
                                  return weft::pending;
                                }),
                                deadline)
        .is_ready();
  }
};

// A waker handed from the polled future to another thread through an atomic pointer.
struct Mailbox {
  platform::atomic<Waker*> slot{nullptr};
  platform::atomic<int> done{0};
};

}  // namespace

// The waker thread races the main thread's poll, register and park.
WEFT_MODEL_TEST(block_on_park_unpark, weft::model::exhaustive(), 1) {
  auto flag = std::make_shared<Flag>();
  platform::thread t([flag] { flag->raise(); });
  flag->wait();
  t.join();
}

// Two wakes and two block_on calls in a row on one thread: tokens left by the first
// round must not confuse the second.
WEFT_MODEL_TEST(block_on_twice, weft::model::bounded(2), 1) {
  auto first = std::make_shared<Flag>();
  auto second = std::make_shared<Flag>();
  platform::thread t([first, second] {
    first->raise();
    second->raise();
  });
  first->wait();
  second->wait();
  t.join();
}

// The future gives a clone of its waker to another thread, which wakes it by value
// (consuming the handle) while the main thread polls and parks; the main thread drops
// its own handles meanwhile.
WEFT_MODEL_TEST(block_on_wake_by_value_from_thread, weft::model::bounded(2), 1) {
  auto box = std::make_shared<Mailbox>();
  platform::thread t([box] {
    platform::Backoff backoff;
    Waker* waker;
    // Acquire: pairs with the Release store of the pointer below.
    while ((waker = box->slot.load(std::memory_order_acquire)) == nullptr) backoff.snooze();
    // Release: pairs with the Acquire load of done below (the future's).
    box->done.store(1, std::memory_order_release);
    waker->wake();
    delete waker;
  });
  bool sent = false;
  weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
    if (!sent) {
      sent = true;
      // Release: publishes the new Waker to the thread.
      box->slot.store(new Waker(cx.waker()), std::memory_order_release);
    }
    // Acquire: pairs with the Release store of done above (the thread's).
    return box->done.load(std::memory_order_acquire) == 1 ? Poll<void>(weft::ready) : weft::pending;
  }));
  t.join();
}

// A waker dropped on one thread while another wakes a clone of it, and block_on
// returning meanwhile: the ThreadWaker is freed exactly once, by whoever is last.
WEFT_MODEL_TEST(waker_dropped_concurrently_with_wake, weft::model::bounded(2), 2) {
  auto flag = std::make_shared<Flag>();
  platform::thread waker_thread([flag] { flag->raise(); });
  platform::thread dropper;
  weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
    flag->waker.register_by_ref(cx.waker());
    if (!dropper.joinable()) {
      dropper = platform::thread([w = Waker(cx.waker())]() mutable { w = Waker(); });
    }
    if (flag->set.load(std::memory_order_acquire) == 1) return weft::ready;
    return weft::pending;
  }));
  waker_thread.join();
  dropper.join();
}

// The waker escapes block_on and is woken after it returned (and after the parker's
// owner is gone): harmless, and freed by the last handle.
WEFT_MODEL_TEST(waker_outlives_block_on, weft::model::bounded(2), 1) {
  auto box = std::make_shared<Mailbox>();
  platform::thread t([box] {
    platform::Backoff backoff;
    Waker* waker;
    // Acquire: pairs with the Release store below.
    while ((waker = box->slot.load(std::memory_order_acquire)) == nullptr) backoff.snooze();
    waker->wake_by_ref();
    delete waker;
  });
  weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
    // Release: publishes the Waker to the thread.
    box->slot.store(new Waker(cx.waker()), std::memory_order_release);
    return weft::ready;
  }));
  t.join();
}

// block_on_until: the wake races the timed park's timeout. Ready: the raise happened
// before (Acquire in the poll). Pending: the time is up, and the wakeup is not lost for
// a later call: an untimed block_on on the same flag completes (a lost token would
// deadlock it only if the flag were still unset, so the flag's own wake must reach it).
WEFT_MODEL_TEST(block_on_until_wake_races_timeout, weft::model::bounded(2), 1) {
  auto flag = std::make_shared<Flag>();
  auto data = std::make_shared<platform::cell<int>>(0);
  platform::thread t([flag, data] {
    data->with_mut([](int& d) { d = 1; });
    flag->raise();
  });
  const auto deadline = platform::deadline_after(std::chrono::milliseconds(1));
  if (flag->wait_until(deadline)) {
    data->with([](const int& d) { WEFT_INVARIANT(d == 1); });
  } else {
    WEFT_REACHED("block_on_until timed out");
    WEFT_INVARIANT(platform::clock::now() >= deadline);
    flag->wait();
    data->with([](const int& d) { WEFT_INVARIANT(d == 1); });
  }
  t.join();
}
WEFT_MODEL_REACHES(block_on_until_wake_races_timeout, "block_on_until timed out");
