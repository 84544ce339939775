// Tests of the engine itself: exhaustiveness and reduction on programs whose number of
// Mazurkiewicz traces is known, and each kind of failure it must find.
#include "model/dpor/engine.h"
#include "model/dpor/jobs.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

using weft::dpor::Engine;
using weft::dpor::Failure;
using weft::dpor::Options;
using weft::dpor::Result;
using weft::dpor::RmwOp;
using weft::dpor::Value;

constexpr auto relaxed = std::memory_order_relaxed;
constexpr auto acquire = std::memory_order_acquire;
constexpr auto release = std::memory_order_release;
constexpr auto seq_cst = std::memory_order_seq_cst;

Engine& e() { return Engine::current(); }

Result run(const std::function<void()>& main, bool sc_only = false) {
  Options options;
  options.sc_only = sc_only;
  return Engine::explore(main, options);
}

void check(bool holds, const char* what) {
  if (!holds) e().fail(Failure::assertion, what, {});
}

// What `program(seen)` puts in `seen` under DPOR at `bound`, checked to be what the
// plain (unreduced) search at that bound gives.
template <class Program>
std::set<std::vector<Value>> reduced_outcomes(const Program& program, int bound) {
  std::set<std::vector<Value>> reduced, full;
  Options options;
  options.preemption_bound = bound;
  CHECK(Engine::explore(program(reduced), options).failure == Failure::none);
  options.reduce = false;
  CHECK(Engine::explore(program(full), options).failure == Failure::none);
  CHECK(reduced == full);
  return reduced;
}

}  // namespace

TEST_CASE("independent threads: one execution") {
  for (bool sc : {true, false}) {
    const Result r = run(
        [] {
          std::vector<unsigned> threads;
          for (int i = 0; i < 4; ++i) {
            threads.push_back(e().spawn(
                [] {
                  const unsigned own = e().new_atomic(0);
                  e().store(own, 1, seq_cst, {});
                  CHECK(e().load(own, seq_cst, {}) == 1);
                },
                {}));
          }
          for (unsigned t : threads) e().join(t, {});
        },
        sc);
    CHECK(r.failure == Failure::none);
    CHECK(r.exhausted);
    CHECK(r.executions == 1);
    CHECK(r.blocked == 0);
  }
}

TEST_CASE("two threads each write x then read it: 4 traces under SC, RC11's outcomes") {
  // SC traces: W1 R1 W2 R2 | W1 W2 {R1,R2} | W2 W1 {R1,R2} | W2 R2 W1 R1 (the reads
  // commute). Both models give (1,2), (2,2), (1,1), never (2,1): 2 after 1 in mo for the
  // first reader and 1 after 2 for the second (coherence).
  for (bool sc : {true, false}) {
    const auto order = sc ? seq_cst : relaxed;
    std::set<std::pair<Value, Value>> seen;
    const Result r = run(
        [&] {
          const unsigned x = e().new_atomic(0);
          Value r1 = 0, r2 = 0;
          auto write_then_read = [&](Value v, Value& out) {
            return e().spawn(
                [&, v] {
                  e().store(x, v, order, {});
                  out = e().load(x, order, {});
                },
                {});
          };
          const unsigned t1 = write_then_read(1, r1);
          const unsigned t2 = write_then_read(2, r2);
          e().join(t1, {});
          e().join(t2, {});
          seen.insert({r1, r2});
        },
        sc);
    CHECK(r.failure == Failure::none);
    CHECK(r.exhausted);
    if (sc) CHECK(r.executions == 4);
    CHECK(seen == std::set<std::pair<Value, Value>>{{1, 2}, {2, 2}, {1, 1}});
  }
}

TEST_CASE("n fetch_adds on one counter: n! traces, every one ends at n") {
  for (unsigned n : {2u, 3u, 4u}) {
    std::uint64_t completed = 0;
    const Result r = run([&] {
      const unsigned x = e().new_atomic(0);
      std::vector<unsigned> threads;
      for (unsigned i = 0; i < n; ++i) {
        threads.push_back(e().spawn([x] { e().rmw(x, RmwOp::add, 1, relaxed, {}); }, {}));
      }
      for (unsigned t : threads) e().join(t, {});
      check(e().load(x, relaxed, {}) == n, "counter");
      ++completed;
    });
    unsigned factorial = 1;
    for (unsigned i = 2; i <= n; ++i) factorial *= i;
    CHECK(r.failure == Failure::none);
    CHECK(r.executions == factorial);
    CHECK(completed == factorial);
  }
}

TEST_CASE("reads of a location commute: k readers and one writer give k+1... traces") {
  // One writer W and two readers: each reader is before or after W; the readers commute
  // with each other, so 2 x 2 = 4 traces under SC.
  const Result r = run(
      [] {
        const unsigned x = e().new_atomic(0);
        const unsigned w = e().spawn([x] { e().store(x, 1, seq_cst, {}); }, {});
        const unsigned a = e().spawn([x] { e().load(x, seq_cst, {}); }, {});
        const unsigned b = e().spawn([x] { e().load(x, seq_cst, {}); }, {});
        e().join(w, {});
        e().join(a, {});
        e().join(b, {});
      },
      true);
  CHECK(r.executions == 4);
}

TEST_CASE("a lost update (load then store) fails the assertion, and its replay fails again") {
  auto body = [] {
    const unsigned x = e().new_atomic(0);
    auto increment = [x] { e().store(x, e().load(x, relaxed, {}) + 1, relaxed, {}); };
    const unsigned t = e().spawn(increment, {});
    increment();
    e().join(t, {});
    check(e().load(x, relaxed, {}) == 2, "both increments counted");
  };
  for (bool sc : {true, false}) {
    const Result r = run(body, sc);
    REQUIRE(r.failure == Failure::assertion);
    CHECK(r.trace.find("both increments counted") != std::string::npos);
    Options replay;
    replay.sc_only = sc;
    replay.replay = r.replay;
    const Result again = Engine::explore(body, replay);
    CHECK(again.failure == Failure::assertion);
    CHECK(again.executions == 1);
    CHECK(again.trace == r.trace);
  }
}

TEST_CASE("preemption bound: a bug that needs k preemptions is found from bounded(k) on") {
  // Under SC a lost update needs one preemption (between a thread's load and its store);
  // reading 1 then 2 while the other thread stores 1 then 2 needs two.
  auto lost_update = [] {
    const unsigned x = e().new_atomic(0);
    auto increment = [x] { e().store(x, e().load(x, relaxed, {}) + 1, relaxed, {}); };
    const unsigned a = e().spawn(increment, {});
    const unsigned b = e().spawn(increment, {});
    e().join(a, {});
    e().join(b, {});
    check(e().load(x, relaxed, {}) == 2, "both increments counted");
  };
  auto sees_both = [] {
    const unsigned x = e().new_atomic(0);
    const unsigned a = e().spawn(
        [x] {
          e().store(x, 1, relaxed, {});
          e().store(x, 2, relaxed, {});
        },
        {});
    const unsigned b = e().spawn(
        [x] {
          const Value first = e().load(x, relaxed, {});
          check(!(first == 1 && e().load(x, relaxed, {}) == 2), "saw 1 then 2");
        },
        {});
    e().join(a, {});
    e().join(b, {});
  };
  auto bounded = [](const std::function<void()>& body, int bound) {
    Options options;
    options.sc_only = true;
    options.preemption_bound = bound;
    return Engine::explore(body, options);
  };
  const Result none = bounded(lost_update, 0);
  CHECK(none.failure == Failure::none);
  CHECK(none.executions == 2);  // a then b, b then a: switches only where a thread ends
  CHECK(bounded(lost_update, 1).failure == Failure::assertion);
  CHECK(bounded(sees_both, 1).failure == Failure::none);
  CHECK(bounded(sees_both, 2).failure == Failure::assertion);
  CHECK(bounded(sees_both, -1).failure == Failure::assertion);
}

