// Model scenarios of Notify. Ported from tokio/src/sync/tests/loom_notify.rs, under the
// same names (a Loom test that runs several variants becomes one scenario per variant,
// suffixed), plus scenarios of our own for notify_last, cancellation and enable().
//
// Strategies: bounded(2), Loom's usual bound, where the search stays within a few seconds;
// scenarios with three or more threads, or a pile of batch + 1 waiters, take PCT
// samples (pct(N, 3)) instead (their bounded(2) runs take minutes under Relacy, which has no
// partial order reduction); on weft's DPOR checker (notify_dpor) they are searched, at
// bounded(2) or more, by `.on_dpor(...)`, but enable_mpmc (model/harness/README.md says
// why). Any of them can be run exhaustively-bounded by hand:
//   bazel-bin/model/notify --scenario=notify_drop --strategy=bounded:2
#include "model/harness/scenario.h"
#include "sync/notify.h"
#include "sync/platform/platform.h"
#include "sync/task/atomic_waker.h"
#include "sync/task/block_on.h"
#include "sync/task/mock_task.h"

#include <cstddef>
#include <memory>
#include <vector>

namespace platform = weft::platform;
using weft::Context;
using weft::MockTask;
using weft::Notified;
using weft::Notify;
using weft::Poll;

namespace {

// `util::wake_list::NUM_WAKERS` in the Loom file: the batch size of notify_waiters.
constexpr std::size_t wake_list_size = weft::detail::notify_waiters_batch;

// Plain data written before a notification and read after it completes: the model reports
// a data race unless the notification orders the two.
struct Payload {
  platform::cell<int> value{0};
  void write(int v) {
    value.with_mut([v](int& x) { x = v; });
  }
  int read() const {
    return value.with([](const int& x) { return x; });
  }
};

// A future polled by its own MockTask, as tokio_test::task::spawn.
struct Spawned {
  MockTask task;
  Notified fut;
  explicit Spawned(Notified f) : fut(std::move(f)) {}
  Poll<void> poll() { return task.poll(fut); }
};

std::vector<std::unique_ptr<Spawned>> spawn_many(Notify& notify, std::size_t n) {
  std::vector<std::unique_ptr<Spawned>> futs;
  for (std::size_t i = 0; i < n; ++i) futs.push_back(std::make_unique<Spawned>(notify.notified()));
  return futs;
}

// A one-shot signal (the Loom file uses tokio's oneshot): set() once, wait() in block_on.
struct Signal {
  platform::atomic<int> set_flag{0};
  weft::AtomicWaker waiter;
  void set() {
    // Release: pairs with the Acquire load in wait().
    set_flag.store(1, std::memory_order_release);
    waiter.wake();
  }
  void wait() {
    weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
      waiter.register_by_ref(cx.waker());
      // Acquire: pairs with the Release store in set().
      if (set_flag.load(std::memory_order_acquire) == 1) return weft::ready;
      return weft::pending;
    }));
  }
};

}  // namespace

// ----- tokio/src/sync/tests/loom_notify.rs -----

WEFT_MODEL_TEST(notify_one, weft::model::bounded(2), 1) {
  auto tx = std::make_shared<Notify>();
  auto payload = std::make_shared<Payload>();
  platform::thread th([tx, payload] {
    weft::block_on(tx->notified());
    WEFT_INVARIANT(payload->read() == 1);  // what preceded notify_one is visible
  });
  payload->write(1);
  tx->notify_one();
  th.join();
}

WEFT_MODEL_TEST(notify_waiters, weft::model::bounded(2), 1) {
  auto notify = std::make_shared<Notify>();
  auto payload = std::make_shared<Payload>();
  auto notified1 = std::make_unique<Notified>(notify->notified());
  auto notified2 = std::make_unique<Notified>(notify->notified());
  platform::thread th([notify, payload] {
    payload->write(1);
    notify->notify_waiters();
  });
  weft::block_on(*notified1);
  weft::block_on(*notified2);
  WEFT_INVARIANT(payload->read() == 1);
  th.join();
}

