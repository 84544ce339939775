// Operation-sequence fuzzing of Semaphore (sync/semaphore.h) and its RAII permits against
// a sequential model: a permit count, a closed flag, a FIFO of waiting acquires (with the
// permits already assigned to each) and the permits the driver holds.
//
// Each iteration: acquire / acquire_many / the owned variants (polled from two tasks,
// dropped while queued, polled after close), try_acquire(_many)(_owned), permits dropped
// (given back), forgotten, split (too many: nullopt), merged (with a permit of another
// semaphore: std::invalid_argument, nothing changed; past MAX_PERMITS: std::length_error,
// nothing changed) and move-assigned over live ones; add_permits (overflow:
// std::length_error, nothing added), forget_permits, close; permits and futures given
// back past MAX_PERMITS (saturate, never throw);
// requests above MAX_PERMITS (std::invalid_argument). Each result, each wake and the
// waker clones out are checked against the model. See fuzz/fuzz.h.
#include "fuzz/fuzz.h"
#include "sync/semaphore.h"
#include "sync/task/mock_task.h"

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using weft::MockTask;
using weft::OwnedSemaphorePermit;
using weft::Semaphore;
using weft::SemaphorePermit;
using weft::TryAcquireError;
using weft::fuzz::Rng;
using weft::fuzz::Trace;

constexpr std::size_t MAX = Semaphore::MAX_PERMITS;
constexpr int fut_slots = 4;
constexpr int permit_slots = 4;
constexpr int tasks = 2;

using Stage = weft::fuzz::AcquireStage;
using weft::fuzz::AcquireModel;
using weft::fuzz::AcquirePoll;

struct FutModel : AcquireModel {
  bool owned = false;
};

struct FutSlot {
  std::unique_ptr<Semaphore::Acquire> borrowed;
  std::unique_ptr<Semaphore::AcquireOwned> owned;
  FutModel m;
  bool present() const { return borrowed || owned; }
  void reset() {
    borrowed.reset();
    owned.reset();
  }
};

struct PermitSlot {
  std::optional<SemaphorePermit> borrowed;
  std::optional<OwnedSemaphorePermit> owned;
  bool present() const { return borrowed.has_value() || owned.has_value(); }
  std::size_t count() const {
    return borrowed ? borrowed->num_permits() : owned ? owned->num_permits() : 0;
  }
};

// The model: the count, closed flag and queue of weft::fuzz::PermitModel, over the future
// slots, and the permits the driver holds.
struct World : weft::fuzz::Tasks<tasks>, weft::fuzz::PermitModel {
  std::shared_ptr<Semaphore> sem = std::make_shared<Semaphore>(0);
  Semaphore other{4};  // a second semaphore: its permits must not merge with sem's
  std::array<FutSlot, fut_slots> fut;
  std::array<PermitSlot, permit_slots> permit;
  std::array<std::size_t, permit_slots> held{};  // the model's count per permit slot

  // The permit model's view of the future slots, and the wake a served acquire must see.
  auto at() {
    return [this](int s) -> AcquireModel& { return fut[s].m; };
  }
  auto wake() {
    return [this](AcquireModel& f) { expect_wake(f.task); };
  }
  void check_state() {
    REQUIRE(sem->available_permits() == avail);
    REQUIRE(sem->is_closed() == closed);
    for (int p = 0; p < permit_slots; ++p) REQUIRE(permit[p].count() == held[p]);
    require_waker_refs([&](int t) {
      std::size_t expected = 0;
      for (int s : queue) expected += fut[s].m.task == t ? 1 : 0;
      return expected;
    });
  }
  // add_permits(n) in the model; false: std::length_error, the excess not added.
  bool model_release(std::size_t n) {
    if (n > MAX) return false;  // add_permits refuses it whole
    n = serve_queue(n, at(), wake());
    if (n == 0) return true;
    if (avail > MAX - n) return false;
    avail += n;
    return true;
  }
  // A give-back from a destructor (a permit, a future): never fails; the count
  // saturates at MAX_PERMITS, the excess is forgotten.
  void model_give_back(std::size_t n) {
    if (!model_release(n)) avail = MAX;
  }
};

// The kinds of permit counts pick_count() draws, each with its weight there.
enum class Count { small, near_max, over_max, huge };

std::size_t pick_count(Rng& rng) {
  switch (rng.pick<Count>(
      {{Count::small, 16}, {Count::near_max, 1}, {Count::over_max, 1}, {Count::huge, 1}})) {
    case Count::small: return rng.below(4);
    case Count::near_max: return MAX - rng.below(3);
    case Count::over_max: return MAX + 1;
    case Count::huge: return SIZE_MAX;
  }
  FAIL("unreachable: every Count is a case");
  return 0;
}

