// Model scenarios of the timer driver (sync/time/): a timer entry is a waiter like any
// other, so a fire races its owner's cancel, its re-registration, and the completion of the
// future a timeout wraps. In each: exactly one outcome, nothing lost (a value, a wakeup),
// no wake when the cancel won. Time is the driver's paused clock: the thread that calls
// advance() is where the checker chooses when the timer fires. Tokio has no Loom test of
// its timer wheel's entry protocol; these follow the shape of loom_notify.rs's cancel races.
#include "model/harness/scenario.h"
#include "sync/mpsc/bounded.h"
#include "sync/notify.h"
#include "sync/oneshot.h"
#include "sync/platform/platform.h"
#include "sync/runtime/local_executor.h"
#include "sync/runtime/thread_pool.h"
#include "sync/task/mock_task.h"
#include "sync/task/task.h"
#include "sync/time/sleep.h"
#include "sync/time/timeout.h"
#include "sync/time/timer_driver.h"
#include "sync/watch.h"

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

namespace platform = weft::platform;
using namespace std::chrono_literals;
using weft::Context;
using weft::MockTask;
using weft::Task;
using weft::TimerDriver;
using weft::TimerScope;

namespace {

// A driver with a paused clock, shared by a scenario's threads.
struct Clock {
  TimerDriver* driver = TimerDriver::create();
  Clock() { driver->pause(); }
  ~Clock() { driver->release(); }
  Clock(const Clock&) = delete;
  Clock& operator=(const Clock&) = delete;
};

// Polls `future` once as `task`, under `driver`.
template <class F>
auto poll_under(TimerDriver* driver, MockTask& task, F& future) {
  TimerScope scope(*driver);
  return task.poll(future);
}

Task<int> receive(weft::oneshot::Receiver<int> rx) {
  auto got = co_await rx;
  co_return got.value();
}

Task<void> sleep_10ms() { co_await weft::sleep(10ms); }

// A sleep of 10 ms on a running (virtual) clock, then the output of `received`.
Task<int> sleep_then_join(weft::JoinHandle<int> received) {
  co_await weft::sleep(10ms);
  auto out = co_await received;
  co_return *out;
}

}  // namespace

// The owner drops a pending sleep while the driver fires it: either the fire took it
// (one wake) or the drop unlinked it first (no wake, ever), and the driver never touches
// the freed entry.
WEFT_MODEL_TEST(fire_races_cancel, weft::model::exhaustive(), 1) {
  auto clock = std::make_shared<Clock>();
  const TimerScope here(*clock->driver);  // sleep(d) measures from the paused clock
  auto task = std::make_shared<MockTask>();
  auto sleep = std::make_unique<weft::Sleep>(weft::sleep(10ms));
  WEFT_INVARIANT(poll_under(clock->driver, *task, *sleep).is_pending());
  auto fired = std::make_shared<platform::cell<std::size_t>>(0);
  platform::thread timer([clock, fired] { fired->set(clock->driver->advance(10ms)); });
  sleep.reset();
  WEFT_INVARIANT(clock->driver->size() == 0);  // fired, or unlinked by the drop
  timer.join();
  WEFT_INVARIANT(task->wake_count() == fired->get());
  WEFT_INVARIANT(clock->driver->size() == 0);
}

// The header's promise: what the firing thread did before advance() happens-before a poll
// that returns ready. Needs fired_'s Release store (the poll may see it without the lock).
WEFT_MODEL_TEST(fire_publishes_to_poll, weft::model::exhaustive(), 1) {
  auto clock = std::make_shared<Clock>();
  const TimerScope here(*clock->driver);  // sleep(d) measures from the paused clock
  auto note = std::make_shared<platform::cell<int>>(0);
  MockTask task;
  weft::Sleep sleep = weft::sleep(10ms);
  WEFT_INVARIANT(poll_under(clock->driver, task, sleep).is_pending());
  platform::thread timer([clock, note] {
    note->set(7);
    (void)clock->driver->advance(10ms);
  });
  if (poll_under(clock->driver, task, sleep).is_ready()) WEFT_INVARIANT(note->get() == 7);
  timer.join();
}

// The owner re-polls with another task's waker while the driver fires: the fire wakes the
// waker registered when it took the entry, and a re-poll that returns pending has left its
// own waker there, so that one is woken (no lost wakeup).
WEFT_MODEL_TEST(fire_races_repoll, weft::model::bounded(2), 1) {
  auto clock = std::make_shared<Clock>();
  const TimerScope here(*clock->driver);  // sleep(d) measures from the paused clock
  auto first = std::make_shared<MockTask>();
  auto second = std::make_shared<MockTask>();
  weft::Sleep sleep = weft::sleep(10ms);
  WEFT_INVARIANT(poll_under(clock->driver, *first, sleep).is_pending());
  platform::thread timer([clock] { (void)clock->driver->advance(10ms); });
  const bool ready = poll_under(clock->driver, *second, sleep).is_ready();
  timer.join();
  WEFT_INVARIANT(first->wake_count() + second->wake_count() == 1);
  if (!ready) WEFT_INVARIANT(second->wake_count() == 1);
  WEFT_INVARIANT(poll_under(clock->driver, *second, sleep).is_ready());
}

