// Operation-sequence fuzzing of BatchSemaphore (sync/detail/batch_semaphore.h) against a
// sequential model: a permit count, a closed flag and a FIFO of waiters, each with the
// permits it still needs and those already assigned to it.
//
// Each iteration creates a semaphore (with 0..3 permits, or close to MAX_PERMITS, or
// more than MAX_PERMITS: std::length_error), and applies acquire futures (polled from two
// tasks, dropped while queued with permits assigned, polled again after close),
// try_acquire, release (0, a few, huge: overflow must throw std::length_error and add
// nothing), forget_permits, close, and requests above MAX_PERMITS (std::invalid_argument).
// A dropped future's give-back never throws: it saturates at MAX_PERMITS.
// Each result, each wake and the number of waker clones out are checked against the
// model. See fuzz/fuzz.h for the seed and budget.
#include "fuzz/fuzz.h"
#include "sync/detail/batch_semaphore.h"
#include "sync/task/mock_task.h"

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using weft::AcquireError;
using weft::MockTask;
using weft::TryAcquireError;
using weft::detail::BatchSemaphore;
using weft::fuzz::Rng;
using weft::fuzz::Trace;

constexpr std::size_t MAX = BatchSemaphore::MAX_PERMITS;
constexpr int slots = 5;
constexpr int tasks = 2;

// The stages are weft::fuzz::AcquireStage's. A done acquire either returned Ok (the
// driver holds the permits in `held`) or AcquireError (`failed`; polled again, it fails
// again).
using Stage = weft::fuzz::AcquireStage;
using weft::fuzz::AcquireModel;
using weft::fuzz::AcquirePoll;

struct FutModel : AcquireModel {
  bool failed = false;   // done with AcquireError
  std::size_t held = 0;  // permits obtained (done with Ok), released or forgotten on drop
};

struct Slot {
  std::unique_ptr<BatchSemaphore::Acquire> fut;
  FutModel m;
};

// The model: the count, closed flag and queue of weft::fuzz::PermitModel, over the slots.
struct World : weft::fuzz::Tasks<tasks>, weft::fuzz::PermitModel {
  std::unique_ptr<BatchSemaphore> sem;
  std::array<Slot, slots> slot;

  // The permit model's view of the slots, and the wake a served acquire must see.
  auto at() {
    return [this](int s) -> AcquireModel& { return slot[s].m; };
  }
  auto wake() {
    return [this](AcquireModel& f) { expect_wake(f.task); };
  }
  void check_state() {
    REQUIRE(sem->available_permits() == avail);
    REQUIRE(sem->is_closed() == closed);
    require_waker_refs([&](int t) {
      std::size_t expected = 0;
      for (int s : queue) expected += slot[s].m.task == t ? 1 : 0;
      return expected;
    });
  }
  // release(n) in the model: the waiters first, oldest first, then the count. Returns
  // false when the count would overflow: std::length_error, the excess not added (the
  // waiters still got theirs).
  bool model_release(std::size_t n) {
    n = serve_queue(n, at(), wake());
    if (n == 0) return true;
    if (avail > MAX - n) return false;
    avail += n;
    return true;
  }
  // A give-back that cannot fail (a dropped future): as model_release, but the count
  // saturates at MAX_PERMITS and the excess is forgotten.
  void model_give_back(std::size_t n) {
    if (!model_release(n)) avail = MAX;
  }
};

// The kinds of permit counts pick_count() draws, each with its weight there.
enum class Count { small, max, near_max, over_max, huge };

std::size_t pick_count(Rng& rng) {
  switch (rng.pick<Count>({{Count::small, 16},
                           {Count::max, 1},
                           {Count::near_max, 1},
                           {Count::over_max, 1},
                           {Count::huge, 1}})) {
    case Count::small: return rng.below(5);
    case Count::max: return MAX;
    case Count::near_max: return MAX - rng.below(3);
    case Count::over_max: return MAX + 1 + rng.below(2);
    case Count::huge: return SIZE_MAX - rng.below(2);
  }
  FAIL("unreachable: every Count is a case");
  return 0;
}

