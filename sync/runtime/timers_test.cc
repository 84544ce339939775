// The executors and block_on drive weft's timers: they park until the next deadline and
// fire what is due; LocalExecutor with a paused clock jumps to the next deadline when idle
// (tokio::time::pause's auto-advance, as in tokio/tests/time_pause.rs).
#include "sync/mpsc/bounded.h"
#include "sync/platform/atomic.h"
#include "sync/runtime/local_executor.h"
#include "sync/runtime/thread_pool.h"
#include "sync/task/block_on.h"
#include "sync/task/task.h"
#include "sync/time/sleep.h"
#include "sync/time/timeout.h"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <vector>

namespace {

using namespace std::chrono_literals;
using weft::Instant;
using weft::Task;

Instant real_now() { return weft::detail::steady_now(); }

TEST_CASE("block_on parks until a sleep's deadline") {
  const Instant start = real_now();
  weft::block_on(weft::sleep(5ms));
  CHECK(real_now() - start >= 5ms);
}

TEST_CASE("block_on drives timeout: Elapsed on time, and recv loses nothing") {
  auto [tx, rx] = weft::mpsc::channel<int>(1);
  const Instant start = real_now();
  auto out = weft::block_on(weft::timeout(rx.recv(), 5ms));
  CHECK(real_now() - start >= 5ms);
  CHECK(out.is_err());
  REQUIRE(tx.try_send(1).is_ok());
  CHECK(*weft::block_on(weft::timeout(rx.recv(), 1h)) == std::optional<int>(1));
}

TEST_CASE("block_on_until with timers inside: the call's deadline still ends it") {
  auto out = weft::block_on_until(weft::sleep(1h), weft::platform::deadline_after(5ms));
  CHECK(out.is_pending());
}

Task<void> sleep_twice(std::vector<int>* log) {
  co_await weft::sleep(1h);
  log->push_back(1);
  co_await weft::sleep(2h);
  log->push_back(2);
}

TEST_CASE("LocalExecutor with a paused clock auto-advances through long sleeps") {
  weft::LocalExecutor ex;
  ex.timer().pause();
  const Instant start = ex.timer().now();
  std::vector<int> log;
  ex.run_until(sleep_twice(&log));
  CHECK(log == std::vector<int>{1, 2});
  CHECK(ex.timer().now() - start == 3h);
}

Task<int> sleeper(int ms, std::vector<int>* log) {
  co_await weft::sleep(std::chrono::milliseconds(ms));
  log->push_back(ms);
  co_return ms;
}

TEST_CASE("LocalExecutor fires sleeps in deadline order on the real clock") {
  weft::LocalExecutor ex;
  std::vector<int> log;
  auto a = ex.spawn(sleeper(6, &log));
  auto b = ex.spawn(sleeper(2, &log));
  auto c = ex.spawn(sleeper(4, &log));
  CHECK(ex.run_until(sleeper(8, &log)) == 8);
  CHECK(log == std::vector<int>{2, 4, 6, 8});
}

TEST_CASE("LocalExecutor: a nested block_on's timers are its own") {
  weft::LocalExecutor ex;
  ex.timer().pause();
  auto nested = []() -> Task<int> {
    weft::block_on(weft::sleep(2ms));  // the block_on call's own driver, real time
    co_return 1;
  };
  CHECK(ex.run_until(nested()) == 1);
  CHECK(ex.timer().size() == 0);
}

TEST_CASE("ThreadPool workers fire their tasks' timers") {
  weft::ThreadPool pool(2);
  weft::platform::atomic<int> done{0};
  auto job = [](int ms, weft::platform::atomic<int>* count) -> Task<void> {
    co_await weft::sleep(std::chrono::milliseconds(ms));
    count->fetch_add(1, std::memory_order_relaxed);  // Relaxed: read after the joins
  };
  std::vector<weft::JoinHandle<void>> handles;
  const Instant start = real_now();
  for (int i = 0; i < 20; ++i) handles.push_back(pool.spawn(job(1 + i % 5, &done)));
  for (auto& h : handles) CHECK(h.blocking_join().is_ok());
  CHECK(done.load(std::memory_order_relaxed) == 20);
  CHECK(real_now() - start >= 5ms);
  CHECK(pool.timer().size() == 0);
}

TEST_CASE("ThreadPool: a timeout around a recv that never comes returns Elapsed") {
  weft::ThreadPool pool(2);
  auto [tx, rx] = weft::mpsc::channel<int>(1);
  auto waiter = [](weft::mpsc::Receiver<int>* r) -> Task<bool> {
    auto out = co_await weft::timeout(r->recv(), 3ms);
    co_return out.is_err();
  };
  auto h = pool.spawn(waiter(&rx));
  auto elapsed = h.blocking_join();
  REQUIRE(elapsed.is_ok());
  CHECK(*elapsed);
}

}  // namespace
