// interop/asio_poll.h and asio_ops.h on asio::io_context and asio::thread_pool: where
// polls and completions run, every token shape, cancellation destroying the weft future.
#include "interop/asio_ops.h"
#include "interop/asio_poll.h"
#include "sync/mpsc/bounded.h"
#include "sync/mpsc/unbounded.h"
#include "sync/mutex.h"
#include "sync/notify.h"
#include "sync/task/task.h"
#include "testing/counted.h"

#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>
#include <variant>
#include <vector>

using weft::testing::Counted;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

namespace {

// Spawns `coroutine` on `executor` and rethrows what escaped it when the test joins.
struct Spawned {
  std::exception_ptr error;
  std::atomic<bool> done{false};
  // `body`: a function returning the awaitable; co_spawn keeps it (and its captures)
  // alive until the coroutine ends.
  template <class ExecutionContext, class Body>
  void spawn(ExecutionContext& context, Body body) {
    asio::co_spawn(context, std::move(body), [this](std::exception_ptr e) {
      error = e;
      done.store(true, std::memory_order_release);
    });
  }
  void check() {
    CHECK(done.load(std::memory_order_acquire));
    if (error) std::rethrow_exception(error);
  }
};

// A future whose poll throws.
struct Throws {
  weft::Poll<int> poll(weft::Context&) { throw std::runtime_error("poll failed"); }
};

// README's asio example, compiled and run here (//examples:guide_snippets_test checks
// that README.md shows exactly this region).
namespace readme {
std::vector<int> used;
void use(int v) { used.push_back(v); }

// guide:begin readme_asio_consume
asio::awaitable<void> consume(weft::mpsc::Receiver<int>& rx) {
  auto executor = co_await asio::this_coro::executor;
  for (;;) {
    asio::steady_timer timer(executor, std::chrono::seconds(1));
    // The first to finish wins; the other is cancelled (recv is cancel-safe: nothing lost).
    auto next = co_await (weft::interop::await(rx.recv()) || timer.async_wait(asio::use_awaitable));
    if (next.index() == 1) continue;  // a second without a value
    std::optional<int> v = std::get<0>(next);
    if (!v) break;  // closed and drained
    use(*v);
  }
}
// guide:end readme_asio_consume
}  // namespace readme

}  // namespace

// The second value comes after the 1 s timer: the timer wins a round, its cancelled recv
// leaves the value to the next one.
TEST_CASE("README: consume() receives every value, across a timed-out round, until closed") {
  asio::io_context io;
  auto [tx, rx] = weft::mpsc::channel<int>(4);
  REQUIRE(tx.try_send(1).is_ok());
  std::thread late([tx = std::move(tx)] {
    std::this_thread::sleep_for(1200ms);
    CHECK(tx.try_send(2).is_ok());
  });
  Spawned spawned;
  spawned.spawn(io, [&rx = rx]() { return readme::consume(rx); });
  io.run();
  late.join();
  spawned.check();
  CHECK(readme::used == std::vector<int>{1, 2});
}

