// Operation-sequence fuzzing of Notify (sync/notify.h) against a sequential model.
//
// Each iteration creates Notified and OwnedNotified futures, polls them from two tasks or
// enables them, calls notify_one / notify_last / notify_waiters, moves futures before
// their first poll and destroys them at any stage (waiting, chosen by a notify_one but not
// yet polled: the notification must be forwarded). In the end the Notify itself may go
// before the owned futures. Each poll result and each wake is checked against the model,
// and so is the number of waker clones each task has out (a waiter holds exactly one
// while it waits with a waker, none after). See fuzz/fuzz.h for the seed and budget.
#include "fuzz/fuzz.h"
#include "sync/notify.h"
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
using weft::Notified;
using weft::Notify;
using weft::OwnedNotified;
using weft::fuzz::Rng;
using weft::fuzz::Trace;

constexpr int slots = 6;
constexpr int tasks = 2;

enum class Stage { init, waiting, done };
enum class Kind { none, one, last, all };

// A future as the model sees it.
struct FutModel {
  Stage stage = Stage::init;
  unsigned calls = 0;  // notify_waiters() calls counted at creation
  Kind notified = Kind::none;
  int task = -1;  // whose waker it holds (while waiting, not yet notified)
};

struct Slot {
  std::optional<Notified> borrowed;
  std::optional<OwnedNotified> owned;
  FutModel m;
  bool present() const { return borrowed.has_value() || owned.has_value(); }
  weft::Poll<void> poll(MockTask& task) {
    return borrowed ? task.poll(*borrowed) : task.poll(*owned);
  }
  bool enable() { return borrowed ? borrowed->enable() : owned->enable(); }
  void reset() {
    borrowed.reset();
    owned.reset();
  }
};

struct World : weft::fuzz::Tasks<tasks> {
  std::shared_ptr<Notify> notify = std::make_shared<Notify>();
  std::array<Slot, slots> slot;
  // The model of the Notify.
  bool permit = false;
  unsigned calls = 0;
  std::deque<int> queue;  // enqueued slots, oldest first

  // A notification from notify_one (Kind::one) or notify_last (Kind::last), or forwarded.
  void model_notify(Kind kind) {
    if (queue.empty()) {
      permit = true;
      return;
    }
    int s;
    if (kind == Kind::one) {
      s = queue.front();
      queue.pop_front();
    } else {
      s = queue.back();
      queue.pop_back();
    }
    FutModel& f = slot[s].m;
    f.notified = kind;
    expect_wake(f.task);  // and -1: the notifier took the waker
  }
  // Each task's waker clones out: one per waiting, not yet notified future with a waker.
  void check_waker_refs() {
    require_waker_refs([&](int t) {
      std::size_t expected = 0;
      for (const Slot& s : slot) {
        if (s.present() && s.m.stage == Stage::waiting && s.m.notified == Kind::none &&
            s.m.task == t) {
          ++expected;
        }
      }
      return expected;
    });
  }
  // The effects of destroying a future on the model.
  void model_drop(int s) {
    FutModel& f = slot[s].m;
    if (f.stage == Stage::waiting) {
      if (f.notified == Kind::none) {
        queue.erase(std::find(queue.begin(), queue.end(), s));
      } else if (f.notified == Kind::one || f.notified == Kind::last) {
        model_notify(f.notified);  // forwarded: nothing is lost
      }
    }
    f = FutModel{};
  }
};

void poll_one(World& w, int s, int t, Trace& trace) {
  Slot& sl = w.slot[s];
  FutModel& f = sl.m;
  const bool enable = t < 0;
  trace.op("f", s, enable ? ".enable()" : ".poll as task ", enable ? "" : std::to_string(t));
  bool expect_ready = false;
  switch (f.stage) {
    case Stage::done: expect_ready = true; break;
    case Stage::init:
      if (f.calls != w.calls) {
        expect_ready = true;  // a notify_waiters() since creation; the permit stays (#7996)
      } else if (w.permit) {
        w.permit = false;
        expect_ready = true;
      } else {
        w.queue.push_back(s);
        f.stage = Stage::waiting;
        f.task = t;
      }
      break;
    case Stage::waiting:
      if (f.notified != Kind::none) {
        expect_ready = true;
      } else if (!enable) {
        f.task = t;
      }
      break;
  }
  if (expect_ready) {
    f.stage = Stage::done;
    f.notified = Kind::none;
    f.task = -1;
  }
  const bool ready = enable ? sl.enable() : sl.poll(w.task[t]).is_ready();
  REQUIRE(ready == expect_ready);
}