TEST_CASE("preemption bound: a lock blocked on a holder races the holder's lock") {
  // T reads x, then takes m; main takes m twice, storing x in the first section. T's
  // section before main's first (seen = 1) needs one preemption (main's, before its lock).
  // Bounded(1) DPOR reverses T's read with main's store: T now runs inside main's first
  // section and blocks on m; main goes on, and T's lock can run only after main's second
  // lock (switching to T at main's unlock is a second preemption), which hid the race
  // with the first. Found since the blocked lock's races are analysed when it blocks
  // (Explorer::blocked; the shape of time's send_timeout_races_recv, which missed a
  // one-preemption bug at bounded(1)).
  auto program = [](std::set<std::vector<Value>>& seen) {
    return [&seen] {
      const unsigned m = e().new_mutex();
      const unsigned x = e().new_atomic(0);
      const unsigned z = e().new_atomic(0);
      Value read_x = 0;
      const unsigned t = e().spawn(
          [&read_x, m, x, z] {
            read_x = e().load(x, relaxed, {});
            e().lock(m, {});
            e().store(z, 1, relaxed, {});
            e().unlock(m, {});
          },
          {});
      e().lock(m, {});
      const Value saw = e().load(z, relaxed, {});
      e().store(x, 1, relaxed, {});
      e().unlock(m, {});
      e().lock(m, {});
      e().unlock(m, {});
      e().join(t, {});
      seen.insert({saw, read_x});
    };
  };
  for (int bound : {1, 2}) CHECK(reduced_outcomes(program, bound).count({1, 0}) == 1);
}

TEST_CASE("lock order inversion deadlocks") {
  const Result r = run([] {
    const unsigned a = e().new_mutex();
    const unsigned b = e().new_mutex();
    const unsigned t = e().spawn(
        [=] {
          e().lock(b, {});
          e().lock(a, {});
          e().unlock(a, {});
          e().unlock(b, {});
        },
        {});
    e().lock(a, {});
    e().lock(b, {});
    e().unlock(b, {});
    e().unlock(a, {});
    e().join(t, {});
  });
  CHECK(r.failure == Failure::deadlock);
}

TEST_CASE("mutex: both orders of two critical sections are explored, nothing more") {
  std::set<Value> firsts;
  const Result r = run([&] {
    const unsigned m = e().new_mutex();
    const unsigned cell = e().new_cell({});
    Value first = 0, turn = 0;
    auto section = [&, m, cell](Value me) {
      e().lock(m, {});
      e().cell_access(cell, true, {});
      if (turn++ == 0) first = me;
      e().unlock(m, {});
    };
    const unsigned t = e().spawn([&] { section(1); }, {});
    section(2);
    e().join(t, {});
    firsts.insert(first);
  });
  CHECK(r.failure == Failure::none);
  CHECK(r.executions == 2);
  CHECK(firsts == std::set<Value>{1, 2});
}

TEST_CASE("data race on a cell: unsynchronized writes race; a release/acquire flag orders them") {
  const Result racy = run([] {
    const unsigned cell = e().new_cell({});
    const unsigned t = e().spawn([cell] { e().cell_access(cell, true, {"racy.cc", 1}); }, {});
    e().cell_access(cell, true, {"racy.cc", 2});
    e().join(t, {});
  });
  CHECK(racy.failure == Failure::data_race);

  for (auto [store_order, load_order, races] :
       {std::tuple{release, acquire, false}, std::tuple{relaxed, acquire, true},
        std::tuple{release, relaxed, true}}) {
    const Result r = run([store_order = store_order, load_order = load_order] {
      const unsigned cell = e().new_cell({});
      const unsigned flag = e().new_atomic(0);
      const unsigned t = e().spawn(
          [=] {
            e().cell_access(cell, true, {});
            e().store(flag, 1, store_order, {});
          },
          {});
      if (e().load(flag, load_order, {}) == 1) e().cell_access(cell, false, {});
      e().join(t, {});
    });
    CHECK(r.failure == (races ? Failure::data_race : Failure::none));
  }
}

TEST_CASE("fences: release fence + relaxed store pairs with relaxed load + acquire fence") {
  const Result r = run([] {
    const unsigned cell = e().new_cell({});
    const unsigned flag = e().new_atomic(0);
    const unsigned t = e().spawn(
        [=] {
          e().cell_access(cell, true, {});
          e().fence(release, {});
          e().store(flag, 1, relaxed, {});
        },
        {});
    if (e().load(flag, relaxed, {}) == 1) {
      e().fence(acquire, {});
      e().cell_access(cell, false, {});
    }
    e().join(t, {});
  });
  CHECK(r.failure == Failure::none);
}

TEST_CASE("release sequence: an RMW chain carries the release to the acquirer") {
  const Result r = run([] {
    const unsigned cell = e().new_cell({});
    const unsigned flag = e().new_atomic(0);
    const unsigned a = e().spawn(
        [=] {
          e().cell_access(cell, true, {});
          e().store(flag, 1, release, {});
        },
        {});
    const unsigned b = e().spawn([=] { e().rmw(flag, RmwOp::add, 1, relaxed, {}); }, {});
    if (e().load(flag, acquire, {}) == 2) e().cell_access(cell, false, {});
    e().join(a, {});
    e().join(b, {});
  });
  // flag == 2 means b's RMW read a's release store: b continues its release sequence.
  CHECK(r.failure == Failure::none);
}

TEST_CASE("spin on a flag: terminates when another thread sets it, livelock when none does") {
  const Result ok = run([] {
    const unsigned flag = e().new_atomic(0);
    const unsigned t = e().spawn([flag] { e().store(flag, 1, release, {}); }, {});
    while (e().load(flag, acquire, {}) == 0) e().yield({});
    e().join(t, {});
  });
  CHECK(ok.failure == Failure::none);
  CHECK(ok.exhausted);
  CHECK(ok.executions < 20);

  Options shallow;
  shallow.depth_limit = 100;
  const Result stuck = Engine::explore(
      [] {
        const unsigned flag = e().new_atomic(0);
        while (e().load(flag, acquire, {}) == 0) e().yield({});
      },
      shallow);
  CHECK(stuck.failure == Failure::livelock);
}

TEST_CASE("a retry loop that takes and gives back a flag while reading a stale value is a spin") {
  // Each window takes `busy`, reads x, gives `busy` back, yields: the same values read and
  // written each time (atomic_waker's test_panicky_waker loops so). Reading the stale x=1
  // forever is cut (x=2 exists); waiting for an x=3 nobody stores is a LIVELOCK.
  auto retry_until = [](Value wanted) {
    return [wanted] {
      const unsigned x = e().new_atomic(0);
      const unsigned busy = e().new_atomic(0);
      const unsigned t = e().spawn(
          [x] {
            e().store(x, 1, relaxed, {});
            e().store(x, 2, relaxed, {});
          },
          {});
      for (;;) {
        e().rmw(busy, RmwOp::exchange, 1, acquire, {});
        const Value seen = e().load(x, relaxed, {});
        e().rmw(busy, RmwOp::exchange, 0, release, {});
        if (seen == wanted) break;
        e().yield({});
      }
      e().join(t, {});
    };
  };
  Options options;
  options.depth_limit = 200;
  const Result ends = Engine::explore(retry_until(2), options);
  CHECK(ends.failure == Failure::none);
  CHECK(ends.exhausted);
  CHECK(Engine::explore(retry_until(3), options).failure == Failure::livelock);
}

TEST_CASE("condvar: a notify outside the lock can be lost (deadlock); under the lock it cannot") {
  for (bool under_lock : {false, true}) {
    const Result r = run([under_lock] {
      const unsigned m = e().new_mutex();
      const unsigned cv = e().new_condvar();
      const unsigned flag = e().new_atomic(0);
      const unsigned t = e().spawn(
          [=] {
            if (under_lock) e().lock(m, {});
            e().store(flag, 1, relaxed, {});
            if (under_lock) e().unlock(m, {});
            e().notify(cv, false, {});
          },
          {});
      e().lock(m, {});
      // A racy check: the flag is read under the lock, but the setter may not hold it.
      const bool set = e().load(flag, relaxed, {}) == 1;
      if (!set) e().wait(cv, m, {});
      e().unlock(m, {});
      e().join(t, {});
    });
    CHECK(r.failure == (under_lock ? Failure::none : Failure::deadlock));
  }
}

TEST_CASE("spurious condvar wakeups: a wait without its re-check loop fails") {
  auto waiter = [](bool loop) {
    return [loop] {
      const unsigned m = e().new_mutex();
      const unsigned cv = e().new_condvar();
      const unsigned ready = e().new_atomic(0);
      const unsigned t = e().spawn(
          [=] {
            e().lock(m, {});
            e().store(ready, 1, relaxed, {});
            e().notify(cv, false, {});
            e().unlock(m, {});
          },
          {});
      e().lock(m, {});
      if (loop) {
        while (e().load(ready, relaxed, {}) == 0) e().wait(cv, m, {});
      } else if (e().load(ready, relaxed, {}) == 0) {
        e().wait(cv, m, {});
        check(e().load(ready, relaxed, {}) == 1, "woken with ready set");
      }
      e().unlock(m, {});
      e().join(t, {});
    };
  };
  const Result once = run(waiter(false));
  CHECK(once.failure == Failure::assertion);
  CHECK(once.trace.find("(spurious wakeup)") != std::string::npos);
  CHECK(run(waiter(true)).failure == Failure::none);
  Options never;
  never.spurious_wakeups = false;
  CHECK(Engine::explore(waiter(false), never).failure == Failure::none);
}