// Sleep::reset to a later deadline races the driver firing the old one: the fire took
// the entry first (one wake; the reset then leaves the driver) or the reset moved it (no
// wake). Either way the sleep is pending again until the new deadline and is woken then,
// once (no lost wakeup, no stale entry left in the heap).
WEFT_MODEL_TEST(reset_races_fire, weft::model::exhaustive(), 1) {
  auto clock = std::make_shared<Clock>();
  const TimerScope here(*clock->driver);
  MockTask task;
  weft::Sleep sleep = weft::sleep(10ms);
  WEFT_INVARIANT(poll_under(clock->driver, task, sleep).is_pending());
  platform::thread timer([clock] { (void)clock->driver->advance(10ms); });
  sleep.reset(sleep.deadline() + 10ms);
  timer.join();
  const std::size_t early = task.wake_count();
  WEFT_INVARIANT(poll_under(clock->driver, task, sleep).is_pending());
  WEFT_INVARIANT(clock->driver->advance(10ms) == 1);
  WEFT_INVARIANT(task.wake_count() == early + 1);
  WEFT_INVARIANT(poll_under(clock->driver, task, sleep).is_ready());
  WEFT_INVARIANT(clock->driver->size() == 0);
}

// A timeout around recv(), past its deadline, is polled while a send races it: the outcome
// is the value or Elapsed, never both; after Elapsed the value is in the channel (recv is
// cancel-safe), so nothing is lost.
WEFT_MODEL_TEST(timeout_races_send, weft::model::bounded(2), 1) {
  auto clock = std::make_shared<Clock>();
  const TimerScope here(*clock->driver);  // sleep(d) measures from the paused clock
  auto [tx, rx] = weft::mpsc::channel<int>(1);
  MockTask task;
  auto recv = weft::timeout(rx.recv(), 10ms);
  WEFT_INVARIANT(poll_under(clock->driver, task, recv).is_pending());
  platform::thread sender([tx = std::move(tx)] { WEFT_INVARIANT(tx.try_send(7).is_ok()); });
  WEFT_INVARIANT(clock->driver->advance(10ms) == 1);
  WEFT_INVARIANT(task.is_woken());
  auto out = poll_under(clock->driver, task, recv);
  sender.join();
  WEFT_INVARIANT(out.is_ready());  // the timer fired: ready either way
  auto left = rx.try_recv();
  if (out.value().is_ok()) {
    WEFT_INVARIANT(*out.value() == std::optional<int>(7));
    WEFT_INVARIANT(left.is_err());
  } else {
    WEFT_INVARIANT(left.is_ok() && *left == 7);  // the value the timed-out recv left
  }
}

// send_timeout on a full channel, past its deadline, is polled while a recv frees
// capacity: the value is either sent (in the channel after) or handed back in Timeout,
// never both, never lost; capacity assigned to the cancelled reservation comes back.
WEFT_MODEL_TEST(send_timeout_races_recv, weft::model::bounded(1).on_dpor(weft::model::bounded(3)),
                1) {
  auto clock = std::make_shared<Clock>();
  auto [tx, receiver] = weft::mpsc::channel<int>(1);
  auto rx = std::make_shared<weft::mpsc::Receiver<int>>(std::move(receiver));
  WEFT_INVARIANT(tx.try_send(1).is_ok());
  MockTask task;
  auto send = tx.send_timeout(2, 10ms);
  WEFT_INVARIANT(poll_under(clock->driver, task, send).is_pending());
  platform::thread taker([rx] {
    auto first = rx->try_recv();
    WEFT_INVARIANT(first.is_ok() && *first == 1);
  });
  WEFT_INVARIANT(clock->driver->advance(10ms) == 1);
  auto out = poll_under(clock->driver, task, send);
  taker.join();
  WEFT_INVARIANT(out.is_ready());
  auto second = rx->try_recv();
  if (out.value().is_ok()) {
    WEFT_INVARIANT(second.is_ok() && *second == 2);
  } else {
    WEFT_INVARIANT(out.value().error().is_timeout() && out.value().error().value == 2);
    WEFT_INVARIANT(second.is_err());
    WEFT_INVARIANT(tx.try_send(3).is_ok());  // the capacity is free again
  }
}