void drop_fut(World& w, int s, Trace& trace) {
  FutSlot& sl = w.fut[s];
  if (!sl.present()) return;
  const std::size_t back = w.drop(s, sl.m);  // takes it out of the model's queue
  trace.op("f", s, " drop (gives back ", back, ", saturating)");
  w.model_give_back(back);
  sl.m = FutModel{};
  sl.reset();
  w.check_wakes("a dropped acquire's permits");
}

void drop_permit(World& w, int p, Trace& trace) {
  PermitSlot& sl = w.permit[p];
  if (!sl.present()) return;
  trace.op("p", p, " drop (", w.held[p], " permits back, saturating)");
  w.model_give_back(w.held[p]);
  w.held[p] = 0;
  sl.borrowed.reset();
  sl.owned.reset();
  w.check_wakes("a dropped permit");
}

int free_permit_slot(World& w) {
  for (int p = 0; p < permit_slots; ++p) {
    if (!w.permit[p].present()) return p;
  }
  return -1;
}

void poll_fut(World& w, int s, int t, Trace& trace) {
  FutSlot& sl = w.fut[s];
  FutModel& f = sl.m;
  trace.op("f", s, " (acquire ", f.wanted, f.owned ? ", owned" : "", ").poll as task ", t);
  const AcquirePoll expect = w.poll(s, f, t);
  const int slot = free_permit_slot(w);
  auto finish = [&](auto& p, auto& dest) {
    if (expect == AcquirePoll::pending) {
      REQUIRE(p.is_pending());
      return;
    }
    REQUIRE(p.is_ready());
    REQUIRE(p.value().is_ok() == (expect == AcquirePoll::ok));
    if (expect == AcquirePoll::ok) {
      REQUIRE(p.value().value().num_permits() == f.wanted);
      dest.emplace(std::move(p.value().value()));
    }
  };
  // Where an obtained permit goes: a free slot, or a scratch one forgotten at once.
  std::optional<SemaphorePermit> scratch;
  std::optional<OwnedSemaphorePermit> scratch_owned;
  if (f.owned) {
    auto p = w.task[t].poll(*sl.owned);
    finish(p, slot >= 0 ? w.permit[slot].owned : scratch_owned);
  } else {
    auto p = w.task[t].poll(*sl.borrowed);
    finish(p, slot >= 0 ? w.permit[slot].borrowed : scratch);
  }
  if (expect == AcquirePoll::pending) return;
  f.stage = Stage::done;
  f.task = -1;
  if (expect == AcquirePoll::ok) {
    if (slot >= 0) {
      w.held[slot] = f.wanted;
    } else {
      trace.op("  (no free slot: the permit is forgotten)");
      if (scratch) scratch->forget();
      if (scratch_owned) scratch_owned->forget();
    }
    f.assigned = 0;
  }
  // A failed acquire keeps its assigned permits until the future is dropped.
}

// The driver's operations, each picked with its weight in step() below.
enum class Op {
  acquire,
  poll,
  drop_future,
  try_acquire,
  drop_permit,
  forget,
  split,
  merge,
  add_permits,
  forget_permits,
  close,
  move_assign_permit
};