WEFT_MODEL_TEST(notify_waiters_and_one,
                weft::model::pct(30000, 3).on_dpor(weft::model::exhaustive()), 3) {
  auto notify = std::make_shared<Notify>();
  platform::thread th1([notify] { notify->notify_waiters(); });
  platform::thread th2([notify] { notify->notify_one(); });
  platform::thread th3([notify] { weft::block_on(notify->notified()); });
  th1.join();
  th2.join();
  th3.join();
}

WEFT_MODEL_TEST(notify_multi, weft::model::pct(30000, 3).on_dpor(weft::model::bounded(2)), 2) {
  auto notify = std::make_shared<Notify>();
  platform::thread ths[2];
  for (auto& th : ths) {
    th = platform::thread([notify] {
      weft::block_on(notify->notified());
      notify->notify_one();
    });
  }
  notify->notify_one();
  for (auto& th : ths) th.join();
  weft::block_on(notify->notified());
}

WEFT_MODEL_TEST(notify_drop, weft::model::pct(30000, 3).on_dpor(weft::model::bounded(2)), 2) {
  auto notify = std::make_shared<Notify>();
  platform::thread th1([notify] {
    auto recv = std::make_unique<Notified>(notify->notified());
    weft::block_on(weft::poll_fn([&](Context& cx) -> Poll<void> {
      if (recv->poll(cx).is_ready()) notify->notify_one();
      return weft::ready;
    }));
    // recv is destroyed here: a notification it received but did not complete moves on.
  });
  platform::thread th2([notify] {
    weft::block_on(notify->notified());
    notify->notify_one();  // the second notification
    weft::block_on(notify->notified());
  });
  notify->notify_one();
  th1.join();
  th2.join();
}

namespace {

// If one of two futures was completed by notify_waiters, the other one must be too.
template <bool Poll0, bool Poll1>
void notify_waiters_poll_consistency_variant() {
  auto notify = std::make_shared<Notify>();
  auto notified = spawn_many(*notify, 2);
  if (Poll0) WEFT_INVARIANT(notified[0]->poll().is_pending());
  if (Poll1) WEFT_INVARIANT(notified[1]->poll().is_pending());
  platform::thread th([notify] { notify->notify_waiters(); });
  const bool res1 = notified[0]->poll().is_ready();
  const bool res2 = notified[1]->poll().is_ready();
  WEFT_INVARIANT(!res1 || res2);
  th.join();
}

// The same with batch + 1 waiters, so the two tested futures fall into different batches.
template <std::size_t First, std::size_t Second>
void notify_waiters_poll_consistency_many_variant() {
  auto notify = std::make_shared<Notify>();
  auto futs = spawn_many(*notify, wake_list_size + 1);
  WEFT_INVARIANT(futs[First]->poll().is_pending());
  for (std::size_t i = 2; i < futs.size(); ++i) WEFT_INVARIANT(futs[i]->poll().is_pending());
  WEFT_INVARIANT(futs[Second]->poll().is_pending());
  platform::thread th([notify] { notify->notify_waiters(); });
  const bool res1 = futs[0]->poll().is_ready();
  const bool res2 = futs[1]->poll().is_ready();
  WEFT_INVARIANT(!res1 || res2);
  th.join();
}

// Once one future completes by notify_waiters, all do: a later notify_one must reach a
// new future, not an old one still in the list.
template <std::size_t Tested>
void notify_waiters_is_atomic_variant() {
  auto notify = std::make_shared<Notify>();
  auto futs = spawn_many(*notify, wake_list_size + 1);
  for (auto& fut : futs) WEFT_INVARIANT(fut->poll().is_pending());
  platform::thread th([notify] { notify->notify_waiters(); });
  {
    std::unique_ptr<Spawned> tested = std::move(futs[Tested]);
    weft::block_on(tested->fut);
  }
  Spawned new_fut(notify->notified());
  WEFT_INVARIANT(new_fut.poll().is_pending());
  notify->notify_one();
  WEFT_INVARIANT(new_fut.poll().is_ready());  // it must consume this notify_one
  th.join();
}

}  // namespace

