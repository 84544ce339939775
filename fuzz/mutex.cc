// Operation-sequence fuzzing of Mutex (sync/mutex.h) against a sequential model: who holds
// the lock, the FIFO of waiting lock() futures, and the protected value.
//
// Each iteration: lock() / lock_owned() futures polled from two tasks, dropped while
// queued or after the lock was handed to them (it must pass to the next waiter),
// try_lock / try_lock_owned (TryLockError while held), guards that write the value,
// map / try_map (nullptr gives the guard back) on plain and owned guards, guards moved and
// move-assigned, get_mut and into_inner when nobody holds the lock. The value written
// under one guard must be seen by the next; every waiter is woken in FIFO order; every
// waker clone is released. See fuzz/fuzz.h.
#include "fuzz/fuzz.h"
#include "sync/mutex.h"
#include "sync/task/mock_task.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using weft::MockTask;
using weft::Mutex;
using weft::fuzz::Rng;
using weft::fuzz::Trace;

struct Data {
  long a = 0;
  long b = 0;
};
using M = Mutex<Data>;

constexpr int fut_slots = 4;
constexpr int tasks = 2;

enum class Stage { init, queued, granted, done };

struct FutSlot {
  std::unique_ptr<M::Lock> borrowed;
  std::unique_ptr<M::LockOwned> owned;
  Stage stage = Stage::init;
  int task = -1;
  bool present() const { return borrowed || owned; }
};

// The one guard that may exist at a time, in one of its forms.
struct GuardSlot {
  std::optional<weft::MutexGuard<Data>> plain;
  std::optional<weft::OwnedMutexGuard<Data>> owned;
  std::optional<weft::MappedMutexGuard<long>> mapped;
  std::optional<weft::OwnedMappedMutexGuard<Data, long>> owned_mapped;
  bool mapped_to_b = false;
  bool present() const { return plain || owned || mapped || owned_mapped; }
  void reset() {
    plain.reset();
    owned.reset();
    mapped.reset();
    owned_mapped.reset();
  }
};

struct World : weft::fuzz::Tasks<tasks> {
  std::shared_ptr<M> mutex = std::make_shared<M>();
  std::array<FutSlot, fut_slots> fut;
  GuardSlot guard;
  // The model.
  bool free = true;
  std::deque<int> queue;
  Data value;
  long next_value = 1;
  // The lock is given back (a guard dropped, a granted future cancelled).
  void model_unlock() {
    if (queue.empty()) {
      free = true;
      return;
    }
    FutSlot& f = fut[queue.front()];
    queue.pop_front();
    f.stage = Stage::granted;
    expect_wake(f.task);
  }
  void check_waker_refs() {
    require_waker_refs([&](int t) {
      std::size_t expected = 0;
      for (int s : queue) expected += fut[s].task == t ? 1 : 0;
      return expected;
    });
  }
};

void drop_guard(World& w, Trace& trace) {
  if (!w.guard.present()) return;
  trace.op("guard drop (unlocks)");
  w.model_unlock();
  w.guard.reset();
  w.check_wakes("an unlock");
}

void drop_fut(World& w, int s, Trace& trace) {
  FutSlot& f = w.fut[s];
  if (!f.present()) return;
  trace.op("f", s, " drop");
  if (f.stage == Stage::queued) {
    w.queue.erase(std::find(w.queue.begin(), w.queue.end(), s));
  } else if (f.stage == Stage::granted) {
    w.model_unlock();  // the lock handed to it passes on
  }
  f.borrowed.reset();
  f.owned.reset();
  f.stage = Stage::init;
  f.task = -1;
  w.check_wakes("a cancelled lock() that had the lock");
}

// A guard was obtained: it must see the value the last guard left.
template <class G>
void take_guard(World& w, G&& g, std::optional<std::remove_cvref_t<G>>& slot) {
  REQUIRE(g->a == w.value.a);
  REQUIRE(g->b == w.value.b);
  slot.emplace(std::move(g));
}