TEST_CASE("timed condvar wait: times out with no notify; races a notify both ways") {
  for (bool notify : {false, true}) {
    bool woken = false, timed_out = false;
    const Result r = run([&, notify] {
      const unsigned m = e().new_mutex();
      const unsigned cv = e().new_condvar();
      const unsigned t = e().spawn(
          [=] {
            if (notify) e().notify(cv, false, {});
          },
          {});
      e().lock(m, {});
      (e().wait(cv, m, {}, /*timed=*/true) ? woken : timed_out) = true;
      e().unlock(m, {});
      e().join(t, {});
    });
    CHECK(r.failure == Failure::none);  // never a deadlock: the timeout always comes
    CHECK(timed_out);
    CHECK(woken == notify);
  }
}

TEST_CASE("a notified timed wait may still time out: the notify is consumed") {
  // C++ lets a wait_until woken by a notify return timeout (its deadline passed before it
  // returned). T (timed, deadline 10) and U (untimed) wait; N notifies once when both do;
  // T passes a notify on when woken, not when it timed out. Only a notified T that reports
  // timeout leaves U waiting forever (its own timeout at the wait leaves the notify to U).
  // Spurious wakeups on: U's and N's wait loops (on two condvars) each wake spuriously at
  // most once per condvar, so they cannot wake each other for ever (no false LIVELOCK).
  std::set<bool> results;
  const Result r = Engine::explore(
      [&results] {
        struct State {
          int waiting = 0;  // under m
          bool item = false;
        };
        auto s = std::make_shared<State>();
        const unsigned m = e().new_mutex();
        const unsigned cv = e().new_condvar();
        const unsigned registered = e().new_condvar();
        const unsigned t = e().spawn(
            [=, &results] {
              e().lock(m, {});
              ++s->waiting;
              e().notify(registered, true, {});
              const bool woken = e().wait(cv, m, {}, /*timed=*/true, 10);
              results.insert(woken);
              if (woken) {
                e().notify(cv, false, {});
              } else {
                check(e().clock_now({}) >= 10, "a timeout moved the clock to the deadline");
              }
              e().unlock(m, {});
            },
            {});
        const unsigned u = e().spawn(
            [=] {
              e().lock(m, {});
              ++s->waiting;
              e().notify(registered, true, {});
              while (!s->item) e().wait(cv, m, {});
              e().unlock(m, {});
            },
            {});
        e().lock(m, {});
        while (s->waiting < 2) e().wait(registered, m, {});
        s->item = true;
        e().notify(cv, false, {});
        e().unlock(m, {});
        e().join(t, {});
        e().join(u, {});
      },
      Options{});
  CHECK(r.failure == Failure::deadlock);
  CHECK(r.trace.find("(a woken timed wait times out)") != std::string::npos);
  CHECK(results == std::set<bool>{false, true});

  // One timed waiter and one notify: the notify_one's 2 choices when it finds the waiter
  // (wake; wake and time out) and the wait's timeout, each raced with the reads of the
  // clock. The outcomes are the unreduced search's.
  auto program = [](std::set<std::vector<Value>>& seen) {
    return [&seen] {
      const unsigned m = e().new_mutex();
      const unsigned cv = e().new_condvar();
      Value read = 0;
      const unsigned n = e().spawn(
          [&read, m, cv] {
            e().lock(m, {});
            e().notify(cv, false, {});
            e().unlock(m, {});
            read = static_cast<Value>(e().clock_now({}));
          },
          {});
      e().lock(m, {});
      const bool woken = e().wait(cv, m, {}, /*timed=*/true, 10);
      const auto after = static_cast<Value>(e().clock_now({}));
      e().unlock(m, {});
      e().join(n, {});
      check(woken || after >= 10, "a timeout moved the clock to the deadline");
      seen.insert({woken, read, after});
    };
  };
  const std::set<std::vector<Value>> all = {{0, 0, 10}, {0, 10, 10}, {1, 0, 0}};
  for (int bound : {-1, 1, 2}) CHECK(reduced_outcomes(program, bound) == all);
  std::set<std::vector<Value>> seen;
  const Result counted = Engine::explore(program(seen), Options{});
  CHECK(counted.executions == 8);  // 6 before a notified timed wait could time out
}

TEST_CASE("the virtual clock: a read and another thread's timeout are explored both ways") {
  // Two timed waits no one notifies (deadlines 10 and 20) and a reader: the read sees 0,
  // 10 or 20, whichever timeouts came first; a waiter sees at least its own deadline after
  // its timeout; the moves commute (the clock ends at 20). The same outcomes as the
  // unreduced search, and within a bound as the plain bounded search.
  auto program = [](std::set<std::vector<Value>>& seen) {
    return [&seen] {
      const unsigned m = e().new_mutex();
      const unsigned cv = e().new_condvar();
      std::vector<unsigned> waiters;
      for (std::int64_t deadline : {10, 20}) {
        waiters.push_back(e().spawn(
            [=] {
              e().lock(m, {});
              while (e().wait(cv, m, {}, /*timed=*/true, deadline)) {
              }
              check(e().clock_now({}) >= deadline, "the clock reached the deadline");
              e().unlock(m, {});
            },
            {}));
      }
      const auto read = static_cast<Value>(e().clock_now({}));
      for (unsigned t : waiters) e().join(t, {});
      seen.insert({read, static_cast<Value>(e().clock_now({}))});
    };
  };
  const std::set<std::vector<Value>> all = {{0, 20}, {10, 20}, {20, 20}};
  for (int bound : {-1, 1, 2}) CHECK(reduced_outcomes(program, bound) == all);
}

TEST_CASE("compare_exchange: failure reports the value read; weak may fail spuriously") {
  std::set<std::pair<bool, Value>> strong_seen, weak_seen;
  for (bool weak : {false, true}) {
    run([&, weak] {
      const unsigned x = e().new_atomic(5);
      Value expected = 5;
      const bool ok = e().compare_exchange(x, expected, 6, seq_cst, relaxed, weak, {});
      (weak ? weak_seen : strong_seen).insert({ok, expected});
    });
  }
  CHECK(strong_seen == std::set<std::pair<bool, Value>>{{true, 5}});
  CHECK(weak_seen == std::set<std::pair<bool, Value>>{{true, 5}, {false, 5}});
}

TEST_CASE("a weak cas retry loop: one spurious failure explored, not a chain of them") {
  // mutex_dpor's mutual_exclusion (BatchSemaphore::poll_acquire's compare_exchange_weak
  // loop) hit the depth limit failing spuriously again and again.
  const Result r = run([] {
    const unsigned x = e().new_atomic(0);
    Value expected = 0;
    while (!e().compare_exchange(x, expected, 1, acquire, relaxed, true, {})) expected = 0;
  });
  CHECK(r.failure == Failure::none);
  CHECK(r.executions == 2);  // succeeds at once; fails spuriously once, then succeeds
  // A Treiber push: each retry first stores the node's next (another location), then
  // yields. That store is no news for the cas; it let the cas fail spuriously forever
  // (examples/treiber_stack's scenarios all ended in LIVELOCK).
  const Result push = run([] {
    const unsigned top = e().new_atomic(0);
    const unsigned next = e().new_atomic(0);
    Value expected = 0;
    for (;;) {
      e().store(next, expected, relaxed, {});
      if (e().compare_exchange(top, expected, 1, release, relaxed, true, {})) break;
      e().yield({});
    }
  });
  CHECK(push.failure == Failure::none);
  CHECK(push.executions == 2);
}

TEST_CASE("on_complete returning false stops the exploration (the runner's time limit)") {
  Options options;
  std::uint64_t seen = 0;
  options.on_complete = [&seen] { return ++seen < 3; };
  const Result r = Engine::explore(
      [] {
        const unsigned x = e().new_atomic(0);
        std::vector<unsigned> threads;
        for (int i = 0; i < 3; ++i) {
          threads.push_back(e().spawn([x] { e().rmw(x, RmwOp::add, 1, relaxed, {}); }, {}));
        }
        for (unsigned t : threads) e().join(t, {});
      },
      options);
  CHECK(r.stopped);
  CHECK(r.executions == 3);
  CHECK(!r.exhausted);
}

TEST_CASE("bad replay schedules are refused") {
  Options options;
  options.replay = "0,x";
  CHECK(Engine::explore([] {}, options).failure == Failure::usage);
}