WEFT_MODEL_TEST(notify_waiters_poll_consistency_none_polled, weft::model::bounded(2), 1) {
  notify_waiters_poll_consistency_variant<false, false>();
}
WEFT_MODEL_TEST(notify_waiters_poll_consistency_first_polled, weft::model::bounded(2), 1) {
  notify_waiters_poll_consistency_variant<true, false>();
}
WEFT_MODEL_TEST(notify_waiters_poll_consistency_second_polled, weft::model::bounded(2), 1) {
  notify_waiters_poll_consistency_variant<false, true>();
}
WEFT_MODEL_TEST(notify_waiters_poll_consistency_both_polled, weft::model::bounded(2), 1) {
  notify_waiters_poll_consistency_variant<true, true>();
}

WEFT_MODEL_TEST(notify_waiters_poll_consistency_many_0_1,
                weft::model::pct(20000, 3).on_dpor(weft::model::exhaustive()), 1) {
  notify_waiters_poll_consistency_many_variant<0, 1>();
}
WEFT_MODEL_TEST(notify_waiters_poll_consistency_many_1_0,
                weft::model::pct(20000, 3).on_dpor(weft::model::exhaustive()), 1) {
  notify_waiters_poll_consistency_many_variant<1, 0>();
}

WEFT_MODEL_TEST(notify_waiters_is_atomic_first,
                weft::model::pct(20000, 3).on_dpor(weft::model::exhaustive()), 1) {
  notify_waiters_is_atomic_variant<0>();
}
WEFT_MODEL_TEST(notify_waiters_is_atomic_last,
                weft::model::pct(20000, 3).on_dpor(weft::model::exhaustive()), 1) {
  notify_waiters_is_atomic_variant<wake_list_size>();
}

// One notify_waiters call must not complete two futures created and awaited one after
// the other.
WEFT_MODEL_TEST(notify_waiters_sequential_notified_await,
                weft::model::pct(20000, 3).on_dpor(weft::model::bounded(3)), 1) {
  auto notify = std::make_shared<Notify>();
  auto fst = std::make_shared<Signal>();
  auto snd = std::make_shared<Signal>();
  platform::thread receiver([notify, fst, snd] {
    // The first waiter in the queue.
    auto first_notified = std::make_unique<Spawned>(notify->notified());
    WEFT_INVARIANT(first_notified->poll().is_pending());
    // More waiters, so that notify_waiters releases the lock at least once.
    auto task_pile = spawn_many(*notify, wake_list_size + 1);
    for (auto& fut : task_pile) WEFT_INVARIANT(fut->poll().is_pending());
    fst->set();  // ready for the notify_waiters call
    weft::block_on(first_notified->fut);
    // The second future tries to enter the queue while the call may be in progress.
    Spawned second_notified(notify->notified());
    WEFT_INVARIANT(second_notified.poll().is_pending());
    snd->wait();  // the call has ended
    WEFT_INVARIANT(second_notified.poll().is_pending());
  });
  fst->wait();
  notify->notify_waiters();
  snd->set();
  receiver.join();
}

// ----- our own -----

// notify_last and a cancelled winner: the notification moves on to the other waiter,
// which must complete (block_on reports a lost one as a deadlock).
WEFT_MODEL_TEST(notify_last_drop_forwards,
                weft::model::pct(30000, 3).on_dpor(weft::model::bounded(3)), 2) {
  auto notify = std::make_shared<Notify>();
  platform::thread canceller([notify] {
    MockTask task;
    Notified fut = notify->notified();
    // Completing consumes the one notification: pass it on, as notify_drop does.
    if (task.poll(fut).is_ready()) notify->notify_one();
    // Else fut is destroyed pending, possibly after notify_last chose it.
  });
  platform::thread waiter([notify] { weft::block_on(notify->notified()); });
  notify->notify_last();
  canceller.join();
  waiter.join();
}

