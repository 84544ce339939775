// Operation-sequence fuzzing of OnceCell (sync/once_cell.h) against a sequential model:
// the value, which future holds the initializing permit, and the FIFO of futures waiting
// for it.
//
// Each iteration: get_or_init with an initializer future the driver completes when it
// chooses, or a plain initializer (sometimes throwing: the exception must come out of
// poll and the next waiter must get its turn); get_or_try_init with an initializer that
// fails (the error comes back, the next waiter tries); futures dropped while waiting or
// while their initializer runs; set (AlreadyInitialized / Initializing errors give the
// value back); get / initialized / ==; take() and copies when no future is alive. Values
// are CloneCounted, each destroyed exactly once; every waker clone is released.
#include "fuzz/fuzz.h"
#include "sync/once_cell.h"
#include "sync/task/mock_task.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using weft::MockTask;
using weft::OnceCell;
using weft::fuzz::CloneCounted;
using weft::fuzz::Rng;
using weft::fuzz::Trace;

struct Value : CloneCounted {
  explicit Value(long v) : CloneCounted(v) {}
  friend bool operator==(const Value& a, const Value& b) { return a.value() == b.value(); }
};

// An initializer future that completes once the driver opens its gate.
struct Gate {
  bool open = false;
};
struct InitFuture {
  std::shared_ptr<Gate> gate;
  long value;
  weft::Poll<Value> poll(weft::Context&) {
    if (!gate->open) return weft::pending;
    return Value(value);
  }
};

using Cell = OnceCell<Value>;
using AsyncInit = std::function<InitFuture()>;
using PlainInit = std::function<Value()>;
using TryInit = std::function<weft::Result<Value, int>()>;

struct InitError : std::runtime_error {
  InitError() : std::runtime_error("initializer failed") {}
};

constexpr int slots = 4;
constexpr int tasks = 2;

enum class Kind { async, plain, plain_throws, try_ok, try_err };
// init: never polled; queued: waits for the permit; granted: the permit was handed to it
// (its next poll runs the initializer); running: its initializer future is pending;
// done: completed (not polled again); dead: its initializer threw (only dropped).
enum class Stage { init, queued, granted, running, done, dead };

struct Slot {
  std::unique_ptr<Cell::GetOrInit<AsyncInit>> async;
  std::unique_ptr<Cell::GetOrInit<PlainInit>> plain;
  std::unique_ptr<Cell::GetOrTryInit<TryInit>> tried;
  std::shared_ptr<Gate> gate;
  Kind kind = Kind::async;
  long value = 0;  // what its initializer produces
  Stage stage = Stage::init;
  int task = -1;
  bool present() const { return async || plain || tried; }
  void reset() {
    async.reset();
    plain.reset();
    tried.reset();
    gate.reset();
    stage = Stage::init;
    task = -1;
  }
};

struct World : weft::fuzz::Tasks<tasks> {
  std::unique_ptr<Cell> cell = std::make_unique<Cell>();
  std::array<Slot, slots> slot;
  // The model.
  std::optional<long> value;
  int holder = -1;        // the slot holding the permit (granted or running)
  std::deque<int> queue;  // waiting for the permit, oldest first
  long next_value = 1;
  void check_waker_refs() {
    require_waker_refs([&](int t) {
      std::size_t expected = 0;
      for (int s : queue) expected += slot[s].task == t ? 1 : 0;
      return expected;
    });
  }
  // The permit goes back (an initializer failed, threw, or its future was dropped).
  void model_release() {
    holder = -1;
    if (queue.empty()) return;
    holder = queue.front();
    queue.pop_front();
    slot[holder].stage = Stage::granted;
    expect_wake(slot[holder].task);
  }
  // The value is stored: the semaphore closes, every waiter is released.
  void model_set(long v) {
    value = v;
    holder = -1;
    for (int q : queue) {
      slot[q].stage = Stage::granted;  // its next poll returns the value
      expect_wake(slot[q].task);
    }
    queue.clear();
  }
  bool any_future() const {
    for (const Slot& s : slot) {
      if (s.present()) return true;
    }
    return false;
  }
};

void drop_slot(World& w, int s, Trace& trace) {
  Slot& sl = w.slot[s];
  if (!sl.present()) return;
  trace.op("f", s, " drop");
  if (sl.stage == Stage::queued) {
    w.queue.erase(std::find(w.queue.begin(), w.queue.end(), s));
  } else if ((sl.stage == Stage::granted || sl.stage == Stage::running) && w.holder == s) {
    w.model_release();
  }
  sl.reset();
  w.check_wakes("a dropped initializer's permit");
}

