// Unit tests of the production platform layer.
#include "sync/platform/platform.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace platform = weft::platform;

TEST_CASE("atomic operations return the previous value") {
  platform::atomic<unsigned> a{5};
  CHECK(a.fetch_add(2, std::memory_order_relaxed) == 5);
  CHECK(a.fetch_sub(1, std::memory_order_relaxed) == 7);
  CHECK(a.fetch_or(8, std::memory_order_relaxed) == 6);
  CHECK(a.fetch_and(6, std::memory_order_relaxed) == 14);
  CHECK(a.fetch_xor(1, std::memory_order_relaxed) == 6);
  CHECK(a.exchange(3, std::memory_order_relaxed) == 7);
  unsigned expected = 4;
  CHECK_FALSE(
      a.compare_exchange_strong(expected, 9, std::memory_order_acq_rel, std::memory_order_acquire));
  CHECK(expected == 3);
  CHECK(
      a.compare_exchange_strong(expected, 9, std::memory_order_acq_rel, std::memory_order_acquire));
  CHECK(a.load(std::memory_order_acquire) == 9);
}

TEST_CASE("atomic<T> is exactly std::atomic<T>") {
  static_assert(sizeof(platform::atomic<int>) == sizeof(std::atomic<int>));
  static_assert(sizeof(platform::atomic<void*>) == sizeof(std::atomic<void*>));
}

TEST_CASE("cell gives access to its value") {
  platform::cell<std::vector<int>> c(3, 1);
  c.with_mut([](std::vector<int>& v) { v.push_back(2); });
  CHECK(c.with([](const std::vector<int>& v) { return v.size(); }) == 4);
}

template <class Cell>
concept has_get_and_set = requires(Cell& c) {
  c.set(c.get());
};

TEST_CASE("cell get and set: a copy of a small value, for trivially copyable T only") {
  int first = 1;
  int second = 2;
  platform::cell<int*> c(&first);
  CHECK(c.get() == &first);
  c.set(&second);
  CHECK(c.get() == &second);
  CHECK(*c.get() == 2);
  static_assert(has_get_and_set<platform::cell<int*>>);
  static_assert(!has_get_and_set<platform::cell<std::vector<int>>>);
}

TEST_CASE("parker: an unpark before park is kept, several unparks leave one token") {
  platform::parker p;
  p.unpark();
  p.unpark();
  p.park();  // consumes the one token, returns at once
  platform::atomic<int> stage{0};
  platform::thread t([&] {
    stage.store(1, std::memory_order_release);
    p.unpark();
  });
  p.park();
  CHECK(stage.load(std::memory_order_acquire) == 1);
  t.join();
}

TEST_CASE("parker: 100k rounds of ping-pong between two threads lose no wake") {
  // Each side parks until the turn is its own, so every round takes a real handoff; a
  // lost wake hangs the test (its timeout), a token taken twice breaks the count.
  constexpr int rounds = 100'000;
  platform::parker parkers[2];
  platform::atomic<int> turn{0};
  auto play = [&](int me) {
    for (int round = 0; round < rounds; ++round) {
      // Acquire: pairs with the other side's Release fetch_add.
      while (turn.load(std::memory_order_acquire) % 2 != me) parkers[me].park();
      turn.fetch_add(1, std::memory_order_release);  // Release: pairs with the load above
      parkers[1 - me].unpark();
    }
  };
  platform::thread other([&] { play(1); });
  play(0);
  other.join();
  CHECK(turn.load(std::memory_order_relaxed) == 2 * rounds);
}

TEST_CASE("parker::park_until: times out without a token, takes one given in time") {
  using namespace std::chrono_literals;
  platform::parker p;
  const auto start = platform::clock::now();
  CHECK_FALSE(p.park_for(20ms));
  CHECK(platform::clock::now() - start >= 20ms);
  CHECK_FALSE(p.park_until(platform::clock::now() - 1s));  // a deadline already passed
  p.unpark();
  CHECK(p.park_until(platform::clock::now() - 1s));  // the token wins over a passed deadline
  platform::atomic<int> stage{0};
  platform::thread t([&] {
    stage.store(1, std::memory_order_release);
    p.unpark();
  });
  CHECK(p.park_for(std::chrono::hours(1)));
  CHECK(stage.load(std::memory_order_acquire) == 1);
  t.join();
  p.unpark();
  CHECK(p.park_for(0s));  // a token left after a timeout is still there
}

TEST_CASE("deadline_after saturates: a huge timeout is no deadline, a negative one is now") {
  using namespace std::chrono_literals;
  CHECK(platform::deadline_after(std::chrono::hours::max()) == platform::clock::time_point::max());
  CHECK(platform::deadline_after(std::chrono::nanoseconds::max()) ==
        platform::clock::time_point::max());
  const auto before = platform::clock::now();
  const auto passed = platform::deadline_after(-1h);
  const auto after = platform::clock::now();
  CHECK(passed >= before);
  CHECK(passed <= after);
  CHECK(platform::deadline_after(std::chrono::duration<double>(0.5)) > before + 499ms);
}

TEST_CASE("condvar::wait_until times out, and returns no_timeout when notified") {
  using namespace std::chrono_literals;
  platform::mutex m;
  platform::condvar cv;
  {
    platform::mutex_guard guard(m);
    CHECK(cv.wait_until(guard, platform::deadline_after(5ms)) == std::cv_status::timeout);
    CHECK(guard.owns_lock());
  }
  bool ready = false;
  platform::thread t([&] {
    platform::mutex_guard guard(m);
    ready = true;
    cv.notify_one();
  });
  {
    platform::mutex_guard guard(m);
    const auto deadline = platform::deadline_after(1h);
    while (!ready) CHECK(cv.wait_until(guard, deadline) == std::cv_status::no_timeout);
  }
  t.join();
}