void step(World& w, Rng& rng, Trace& trace) {
  const int s = static_cast<int>(rng.below(fut_slots));
  const int p = static_cast<int>(rng.below(permit_slots));
  const int t = static_cast<int>(rng.below(tasks));
  switch (rng.pick<Op>({{Op::acquire, 5},
                        {Op::poll, 9},
                        {Op::drop_future, 2},
                        {Op::try_acquire, 5},
                        {Op::drop_permit, 4},
                        {Op::forget, 2},
                        {Op::split, 2},
                        {Op::merge, 2},
                        {Op::add_permits, 4},
                        {Op::forget_permits, 2},
                        {Op::close, 2},
                        {Op::move_assign_permit, 1}})) {
    case Op::acquire: {  // a new acquire future
      drop_fut(w, s, trace);
      const std::size_t n = rng.chance(7, 8) ? rng.below(4) : pick_count(rng);
      const bool owned = rng.chance(1, 3);
      const bool many = n != 1 || rng.chance(1, 2);
      trace.op("f", s, " = ",
               owned ? (many ? "acquire_many_owned(" : "acquire_owned(")
                     : (many ? "acquire_many(" : "acquire("),
               many ? std::to_string(n) : "", ")");
      if (n > MAX) {
        if (owned) {
          REQUIRE_THROWS_AS((void)Semaphore::acquire_many_owned(w.sem, n), std::invalid_argument);
        } else {
          REQUIRE_THROWS_AS((void)w.sem->acquire_many(n), std::invalid_argument);
        }
        return;
      }
      FutSlot& sl = w.fut[s];
      if (owned) {
        sl.owned = std::make_unique<Semaphore::AcquireOwned>(
            many ? Semaphore::acquire_many_owned(w.sem, n) : Semaphore::acquire_owned(w.sem));
      } else {
        sl.borrowed =
            std::make_unique<Semaphore::Acquire>(many ? w.sem->acquire_many(n) : w.sem->acquire());
      }
      sl.m.owned = owned;
      sl.m.wanted = n;
      break;
    }
    case Op::poll:
      if (!w.fut[s].present() || w.fut[s].m.stage == Stage::done) return;
      poll_fut(w, s, t, trace);
      break;
    case Op::drop_future: drop_fut(w, s, trace); break;
    case Op::try_acquire: {  // try_acquire(_many)(_owned) into permit slot p
      drop_permit(w, p, trace);
      const std::size_t n = rng.chance(7, 8) ? rng.below(4) : pick_count(rng);
      const bool owned = rng.chance(1, 3);
      trace.op("p", p, " = try_acquire_many", owned ? "_owned(" : "(", n, ")");
      if (n > MAX) {
        if (owned) {
          REQUIRE_THROWS_AS((void)Semaphore::try_acquire_many_owned(w.sem, n),
                            std::invalid_argument);
        } else {
          REQUIRE_THROWS_AS((void)w.sem->try_acquire_many(n), std::invalid_argument);
        }
        return;
      }
      const bool expect_ok = !w.closed && w.avail >= n;
      auto check = [&](auto r, auto& dest) {
        REQUIRE(r.is_ok() == expect_ok);
        if (expect_ok) {
          REQUIRE(r.value().num_permits() == n);
          dest.emplace(std::move(r.value()));
        } else {
          REQUIRE(r.error() == (w.closed ? TryAcquireError::Closed : TryAcquireError::NoPermits));
        }
      };
      if (owned) {
        check(Semaphore::try_acquire_many_owned(w.sem, n), w.permit[p].owned);
      } else {
        check(w.sem->try_acquire_many(n), w.permit[p].borrowed);
      }
      if (expect_ok) {
        w.avail -= n;
        w.held[p] = n;
      }
      break;
    }
    case Op::drop_permit:  // drop a permit: its permits go back
      drop_permit(w, p, trace);
      break;
    case Op::forget: {
      PermitSlot& sl = w.permit[p];
      if (!sl.present()) return;
      trace.op("p", p, ".forget()");
      if (sl.borrowed) sl.borrowed->forget();
      if (sl.owned) sl.owned->forget();
      w.held[p] = 0;
      break;
    }
    case Op::split: {
      PermitSlot& sl = w.permit[p];
      const int dest = free_permit_slot(w);
      if (!sl.present() || dest < 0) return;
      const std::size_t n = rng.below(w.held[p] + 2);
      trace.op("p", dest, " = p", p, ".split(", n, ")");
      const bool expect = n <= w.held[p];
      if (sl.borrowed) {
        auto part = sl.borrowed->split(n);
        REQUIRE(part.has_value() == expect);
        if (part) w.permit[dest].borrowed.emplace(std::move(*part));
      } else {
        auto part = sl.owned->split(n);
        REQUIRE(part.has_value() == expect);
        if (part) w.permit[dest].owned.emplace(std::move(*part));
      }
      if (expect) {
        w.held[p] -= n;
        w.held[dest] = n;
      }
      break;
    }
    case Op::merge: {  // merge two permits of the same kind, or with another semaphore's
      const int q = static_cast<int>(rng.below(permit_slots));
      PermitSlot& a = w.permit[p];
      if (!a.present()) return;
      if (a.borrowed && rng.chance(1, 3)) {
        trace.op("p", p, ".merge(a permit of another semaphore)");
        auto foreign = w.other.try_acquire();
        REQUIRE(foreign.is_ok());
        REQUIRE_THROWS_AS(a.borrowed->merge(std::move(foreign.value())), std::invalid_argument);
        REQUIRE(foreign.value().num_permits() == 1);  // nothing changed
        break;
      }
      PermitSlot& b = w.permit[q];
      if (q == p || !b.present() || a.borrowed.has_value() != b.borrowed.has_value()) return;
      trace.op("p", p, ".merge(p", q, ")");
      if (w.held[q] > MAX - w.held[p]) {  // more than MAX_PERMITS in one: refused
        if (a.borrowed) {
          REQUIRE_THROWS_AS(a.borrowed->merge(std::move(*b.borrowed)), std::length_error);
        } else {
          REQUIRE_THROWS_AS(a.owned->merge(std::move(*b.owned)), std::length_error);
        }
        break;  // nothing changed (check_state compares both counts)
      }
      if (a.borrowed) {
        a.borrowed->merge(std::move(*b.borrowed));
      } else {
        a.owned->merge(std::move(*b.owned));
      }
      w.held[p] += w.held[q];
      w.held[q] = 0;  // b is left holding nothing
      break;
    }
    case Op::add_permits: {
      const std::size_t n = pick_count(rng);
      trace.op("add_permits(", n, ")");
      if (n > MAX) {
        REQUIRE_THROWS_AS(w.sem->add_permits(n), std::length_error);
        break;
      }
      if (w.model_release(n)) {
        w.sem->add_permits(n);
      } else {
        REQUIRE_THROWS_AS(w.sem->add_permits(n), std::length_error);
      }
      w.check_wakes("add_permits");
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
      // move-assign one permit over another of the same kind: the target's go back
    case Op::move_assign_permit: {
      const int q = static_cast<int>(rng.below(permit_slots));
      PermitSlot& a = w.permit[p];
      PermitSlot& b = w.permit[q];
      if (q == p || !a.present() || !b.present() ||
          a.borrowed.has_value() != b.borrowed.has_value())
        return;
      trace.op("p", p, " = std::move(p", q, ") (p", p, "'s ", w.held[p], " permits go back)");
      w.model_give_back(w.held[p]);
      if (a.borrowed) {
        *a.borrowed = std::move(*b.borrowed);
      } else {
        *a.owned = std::move(*b.owned);
      }
      w.held[p] = w.held[q];
      w.held[q] = 0;
      b.borrowed.reset();  // a moved-from permit is only destroyed
      b.owned.reset();
      w.check_wakes("a permit released by move assignment");
      break;
    }
  }
  w.check_state();
}

}  // namespace