// What the future in slot s returns when it runs its initializer now (the permit held).
// Returns: 1 ready with the value, 0 pending, -1 error (try_err), -2 throws.
int run_initializer(World& w, Slot& sl, int s) {
  switch (sl.kind) {
    case Kind::async:
      if (!sl.gate->open) {
        sl.stage = Stage::running;
        w.holder = s;
        return 0;
      }
      w.model_set(sl.value);
      return 1;
    case Kind::plain:
    case Kind::try_ok: w.model_set(sl.value); return 1;
    case Kind::plain_throws: w.model_release(); return -2;
    default:  // try_err
      w.model_release();
      return -1;
  }
}

void poll_slot(World& w, int s, int t, Trace& trace) {
  Slot& sl = w.slot[s];
  trace.op("f", s, ".poll as task ", t);
  int outcome = 0;  // as run_initializer
  switch (sl.stage) {
    case Stage::init:
      if (w.value) {
        outcome = 1;
      } else if (w.holder < 0 && w.queue.empty()) {
        w.holder = s;
        outcome = run_initializer(w, sl, s);
      } else {
        sl.stage = Stage::queued;
        sl.task = t;
        w.queue.push_back(s);
      }
      break;
    case Stage::queued: sl.task = t; break;
    case Stage::granted:
      if (w.value) {
        outcome = 1;  // released by the close: the value is there
      } else {
        outcome = run_initializer(w, sl, s);
      }
      break;
    case Stage::running: outcome = run_initializer(w, sl, s); break;
    default: FAIL("model: a finished future is not polled again");
  }
  auto check_ready = [&](auto& p) {
    if (outcome == 0) {
      REQUIRE(p.is_pending());
      return;
    }
    REQUIRE(p.is_ready());
  };
  if (outcome == -2) {
    REQUIRE_THROWS_AS((void)w.task[t].poll(*sl.plain), InitError);
    sl.stage = Stage::dead;
  } else if (sl.async) {
    auto p = w.task[t].poll(*sl.async);
    check_ready(p);
    if (outcome == 1) REQUIRE(p.value().get().value() == *w.value);
  } else if (sl.plain) {
    auto p = w.task[t].poll(*sl.plain);
    check_ready(p);
    if (outcome == 1) REQUIRE(p.value().get().value() == *w.value);
  } else {
    auto p = w.task[t].poll(*sl.tried);
    check_ready(p);
    if (outcome == 1) {
      REQUIRE(p.value().is_ok());
      REQUIRE(p.value().value().get().value() == *w.value);
    } else if (outcome == -1) {
      REQUIRE(p.value().is_err());
      REQUIRE(p.value().error() == 42);
    }
  }
  if (outcome == 1 || outcome == -1) sl.stage = Stage::done;
  if (outcome != 0 || sl.stage != Stage::queued) {
    if (sl.stage != Stage::queued) sl.task = -1;
  }
  w.check_wakes("the initializer's end");
}

// The driver's operations, each picked with its weight in step() below.
enum class Op { new_future, poll, open_gate, drop, set, get, take, copy };

