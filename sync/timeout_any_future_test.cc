// weft::timeout (sync/time/timeout.h) around each primitive's futures: every future moves
// before its first poll, so timeout(f, d) takes it as tokio::time::timeout does; after
// Elapsed the future is gone and what it waited for is still there (cancel-safety).
#include "sync/barrier.h"
#include "sync/broadcast.h"
#include "sync/mpsc/bounded.h"
#include "sync/mpsc/unbounded.h"
#include "sync/mutex.h"
#include "sync/notify.h"
#include "sync/oneshot.h"
#include "sync/rwlock.h"
#include "sync/semaphore.h"
#include "sync/set_once.h"
#include "sync/time/timeout.h"
#include "sync/watch.h"
#include "testing/paused_timer.h"

#include <doctest/doctest.h>

#include <chrono>
#include <type_traits>
#include <utility>

namespace {

using namespace std::chrono_literals;
using weft::MockTask;
using weft::testing::PausedTimer;
using weft::testing::poll_past_deadline;
using weft::testing::poll_under;

template <class F>
constexpr bool wraps = std::is_move_constructible_v<F>;

TEST_CASE("every primitive's future can be wrapped by timeout") {
  weft::Notify notify;
  static_assert(wraps<decltype(notify.notified())>);
  weft::Semaphore sem(1);
  static_assert(wraps<decltype(sem.acquire())>);
  weft::Mutex<int> mutex(0);
  static_assert(wraps<decltype(mutex.lock())>);
  weft::RwLock<int> rwlock(0);
  static_assert(wraps<decltype(rwlock.read())>);
  static_assert(wraps<decltype(rwlock.write())>);
  weft::Barrier barrier(2);
  static_assert(wraps<decltype(barrier.wait())>);
  weft::SetOnce<int> set_once;
  static_assert(wraps<decltype(set_once.wait())>);
  auto [otx, orx] = weft::oneshot::channel<int>();
  static_assert(wraps<decltype(otx.closed())>);
  auto [mtx, mrx] = weft::mpsc::channel<int>(1);
  static_assert(wraps<decltype(mtx.send(1))>);
  static_assert(wraps<decltype(mtx.reserve())>);
  static_assert(wraps<decltype(mtx.closed())>);
  static_assert(wraps<decltype(mrx.recv())>);
  auto [utx, urx] = weft::mpsc::unbounded_channel<int>();
  static_assert(wraps<decltype(utx.closed())>);
  static_assert(wraps<decltype(urx.recv())>);
  auto [btx, brx] = weft::broadcast::channel<int>(2);
  static_assert(wraps<decltype(brx.recv())>);
  static_assert(wraps<decltype(btx.closed())>);
  auto [wtx, wrx] = weft::watch::channel<int>(0);
  static_assert(wraps<decltype(wrx.changed())>);
  static_assert(wraps<decltype(wrx.wait_for([](const int&) { return true; }))>);
  static_assert(wraps<decltype(wtx.closed())>);
}

TEST_CASE("broadcast recv under timeout: Elapsed leaves the value for the next recv") {
  PausedTimer timer;
  auto [tx, rx] = weft::broadcast::channel<int>(2);
  MockTask task;
  {
    auto recv = weft::timeout(rx.recv(), 10ms);
    auto out = poll_past_deadline(timer, task, recv, 10ms);
    REQUIRE(out.is_ready());
    CHECK(out.value().is_err());
  }
  REQUIRE(tx.send(5).is_ok());
  auto recv = weft::timeout(rx.recv(), 10ms);
  auto out = poll_under(timer.driver, task, recv);
  REQUIRE(out.is_ready());
  REQUIRE(out.value().is_ok());
  REQUIRE(out.value()->is_ok());
  CHECK(**out.value() == 5);
}

TEST_CASE("watch changed under timeout: Elapsed leaves the change unseen") {
  PausedTimer timer;
  auto [tx, rx] = weft::watch::channel<int>(0);
  MockTask task;
  {
    auto changed = weft::timeout(rx.changed(), 10ms);
    auto out = poll_past_deadline(timer, task, changed, 10ms);
    REQUIRE(out.is_ready());
    CHECK(out.value().is_err());
  }
  REQUIRE(tx.send(3).is_ok());
  auto unseen = rx.has_changed();
  REQUIRE(unseen.is_ok());
  CHECK(*unseen);
  auto changed = weft::timeout(rx.changed(), 10ms);
  auto out = poll_under(timer.driver, task, changed);
  REQUIRE(out.is_ready());
  CHECK(out.value().is_ok());
  CHECK(*rx.borrow() == 3);
}

TEST_CASE("closed() futures under timeout: pending until the other side goes") {
  PausedTimer timer;
  MockTask task;
  auto [btx, brx] = weft::broadcast::channel<int>(2);
  auto bclosed = weft::timeout(btx.closed(), 10ms);
  CHECK(poll_under(timer.driver, task, bclosed).is_pending());
  { auto gone = std::move(brx); }
  CHECK(task.is_woken());
  auto bout = poll_under(timer.driver, task, bclosed);
  REQUIRE(bout.is_ready());
  CHECK(bout.value().is_ok());

  auto [mtx, mrx] = weft::mpsc::channel<int>(1);
  auto mclosed = weft::timeout(mtx.closed(), 10ms);
  auto mout = poll_past_deadline(timer, task, mclosed, 10ms);
  REQUIRE(mout.is_ready());
  CHECK(mout.value().is_err());

  auto [wtx, wrx] = weft::watch::channel<int>(0);
  auto wclosed = weft::timeout(wtx.closed(), 10ms);
  CHECK(poll_under(timer.driver, task, wclosed).is_pending());
  { auto gone = std::move(wrx); }
  auto wout = poll_under(timer.driver, task, wclosed);
  REQUIRE(wout.is_ready());
  CHECK(wout.value().is_ok());
}

}  // namespace