// A cancelled waiter racing notify_one while another waits: the notification reaches the
// remaining waiter (chosen first, or forwarded by the cancelled one's drop), never lost.
// With no waiter left the forward becomes the permit: notify_one_cancel_last_waiter.
WEFT_MODEL_TEST(notify_one_cancel_race, weft::model::bounded(2), 1) {
  auto notify = std::make_shared<Notify>();
  auto keeper = std::make_unique<Spawned>(notify->notified());
  auto cancelled = std::make_unique<Spawned>(notify->notified());
  WEFT_INVARIANT(cancelled->poll().is_pending());  // the oldest: notify_one picks it first
  WEFT_INVARIANT(keeper->poll().is_pending());
  platform::thread th([notify] { notify->notify_one(); });
  cancelled.reset();
  th.join();
  const bool kept = keeper->poll().is_ready();
  keeper.reset();
  Spawned after(notify->notified());
  const bool permit = after.fut.enable();
  WEFT_INVARIANT(kept != permit);  // exactly one of them got the one notification
}

// The only waiter is cancelled while notify_one runs: chosen before its drop, it forwards
// the notification, and with nobody left to take it, it is stored as the permit; chosen
// after, notify_one stores the permit itself. Either way the next Notified finds it.
WEFT_MODEL_TEST(notify_one_cancel_last_waiter, weft::model::bounded(2), 1) {
  auto notify = std::make_shared<Notify>();
  auto cancelled = std::make_unique<Spawned>(notify->notified());
  WEFT_INVARIANT(cancelled->poll().is_pending());
  platform::thread th([notify] { notify->notify_one(); });
  cancelled.reset();
  th.join();
  Spawned after(notify->notified());
  WEFT_INVARIANT(after.fut.enable());
}

// The consumer re-polls without waiting for its wake (a task polled for another reason):
// its completion on the lock-free path must still see what preceded notify_one, and own
// the waiter's waker slot. Only the notification's Release / Acquire pair orders them.
WEFT_MODEL_TEST(notify_one_polled_without_wake, weft::model::bounded(2), 1) {
  auto notify = std::make_shared<Notify>();
  auto payload = std::make_shared<Payload>();
  auto fut = std::make_unique<Spawned>(notify->notified());
  WEFT_INVARIANT(fut->poll().is_pending());
  platform::thread th([notify, payload] {
    payload->write(1);
    notify->notify_one();
  });
  while (fut->poll().is_pending()) platform::yield_now();
  WEFT_INVARIANT(payload->read() == 1);
  th.join();
}

// A permit stored, consumed and stored again (the state word back to the same value): a
// waiter whose lock-free poll read the first permit may win its CAS on the second, and
// must then see what preceded that second notify_one. The notifier stores the second
// only after the first consumer finished, so the second finisher consumed the second
// permit and reads 2; the first reads 1.
struct notify_one_permit_stored_twice {
  static constexpr int threads = 3;
  Notify notify;
  Payload payload;
  platform::atomic<int> finished{0};

  void thread(int index) {
    if (index == 0) {
      payload.write(1);
      notify.notify_one();
      // Acquire: pairs with the AcqRel increment below, so the first consumer's read of
      // the payload happens-before this write.
      while (finished.load(std::memory_order_acquire) == 0) platform::yield_now();
      payload.write(2);
      notify.notify_one();
      return;
    }
    weft::block_on(notify.notified());
    const int seen = payload.read();
    // AcqRel: pairs with the Acquire load above and with this increment in the other
    // consumer.
    const int order = finished.fetch_add(1, std::memory_order_acq_rel);
    WEFT_INVARIANT(seen == order + 1);
  }
};
WEFT_MODEL_SCENARIO(notify_one_permit_stored_twice, weft::model::bounded(2));

// The MPMC pattern of the header comment (Tokio's doc example): two consumers enable()
// before checking a mutex-protected queue, two producers push and notify_one. No consumer
// may sleep forever, though two notify_one calls may leave a single permit.
struct enable_mpmc {
  static constexpr int threads = 4;
  Notify notify;
  platform::mutex queue_lock;
  platform::cell<int> items{0};  // protected by queue_lock