void step(World& w, Rng& rng, Trace& trace) {
  const int s = static_cast<int>(rng.below(slots));
  const int t = static_cast<int>(rng.below(tasks));
  Slot& sl = w.slot[s];
  switch (rng.pick<Op>({{Op::new_future, 5},
                        {Op::poll, 10},
                        {Op::open_gate, 3},
                        {Op::drop, 3},
                        {Op::set, 3},
                        {Op::get, 3},
                        {Op::take, 1},
                        {Op::copy, 1}})) {
    case Op::new_future: {  // a new future
      drop_slot(w, s, trace);
      sl.kind = static_cast<Kind>(rng.below(5));
      sl.value = w.next_value++;
      const long v = sl.value;
      switch (sl.kind) {
        case Kind::async: {
          sl.gate = std::make_shared<Gate>();
          auto gate = sl.gate;
          trace.op("f", s, " = get_or_init(async ", v, ")");
          sl.async =
              std::make_unique<Cell::GetOrInit<AsyncInit>>(w.cell->get_or_init(AsyncInit([gate, v] {
                return InitFuture{gate, v};
              })));
          break;
        }
        case Kind::plain:
          trace.op("f", s, " = get_or_init(", v, ")");
          sl.plain = std::make_unique<Cell::GetOrInit<PlainInit>>(
              w.cell->get_or_init(PlainInit([v] { return Value(v); })));
          break;
        case Kind::plain_throws:
          trace.op("f", s, " = get_or_init(throws)");
          sl.plain = std::make_unique<Cell::GetOrInit<PlainInit>>(
              w.cell->get_or_init(PlainInit([]() -> Value { throw InitError(); })));
          break;
        case Kind::try_ok:
          trace.op("f", s, " = get_or_try_init(Ok ", v, ")");
          sl.tried = std::make_unique<Cell::GetOrTryInit<TryInit>>(w.cell->get_or_try_init(
              TryInit([v]() -> weft::Result<Value, int> { return Value(v); })));
          break;
        default:
          trace.op("f", s, " = get_or_try_init(Err 42)");
          sl.tried = std::make_unique<Cell::GetOrTryInit<TryInit>>(w.cell->get_or_try_init(
              TryInit([]() -> weft::Result<Value, int> { return weft::Err(42); })));
          break;
      }
      break;
    }
    case Op::poll:
      if (!sl.present() || sl.stage == Stage::done || sl.stage == Stage::dead) return;
      poll_slot(w, s, t, trace);
      break;
    case Op::open_gate:  // open an async initializer's gate
      if (!sl.gate || sl.gate->open) return;
      trace.op("f", s, "'s initializer completes (next poll)");
      sl.gate->open = true;
      break;
    case Op::drop: drop_slot(w, s, trace); break;
    case Op::set: {
      const long v = w.next_value++;
      trace.op("set(", v, ")");
      auto r = w.cell->set(Value(v));
      if (w.value) {
        REQUIRE(r.is_err());
        REQUIRE(r.error().is_already_init_err());
        REQUIRE(r.error().value.value() == v);
      } else if (w.holder >= 0) {
        REQUIRE(r.is_err());
        REQUIRE(r.error().is_initializing_err());
        REQUIRE(r.error().value.value() == v);
      } else {
        REQUIRE(r.is_ok());
        w.model_set(v);
      }
      w.check_wakes("set");
      break;
    }
    case Op::get: {  // get / initialized
      trace.op("get() / initialized()");
      const Value* got = w.cell->get();
      REQUIRE((got != nullptr) == w.value.has_value());
      if (got != nullptr) REQUIRE(got->value() == *w.value);
      REQUIRE(w.cell->initialized() == w.value.has_value());
      break;
    }
    case Op::take: {  // take (needs the cell exclusively: no future alive)
      if (w.any_future()) return;
      trace.op("take()");
      std::optional<Value> out = w.cell->take();
      REQUIRE(out.has_value() == w.value.has_value());
      if (out) REQUIRE(out->value() == *w.value);
      w.value.reset();
      REQUIRE(w.cell->get() == nullptr);
      break;
    }
    case Op::copy: {  // a copy compares equal; replace the cell by it (no future alive)
      if (w.any_future()) return;
      trace.op("cell = copy of cell");
      auto copy = std::make_unique<Cell>(*w.cell);
      REQUIRE(*copy == *w.cell);
      w.cell = std::move(copy);
      break;
    }
  }
  w.check_waker_refs();
}

}  // namespace

TEST_CASE("once_cell: random operation sequences against the model") {
  weft::fuzz::run("once_cell", [](Rng& rng, Trace& trace) {
    auto w = std::make_unique<World>();
    if (rng.chance(1, 5)) {
      const long v = w->next_value++;
      trace.op("cell = OnceCell(", v, ")");
      w->cell = std::make_unique<Cell>(Value(v));
      w->value = v;
    }
    const int steps = static_cast<int>(rng.between(1, 80));
    for (int i = 0; i < steps; ++i) {
      step(*w, rng, trace);
      WEFT_FUZZ_LEDGER_CLEAN();
    }
    trace.op("tear down");
    for (int s = 0; s < slots; ++s) drop_slot(*w, s, trace);
    if (rng.chance(1, 2)) {
      std::optional<Value> out = std::move(*w->cell).into_inner();
      REQUIRE(out.has_value() == w->value.has_value());
    }
    w->cell.reset();
    w->require_no_waker_refs();
  });
}