namespace {

// A small random program: threads of atomic operations on two locations.
struct RandomOp {
  // 0 load, 1 store, 2 fetch_add, 3 strong cas, 4 weak cas, 5 fence, 6 lock section,
  // 7 strong cas increment loop, 8 weak cas increment loop, 9 exchange
  int kind;
  unsigned loc;
  Value value;
  std::memory_order order;
};

// The random programs' generator: a linear congruential sequence from the seed.
struct Random {
  std::uint64_t state;
  unsigned operator()() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<unsigned>(state >> 33);
  }
};

// One operation of the first `kinds` kinds on location 0 or 1, its order valid for it.
RandomOp random_op(Random& next, int kinds) {
  constexpr std::memory_order orders[] = {relaxed, acquire, release, std::memory_order_acq_rel,
                                          seq_cst};
  RandomOp op{static_cast<int>(next() % static_cast<unsigned>(kinds)), next() % 2, 1 + next() % 2,
              orders[next() % 5]};
  if (op.kind == 0 && (op.order == release || op.order == std::memory_order_acq_rel)) {
    op.order = acquire;
  }
  if (op.kind == 1 && (op.order == acquire || op.order == std::memory_order_acq_rel)) {
    op.order = release;
  }
  return op;
}

std::vector<std::vector<RandomOp>> random_program(std::uint64_t seed, bool with_locks) {
  Random next{seed};
  const unsigned threads = with_locks ? 2 : 2 + next() % 2;
  std::vector<std::vector<RandomOp>> program(threads);
  for (auto& ops : program) {
    const unsigned count = threads == 2 ? 2 + next() % 2 : 2;
    for (unsigned i = 0; i < count; ++i) ops.push_back(random_op(next, with_locks ? 7 : 6));
  }
  return program;
}

// Runs one operation of a random program on atomic `x`, appending what it read to `reads`.
void run_op(const RandomOp& op, unsigned x, unsigned mutex, std::vector<Value>& reads) {
  switch (op.kind) {
    case 0: reads.push_back(e().load(x, op.order, {})); break;
    case 1: e().store(x, op.value, op.order, {}); break;
    case 2: reads.push_back(e().rmw(x, RmwOp::add, op.value, op.order, {})); break;
    case 3:
    case 4: {
      Value expected = op.value - 1;
      const bool ok =
          e().compare_exchange(x, expected, op.value + 2, op.order, relaxed, op.kind == 4, {});
      reads.push_back(expected * 2 + (ok ? 1 : 0));
      break;
    }
    case 5: e().fence(op.order, {}); break;
    case 6:
      e().lock(mutex, {});
      reads.push_back(e().load(x, relaxed, {}));
      e().store(x, op.value + 4, relaxed, {});
      e().unlock(mutex, {});
      break;
    case 7:
    case 8: {  // the value it incremented
      Value seen = e().load(x, relaxed, {});
      while (!e().compare_exchange(x, seen, seen + op.value, op.order, relaxed, op.kind == 8, {})) {
      }
      reads.push_back(seen);
      break;
    }
    case 9: reads.push_back(e().rmw(x, RmwOp::exchange, op.value, op.order, {})); break;
  }
}

// Joins a random program's threads; its outcome: what each read, then locations 0 and 1.
std::vector<Value> join_outcome(const std::vector<unsigned>& threads,
                                const std::vector<std::vector<Value>>& reads,
                                const unsigned* locs) {
  for (unsigned t : threads) e().join(t, {});
  std::vector<Value> outcome;
  for (const auto& r : reads) outcome.insert(outcome.end(), r.begin(), r.end());
  outcome.push_back(e().load(locs[0], relaxed, {}));
  outcome.push_back(e().load(locs[1], relaxed, {}));
  return outcome;
}

// Each execution of outcomes()'s programs, numbered (per process).
std::uint64_t g_execution = 0;

// Owned by a thread's body: dies with it, in its execution. An ended execution's objects
// are never destroyed later: the body of a thread that never started (its execution was
// abandoned first) was destroyed by the next execution's spawn into its slot, or after the
// exploration, and its destructors' model operations (a Sender's drop) then acted on that
// execution's objects of the same numbers (broadcast's senders_writes_ordered_before_closed)
// or aborted outside any exploration (task_block_on).
struct ExecutionToken {
  explicit ExecutionToken(std::uint64_t n) : execution(n) {}
  ExecutionToken(const ExecutionToken&) = delete;
  ExecutionToken& operator=(const ExecutionToken&) = delete;
  ~ExecutionToken() {
    if (!Engine::running() || execution != g_execution) {
      FAIL_CHECK("a thread's body destroyed outside its execution (made in execution "
                 << execution << ", destroyed in " << g_execution
                 << std::string(Engine::running() ? ")" : ", after the exploration)"));
    }
  }
  std::uint64_t execution;
};

// Split over `jobs` processes (jobs.h), the workers' outcomes come back as text.
std::set<std::vector<Value>> outcomes(const std::vector<std::vector<RandomOp>>& program,
                                      bool sc_only, bool reduce, Result& result, int bound = -1,
                                      bool verify_psc = false, unsigned jobs = 1) {
  std::set<std::vector<Value>> seen;
  weft::dpor::Jobs split(jobs, {.worker_started = [&] { seen.clear(); },
                                .take_share =
                                    [&] {
                                      std::ostringstream out;
                                      for (const auto& outcome : seen) {
                                        for (Value v : outcome) out << v << ' ';
                                        out << ";\n";
                                      }
                                      seen.clear();
                                      return out.str();
                                    },
                                .add_share =
                                    [&](const std::string& share) {
                                      std::istringstream in(share);
                                      std::string line;
                                      while (std::getline(in, line)) {
                                        std::istringstream values(line);
                                        std::vector<Value> outcome;
                                        Value v = 0;
                                        while (values >> v) outcome.push_back(v);
                                        seen.insert(outcome);
                                      }
                                    },
                                .waiting = {},
                                .rank = {}});
  Options options;
  options.sc_only = sc_only;
  options.verify_psc = verify_psc;
  options.verify_graph = true;
  options.reduce = reduce;
  options.preemption_bound = bound;
  if (!reduce) options.max_executions = 20000;  // the reference search grows fast
  split.attach(options);
  result = Engine::explore(
      [&] {
        ++g_execution;
        const unsigned locs[3] = {e().new_atomic(0), e().new_atomic(0), e().new_atomic(0)};
        const unsigned mutex = e().new_mutex();
        std::vector<std::vector<Value>> reads(program.size());
        std::vector<unsigned> threads;
        for (std::size_t t = 0; t < program.size(); ++t) {
          threads.push_back(e().spawn(
              [&, t, token = std::make_shared<ExecutionToken>(g_execution)] {
                for (const RandomOp& op : program[t]) run_op(op, locs[op.loc], mutex, reads[t]);
              },
              {}));
        }
        seen.insert(join_outcome(threads, reads, locs));
      },
      options);
  result = split.finish(result);
  return seen;
}

}  // namespace

TEST_CASE("the reduction loses nothing: same outcomes as the full search on random programs") {
  std::uint64_t reduced_total = 0, full_total = 0, compared = 0;
  // More with WEFT_DPOR_RANDOM_PROGRAMS=N (the default keeps the test quick).
  const char* wanted = std::getenv("WEFT_DPOR_RANDOM_PROGRAMS");
  const std::uint64_t programs = wanted != nullptr ? std::strtoull(wanted, nullptr, 10) : 12;
  for (std::uint64_t seed = 1; seed <= programs; ++seed) {
    for (bool sc : {true, false}) {
      const auto program = random_program(seed, seed % 3 == 0);
      Result reduced, full;
      const auto a = outcomes(program, sc, true, reduced);
      const auto b = outcomes(program, sc, false, full);
      INFO("seed " << seed << (sc ? " sc" : " rc11"));
      REQUIRE(reduced.failure == Failure::none);
      REQUIRE(full.failure == Failure::none);
      if (!full.exhausted) continue;  // too big for the reference search
      ++compared;
      CHECK(a == b);
      CHECK(reduced.executions <= full.executions);
      if (std::getenv("WEFT_DPOR_RANDOM_VERBOSE") != nullptr) {
        MESSAGE("seed " << seed << std::string(sc ? " sc" : " rc11") << ": " << reduced.executions
                        << " executions (+" << reduced.blocked << " blocked) vs " << full.executions
                        << ", " << a.size() << " outcomes");
      }
      reduced_total += reduced.executions;
      full_total += full.executions;
    }
  }
  MESSAGE(compared << " programs compared; executions: " << reduced_total << " with DPOR, "
                   << full_total << " without");
  CHECK(compared * 2 >= programs * 2);  // most are small enough
  CHECK(reduced_total * 5 < full_total);
}