// Drops the future in slot s: its assigned permits go back (saturating at MAX_PERMITS,
// never throwing); permits it obtained are released (or forgotten) by the driver.
void drop_fut(World& w, int s, Rng& rng, Trace& trace) {
  Slot& sl = w.slot[s];
  if (!sl.fut) return;
  FutModel& f = sl.m;
  const std::size_t back = w.drop(s, f);  // takes it out of the model's queue
  trace.op("f", s, " drop (gives back ", back, ", saturating at MAX_PERMITS)");
  w.model_give_back(back);
  const std::size_t held = f.held;
  f = FutModel{};
  sl.fut.reset();
  w.check_wakes("the permits a dropped acquire gave back");
  if (held > 0) {
    if (rng.chance(1, 2)) {
      trace.op("  release(", held, ") (the permits f", s, " obtained)");
      const bool ok = w.model_release(held);
      if (ok) {
        w.sem->release(held);
      } else {
        REQUIRE_THROWS_AS(w.sem->release(held), std::length_error);
      }
      w.check_wakes("release");
    } else {
      trace.op("  (the ", held, " permits f", s, " obtained are forgotten)");
    }
  }
}

void new_semaphore(World& w, Rng& rng, Trace& trace) {
  for (int s = 0; s < slots; ++s) drop_fut(w, s, rng, trace);
  w.sem.reset();
  w.queue.clear();
  w.closed = false;
  w.avail = 0;
  if (rng.chance(1, 8)) {
    trace.op("sem = BatchSemaphore(closed)");
    w.sem = std::make_unique<BatchSemaphore>(BatchSemaphore::closed_tag);
    w.closed = true;
    return;
  }
  const std::size_t n = rng.chance(3, 4) ? rng.below(4) : pick_count(rng);
  trace.op("sem = BatchSemaphore(", n, ")");
  if (n > MAX) {
    REQUIRE_THROWS_AS(BatchSemaphore{n}, std::length_error);
    w.sem = std::make_unique<BatchSemaphore>(0);
    return;
  }
  w.sem = std::make_unique<BatchSemaphore>(n);
  w.avail = n;
}

void poll_fut(World& w, int s, int t, Trace& trace) {
  Slot& sl = w.slot[s];
  FutModel& f = sl.m;
  trace.op("f", s, " (acquire ", f.wanted, ").poll as task ", t);
  // A failed acquire fails again; one that returned Ok is never polled again (poll FAILs).
  const AcquirePoll expect =
      f.stage == Stage::done && f.failed ? AcquirePoll::err : w.poll(s, f, t);
  auto p = w.task[t].poll(*sl.fut);
  if (expect == AcquirePoll::ok) {
    REQUIRE(p.is_ready());
    REQUIRE(p.value().is_ok());
    f.stage = Stage::done;
    f.held = f.wanted;
    f.assigned = 0;
  } else if (expect == AcquirePoll::err) {
    REQUIRE(p.is_ready());
    REQUIRE(p.value().is_err());
    f.stage = Stage::done;
    f.failed = true;
  } else {
    REQUIRE(p.is_pending());
  }
}

// The driver's operations, each picked with its weight in step() below.
enum class Op {
  acquire,
  poll,
  drop,
  release,
  try_acquire,
  forget_permits,
  close,
  move_unpolled,
  new_semaphore
};