TEST_CASE("semaphore: random operation sequences against the model") {
  weft::fuzz::run("semaphore", [](Rng& rng, Trace& trace) {
    auto w = std::make_unique<World>();
    const std::size_t initial = rng.chance(7, 8) ? rng.below(4) : pick_count(rng);
    trace.op("sem = Semaphore(", initial, ")");
    if (initial > MAX) {
      REQUIRE_THROWS_AS(Semaphore{initial}, std::length_error);
    } else if (rng.chance(1, 10)) {
      trace.op("sem = Semaphore(Semaphore::closed)");
      w->sem = std::make_shared<Semaphore>(Semaphore::closed);
      w->closed = true;
    } else {
      w->sem = std::make_shared<Semaphore>(initial);
      w->avail = initial;
    }
    const int steps = static_cast<int>(rng.between(1, 80));
    for (int i = 0; i < steps; ++i) step(*w, rng, trace);
    trace.op("tear down");
    for (int s = 0; s < fut_slots; ++s) {
      drop_fut(*w, s, trace);  // may saturate at MAX_PERMITS: never throws
      w->check_state();
    }
    for (int p = 0; p < permit_slots; ++p) {
      drop_permit(*w, p, trace);
      w->check_state();
    }
    w->check_state();
    w->sem.reset();  // the last reference (owned permits and futures are gone)
    w->require_no_waker_refs();
  });
}

// Found by this driver: a permit whose give-back would take the semaphore past
// MAX_PERMITS used to terminate the process (SemaphorePermit::release() is noexcept and
// called add_permits, which throws std::length_error). Now a give-back saturates at
// MAX_PERMITS and forgets the excess; only add_permits throws. merge() used to add the
// counts unchecked; now it refuses more than MAX_PERMITS in one permit.
TEST_CASE("semaphore: dropping a permit whose give-back overflows MAX_PERMITS") {
  Semaphore sem(1);
  {
    auto permit = sem.try_acquire();
    REQUIRE(permit.is_ok());
    sem.add_permits(MAX);  // the count is MAX now, with one permit out
    CHECK_THROWS_AS(sem.add_permits(1), std::length_error);  // the explicit path reports
    // ~SemaphorePermit gives 1 back: MAX + 1, saturates.
  }
  CHECK(sem.available_permits() == MAX);
}

TEST_CASE("semaphore: merged permits holding more than MAX_PERMITS") {
  Semaphore sem(MAX);
  auto a = sem.try_acquire_many(MAX);
  REQUIRE(a.is_ok());
  sem.add_permits(2);
  auto b = sem.try_acquire_many(2);
  REQUIRE(b.is_ok());
  CHECK_THROWS_AS(a.value().merge(std::move(b.value())), std::length_error);
  CHECK(a.value().num_permits() == MAX);  // nothing changed
  CHECK(b.value().num_permits() == 2);
  b.value().forget();
  CHECK(sem.available_permits() == 0);
  // ~SemaphorePermit gives MAX back, as at the start.
}
