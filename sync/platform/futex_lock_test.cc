// Unit tests of futex.h, futex_lock.h and futex_condvar.h (production: the Linux futex).
#include "sync/platform/futex.h"
#include "sync/platform/futex_condvar.h"
#include "sync/platform/futex_lock.h"
#include "sync/platform/mutex.h"
#include "sync/platform/thread.h"

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <vector>

namespace platform = weft::platform;
using namespace std::chrono_literals;

TEST_CASE("futex_lock and futex_condvar are one 32-bit word each; so are mutex and condvar") {
  static_assert(sizeof(platform::futex_lock) == 4);
  static_assert(sizeof(platform::futex_condvar) == 4);
  static_assert(sizeof(platform::mutex) == 4);
  static_assert(sizeof(platform::condvar) == 4);
}

TEST_CASE("futex_wait returns at once when the word no longer holds the expected value") {
  platform::atomic<std::uint32_t> word{1};
  platform::futex_wait(word, 0);
  CHECK(platform::futex_wait_until(word, 0, platform::clock::now() + 10s));
}

TEST_CASE("futex_wait_until times out at the deadline when nobody wakes it") {
  platform::atomic<std::uint32_t> word{0};
  const auto deadline = platform::deadline_after(2ms);
  CHECK_FALSE(platform::futex_wait_until(word, 0, deadline));
  CHECK(platform::clock::now() >= deadline);
  // A deadline already passed (and the clock's epoch itself) times out at once.
  CHECK_FALSE(platform::futex_wait_until(word, 0, platform::clock::time_point{}));
}

TEST_CASE("futex_wake_one ends a sleeper's wait") {
  platform::atomic<std::uint32_t> word{0};
  platform::thread sleeper([&word] {
    // Acquire: pairs with the Release store below.
    while (word.load(std::memory_order_acquire) == 0) platform::futex_wait(word, 0);
  });
  std::this_thread::sleep_for(1ms);
  word.store(1, std::memory_order_release);
  platform::futex_wake_one(word);
  sleeper.join();
  platform::futex_wake_all(word);  // nobody sleeps: wakes nobody
}

TEST_CASE("futex_lock: lock, unlock, try_lock") {
  platform::futex_lock lock;
  CHECK(lock.try_lock());
  CHECK_FALSE(lock.try_lock());
  lock.unlock();
  lock.lock();
  CHECK_FALSE(lock.try_lock());
  lock.unlock();
  CHECK(lock.try_lock());
  lock.unlock();
}

TEST_CASE("futex_lock: a multi-thread counter is exact") {
  constexpr int threads = 4;
  constexpr int rounds = 50000;
  platform::futex_lock lock;
  long counter = 0;  // plain data: guarded by `lock` (a race here is TSan's to report)
  std::vector<platform::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < rounds; ++i) {
        if (i % 3 == 0 && lock.try_lock()) {
          ++counter;
          lock.unlock();
          continue;
        }
        lock.lock();
        ++counter;
        lock.unlock();
      }
    });
  }
  for (auto& w : workers) w.join();
  CHECK(counter == long{threads} * rounds);
}

TEST_CASE("futex_condvar::wait_until times out, and returns no_timeout when notified") {
  platform::futex_lock lock;
  platform::futex_condvar cv;
  lock.lock();
  const auto deadline = platform::deadline_after(2ms);
  CHECK(cv.wait_until(lock, deadline) == std::cv_status::timeout);
  CHECK(platform::clock::now() >= deadline);
  CHECK_FALSE(lock.try_lock());  // held again after the wait
  lock.unlock();

  bool ready = false;  // guarded by `lock`
  // Held before the notifier starts, so it can set `ready` only once the wait below has
  // released the lock (else, under load, it could finish first and nothing would wait).
  lock.lock();
  platform::thread notifier([&] {
    std::this_thread::sleep_for(1ms);
    lock.lock();
    ready = true;
    lock.unlock();
    cv.notify_one();
  });
  bool notified = false;
  while (!ready)
    notified = cv.wait_until(lock, platform::clock::now() + 10s) == std::cv_status::no_timeout;
  CHECK(notified);
  lock.unlock();
  notifier.join();
}

TEST_CASE("futex_condvar: notify_all wakes every waiter, a handoff loses no wakeup") {
  platform::futex_lock lock;
  platform::futex_condvar cv;
  int round = 0;  // guarded by `lock`
  int woken = 0;  // guarded by `lock`
  constexpr int waiters = 3;
  constexpr int rounds = 200;
  std::vector<platform::thread> threads;
  for (int t = 0; t < waiters; ++t) {
    threads.emplace_back([&] {
      for (int r = 1; r <= rounds; ++r) {
        lock.lock();
        while (round < r) cv.wait(lock);
        ++woken;
        lock.unlock();
        cv.notify_all();  // the driver waits for every waiter's count
      }
    });
  }
  for (int r = 1; r <= rounds; ++r) {
    lock.lock();
    round = r;
    lock.unlock();
    cv.notify_all();
    lock.lock();
    while (woken < r * waiters) cv.wait(lock);
    lock.unlock();
  }
  for (auto& t : threads) t.join();
  CHECK(woken == rounds * waiters);
}