TEST_CASE(
    "io_context: co_await a weft future; the wake from another thread resumes on run()'s thread") {
  asio::io_context io;
  auto [tx, rx] = weft::mpsc::channel<int>(4);
  std::vector<int> got;
  std::thread::id run_thread;
  bool foreign_resume = false;
  Spawned spawned;
  spawned.spawn(io, [&]() -> asio::awaitable<void> {
    while (std::optional<int> v = co_await weft::interop::await(rx.recv())) {
      got.push_back(*v);
      if (std::this_thread::get_id() != run_thread) foreign_resume = true;
    }
  });
  // The sender runs on its own thread, started after run() began: every recv parks first.
  std::thread sender([tx = std::move(tx)]() mutable {
    for (int i = 0; i < 100; ++i) (void)weft::block_on(tx.send(i));
  });
  run_thread = std::this_thread::get_id();
  io.run();  // returns only when the coroutine is done: a pending op is outstanding work
  sender.join();
  spawned.check();
  CHECK_FALSE(foreign_resume);
  REQUIRE(got.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(got[i] == i);
}

TEST_CASE("thread_pool: producers and consumers in asio coroutines over weft channels") {
  asio::thread_pool pool(2);
  auto [tx, rx] = weft::mpsc::channel<long>(8);
  constexpr int producers = 4;
  constexpr long per_producer = 2000;
  std::atomic<long> sum{0};
  std::atomic<bool> off_pool{false};
  Spawned consumer;
  std::vector<Spawned> spawned(producers);
  consumer.spawn(pool, [&, rx = std::move(rx)]() mutable -> asio::awaitable<void> {
    while (std::optional<long> v = co_await weft::interop::async_recv(rx, asio::use_awaitable)) {
      if (!pool.get_executor().running_in_this_thread()) off_pool = true;
      sum.fetch_add(*v, std::memory_order_relaxed);
    }
  });
  for (int p = 0; p < producers; ++p) {
    spawned[p].spawn(pool, [&, tx = tx]() -> asio::awaitable<void> {
      for (long i = 1; i <= per_producer; ++i) {
        auto sent = co_await weft::interop::async_send(tx, i, asio::use_awaitable);
        REQUIRE(sent.is_ok());  // Result<void, E> is default-constructible: V is the output
        if (!pool.get_executor().running_in_this_thread()) off_pool = true;
      }
    });
  }
  { auto drop = std::move(tx); }  // the producers hold the only senders left
  pool.join();
  consumer.check();
  for (auto& s : spawned) s.check();
  CHECK_FALSE(off_pool.load());
  CHECK(sum.load() == producers * per_producer * (per_producer + 1) / 2);
}

TEST_CASE("a non-default-constructible output comes in an optional; await() unwraps it") {
  asio::io_context io;
  weft::Mutex<int> mutex(0);
  Spawned spawned;
  spawned.spawn(io, [&]() -> asio::awaitable<void> {
    std::optional<weft::MutexGuard<int>> guard =
        co_await weft::interop::async_lock(mutex, asio::use_awaitable);
    REQUIRE(guard.has_value());
    **guard += 1;
    guard.reset();
    weft::MutexGuard<int> again = co_await weft::interop::await(mutex.lock());
    *again += 1;
  });
  io.run();
  spawned.check();
  CHECK(*mutex.try_lock().value() == 2);
}

TEST_CASE("callback token: runs on the bound executor, never inline in the initiating call") {
  asio::io_context io;
  weft::Notify notify;
  int calls = 0;
  std::exception_ptr error;
  weft::interop::async_notified(notify, asio::bind_executor(io, [&](std::exception_ptr e) {
                                  ++calls;
                                  error = e;
                                }));
  notify.notify_one();
  CHECK(calls == 0);  // the first poll is posted, even though the permit is there
  io.run();
  CHECK(calls == 1);
  CHECK_FALSE(error);
}

TEST_CASE("use_future: std::future of the output") {
  asio::thread_pool pool(1);
  auto [tx, rx] = weft::mpsc::unbounded_channel<int>();
  std::future<std::optional<int>> got =
      weft::interop::async_recv(rx, asio::bind_executor(pool, asio::use_future));
  (void)tx.send(7);
  CHECK(got.get() == std::optional<int>(7));
  pool.join();
}

TEST_CASE("a throwing poll is the completion's error; await rethrows it") {
  asio::io_context io;
  Spawned spawned;
  bool caught = false;
  spawned.spawn(io, [&]() -> asio::awaitable<void> {
    try {
      (void)co_await weft::interop::await(Throws{});
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "poll failed";
    }
  });
  io.run();
  spawned.check();
  CHECK(caught);
}

TEST_CASE("cancellation slot: destroys the pending weft future, completes with operation_aborted") {
  asio::io_context io;
  auto [tx, rx] = weft::mpsc::channel<Counted>(1);
  REQUIRE(tx.try_send(Counted(1)).is_ok());  // full: the next send waits
  asio::cancellation_signal signal;
  std::exception_ptr error;
  bool called = false;
  {
    weft::interop::async_send(
        tx, Counted(2),
        asio::bind_cancellation_slot(
            signal.slot(), asio::bind_executor(io, [&](std::exception_ptr e, auto sent) {
              called = true;
              error = e;
              (void)sent;  // a default Result: read the error first, as with co_spawn
            })));
  }
  io.poll();  // first poll: pending, parked on capacity
  CHECK_FALSE(called);
  CHECK(Counted::live() == 2);  // one queued, one held by the pending send
  asio::post(io, [&] { signal.emit(asio::cancellation_type::terminal); });
  io.run();
  REQUIRE(called);
  REQUIRE(error);
  try {
    std::rethrow_exception(error);
  } catch (const asio::system_error& e) {
    CHECK(e.code() == asio::error::operation_aborted);
  }
  CHECK(Counted::live() == 1);  // the cancelled send's value was destroyed with its future
  CHECK(rx.try_recv().value().value == 1);
  CHECK(rx.try_recv().is_err());           // and was never sent
  CHECK(tx.try_send(Counted(3)).is_ok());  // its place in the queue was given back
}

TEST_CASE("awaitable operators: a timer beating a recv cancels it; no value is lost") {
  asio::io_context io;
  auto [tx, rx] = weft::mpsc::channel<int>(4);
  Spawned spawned;
  spawned.spawn(io, [&]() -> asio::awaitable<void> {
    asio::steady_timer timer(io, 5ms);
    auto first =
        co_await (weft::interop::await(rx.recv()) || timer.async_wait(asio::use_awaitable));
    CHECK(first.index() == 1);  // the timer won: recv's future was destroyed
    REQUIRE(tx.try_send(5).is_ok());
    std::optional<int> v = co_await weft::interop::await(rx.recv());
    CHECK(v == std::optional<int>(5));
  });
  io.run();
  spawned.check();
}

TEST_CASE("thread_pool: cancellation racing a send loses nothing") {
  // Each round: a recv on a strand of a 2-thread pool, a send from another thread, and a
  // cancellation emitted on the strand, racing. Either the recv got the value or the
  // value is still in the channel.
  asio::thread_pool pool(2);
  auto strand = asio::make_strand(pool);
  auto [tx, rx] = weft::mpsc::unbounded_channel<int>();
  int received = 0, left = 0, aborted = 0;
  for (int round = 0; round < 500; ++round) {
    asio::cancellation_signal signal;
    std::promise<void> finished;
    weft::interop::async_recv(
        rx, asio::bind_cancellation_slot(
                signal.slot(),
                asio::bind_executor(strand, [&](std::exception_ptr e, std::optional<int> v) {
                  if (e) {
                    ++aborted;
                  } else {
                    CHECK(v == std::optional<int>(round));
                    ++received;
                  }
                  finished.set_value();
                })));
    std::thread sender([&, round] { (void)tx.send(round); });
    asio::post(strand, [&] { signal.emit(asio::cancellation_type::total); });
    finished.get_future().wait();
    sender.join();
    if (auto v = rx.try_recv(); v.is_ok()) {
      CHECK(v.value() == round);
      ++left;
    }
    // The signal outlives the operation's slot use: the handler ran, the slot was cleared.
    std::promise<void> drained;
    asio::post(strand, [&] { drained.set_value(); });
    drained.get_future().wait();
  }
  pool.join();
  CHECK(received + left == 500);
  CHECK(aborted == left);
  MESSAGE("received ", received, ", cancelled with the value left in the channel ", left);
}

TEST_CASE("a weft Task awaited from asio") {
  asio::thread_pool pool(2);
  weft::Notify notify;
  auto task = [](weft::Notify& n) -> weft::Task<int> {
    co_await n.notified();
    co_return 42;
  };
  std::future<int> got =
      weft::interop::async_poll(pool.get_executor(), task(notify), asio::use_future);
  notify.notify_one();
  CHECK(got.get() == 42);
  pool.join();
}
