// Operation-sequence fuzzing of Barrier (sync/barrier.h) against a sequential model (the
// arrivals of the current generation and the generation count).
//
// Each iteration: Barrier(0) (behaves as 1) or Barrier(1..4); wait() futures created,
// moved before their first poll, polled from two tasks (the first poll arrives), polled
// again after they completed (same result), dropped before arriving (they never count) or
// after (they still count). Exactly one leader per generation; every waiter of a full
// generation is woken; every waker clone is released. See fuzz/fuzz.h.
#include "fuzz/fuzz.h"
#include "sync/barrier.h"
#include "sync/task/mock_task.h"

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using weft::Barrier;
using weft::MockTask;
using weft::fuzz::Rng;
using weft::fuzz::Trace;

constexpr int slots = 6;
constexpr int tasks = 2;

struct FutSlot {
  std::optional<Barrier::Wait> fut;
  bool arrived = false;
  std::size_t generation = 0;
  std::optional<bool> result;  // completed: leader or not
  int task = -1;               // its waker, while waiting
  void clear() {
    fut.reset();  // Wait has no move assignment
    arrived = false;
    generation = 0;
    result.reset();
    task = -1;
  }
};

struct World : weft::fuzz::Tasks<tasks> {
  std::unique_ptr<Barrier> barrier;
  std::array<FutSlot, slots> fut;
  std::size_t n = 1;
  std::size_t arrived = 0;
  std::size_t generation = 0;
  std::size_t leaders = 0;

  void check_waker_refs() {
    require_waker_refs([&](int t) {
      std::size_t expected = 0;
      for (const FutSlot& f : fut) {
        expected +=
            (f.fut && f.arrived && !f.result && f.generation == generation && f.task == t) ? 1 : 0;
      }
      return expected;
    });
  }
};

void poll_fut(World& w, int s, int t, Trace& trace) {
  FutSlot& f = w.fut[s];
  trace.op("f", s, ".poll as task ", t);
  std::optional<bool> expect;
  if (f.result) {
    expect = f.result;
  } else if (!f.arrived) {
    f.arrived = true;
    f.generation = w.generation;
    if (++w.arrived == w.n) {
      // The leader: every other waiter of this generation completes.
      for (FutSlot& o : w.fut) {
        if (o.fut && o.arrived && !o.result && o.generation == w.generation && o.task >= 0) {
          w.expect_wake(o.task);
        }
      }
      w.arrived = 0;
      ++w.generation;
      expect = true;
    }
  } else if (f.generation != w.generation) {
    expect = false;
  }
  auto p = w.task[t].poll(*f.fut);
  if (expect) {
    REQUIRE(p.is_ready());
    REQUIRE(p.value().is_leader() == *expect);
    if (!f.result && *expect) ++w.leaders;
    f.result = expect;
    f.task = -1;
  } else {
    REQUIRE(p.is_pending());
    f.task = t;
  }
  w.check_wakes("its generation filling up");
}

// The driver's operations, each picked with its weight in step() below.
enum class Op { wait, poll, drop, move_unpolled };

void step(World& w, Rng& rng, Trace& trace) {
  const int s = static_cast<int>(rng.below(slots));
  const int t = static_cast<int>(rng.below(tasks));
  FutSlot& f = w.fut[s];
  switch (rng.pick<Op>({{Op::wait, 4}, {Op::poll, 8}, {Op::drop, 2}, {Op::move_unpolled, 1}})) {
    case Op::wait:  // a new wait() future (dropping what was there)
      if (f.fut) trace.op("f", s, " drop");
      f.clear();
      trace.op("f", s, " = wait()");
      f.fut.emplace(w.barrier->wait());
      break;
    case Op::poll:
      if (!f.fut) return;
      poll_fut(w, s, t, trace);
      break;
    case Op::drop:  // drop (after arriving it still counts: not cancel-safe, as documented)
      if (!f.fut) return;
      trace.op("f", s, " drop", f.arrived && !f.result ? " (arrived: still counts)" : "");
      f.clear();
      break;
    case Op::move_unpolled: {  // move a future never polled
      if (!f.fut || f.arrived) return;
      trace.op("f", s, " moved out and back (never polled)");
      Barrier::Wait tmp(std::move(*f.fut));
      f.fut.reset();
      f.fut.emplace(std::move(tmp));
      break;
    }
  }
  w.check_waker_refs();
}

}  // namespace

TEST_CASE("barrier: random operation sequences against the model") {
  weft::fuzz::run("barrier", [](Rng& rng, Trace& trace) {
    auto w = std::make_unique<World>();
    const std::size_t n = rng.below(5);
    trace.op("Barrier(", n, ")");
    w->barrier = std::make_unique<Barrier>(n);
    w->n = n == 0 ? 1 : n;
    const int steps = static_cast<int>(rng.between(1, 80));
    for (int i = 0; i < steps; ++i) step(*w, rng, trace);
    REQUIRE(w->leaders == w->generation);  // exactly one leader per full generation
    trace.op("tear down");
    for (FutSlot& f : w->fut) f.clear();
    w->barrier.reset();
    w->require_no_waker_refs();
  });
}