TEST_CASE("the production lock: a futex word on Linux, std::mutex where WEFT_PLATFORM_FUTEX is 0") {
#if WEFT_PLATFORM_FUTEX
  static_assert(sizeof(platform::mutex) == 4 && sizeof(platform::condvar) == 4);
#else
  static_assert(sizeof(platform::mutex) == sizeof(std::mutex));
  static_assert(sizeof(platform::condvar) == sizeof(std::condition_variable));
#endif
  platform::mutex m;
  CHECK(m.try_lock());
  CHECK_FALSE(m.try_lock());
  m.unlock();
}

TEST_CASE("mutex and condvar hand over a value") {
  platform::mutex m;
  platform::condvar cv;
  int value = 0;
  platform::thread t([&] {
    platform::mutex_guard g(m);
    value = 1;
    cv.notify_one();
  });
  {
    platform::mutex_guard g(m);
    while (value == 0) cv.wait(g);
  }
  t.join();
  CHECK(value == 1);
}

TEST_CASE("Backoff completes after its yield limit") {
  platform::Backoff b;
  int steps = 0;
  while (!b.is_completed()) {
    b.snooze();
    ++steps;
  }
  CHECK(steps == platform::Backoff::yield_limit + 1);
  b.reset();
  CHECK_FALSE(b.is_completed());
  b.spin();
}

TEST_CASE("thread_local_pointer: each thread sees its own, null until set") {
  struct Slot {};
  Slot mine;
  Slot theirs;
  CHECK(weft::platform::thread_local_pointer<Slot>() == nullptr);
  weft::platform::thread_local_pointer<Slot>() = &mine;
  Slot* seen_before = &mine;
  Slot* seen_after = nullptr;
  weft::platform::thread t([&] {
    seen_before = weft::platform::thread_local_pointer<Slot>();  // not this thread's
    weft::platform::thread_local_pointer<Slot>() = &theirs;
    seen_after = weft::platform::thread_local_pointer<Slot>();
    weft::platform::thread_local_pointer<Slot>() = nullptr;
  });
  t.join();
  CHECK(seen_before == nullptr);
  CHECK(seen_after == &theirs);
  CHECK(weft::platform::thread_local_pointer<Slot>() == &mine);  // untouched by the other
  weft::platform::thread_local_pointer<Slot>() = nullptr;
}

TEST_CASE("cache_padded: one value per cache line") {
  struct Pair {
    int a = 1;
    int b = 2;
  };
  static_assert(alignof(platform::cache_padded<Pair>) == platform::cache_line);
  static_assert(sizeof(platform::cache_padded<Pair>) == platform::cache_line);
  static_assert(platform::cache_line == 64);
  platform::cache_padded<Pair> slots[2];
  CHECK(reinterpret_cast<char*>(&slots[1]) - reinterpret_cast<char*>(&slots[0]) == 64);
  CHECK(slots[1]->b == 2);
  platform::cache_padded<int> seven(7);
  CHECK(*seven == 7);
}

TEST_CASE("thread_cached: each thread reuses its own; a nested lease gets a fresh one") {
  struct Counter {
    int uses = 0;
  };
  Counter* outer_seen = nullptr;
  {
    platform::thread_cached<Counter> outer;
    ++outer->uses;
    outer_seen = &*outer;
    platform::thread_cached<Counter> nested;  // the thread's own is on loan
    CHECK(&*nested != outer_seen);
    CHECK(nested->uses == 0);
  }
  {
    platform::thread_cached<Counter> again;  // given back: the same one, kept
    CHECK(&*again == outer_seen);
    CHECK(again->uses == 1);
  }
  Counter* other_seen = nullptr;
  platform::thread t([&] {
    platform::thread_cached<Counter> theirs;
    other_seen = &*theirs;
  });
  t.join();
  CHECK(other_seen != outer_seen);
}

TEST_CASE("thread_cached: a lease after the thread's own was destroyed gets a fresh one") {
  // As the frame cache's free() from a destructor that runs late in a thread's exit.
  struct Tracked {
    bool alive = true;
    ~Tracked() { alive = false; }
  };
  struct LateLease {
    bool* saw_alive = nullptr;
    ~LateLease() {
      platform::thread_cached<Tracked> lease;  // the thread's own Tracked is gone by now
      *saw_alive = lease->alive;
    }
  };
  bool saw_alive = false;
  platform::thread t([&] {
    thread_local LateLease late;  // made before the thread's Tracked, so destroyed after it
    late.saw_alive = &saw_alive;
    platform::thread_cached<Tracked> first;  // makes the thread's own Tracked
  });
  t.join();
  CHECK(saw_alive);
}

TEST_CASE("rwlock: readers share it, a writer waits for the last reader") {
  platform::rwlock lock;
  lock.lock_shared();
  lock.lock_shared();  // a second reader gets in at once
  platform::atomic<int> stage{0};
  int value = 0;
  platform::thread writer([&] {
    lock.lock();  // blocks until both readers left
    value = 1;
    stage.store(2, std::memory_order_relaxed);
    lock.unlock();
  });
  lock.unlock_shared();
  CHECK(stage.load(std::memory_order_relaxed) == 0);
  lock.unlock_shared();  // the last reader: the writer gets in
  writer.join();
  lock.lock_shared();
  CHECK(value == 1);
  lock.unlock_shared();
}