TEST_CASE("bounded DPOR loses nothing within the bound: same outcomes as the full bounded search") {
  // Bounded partial-order reduction (Coons et al., OOPSLA 2013): the reduced search at bound
  // k produces every outcome the plain search produces with at most k preemptions.
  const char* wanted = std::getenv("WEFT_DPOR_RANDOM_PROGRAMS");
  const std::uint64_t programs = wanted != nullptr ? std::strtoull(wanted, nullptr, 10) : 12;
  std::uint64_t compared = 0, reduced_total = 0, full_total = 0;
  for (int bound : {0, 1, 2}) {
    for (std::uint64_t seed = 1; seed <= programs; ++seed) {
      for (bool sc : {true, false}) {
        const auto program = random_program(seed, seed % 3 == 0);
        Result reduced, full;
        const auto a = outcomes(program, sc, true, reduced, bound);
        const auto b = outcomes(program, sc, false, full, bound);
        INFO("seed " << seed << std::string(sc ? " sc" : " rc11") << " bound " << bound);
        REQUIRE(reduced.failure == Failure::none);
        REQUIRE(full.failure == Failure::none);
        if (!full.exhausted) continue;
        ++compared;
        CHECK(a == b);
        reduced_total += reduced.executions;
        full_total += full.executions;
      }
    }
  }
  MESSAGE(compared << " bounded programs compared; executions: " << reduced_total << " with DPOR, "
                   << full_total << " without");
  CHECK(compared >= programs * 3);
  CHECK(reduced_total < full_total);
}

TEST_CASE("--jobs: a search split over processes finds the outcomes of one job") {
  // Over 3 processes on these small trees: forks at most nodes of the upper half, races
  // found below a fork that add backtrack points above it (forwarded to the owner).
  const char* wanted = std::getenv("WEFT_DPOR_RANDOM_PROGRAMS");
  const std::uint64_t programs = wanted != nullptr ? std::strtoull(wanted, nullptr, 10) : 24;
  std::uint64_t one_total = 0, split_total = 0, compared = 0;
  for (int bound : {-1, 1}) {
    for (std::uint64_t seed = 1; seed <= programs; ++seed) {
      for (bool sc : {true, false}) {
        const auto program = random_program(seed, seed % 3 == 0);
        Result one, split;
        const auto a = outcomes(program, sc, true, one, bound);
        const auto b = outcomes(program, sc, true, split, bound, false, 3);
        INFO("seed " << seed << std::string(sc ? " sc" : " rc11") << " bound " << bound);
        REQUIRE(split.failure == Failure::none);
        CHECK(split.exhausted);
        CHECK(a == b);
        if (std::getenv("WEFT_DPOR_RANDOM_VERBOSE") != nullptr) {
          MESSAGE(one.executions << " executions with one job, " << split.executions << " with 3");
        }
        ++compared;
        one_total += one.executions;
        split_total += split.executions;
      }
    }
  }
  MESSAGE(compared << " programs split over 3 jobs; executions: " << one_total << " with one, "
                   << split_total << " with 3");
  CHECK(split_total <= one_total + one_total / 4);
}

TEST_CASE("--jobs: n! traces of n fetch_adds; a worker's failure, with a replay for one job") {
  auto adds = [](unsigned n, std::uint64_t& completed) {
    return [n, &completed] {
      const unsigned x = e().new_atomic(0);
      std::vector<unsigned> threads;
      for (unsigned i = 0; i < n; ++i) {
        threads.push_back(e().spawn([x] { e().rmw(x, RmwOp::add, 1, relaxed, {}); }, {}));
      }
      for (unsigned t : threads) e().join(t, {});
      ++completed;
    };
  };
  for (unsigned jobs : {2u, 4u}) {
    std::uint64_t completed = 0;
    weft::dpor::Jobs split(jobs, {});
    Options options;
    split.attach(options);
    const Result r = split.finish(Engine::explore(adds(5, completed), options));
    CHECK(r.failure == Failure::none);
    CHECK(r.exhausted);
    CHECK(r.executions == 120);  // every execution a distinct trace, none twice
  }
  // Fails only in the last trace of the search (the threads' adds in reverse order),
  // which with a job per offer a worker explores: the failure names the process.
  auto reversed = [] {
    const unsigned x = e().new_atomic(0);
    Value position[4] = {};
    std::vector<unsigned> threads;
    for (Value i = 0; i < 4; ++i) {
      threads.push_back(e().spawn(
          [x, i, &position] { position[i] = e().rmw(x, RmwOp::add, 1, relaxed, {}); }, {}));
    }
    for (unsigned t : threads) e().join(t, {});
    if (position[0] == 3 && position[1] == 2 && position[2] == 1 && position[3] == 0) {
      e().fail(Failure::assertion, "reversed, in process " + std::to_string(getpid()), {});
    }
  };
  weft::dpor::Jobs split(64, {});
  Options options;
  split.attach(options);
  const Result r = split.finish(Engine::explore(reversed, options));
  REQUIRE(r.failure == Failure::assertion);
  CHECK(r.message != "reversed, in process " + std::to_string(getpid()));
  Options replay;
  replay.replay = r.replay;
  const Result again = Engine::explore(reversed, replay);
  CHECK(again.failure == Failure::assertion);
  CHECK(again.message == "reversed, in process " + std::to_string(getpid()));
}

namespace {

// Loads racing several stores to one location, so a load has older stores to read in both
// orders of a race: what the covered reads (explorer.h) leave out must be found elsewhere.
std::vector<std::vector<RandomOp>> stale_read_program(std::uint64_t seed) {
  auto next = [&seed] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<unsigned>(seed >> 33);
  };
  constexpr std::memory_order orders[] = {relaxed, relaxed, relaxed, acquire, release, seq_cst};
  constexpr int kinds[] = {0, 0, 0, 0, 1, 1, 1, 2, 3, 4};  // mostly loads and stores
  const unsigned threads = 2 + next() % 2;
  std::vector<std::vector<RandomOp>> program(threads);
  Value value = 0;
  for (auto& ops : program) {
    const unsigned count = threads == 2 ? 3 + next() % 2 : 2 + next() % 2;
    for (unsigned i = 0; i < count; ++i) {
      RandomOp op{kinds[next() % 10], next() % 4 == 0 ? 1u : 0u, ++value, orders[next() % 6]};
      if (op.kind == 0 && op.order == release) op.order = acquire;
      if (op.kind == 1 && op.order == acquire) op.order = release;
      ops.push_back(op);
    }
  }
  return program;
}

}  // namespace

namespace {

// Each program of a random family against the plain search at bounds -1, 0, 1, 2 (and split
// over 3 processes at -1 and 1): the same outcomes, every graph consistent.
struct Totals {
  std::uint64_t compared = 0, reduced = 0, full = 0;
};
Totals compare_family(std::vector<std::vector<RandomOp>> (*program_of)(std::uint64_t)) {
  const char* wanted = std::getenv("WEFT_DPOR_RANDOM_PROGRAMS");
  const std::uint64_t programs = wanted != nullptr ? std::strtoull(wanted, nullptr, 10) : 12;
  Totals totals;
  for (int bound : {-1, 0, 1, 2}) {
    for (std::uint64_t seed = 1; seed <= programs; ++seed) {
      const auto program = program_of(seed);
      Result reduced, full;
      const auto a = outcomes(program, false, true, reduced, bound);
      const auto b = outcomes(program, false, false, full, bound);
      INFO("seed " << seed << " bound " << bound << ": " << reduced.message << full.message);
      REQUIRE(reduced.failure == Failure::none);
      REQUIRE(full.failure == Failure::none);
      if (!full.exhausted) continue;
      ++totals.compared;
      CHECK(a == b);
      if (bound == -1 || bound == 1) {  // split over processes (--jobs) too
        Result split;
        CHECK(outcomes(program, false, true, split, bound, false, 3) == a);
        CHECK(split.failure == Failure::none);
      }
      totals.reduced += reduced.executions;
      totals.full += full.executions;
    }
  }
  MESSAGE(totals.compared << " programs compared; executions: " << totals.reduced << " with DPOR, "
                          << totals.full << " without");
  CHECK(totals.compared * 2 >= programs * 4);
  return totals;
}

}  // namespace

TEST_CASE("covered reads lose nothing: loads racing several stores, bounded and not") {
  const Totals totals = compare_family(stale_read_program);
  CHECK(totals.reduced * 5 < totals.full);
}