// block_on drives its own timers: its park times out at the timer's deadline (virtual
// time: the checker chooses when), fires it, and the sleep completes.
WEFT_MODEL_TEST(block_on_sleep_fires, weft::model::exhaustive(), 0) {
  weft::block_on(weft::sleep(10ms));
  WEFT_INVARIANT(platform::clock::now().time_since_epoch() >= 10ms);
}

// block_on(timeout(recv)) races a send: the timed park ends by the send's wake or by the
// deadline, as the checker chooses; the value is received or stays in the channel.
WEFT_MODEL_TEST(block_on_timeout_races_send, weft::model::bounded(2), 1) {
  auto [tx, rx] = weft::mpsc::channel<int>(1);
  platform::thread sender([tx = std::move(tx)] { WEFT_INVARIANT(tx.try_send(7).is_ok()); });
  auto out = weft::block_on(weft::timeout(rx.recv(), 10ms));
  sender.join();
  if (out.is_ok()) {
    WEFT_INVARIANT(*out == std::optional<int>(7));
  } else {
    auto left = rx.try_recv();
    WEFT_INVARIANT(left.is_ok() && *left == 7);
  }
}

// block_on(timeout(notified())) races notify_one(): the timed wait takes the notification
// (Ok), or it times out and the notification is kept as the permit, either because it came
// late or because the destroyed Notified forwarded what it had received (Notify's
// cancel-safety): a later notified() is ready at once. Exactly one of the two, never lost.
WEFT_MODEL_TEST(timeout_races_notify_one, weft::model::bounded(2), 1) {
  weft::Notify notify;
  platform::thread notifier([&notify] { notify.notify_one(); });
  const auto out = weft::block_on(weft::timeout(notify.notified(), 10ms));
  notifier.join();
  MockTask task;
  auto again = notify.notified();
  const bool permit_kept = task.poll(again).is_ready();
  WEFT_INVARIANT(out.is_ok() != permit_kept);
}

// block_on(timeout(rx.changed())) races a send: the timed wait sees the new value (Ok,
// marked seen) or times out leaving it unseen (changed() is cancel-safe): the change is
// never lost and never seen twice.
WEFT_MODEL_TEST(timeout_races_watch_send, weft::model::bounded(2), 1) {
  auto [tx, rx] = weft::watch::channel<int>(0);
  platform::thread sender([&tx = tx] { WEFT_INVARIANT(tx.send(7).is_ok()); });
  const auto out = weft::block_on(weft::timeout(rx.changed(), 10ms));
  sender.join();
  const auto unseen = rx.has_changed();
  WEFT_INVARIANT(unseen.is_ok() && *unseen == !out.is_ok());
  WEFT_INVARIANT(*rx.borrow() == 7);
}

// An executor's own timer parking (block_on's is above): a LocalExecutor with one task
// asleep and one waiting for another thread's send parks until the timer's deadline (its
// timed wait_for_work). The send's wake must unpark it whenever it comes (before, during
// or after the park: a lost wakeup is DEADLOCK), and the park must end at the deadline
// and fire the timer (the checker chooses when it times out; a timer never fired is
// DEADLOCK too). The clock did reach the deadline.
WEFT_MODEL_TEST(local_executor_parks_to_timer,
                weft::model::pct(20000, 3).on_dpor(weft::model::bounded(2)), 1) {
  weft::LocalExecutor ex;
  auto [tx, rx] = weft::oneshot::channel<int>();
  auto received = ex.spawn(receive(std::move(rx)));
  platform::thread sender(
      [tx = std::move(tx)]() mutable { WEFT_INVARIANT(std::move(tx).send(7).is_ok()); });
  WEFT_INVARIANT(ex.run_until(sleep_then_join(std::move(received))) == 7);
  sender.join();
  WEFT_INVARIANT(platform::clock::now().time_since_epoch() >= 10ms);
}

// The same for a ThreadPool worker: idle, it parks until the next deadline (the pool's
// one driver) while another thread's send wakes the receiving task; the wake reaches it,
// and the timed park ends, fires the sleep and the sleeping task completes.
WEFT_MODEL_TEST(pool_worker_parks_to_timer, weft::model::pct(20000, 3), 2) {
  weft::ThreadPool pool(1);
  auto [tx, rx] = weft::oneshot::channel<int>();
  auto received = pool.spawn(receive(std::move(rx)));
  auto slept = pool.spawn(sleep_10ms());
  platform::thread sender(
      [tx = std::move(tx)]() mutable { WEFT_INVARIANT(std::move(tx).send(7).is_ok()); });
  WEFT_INVARIANT(*weft::block_on(received) == 7);
  WEFT_INVARIANT(weft::block_on(slept).is_ok());
  sender.join();
  WEFT_INVARIANT(platform::clock::now().time_since_epoch() >= 10ms);
}
