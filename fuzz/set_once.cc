// Operation-sequence fuzzing of SetOnce (sync/set_once.h) against a sequential model
// (an optional value and the pending wait() futures).
//
// Each iteration works on two cells (empty, built with a value, or copied from the
// other): set (a second set must give the value back in SetOnceError), get, initialized,
// operator==, wait() futures polled from two tasks, polled again after they completed,
// and dropped while pending; at the end into_inner() on one cell. Every value is a
// CloneCounted (the copy constructor copies it), destroyed exactly once; every waker
// clone is released. See fuzz/fuzz.h.
#include "fuzz/fuzz.h"
#include "sync/set_once.h"
#include "sync/task/mock_task.h"

#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using weft::MockTask;
using weft::SetOnce;
using weft::fuzz::CloneCounted;
using weft::fuzz::Rng;
using weft::fuzz::Trace;

// CloneCounted has no operator==; SetOnce's needs one.
struct Value : CloneCounted {
  explicit Value(long v) : CloneCounted(v) {}
  friend bool operator==(const Value& a, const Value& b) { return a.value() == b.value(); }
};

using Cell = SetOnce<Value>;

constexpr int cells = 2;
constexpr int fut_slots = 4;
constexpr int tasks = 2;

struct FutSlot {
  std::unique_ptr<Cell::Wait> fut;
  int cell = 0;
  int task = -1;  // registered while pending
  bool done = false;
};

struct World : weft::fuzz::Tasks<tasks> {
  std::array<std::unique_ptr<Cell>, cells> cell;
  std::array<std::optional<long>, cells> model;
  std::array<FutSlot, fut_slots> fut;
  long next_value = 1;
  void check_waker_refs() {
    require_waker_refs([&](int t) {
      std::size_t expected = 0;
      for (const FutSlot& f : fut) expected += (f.fut && !f.done && f.task == t) ? 1 : 0;
      return expected;
    });
  }
  void drop_futures_of(int c, Trace& trace) {
    for (int s = 0; s < fut_slots; ++s) {
      if (fut[s].fut && fut[s].cell == c) {
        trace.op("w", s, " drop");
        fut[s] = FutSlot{};
      }
    }
  }
  void new_cell(int c, Rng& rng, Trace& trace) {
    drop_futures_of(c, trace);  // they borrow the cell
    switch (rng.below(3)) {
      case 0:
        trace.op("cell", c, " = SetOnce()");
        cell[c] = std::make_unique<Cell>();
        model[c].reset();
        break;
      case 1: {
        const long v = next_value++;
        trace.op("cell", c, " = SetOnce(", v, ")");
        cell[c] = std::make_unique<Cell>(Value(v));
        model[c] = v;
        break;
      }
      default: {
        const int from = 1 - c;
        if (!cell[from]) return new_cell(c, rng, trace);
        trace.op("cell", c, " = copy of cell", from);
        cell[c] = std::make_unique<Cell>(*cell[from]);
        model[c] = model[from];
        break;
      }
    }
  }
};

// The driver's operations, each picked with its weight in step() below.
enum class Op { new_cell, set, get, equals, wait, poll, drop_future };

void step(World& w, Rng& rng, Trace& trace) {
  const int c = static_cast<int>(rng.below(cells));
  const int s = static_cast<int>(rng.below(fut_slots));
  const int t = static_cast<int>(rng.below(tasks));
  switch (rng.pick<Op>({{Op::new_cell, 1},
                        {Op::set, 4},
                        {Op::get, 3},
                        {Op::equals, 3},
                        {Op::wait, 4},
                        {Op::poll, 8},
                        {Op::drop_future, 2}})) {
    case Op::new_cell: w.new_cell(c, rng, trace); break;
    case Op::set: {
      const long v = w.next_value++;
      trace.op("cell", c, ".set(", v, ")");
      if (!w.model[c]) {
        for (FutSlot& f : w.fut) {
          if (f.fut && f.cell == c && !f.done && f.task >= 0) {
            w.expect_wake(f.task);  // woken: the waker is used up
          }
        }
      }
      auto r = w.cell[c]->set(Value(v));
      if (w.model[c]) {
        REQUIRE(r.is_err());
        REQUIRE(r.error().value.value() == v);  // the value comes back
      } else {
        REQUIRE(r.is_ok());
        w.model[c] = v;
      }
      w.check_wakes("set");
      break;
    }
    case Op::get: {  // get / initialized
      trace.op("cell", c, ".get() / initialized()");
      const Value* got = w.cell[c]->get();
      REQUIRE((got != nullptr) == w.model[c].has_value());
      if (got != nullptr) REQUIRE(got->value() == *w.model[c]);
      REQUIRE(w.cell[c]->initialized() == w.model[c].has_value());
      break;
    }
    case Op::equals: {  // operator==
      trace.op("cell0 == cell1");
      REQUIRE((*w.cell[0] == *w.cell[1]) == (w.model[0] == w.model[1]));
      break;
    }
    case Op::wait: {  // a new wait() future (dropping what was there)
      if (w.fut[s].fut) trace.op("w", s, " drop");
      w.fut[s] = FutSlot{};
      trace.op("w", s, " = cell", c, ".wait()");
      w.fut[s].fut = std::make_unique<Cell::Wait>(w.cell[c]->wait());
      w.fut[s].cell = c;
      break;
    }
    case Op::poll: {  // poll a wait() future (again after it completed, too)
      FutSlot& f = w.fut[s];
      if (!f.fut) return;
      trace.op("w", s, " (cell", f.cell, ").poll as task ", t);
      auto p = w.task[t].poll(*f.fut);
      if (w.model[f.cell]) {
        REQUIRE(p.is_ready());
        REQUIRE(p.value().get().value() == *w.model[f.cell]);
        REQUIRE(&p.value().get() == w.cell[f.cell]->get());
        f.done = true;
        f.task = -1;
      } else {
        REQUIRE(p.is_pending());
        f.task = t;
      }
      break;
    }
    case Op::drop_future: {  // drop a future (pending or not)
      if (!w.fut[s].fut) return;
      trace.op("w", s, " drop");
      w.fut[s] = FutSlot{};
      break;
    }
  }
  w.check_waker_refs();
}

}  // namespace

TEST_CASE("set_once: random operation sequences against the model") {
  weft::fuzz::run("set_once", [](Rng& rng, Trace& trace) {
    auto w = std::make_unique<World>();
    w->new_cell(0, rng, trace);
    w->new_cell(1, rng, trace);
    const int steps = static_cast<int>(rng.between(1, 60));
    for (int i = 0; i < steps; ++i) {
      step(*w, rng, trace);
      WEFT_FUZZ_LEDGER_CLEAN();
    }
    trace.op("tear down");
    for (FutSlot& f : w->fut) f = FutSlot{};
    if (rng.chance(1, 2)) {
      const int c = static_cast<int>(rng.below(cells));
      trace.op("std::move(cell", c, ").into_inner()");
      std::optional<Value> out = std::move(*w->cell[c]).into_inner();
      REQUIRE(out.has_value() == w->model[c].has_value());
      if (out) REQUIRE(out->value() == *w->model[c]);
      REQUIRE(w->cell[c]->get() == nullptr);  // left empty
    }
    w->cell = {};
    w->require_no_waker_refs();
  });
}