namespace {

// RMW chains: fetch_adds, cas increment loops (strong and weak) and exchanges racing loads
// and stores on one location (sometimes two), so an RMW has older stores to read, some of
// them read by another RMW already: what covered reads leave out must keep atomicity.
std::vector<std::vector<RandomOp>> rmw_chain_program(std::uint64_t seed) {
  Random next{seed};
  constexpr std::memory_order orders[] = {relaxed, acquire, release, std::memory_order_acq_rel,
                                          seq_cst, relaxed};
  constexpr int kinds[] = {0, 0, 1, 2, 2, 7, 8, 9};
  const unsigned threads = 2 + next() % 2;
  std::vector<std::vector<RandomOp>> program(threads);
  for (auto& ops : program) {
    const unsigned count = threads == 2 ? 2 : 1 + next() % 2;
    for (unsigned i = 0; i < count; ++i) {
      RandomOp op{kinds[next() % 8], next() % 4 == 0 ? 1u : 0u, 1 + next() % 2, orders[next() % 6]};
      if (op.kind == 0 && (op.order == release || op.order == std::memory_order_acq_rel)) {
        op.order = acquire;
      }
      if (op.kind == 1 && (op.order == acquire || op.order == std::memory_order_acq_rel)) {
        op.order = release;
      }
      ops.push_back(op);
    }
  }
  return program;
}

}  // namespace

TEST_CASE("covered reads keep RMWs atomic: RMW chains, bounded and not") {
  // outcomes() checks every execution's graph from scratch (Options::verify_graph): no store
  // read by two RMWs, coherence, psc.
  const Totals totals = compare_family(rmw_chain_program);
  CHECK(totals.reduced * 2 < totals.full);
}

TEST_CASE("the incremental psc check agrees with the full recomputation") {
  // Random programs of mostly seq_cst accesses over three locations, every second one with
  // fences too (a seq_cst fence's edges go through its node and the hubs of the accesses
  // after it). Each incremental verdict is compared with the full one; a difference aborts.
  const char* wanted = std::getenv("WEFT_DPOR_RANDOM_PROGRAMS");
  const std::uint64_t programs = wanted != nullptr ? std::strtoull(wanted, nullptr, 10) * 4 : 60;
  constexpr std::memory_order orders[] = {relaxed, acquire, release, seq_cst, seq_cst, seq_cst};
  for (std::uint64_t seed = 1; seed <= programs; ++seed) {
    std::uint64_t state = seed * 0x9e3779b97f4a7c15ull;
    auto next = [&state] {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      return static_cast<unsigned>(state >> 33);
    };
    // Every second program puts a fence (seq_cst, mostly) between two accesses of each
    // thread, the accesses mostly weaker than seq_cst (else their own seq_cst edges close
    // every cycle a fence would): SB, MP, 2+2W, R, S, IRIW with fences and their mixes.
    const bool fences = seed % 2 == 0;
    std::vector<std::vector<RandomOp>> program(2 + (fences ? seed / 2 : seed) % 2);
    for (auto& ops : program) {
      for (unsigned i = 0, n = fences ? 3 + next() % 2 : 2 + next() % 2; i < n; ++i) {
        const int kind = fences && i % 2 == 1 ? 5 : static_cast<int>(next() % 5);
        std::memory_order order = orders[fences ? (next() % 4 == 0 ? 3 : next() % 3) : next() % 6];
        if (kind == 5 && next() % 4 != 0) order = seq_cst;
        if (kind == 0 && order == release) order = acquire;
        if (kind == 1 && order == acquire) order = release;
        ops.push_back(RandomOp{kind, next() % (seed % 3 == 0 ? 3 : 2), 1 + next() % 2, order});
      }
    }
    // Some are fixed: SB (its cycle needs rb into a later store), one whose cycle needs
    // scb's po|≠loc;hb;po|≠loc (x =sc 1 po y =rel 1 hb y acq po z sc), and one through a
    // fence.
    if (seed == 1)
      program = {{{1, 0, 1, seq_cst}, {0, 1, 1, seq_cst}},
                 {{1, 1, 1, seq_cst}, {0, 0, 1, seq_cst}}};
    if (seed == 2) {
      program = {{{1, 0, 1, seq_cst}, {1, 1, 1, release}},
                 {{0, 1, 1, acquire}, {0, 2, 1, seq_cst}},
                 {{1, 2, 1, seq_cst}, {0, 0, 1, seq_cst}}};
    }
    // A cycle through a fence's incoming scb edge: y =sc 1 po x =sc 1 mo x =rlx 2 po F po
    // r = y (0) rb y =sc 1. Without the edge x =sc 1 -> F only the hub F -> y =sc 1 is there.
    if (seed == 4) {
      program = {{{1, 1, 1, seq_cst}, {1, 0, 1, seq_cst}},
                 {{1, 0, 2, relaxed}, {5, 0, 0, seq_cst}, {0, 1, 0, relaxed}}};
    }
    // IRIW with fences: psc_F's hb;eco;hb through a load (rb;rf), into a fence and out of
    // a hub.
    if (seed == 6) {
      program = {{{1, 0, 1, relaxed}},
                 {{1, 1, 1, relaxed}},
                 {{0, 0, 0, relaxed}, {5, 0, 0, seq_cst}, {0, 1, 0, relaxed}},
                 {{0, 1, 0, relaxed}, {5, 0, 0, seq_cst}, {0, 0, 0, relaxed}}};
    }
    // Fence to fence through scb: F po x =rlx 1 mo x =rlx 2 po G; G po r = y (0) rb
    // y =rlx 1 po F.
    if (seed == 8) {
      program = {{{1, 1, 1, relaxed}, {5, 0, 0, seq_cst}, {1, 0, 1, relaxed}},
                 {{1, 0, 2, relaxed}, {5, 0, 0, seq_cst}, {0, 1, 0, relaxed}}};
    }
    // Into a fence along po;hb: x =sc 1 po y =rel 1 sw y acq po F po z (0) rb z =sc 1 po
    // x (0) sc rb x =sc 1.
    if (seed == 10) {
      program = {{{1, 0, 1, seq_cst}, {1, 1, 1, release}},
                 {{0, 1, 0, acquire}, {5, 0, 0, seq_cst}, {0, 2, 0, relaxed}},
                 {{1, 2, 1, seq_cst}, {0, 0, 0, seq_cst}}};
    }
    Result result;
    outcomes(program, false, true, result, -1, true);
    INFO("seed " << seed);
    CHECK(result.failure == Failure::none);
  }
}

TEST_CASE("the program's heap: a leak, a double free, a reused address, many allocations") {
  // The harness runner's operator new / delete call Engine::allocated / freed; here the
  // program calls them itself, on addresses it never dereferences.
  static char arena[4096];
  auto at = [](int i) { return static_cast<void*>(&arena[i]); };
  CHECK(run([&] { Engine::allocated(at(0)); }).failure == Failure::leak);
  CHECK(run([&] {
          Engine::allocated(at(0));
          Engine::freed(at(0));
          Engine::freed(at(0));
        }).failure == Failure::double_free);
  const Result reused = run([&] {
    for (int round = 0; round < 3; ++round) {
      Engine::allocated(at(0));
      Engine::freed(at(0));
    }
  });
  CHECK(reused.failure == Failure::none);
  const Result many = run([&] {  // past the table's first size: it grows
    for (int i = 0; i < 1000; ++i) Engine::allocated(at(i));
    for (int i = 0; i < 1000; ++i) Engine::freed(at(i));
    Engine::freed(at(4000));  // not the program's: ignored
  });
  CHECK(many.failure == Failure::none);
}