  bool try_take() {
    platform::mutex_guard guard(queue_lock);
    return items.with_mut([](int& n) { return n > 0 ? (--n, true) : false; });
  }
  void thread(int index) {
    if (index < 2) {
      {
        platform::mutex_guard guard(queue_lock);
        items.with_mut([](int& n) { ++n; });
      }
      notify.notify_one();
      return;
    }
    for (;;) {
      Notified fut = notify.notified();
      fut.enable();
      if (try_take()) return;
      weft::block_on(fut);
    }
  }
};
WEFT_MODEL_SCENARIO(enable_mpmc, weft::model::pct(30000, 3));

// notify_waiters' lock-free fast path (nobody enqueued) racing a waiter that checks a
// condition after notified() and then enqueues, the pattern of watch's changed(): either
// the waiter sees the flag, or its enqueue CAS sees the new count, or the fast path sees
// WAITING and takes the lock to complete it. A lost wakeup deadlocks block_on.
WEFT_MODEL_TEST(notify_waiters_fast_path_no_lost_wakeup, weft::model::bounded(2), 1) {
  auto notify = std::make_shared<Notify>();
  auto flag = std::make_shared<platform::atomic<int>>(0);
  auto payload = std::make_shared<Payload>();
  platform::thread th([notify, flag, payload] {
    payload->write(1);
    // Release: pairs with the Acquire load of the flag below (the waiter's).
    flag->store(1, std::memory_order_release);
    notify->notify_waiters();
  });
  Notified fut = notify->notified();
  // Acquire: pairs with the Release store above.
  if (flag->load(std::memory_order_acquire) == 0) {
    WEFT_REACHED("the waiter waits before the flag is set");
    weft::block_on(fut);
  }
  WEFT_INVARIANT(payload->read() == 1);
  th.join();
}
WEFT_MODEL_REACHES(notify_waiters_fast_path_no_lost_wakeup,
                   "the waiter waits before the flag is set");

// A future created before a notify_waiters() that may take the fast path, polled after a
// second future (created during the race) enqueued itself: it may find the state WAITING
// with a count that moved, and its completion must still see what preceded the call.
WEFT_MODEL_TEST(notify_waiters_fast_path_then_waiting, weft::model::bounded(2), 1) {
  auto notify = std::make_shared<Notify>();
  auto payload = std::make_shared<Payload>();
  auto before = std::make_unique<Spawned>(notify->notified());
  platform::thread th([notify, payload] {
    payload->write(1);
    notify->notify_waiters();
  });
  auto during = std::make_unique<Spawned>(notify->notified());
  const bool during_done = during->poll().is_ready();
  if (before->poll().is_ready()) WEFT_INVARIANT(payload->read() == 1);
  th.join();
  WEFT_INVARIANT(before->poll().is_ready());  // created before the call: completed by it
  WEFT_INVARIANT(payload->read() == 1);
  if (!during_done) notify->notify_one();  // let `during` finish (it may predate the call)
  WEFT_INVARIANT(during->poll().is_ready());
}

// Tokio #7996: a future created before a notify_waiters() that is followed by a
// notify_one(), polled while the two run. However the poll interleaves with them, the
// future completes (through notify_waiters: it was created before the call) and the
// permit of notify_one() stays for the next future, since no waiter was enqueued when it
// was stored, or the enqueued one was completed by notify_waiters() first.
WEFT_MODEL_TEST(notify_waiters_then_one_preserves_permit, weft::model::bounded(2), 1) {
  auto notify = std::make_shared<Notify>();
  auto before = std::make_unique<Spawned>(notify->notified());
  platform::thread th([notify] {
    notify->notify_waiters();
    notify->notify_one();
  });
  (void)before->poll();
  th.join();
  WEFT_INVARIANT(before->poll().is_ready());
  Spawned after(notify->notified());
  WEFT_INVARIANT(after.poll().is_ready());
}