// The driver's operations, each picked with its weight in step() below.
enum class Op {
  create,
  poll,
  enable,
  notify_one,
  notify_last,
  notify_waiters,
  drop,
  move_unpolled
};

void step(World& w, Rng& rng, Trace& trace) {
  const int s = static_cast<int>(rng.below(slots));
  Slot& sl = w.slot[s];
  switch (rng.pick<Op>({{Op::create, 4},
                        {Op::poll, 8},
                        {Op::enable, 2},
                        {Op::notify_one, 3},
                        {Op::notify_last, 2},
                        {Op::notify_waiters, 2},
                        {Op::drop, 3},
                        {Op::move_unpolled, 1}})) {
    case Op::create: {  // create (replacing whatever the slot held)
      const bool owned = rng.chance(1, 3);
      trace.op("f", s, owned ? " = notified_owned()" : " = notified()",
               sl.present() ? " (drops the old one)" : "");
      if (sl.present()) w.model_drop(s);
      sl.reset();
      if (owned) {
        sl.owned.emplace(Notify::notified_owned(w.notify));
      } else {
        sl.borrowed.emplace(w.notify->notified());
      }
      sl.m.calls = w.calls;
      w.check_wakes("a forwarded notification");
      break;
    }
    case Op::poll:
      if (!sl.present()) return;
      poll_one(w, s, static_cast<int>(rng.below(tasks)), trace);
      break;
    case Op::enable:
      if (!sl.present()) return;
      poll_one(w, s, -1, trace);
      break;
    case Op::notify_one:
      trace.op("notify_one()");
      w.model_notify(Kind::one);
      w.notify->notify_one();
      w.check_wakes("notify_one");
      break;
    case Op::notify_last:
      trace.op("notify_last()");
      w.model_notify(Kind::last);
      w.notify->notify_last();
      w.check_wakes("notify_last");
      break;
    case Op::notify_waiters: {
      trace.op("notify_waiters()");
      ++w.calls;
      for (int q : w.queue) {
        w.slot[q].m.notified = Kind::all;
        w.expect_wake(w.slot[q].m.task);  // and -1: notify_waiters took the waker
      }
      w.queue.clear();
      w.notify->notify_waiters();
      w.check_wakes("notify_waiters");
      break;
    }
    case Op::drop:
      if (!sl.present()) return;
      trace.op("f", s, " drop");
      w.model_drop(s);
      sl.reset();
      w.check_wakes("a forwarded notification");
      break;
    case Op::move_unpolled: {  // move a future that was never polled
      if (!sl.present() || sl.m.stage != Stage::init) return;
      trace.op("f", s, " moved out and back (never polled)");
      if (sl.borrowed) {
        Notified tmp(std::move(*sl.borrowed));
        sl.borrowed.reset();
        sl.borrowed.emplace(std::move(tmp));
      } else {
        OwnedNotified tmp(std::move(*sl.owned));
        sl.owned.reset();
        sl.owned.emplace(std::move(tmp));
      }
      break;
    }
  }
  w.check_waker_refs();
}

}  // namespace

TEST_CASE("notify: random operation sequences against the model") {
  weft::fuzz::run("notify", [](Rng& rng, Trace& trace) {
    auto w = std::make_unique<World>();
    const int steps = static_cast<int>(rng.between(1, 80));
    for (int i = 0; i < steps; ++i) step(*w, rng, trace);

    // Tear down: the borrowed futures first (they need the Notify), then maybe the Notify
    // itself, then the owned futures, which keep it alive and still forward notifications.
    const bool notify_first = rng.chance(1, 2);
    for (int s = 0; s < slots; ++s) {
      if (w->slot[s].borrowed) {
        trace.op("f", s, " drop");
        w->model_drop(s);
        w->slot[s].reset();
        w->check_wakes("a forwarded notification");
      }
    }
    if (notify_first) {
      trace.op("drop the Notify handle (owned futures keep it alive)");
      w->notify.reset();
    }
    for (int s = 0; s < slots; ++s) {
      if (w->slot[s].owned) {
        const bool poll_first = !notify_first && rng.chance(1, 2);
        if (poll_first) poll_one(*w, s, static_cast<int>(rng.below(tasks)), trace);
        trace.op("f", s, " drop");
        w->model_drop(s);
        w->slot[s].reset();
        w->check_wakes("a forwarded notification");
      }
    }
    w->check_waker_refs();
    w->require_no_waker_refs();
  });
}
