// Model scenarios of futex_lock and futex_condvar (sync/platform/futex_lock.h,
// futex_condvar.h), production platform::mutex and condvar. In the model build they run
// over the modelled futex (sync/platform/futex.h: a bucket mutex and condvar per word,
// spurious returns and timeouts at the checker's choice); on threads (futex_lock_on_threads_*)
// over the Linux futex itself. Rust std has no Loom test of its futex locks; these are
// weft's own. Guarded data is a platform::cell, so a broken exclusion is a DATA RACE; a
// lost wake leaves a thread asleep for good, a DEADLOCK.
// Strategies: exhaustive or bounded(2) on DPOR, except notify_all_two_waiters, bounded(1)
// there (195,508 executions, 2.6 s; bounded(2) is past 2 M executions): three threads
// through the lock's and the condvar's modelled futexes.
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"

#include <chrono>
#include <condition_variable>

namespace platform = weft::platform;

namespace {

// Lockers increment a plain counter under the lock: exclusion and the unlock -> lock
// happens-before, through the fast path, the spin and the sleep on the word.
// A futex whose waits never return spuriously in the model (production: the futex).
using strict_futex = platform::basic_futex<0>;

// A flag raised under the lock and waited for under it, the notify made after unlocking:
// the condvar handoff the scenarios below are built from.
template <class Futex = platform::futex>
struct raised_flag {
  platform::basic_futex_lock<Futex> lock;
  platform::basic_futex_condvar<Futex> cv;
  platform::cell<bool> ready{false};  // guarded by `lock`
  void raise(bool notify_all) {
    lock.lock();
    ready.set(true);
    lock.unlock();
    if (notify_all) {
      cv.notify_all();
    } else {
      cv.notify_one();
    }
  }
  // With the lock held.
  void wait_locked() {
    while (!ready.get()) cv.wait(lock);
  }
  void wait() {
    lock.lock();
    wait_locked();
    lock.unlock();
  }
};

template <int Threads, class Futex = platform::futex>
struct mutual_exclusion_of {
  static constexpr int threads = Threads;
  platform::basic_futex_lock<Futex> lock;
  platform::cell<int> counter{0};  // guarded by `lock`
  void thread(int) {
    lock.lock();
    counter.with_mut([](int& c) { ++c; });
    lock.unlock();
  }
  void check() {
    counter.with([](const int& c) { WEFT_INVARIANT(c == Threads); });
  }
};

using mutual_exclusion = mutual_exclusion_of<2>;
WEFT_MODEL_SCENARIO(mutual_exclusion, weft::model::exhaustive());

// The same over a futex that never returns spuriously (as Linux's, short of a signal):
// a sleeper whose wake is lost cannot be rescued by a spurious return, so a lost wake is
// a DEADLOCK with two lockers already.
using mutual_exclusion_strict = mutual_exclusion_of<2, strict_futex>;
WEFT_MODEL_SCENARIO(mutual_exclusion_strict, weft::model::exhaustive());

// Three lockers: two may sleep on the word at once, and the one woken must take the lock
// as CONTENDED so that its unlock wakes the other (else: DEADLOCK).
using mutual_exclusion_three = mutual_exclusion_of<3>;
WEFT_MODEL_SCENARIO(mutual_exclusion_three,
                    weft::model::pct(20000, 3).on_dpor(weft::model::bounded(2)));

// Two rounds each for two lockers: the word returns to UNLOCKED after a contended round,
// and a lock taken by the spin (no sleep) still excludes.
struct lock_twice {
  static constexpr int threads = 2;
  platform::futex_lock lock;
  platform::cell<int> counter{0};  // guarded by `lock`
  void thread(int) {
    for (int round = 0; round < 2; ++round) {
      lock.lock();
      counter.with_mut([](int& c) { ++c; });
      lock.unlock();
    }
  }
  void check() {
    counter.with([](const int& c) { WEFT_INVARIANT(c == 4); });
  }
};
WEFT_MODEL_SCENARIO(lock_twice, weft::model::bounded(2));

// try_lock against lock(): a try_lock that succeeds excludes the other holder and sees
// its writes; one that fails leaves the lock to its holder.
struct try_lock_excludes {
  static constexpr int threads = 2;
  platform::futex_lock lock;
  platform::cell<int> counter{0};  // guarded by `lock`
  platform::atomic<int> tried{0};  // how many try_locks took the lock (check only)
  void thread(int index) {
    if (index == 0) {
      lock.lock();
      counter.with_mut([](int& c) { ++c; });
      lock.unlock();
    } else if (lock.try_lock()) {
      counter.with_mut([](int& c) { ++c; });
      lock.unlock();
      tried.store(1, std::memory_order_relaxed);
    } else {
      WEFT_REACHED("try_lock failed");
    }
  }
  void check() {
    counter.with(
        [this](const int& c) { WEFT_INVARIANT(c == 1 + tried.load(std::memory_order_relaxed)); });
    WEFT_INVARIANT(lock.try_lock());  // free again at the end
    lock.unlock();
  }
};
WEFT_MODEL_SCENARIO(try_lock_excludes, weft::model::exhaustive());
WEFT_MODEL_REACHES(try_lock_excludes, "try_lock failed");

// Condvar handoff: the waiter checks the flag under the lock and waits; the notifier sets
// it under the lock and notifies after unlocking. A notify that falls between the
// waiter's unlock and its sleep must not be lost (DEADLOCK), and the data written before
// the flag is visible.
template <class Futex>
struct condvar_handoff_of {
  static constexpr int threads = 2;
  raised_flag<Futex> flag;
  platform::cell<int> data{0};  // written before the flag, read after
  void thread(int index) {
    if (index == 0) {
      data.with_mut([](int& d) { d = 42; });
      flag.raise(false);
    } else {
      flag.wait();
      data.with([](const int& d) { WEFT_INVARIANT(d == 42); });
    }
  }
};
using condvar_handoff = condvar_handoff_of<platform::futex>;
WEFT_MODEL_SCENARIO(condvar_handoff, weft::model::exhaustive());
// Over the futex that never returns spuriously: every lost notify is a DEADLOCK.
using condvar_handoff_strict = condvar_handoff_of<strict_futex>;
WEFT_MODEL_SCENARIO(condvar_handoff_strict, weft::model::exhaustive());

// Ping-pong through one condvar, two rounds: every notify after a change is seen, with
// the notify made while holding the lock this time.
struct condvar_ping_pong {
  static constexpr int threads = 2;
  static constexpr int rounds = 2;
  platform::futex_lock lock;
  platform::futex_condvar cv;
  platform::cell<int> turn{0};  // guarded by `lock`
  void thread(int index) {
    for (int round = 0; round < rounds; ++round) {
      lock.lock();
      while (turn.get() % 2 != index) cv.wait(lock);
      turn.set(turn.get() + 1);
      cv.notify_one();
      lock.unlock();
    }
  }
  void check() { WEFT_INVARIANT(turn.get() == 2 * rounds); }
};
WEFT_MODEL_SCENARIO(condvar_ping_pong, weft::model::pct(20000, 3).on_dpor(weft::model::bounded(2)));

// notify_all with two waiters: both wake (notify_one would leave one asleep for good
// when both sleep on the counter: DEADLOCK).
struct notify_all_two_waiters {
  static constexpr int threads = 3;
  raised_flag<> flag;
  void thread(int index) {
    if (index == 0) {
      flag.raise(true);
    } else {
      flag.wait();
    }
  }
};
WEFT_MODEL_SCENARIO(notify_all_two_waiters,
                    weft::model::pct(20000, 3).on_dpor(weft::model::bounded(1)));

// A timed wait racing a notify: it returns no_timeout (notified or spurious) or timeout
// (then the clock has reached the deadline); either way the waiter holds the lock again
// and, after an untimed wait if needed, sees the flag. A timeout must not eat the notify.
struct timed_wait_races_notify {
  static constexpr int threads = 2;
  raised_flag<> flag;
  void thread(int index) {
    if (index == 0) {
      flag.raise(false);
    } else {
      const auto deadline = platform::deadline_after(std::chrono::milliseconds(1));
      flag.lock.lock();
      if (!flag.ready.get() && flag.cv.wait_until(flag.lock, deadline) == std::cv_status::timeout) {
        WEFT_REACHED("timed out");
        WEFT_INVARIANT(platform::clock::now() >= deadline);
      }
      flag.wait_locked();
      flag.lock.unlock();
    }
  }
};
WEFT_MODEL_SCENARIO(timed_wait_races_notify,
                    weft::model::pct(50000, 3).on_dpor(weft::model::exhaustive()));
WEFT_MODEL_REACHES(timed_wait_races_notify, "timed out");

}  // namespace