namespace {

// Random programs with spin loops (yield after each failed try): thread 0 spins, thread 1
// stores flag = 1 among random operations, thread 2 (when there is one) spins too or runs
// random operations. Loops: 0 waits for the flag; 1 increments location 0 or 1 with a load
// and a cas, retried; 2 takes `busy`, reads the flag, gives `busy` back; 3 reads the flag
// under the mutex (the random lock sections take it too).
struct SpinThread {
  std::vector<RandomOp> before, after;
  int loop = -1;  // -1: none
  unsigned loc = 0;
  std::memory_order order = relaxed;
  bool weak = false;
};
using SpinProgram = std::vector<SpinThread>;

constexpr unsigned flag_loc = 2;

SpinProgram random_spin_program(std::uint64_t seed) {
  Random next{seed};
  constexpr std::memory_order load_orders[] = {relaxed, acquire, seq_cst};
  auto spinner = [&] {
    SpinThread t;
    t.loop = static_cast<int>(next() % 4);
    t.loc = next() % 2;
    t.order = load_orders[next() % 3];
    t.weak = next() % 2 == 1;
    if (next() % 2 == 0) t.before.push_back(random_op(next, 7));
    t.after.push_back(random_op(next, 7));
    return t;
  };
  SpinProgram program{spinner(), SpinThread{}};
  constexpr std::memory_order store_orders[] = {relaxed, release, seq_cst};
  auto& writer = program[1].before;
  for (unsigned i = 0, n = 1 + next() % 2; i < n; ++i) writer.push_back(random_op(next, 7));
  writer.insert(writer.begin() + next() % (writer.size() + 1),
                RandomOp{1, flag_loc, 1, store_orders[next() % 3]});
  if (seed % 3 == 0) program.push_back(spinner());
  if (seed % 3 == 1) {
    SpinThread other;
    other.before = {random_op(next, 7), random_op(next, 7)};
    program.push_back(other);
  }
  return program;
}

// Each thread's reads (a cas loop's: the value it incremented) and the final values. With
// `assume`, a failed try ends the execution instead of yielding: the program without its
// failed iterations, which have no effect, so it has the spinning program's outcomes.
std::set<std::vector<Value>> spin_outcomes(const SpinProgram& program, bool reduce, int bound,
                                           bool assume, Result& result) {
  std::set<std::vector<Value>> seen;
  Options options;
  options.reduce = reduce;
  options.preemption_bound = bound;
  if (!reduce) options.max_executions = 20000;
  result = Engine::explore(
      [&] {
        const unsigned locs[3] = {e().new_atomic(0), e().new_atomic(0), e().new_atomic(0)};
        const unsigned busy = e().new_atomic(0);
        const unsigned mutex = e().new_mutex();
        std::vector<std::vector<Value>> reads(program.size());
        auto retry = [assume] {
          if (assume) e().discard();
          e().yield({});
        };
        auto spin = [&](const SpinThread& t, std::vector<Value>& out) {
          const unsigned flag = locs[flag_loc];
          for (;;) {
            switch (t.loop) {
              case 0:
                if (e().load(flag, t.order, {}) == 1) return;
                break;
              case 1: {
                const Value v = e().load(locs[t.loc], relaxed, {});
                Value expected = v;
                if (e().compare_exchange(locs[t.loc], expected, v + 1, std::memory_order_acq_rel,
                                         relaxed, t.weak, {})) {
                  out.push_back(v);
                  return;
                }
                break;
              }
              case 2: {
                e().rmw(busy, RmwOp::exchange, 1, acquire, {});
                const Value v = e().load(flag, t.order, {});
                e().rmw(busy, RmwOp::exchange, 0, release, {});
                if (v == 1) return;
                break;
              }
              case 3: {
                e().lock(mutex, {});
                const Value v = e().load(flag, t.order, {});
                e().unlock(mutex, {});
                if (v == 1) return;
                break;
              }
              default: return;
            }
            retry();
          }
        };
        std::vector<unsigned> threads;
        for (std::size_t i = 0; i < program.size(); ++i) {
          threads.push_back(e().spawn(
              [&, i] {
                const SpinThread& t = program[i];
                for (const RandomOp& op : t.before) run_op(op, locs[op.loc], mutex, reads[i]);
                spin(t, reads[i]);
                for (const RandomOp& op : t.after) run_op(op, locs[op.loc], mutex, reads[i]);
              },
              {}));
        }
        seen.insert(join_outcome(threads, reads, locs));
      },
      options);
  return seen;
}

}  // namespace

TEST_CASE("spin loops: blocking a spinner with no news loses no outcome") {
  // The reduced search against the plain one at bounds 0, 1, 2 and exhaustive (the same
  // spin rule in both), and exhaustive against the plain search of the program whose failed
  // tries are cut (the ground truth for the rule itself: failed tries have no effect).
  const char* wanted = std::getenv("WEFT_DPOR_RANDOM_PROGRAMS");
  const std::uint64_t programs = wanted != nullptr ? std::strtoull(wanted, nullptr, 10) : 12;
  std::uint64_t compared = 0, reduced_total = 0, full_total = 0;
  for (std::uint64_t seed = 1; seed <= programs; ++seed) {
    const SpinProgram program = random_spin_program(seed);
    for (int bound : {0, 1, 2, -1}) {
      Result reduced, full;
      const auto a = spin_outcomes(program, true, bound, false, reduced);
      const auto b = spin_outcomes(program, false, bound, false, full);
      INFO("seed " << seed << " bound " << bound << ": " << reduced.message << "\n"
                   << reduced.trace << full.message << "\n"
                   << full.trace);
      REQUIRE(reduced.failure == Failure::none);
      REQUIRE(full.failure == Failure::none);
      CHECK(reduced.exhausted);
      if (!full.exhausted) continue;
      ++compared;
      CHECK(a == b);
      reduced_total += reduced.executions;
      full_total += full.executions;
      if (std::getenv("WEFT_DPOR_RANDOM_VERBOSE") != nullptr) {
        MESSAGE("seed " << seed << " bound " << bound << ": " << reduced.executions << " (+"
                        << reduced.blocked << " cut) vs " << full.executions << ", " << a.size()
                        << " outcomes");
      }
      if (bound >= 0) continue;
      Result truth;
      const auto c = spin_outcomes(program, false, -1, true, truth);
      REQUIRE(truth.exhausted);
      CHECK(a == c);
    }
  }
  MESSAGE(compared << " spin programs compared; executions: " << reduced_total << " with DPOR, "
                   << full_total << " without");
  CHECK(compared * 2 >= programs * 4);
  CHECK(reduced_total * 2 < full_total);
}

TEST_CASE("use after free: an operation on a destroyed atomic, mutex, condvar or cell") {
  auto uses_destroyed = [](auto&& use) {
    return run([&] {
      const unsigned atomic = e().new_atomic(0);
      const unsigned mutex = e().new_mutex();
      const unsigned condvar = e().new_condvar();
      const unsigned cell = e().new_cell({});
      Engine::destroyed(atomic);
      Engine::destroyed(mutex);
      Engine::destroyed(condvar);
      Engine::cell_destroyed(cell);
      use(atomic, mutex, condvar, cell);
    });
  };
  CHECK(uses_destroyed([](unsigned a, unsigned, unsigned, unsigned) {
          e().load(a, relaxed, {});
        }).failure == Failure::use_after_free);
  CHECK(uses_destroyed([](unsigned a, unsigned, unsigned, unsigned) {
          e().rmw(a, RmwOp::add, 1, relaxed, {});
        }).failure == Failure::use_after_free);
  CHECK(uses_destroyed([](unsigned, unsigned m, unsigned, unsigned) { e().lock(m, {}); }).failure ==
        Failure::use_after_free);
  CHECK(uses_destroyed([](unsigned, unsigned, unsigned c, unsigned) {
          e().notify(c, false, {});
        }).failure == Failure::use_after_free);
  CHECK(uses_destroyed([](unsigned, unsigned, unsigned, unsigned c) {
          e().cell_access(c, false, {});
        }).failure == Failure::use_after_free);
  // An id no object of this execution has (read from freed or wild memory).
  CHECK(run([] { e().store(12345, 1, relaxed, {}); }).failure == Failure::use_after_free);
  // Destroyed and not touched again: no failure.
  CHECK(run([] { Engine::destroyed(e().new_atomic(0)); }).failure == Failure::none);
}

TEST_CASE("a crash in the program ends its execution as a failure with a trace and a replay") {
  const auto program = [] {
    const unsigned x = e().new_atomic(0);
    const unsigned child = e().spawn([x] { e().store(x, 1, relaxed, {}); }, {});
    if (e().load(x, relaxed, {}) == 1) {
      volatile int* wild = nullptr;
      *wild = 1;  // SIGSEGV, in one order of the two threads only
    }
    e().join(child, {});
  };
  Options options;
  const Result crashed = Engine::explore(program, options);
  CHECK(crashed.failure == Failure::crash);
  CHECK(crashed.trace.find("store") != std::string::npos);
  options.replay = crashed.replay;  // the replay crashes the same way
  CHECK(Engine::explore(program, options).failure == Failure::crash);
  // The checker still works after a crash was caught.
  CHECK(run([] {}).failure == Failure::none);
}

namespace {

// A reader accesses an object, then stores `done`; the main thread destroys the object
// once it loads `done` == 1.
Result access_then_destroy(const std::function<unsigned()>& make,
                           const std::function<void(unsigned)>& access,
                           const std::function<void(unsigned)>& destroy,
                           std::memory_order store_order, std::memory_order load_order) {
  return run([=] {
    const unsigned object = make();
    const unsigned done = e().new_atomic(0);
    const unsigned t = e().spawn(
        [=] {
          access(object);
          e().store(done, 1, store_order, {});
        },
        {});
    if (e().load(done, load_order, {}) == 1) destroy(object);
    e().join(t, {});
  });
}

}  // namespace