void step(World& w, Rng& rng, Trace& trace) {
  const int s = static_cast<int>(rng.below(slots));
  const int t = static_cast<int>(rng.below(tasks));
  Slot& sl = w.slot[s];
  switch (rng.pick<Op>({{Op::acquire, 5},
                        {Op::poll, 10},
                        {Op::drop, 3},
                        {Op::release, 6},
                        {Op::try_acquire, 4},
                        {Op::forget_permits, 2},
                        {Op::close, 2},
                        {Op::move_unpolled, 2},
                        {Op::new_semaphore, 1}})) {
    case Op::acquire: {  // a new acquire future in slot s (dropping what was there)
      drop_fut(w, s, rng, trace);
      const std::size_t n = rng.chance(7, 8) ? rng.below(5) : pick_count(rng);
      trace.op("f", s, " = acquire(", n, ")");
      if (n > MAX) {
        REQUIRE_THROWS_AS((void)w.sem->acquire(n), std::invalid_argument);
        return;
      }
      sl.fut = std::make_unique<BatchSemaphore::Acquire>(w.sem->acquire(n));
      sl.m.wanted = n;
      break;
    }
    case Op::poll:
      if (!sl.fut || (sl.m.stage == Stage::done && !sl.m.failed)) return;
      poll_fut(w, s, t, trace);
      break;
    case Op::drop:  // drop a future at whatever stage
      drop_fut(w, s, rng, trace);
      break;
    case Op::release: {
      const std::size_t n = pick_count(rng);
      trace.op("release(", n, ")");
      if (n > MAX) {
        REQUIRE_THROWS_AS(w.sem->release(n), std::length_error);
        break;
      }
      if (w.model_release(n)) {
        w.sem->release(n);
      } else {
        REQUIRE_THROWS_AS(w.sem->release(n), std::length_error);
      }
      w.check_wakes("release");
      break;
    }
    case Op::try_acquire: {
      const std::size_t n = pick_count(rng);
      trace.op("try_acquire(", n, ")");
      if (n > MAX) {
        REQUIRE_THROWS_AS((void)w.sem->try_acquire(n), std::invalid_argument);
        break;
      }
      auto r = w.sem->try_acquire(n);
      if (w.closed) {
        REQUIRE(r.is_err());
        REQUIRE(r.error() == TryAcquireError::Closed);
      } else if (w.avail < n) {
        REQUIRE(r.is_err());
        REQUIRE(r.error() == TryAcquireError::NoPermits);
      } else {
        REQUIRE(r.is_ok());
        w.avail -= n;
      }
      break;
    }
    case Op::forget_permits: {
      const std::size_t n = pick_count(rng);
      trace.op("forget_permits(", n, ")");
      REQUIRE(w.sem->forget_permits(n) == w.forget(n));
      break;
    }
    case Op::close: {
      trace.op("close()");
      w.close(w.at(), w.wake());
      w.sem->close();
      w.check_wakes("close");
      break;
    }
    case Op::move_unpolled:  // move a future that was never polled (allowed before the first poll)
      if (!sl.fut || sl.m.stage != Stage::init) return;
      trace.op("f", s, " moved");
      sl.fut = std::make_unique<BatchSemaphore::Acquire>(std::move(*sl.fut));
      break;
    case Op::new_semaphore: new_semaphore(w, rng, trace); break;
  }
  w.check_state();
}

}  // namespace

TEST_CASE("batch_semaphore: random operation sequences against the model") {
  weft::fuzz::run("batch_semaphore", [](Rng& rng, Trace& trace) {
    auto w = std::make_unique<World>();
    w->sem = std::make_unique<BatchSemaphore>(0);
    new_semaphore(*w, rng, trace);
    const int steps = static_cast<int>(rng.between(1, 80));
    for (int i = 0; i < steps; ++i) step(*w, rng, trace);
    trace.op("tear down");
    for (int s = 0; s < slots; ++s) {
      drop_fut(*w, s, rng, trace);  // may saturate: never throws
      w->check_state();
    }
    w->sem.reset();
    w->require_no_waker_refs();
  });
}

// Found by this driver: giving back assigned permits from ~Acquire used to throw
// std::length_error out of the (noexcept) destructor: std::terminate. Now the give-back
// saturates at MAX_PERMITS and forgets the excess (sync/detail/batch_semaphore.h,
// "Overflow on give-back").
TEST_CASE("batch_semaphore: dropping an acquire whose give-back overflows MAX_PERMITS") {
  BatchSemaphore sem(5);
  MockTask task;
  {
    auto acquire = sem.acquire(10);
    REQUIRE(task.poll(acquire).is_pending());  // took the 5 permits, waits for 5 more
    sem.close();                               // out of the queue, keeps its 5
    sem.release(MAX);                          // allowed after close: counted
    // ~Acquire gives the 5 back: MAX + 5 > MAX_PERMITS, saturates.
  }
  CHECK(sem.available_permits() == MAX);
  CHECK(sem.is_closed());
}