// The driver's operations, each picked with its weight in step() below.
enum class Op {
  lock,
  poll,
  drop_future,
  try_lock,
  write,
  map,
  drop_guard,
  get_mut,
  move_assign_guard
};

void step(World& w, Rng& rng, Trace& trace) {
  const int s = static_cast<int>(rng.below(fut_slots));
  const int t = static_cast<int>(rng.below(tasks));
  FutSlot& f = w.fut[s];
  switch (rng.pick<Op>({{Op::lock, 4},
                        {Op::poll, 8},
                        {Op::drop_future, 2},
                        {Op::try_lock, 4},
                        {Op::write, 5},
                        {Op::map, 3},
                        {Op::drop_guard, 2},
                        {Op::get_mut, 1},
                        {Op::move_assign_guard, 1}})) {
    case Op::lock: {  // a new lock() / lock_owned() future
      drop_fut(w, s, trace);
      const bool owned = rng.chance(1, 3);
      trace.op("f", s, owned ? " = lock_owned()" : " = lock()");
      if (owned) {
        f.owned = std::make_unique<M::LockOwned>(M::lock_owned(w.mutex));
      } else {
        f.borrowed = std::make_unique<M::Lock>(w.mutex->lock());
      }
      break;
    }
    case Op::poll: {  // poll (a completed future is not polled again)
      if (!f.present() || f.stage == Stage::done) return;
      trace.op("f", s, ".poll as task ", t);
      bool expect_ready = false;
      if (f.stage == Stage::init) {
        if (w.free) {
          w.free = false;
          expect_ready = true;
        } else {
          f.stage = Stage::queued;
          w.queue.push_back(s);
        }
      } else if (f.stage == Stage::granted) {
        expect_ready = true;
      }
      if (expect_ready && w.guard.present()) {
        FAIL("model: two guards at once");
      }
      if (f.borrowed) {
        auto p = w.task[t].poll(*f.borrowed);
        REQUIRE(p.is_ready() == expect_ready);
        if (expect_ready) take_guard(w, std::move(p.value()), w.guard.plain);
      } else {
        auto p = w.task[t].poll(*f.owned);
        REQUIRE(p.is_ready() == expect_ready);
        if (expect_ready) take_guard(w, std::move(p.value()), w.guard.owned);
      }
      if (expect_ready) {
        f.stage = Stage::done;
        f.task = -1;
      } else {
        f.task = t;
      }
      break;
    }
    case Op::drop_future: drop_fut(w, s, trace); break;
    case Op::try_lock: {  // try_lock / try_lock_owned
      if (w.guard.present()) {
        trace.op("try_lock() while held");
        REQUIRE(w.mutex->try_lock().is_err());
        REQUIRE(M::try_lock_owned(w.mutex).is_err());
        break;
      }
      const bool owned = rng.chance(1, 2);
      trace.op(owned ? "guard = try_lock_owned()" : "guard = try_lock()");
      if (owned) {
        auto r = M::try_lock_owned(w.mutex);
        REQUIRE(r.is_ok() == w.free);
        if (r.is_ok()) take_guard(w, std::move(r.value()), w.guard.owned);
      } else {
        auto r = w.mutex->try_lock();
        REQUIRE(r.is_ok() == w.free);
        if (r.is_ok()) take_guard(w, std::move(r.value()), w.guard.plain);
      }
      if (w.guard.present()) w.free = false;
      break;
    }
    case Op::write: {  // write through the guard
      GuardSlot& g = w.guard;
      if (!g.present()) return;
      const long v = w.next_value++;
      trace.op("guard writes ", v);
      if (g.plain) {
        (*g.plain)->a = v;
        w.value.a = v;
      } else if (g.owned) {
        (*g.owned)->b = v;
        w.value.b = v;
      } else {
        long& field = g.mapped ? **g.mapped : **g.owned_mapped;
        REQUIRE(field == (g.mapped_to_b ? w.value.b : w.value.a));
        field = v;
        (g.mapped_to_b ? w.value.b : w.value.a) = v;
      }
      break;
    }
    case Op::map: {  // map / try_map
      GuardSlot& g = w.guard;
      if (!(g.plain || g.owned)) return;
      const int how = static_cast<int>(rng.below(3));
      trace.op("guard = ", how == 0   ? "map(to a)"
                           : how == 1 ? "try_map(to b)"
                                      : "try_map(nullptr)");
      if (g.plain) {
        weft::MutexGuard<Data> src(std::move(*g.plain));
        g.plain.reset();
        if (how == 0) {
          g.mapped.emplace(
              weft::MutexGuard<Data>::map(std::move(src), [](Data& d) -> long& { return d.a; }));
          g.mapped_to_b = false;
        } else {
          auto r = weft::MutexGuard<Data>::try_map(
              std::move(src), [how](Data& d) -> long* { return how == 1 ? &d.b : nullptr; });
          REQUIRE(r.is_ok() == (how == 1));
          if (r.is_ok()) {
            g.mapped.emplace(std::move(r.value()));
            g.mapped_to_b = true;
          } else {
            g.plain.emplace(std::move(r.error()));  // the guard comes back, still locked
          }
        }
      } else {
        weft::OwnedMutexGuard<Data> src(std::move(*g.owned));
        g.owned.reset();
        if (how == 0) {
          g.owned_mapped.emplace(weft::OwnedMutexGuard<Data>::map(
              std::move(src), [](Data& d) -> long& { return d.a; }));
          g.mapped_to_b = false;
        } else {
          auto r = weft::OwnedMutexGuard<Data>::try_map(
              std::move(src), [how](Data& d) -> long* { return how == 1 ? &d.b : nullptr; });
          REQUIRE(r.is_ok() == (how == 1));
          if (r.is_ok()) {
            g.owned_mapped.emplace(std::move(r.value()));
            g.mapped_to_b = true;
          } else {
            g.owned.emplace(std::move(r.error()));
          }
        }
      }
      REQUIRE(w.mutex->try_lock().is_err());  // still locked
      break;
    }
    case Op::drop_guard: drop_guard(w, trace); break;
    case Op::get_mut: {  // get_mut / into_inner when nobody holds or waits for the lock
      if (!w.free || !w.queue.empty()) return;
      bool any = false;
      for (const FutSlot& o : w.fut) any = any || (o.present() && o.stage != Stage::init);
      if (any) return;
      trace.op("get_mut()");
      Data& d = w.mutex->get_mut();
      REQUIRE(d.a == w.value.a);
      REQUIRE(d.b == w.value.b);
      break;
    }
    case Op::move_assign_guard: {  // move-assign a guard over another: the target unlocks first
      GuardSlot& g = w.guard;
      if (!g.plain) return;
      trace.op("guard moved out and back");
      weft::MutexGuard<Data> tmp(std::move(*g.plain));
      *g.plain = std::move(tmp);
      REQUIRE((*g.plain)->a == w.value.a);
      break;
    }
  }
  w.check_waker_refs();
}

}  // namespace

TEST_CASE("mutex: random operation sequences against the model") {
  weft::fuzz::run("mutex", [](Rng& rng, Trace& trace) {
    auto w = std::make_unique<World>();
    const int steps = static_cast<int>(rng.between(1, 80));
    for (int i = 0; i < steps; ++i) step(*w, rng, trace);
    trace.op("tear down");
    if (rng.chance(1, 2)) drop_guard(*w, trace);
    for (int s = 0; s < fut_slots; ++s) drop_fut(*w, s, trace);
    drop_guard(*w, trace);
    REQUIRE(w->free);
    auto last = w->mutex;
    w->mutex.reset();
    Data d = std::move(*last).into_inner();
    REQUIRE(d.a == w->value.a);
    REQUIRE(d.b == w->value.b);
    w->require_no_waker_refs();
  });
}