// A destruction is a write of the object's memory: every access of another thread must
// happen before it. Each program below runs the access first in every execution (or in the
// one the search happens to explore), so only a check at the destruction finds it.
TEST_CASE("use after free: a destruction that an access of another thread does not happen before") {
  // A reader raises `done` after its load; the destroyer frees once it sees `done`. Relaxed,
  // the load need not happen before the free (a real machine may perform it after): no
  // execution of RC11 runs the destruction first (po ∪ rf orders them), hb does not.
  for (auto [store_order, load_order, fails] :
       {std::tuple{relaxed, relaxed, true}, std::tuple{release, relaxed, true},
        std::tuple{relaxed, acquire, true}, std::tuple{release, acquire, false}}) {
    const Result r =
        access_then_destroy([] { return e().new_atomic(0); },
                            [](unsigned x) {
                              e().load(x, relaxed, {"reader.cc", 7});
                            },
                            [](unsigned x) { Engine::destroyed(x); }, store_order, load_order);
    CHECK(r.failure == (fails ? Failure::use_after_free : Failure::none));
    if (fails) {
      CHECK(r.message.find("destroyed") != std::string::npos);
      CHECK(r.message.find("load by thread 1 at reader.cc:7") != std::string::npos);
    }
  }

  // Synchronization through an atomic that is not the platform's, announced to the checker
  // as libstdc++ announces std::shared_ptr's count (annotations.h): a release after the
  // access, an acquire before the destruction.
  static const int count = 0;
  for (bool announced : {false, true}) {
    const Result r = access_then_destroy([] { return e().new_atomic(0); },
                                         [announced](unsigned x) {
                                           e().load(x, relaxed, {});
                                           if (announced) Engine::annotated_release(&count);
                                         },
                                         [announced](unsigned x) {
                                           if (announced) Engine::annotated_acquire(&count);
                                           Engine::destroyed(x);
                                         },
                                         relaxed, relaxed);
    CHECK(r.failure == (announced ? Failure::none : Failure::use_after_free));
  }

  // Check under a lock, use after it: the reader checks that x is not claimed, unlocks,
  // then reads x; the claimer claims it under the lock and frees it. The destruction is no
  // step, and the read is independent of the lock: the search runs the read before the free.
  const Result check_then_use = run([] {
    const unsigned x = e().new_atomic(0);
    const unsigned m = e().new_mutex();
    const unsigned claimed = e().new_atomic(0);
    const unsigned t = e().spawn(
        [=] {
          e().lock(m, {});
          const bool mine = e().load(claimed, relaxed, {}) == 0;
          e().unlock(m, {});
          if (mine) e().load(x, relaxed, {"reader.cc", 9});
        },
        {});
    e().lock(m, {});
    e().store(claimed, 1, relaxed, {});
    e().unlock(m, {});
    Engine::destroyed(x);
    e().join(t, {});
  });
  CHECK(check_then_use.failure == Failure::use_after_free);

  // A reference count, as Rust's Arc::drop (library/alloc/src/sync.rs): a relaxed decrement
  // lets the last owner free the object before the other's read of it; a release decrement
  // and an acquire fence before the free order every owner's accesses before it.
  for (auto [decrement, fence, fails] :
       {std::tuple{relaxed, false, true}, std::tuple{release, false, true},
        std::tuple{release, true, false}, std::tuple{std::memory_order_acq_rel, false, false}}) {
    const Result r = run([decrement = decrement, fence = fence] {
      const unsigned value = e().new_atomic(7);
      const unsigned refs = e().new_atomic(2);
      auto owner = [=] {
        e().load(value, relaxed, {});
        if (e().rmw(refs, RmwOp::sub, 1, decrement, {}) == 1) {
          if (fence) e().fence(acquire, {});
          Engine::destroyed(value);
          Engine::destroyed(refs);
        }
      };
      const unsigned t = e().spawn(owner, {});
      owner();
      e().join(t, {});
    });
    CHECK(r.failure == (fails ? Failure::use_after_free : Failure::none));
  }

  // A cell read, a mutex's unlock, a condvar's notify, each unordered with the destruction.
  for (bool synchronized : {false, true}) {
    const auto order = synchronized ? release : relaxed;
    const auto acquire_order = synchronized ? acquire : relaxed;
    const Result cell =
        access_then_destroy([] { return e().new_cell({}); },
                            [](unsigned c) {
                              e().cell_access(c, false, {"reader.cc", 11});
                            },
                            [](unsigned c) { Engine::cell_destroyed(c); }, order, acquire_order);
    CHECK(cell.failure == (synchronized ? Failure::none : Failure::use_after_free));
    if (!synchronized) CHECK(cell.message.find("reader.cc:11") != std::string::npos);

    const Result mutex = run([=] {
      const unsigned m = e().new_mutex();
      const unsigned done = e().new_atomic(0);
      const unsigned t = e().spawn(
          [=] {
            e().lock(m, {});
            e().store(done, 1, relaxed, {});
            e().unlock(m, {});
          },
          {});
      // Under the lock, `done` read 1 means the holder's unlock happened before the lock.
      if (synchronized) e().lock(m, {});
      const bool done_seen = e().load(done, relaxed, {}) == 1;
      if (synchronized) e().unlock(m, {});
      if (done_seen) Engine::destroyed(m);
      e().join(t, {});
    });
    CHECK(mutex.failure == (synchronized ? Failure::none : Failure::use_after_free));

    // The notify after the unlock (the waiter may return, free the condvar, and the notify
    // come after); under the lock it happens before the waiter's relock.
    const Result condvar = run([=] {
      const unsigned m = e().new_mutex();
      const unsigned cv = e().new_condvar();
      const unsigned flag = e().new_atomic(0);
      const unsigned t = e().spawn(
          [=] {
            e().lock(m, {});
            e().store(flag, 1, relaxed, {});
            if (synchronized) e().notify(cv, false, {});
            e().unlock(m, {});
            if (!synchronized) e().notify(cv, false, {});
          },
          {});
      e().lock(m, {});
      while (e().load(flag, relaxed, {}) == 0) e().wait(cv, m, {});
      e().unlock(m, {});
      Engine::destroyed(cv);
      e().join(t, {});
    });
    CHECK(condvar.failure == (synchronized ? Failure::none : Failure::use_after_free));
  }

  // A mutex destroyed while a thread holds it, a condvar while a thread waits on it.
  CHECK(run([] {
          const unsigned m = e().new_mutex();
          e().lock(m, {});
          Engine::destroyed(m);
        }).failure == Failure::use_after_free);
  Options no_spurious;
  no_spurious.spurious_wakeups = false;
  CHECK(Engine::explore(
            [] {
              const unsigned m = e().new_mutex();
              const unsigned cv = e().new_condvar();
              const unsigned flag = e().new_atomic(0);
              const unsigned t = e().spawn(
                  [=] {
                    e().lock(m, {});
                    if (e().load(flag, relaxed, {}) == 0) e().wait(cv, m, {});
                    e().unlock(m, {});
                  },
                  {});
              e().lock(m, {});
              e().store(flag, 1, relaxed, {});
              e().unlock(m, {});
              Engine::destroyed(cv);  // the waiter may still be waiting
              e().join(t, {});
            },
            no_spurious)
            .failure == Failure::use_after_free);

  // An operation issued before the destruction and scheduled after it: the child's load is
  // pending when the main thread's store runs and the main thread frees x.
  Options replay;
  replay.replay = "0,1,0,1";  // starts, main's store (then the free), the child's load
  const Result pending = Engine::explore(
      [] {
        const unsigned x = e().new_atomic(0);
        const unsigned y = e().new_atomic(0);
        const unsigned t = e().spawn([x] { e().load(x, relaxed, {}); }, {});
        e().store(y, 1, relaxed, {});
        Engine::destroyed(x);
        e().join(t, {});
      },
      replay);
  CHECK(pending.failure == Failure::use_after_free);
}

TEST_CASE("an exception that leaves a thread is a failure with a trace, not a dead process") {
  const auto program = [] {
    const unsigned x = e().new_atomic(0);
    const unsigned child = e().spawn([x] { e().store(x, 1, relaxed, {}); }, {});
    if (e().load(x, relaxed, {}) == 1) throw std::runtime_error("read 1");
    e().join(child, {});
  };
  Options options;
  const Result thrown = Engine::explore(program, options);
  CHECK(thrown.failure == Failure::crash);
  CHECK(thrown.message.find("uncaught exception (what(): read 1)") != std::string::npos);
  CHECK(thrown.trace.find("store") != std::string::npos);
  options.replay = thrown.replay;
  CHECK(Engine::explore(program, options).failure == Failure::crash);
  CHECK(run([] {}).failure == Failure::none);
}
