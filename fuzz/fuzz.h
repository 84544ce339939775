// weft/fuzz/fuzz.h: what every operation-sequence fuzz driver shares: the seed and
// iteration budget from the environment, a small deterministic RNG, a trace of the
// operations applied (printed with the rerun command when a check fails or the driver
// crashes), Counted, a value whose every instance must be destroyed exactly once, and
// Tasks, the mock tasks that poll the futures with the wakes the model expects of them.
//
// A driver is a doctest TEST_CASE whose World (the primitive's handles and futures in
// slots, and the sequential model) derives from Tasks<n> below, and that calls
//
//   weft::fuzz::run("oneshot", [](weft::fuzz::Rng& rng, weft::fuzz::Trace& trace) {
//     ... apply random operations to the primitive and to a sequential reference model,
//     ... REQUIRE that each result matches the model
//   });
//
// Iteration i runs with the seed WEFT_FUZZ_SEED + i, so a failure names the one seed that
// replays it alone:  WEFT_FUZZ_SEED=<seed> WEFT_FUZZ_ITERATIONS=1.
//   WEFT_FUZZ_SEED        base seed (default: from the clock, printed at start)
//   WEFT_FUZZ_ITERATIONS  run exactly this many iterations (default: as many as fit in
//                         WEFT_FUZZ_SECONDS)
//   WEFT_FUZZ_SECONDS     time budget when no iteration count is given (default 2, the CI
//                         setting; sanitizer builds run fewer iterations in the same time)
// Through Bazel: bazel test //fuzz:oneshot --test_env=WEFT_FUZZ_SEED=... --test_output=all
//
// Single-threaded on purpose: interleavings are the model checker's job; these drivers
// look for wrong results, missing errors, crashes and leaks along long operation sequences.
#pragma once

#include "sync/task/mock_task.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <initializer_list>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace weft::fuzz {

// splitmix64: tiny, fast, and good enough to pick operations.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n > 0.
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  // Uniform in [lo, hi].
  long between(long lo, long hi) {
    return lo + static_cast<long>(below(static_cast<std::size_t>(hi - lo + 1)));
  }
  // True with probability num / den.
  bool chance(unsigned num, unsigned den) { return below(den) < num; }
  // One of a driver's operations, chosen by weight: {Op::send, 6} is picked with
  // probability 6 / (sum of the weights). Operations are enumerators, never positions,
  // so adding one or reordering the list changes which is picked only by its weight.
  template <class Op>
  Op pick(std::initializer_list<std::pair<Op, unsigned>> ops) {
    unsigned total = 0;
    for (const auto& [op, weight] : ops) total += weight;
    std::size_t at = below(total);
    for (const auto& [op, weight] : ops) {
      if (at < weight) return op;
      at -= weight;
    }
    return std::prev(ops.end())->first;
  }

 private:
  std::uint64_t state_;
};

// The operations of the current iteration, one per line, for the failure report.
class Trace {
 public:
  template <class... Args>
  void op(const Args&... args) {
    std::ostringstream line;
    line << "  " << ops_ << ": ";
    (line << ... << args);
    text_ += line.str();
    text_ += '\n';
    ++ops_;
  }
  const std::string& text() const { return text_; }
  std::size_t ops() const { return ops_; }

 private:
  std::string text_;
  std::size_t ops_ = 0;
};

// ===== Counted values =====

// Every Counted instance is registered in the Ledger when it comes to life and must be
// destroyed exactly once: a leak shows up as a live instance at the end of an iteration,
// a double destruction (or the destruction of an object never constructed) as an error.
// `value` is the logical payload the model compares; moves keep it, copies keep it too but
// are new instances (broadcast hands every receiver its own copy).
class Ledger {
 public:
  static Ledger& get() {
    static Ledger ledger;
    return ledger;
  }
  std::uint64_t born() {
    const std::uint64_t id = next_++;
    live_.emplace(id, 0);
    return id;
  }
  void died(std::uint64_t id) {
    auto it = live_.find(id);
    if (it == live_.end()) {
      errors_.push_back("instance " + std::to_string(id) + " destroyed twice");
      return;
    }
    live_.erase(it);
  }
  void error(std::string what) { errors_.push_back(std::move(what)); }

  std::size_t live() const { return live_.size(); }
  std::string live_ids() const {
    std::string out;
    for (const auto& [id, unused] : live_) out += std::to_string(id) + " ";
    return out;
  }
  const std::vector<std::string>& errors() const { return errors_; }
  std::string errors_text() const {
    std::string out;
    for (const std::string& e : errors_) out += e + "; ";
    return out;
  }
  void reset() {
    live_.clear();
    errors_.clear();
  }

 private:
  std::uint64_t next_ = 1;
  std::map<std::uint64_t, int> live_;
  std::vector<std::string> errors_;
};

template <bool Copyable>
class BasicCounted {
 public:
  explicit BasicCounted(long value) : value_(value), id_(Ledger::get().born()) {}
  BasicCounted(BasicCounted&& other) noexcept
      : value_(other.checked()), id_(Ledger::get().born()) {}
  BasicCounted(const BasicCounted& other) requires Copyable : value_(other.checked()),
                                                              id_(Ledger::get().born()) {}
  BasicCounted& operator=(BasicCounted&& other) noexcept {
    value_ = other.checked();
    return *this;
  }
  BasicCounted& operator=(const BasicCounted& other) requires Copyable {
    value_ = other.checked();
    return *this;
  }
  ~BasicCounted() {
    if (magic_ != alive) {
      Ledger::get().error("destructor of a dead Counted (value " + std::to_string(value_) + ")");
      return;
    }
    magic_ = dead;
    Ledger::get().died(id_);
  }

  long value() const { return checked(); }

 private:
  static constexpr std::uint32_t alive = 0xA11CEu;
  static constexpr std::uint32_t dead = 0xDEADu;
  long checked() const {
    if (magic_ != alive) Ledger::get().error("use of a dead Counted");
    return value_;
  }

  long value_;
  std::uint64_t id_;
  std::uint32_t magic_ = alive;
};

// Move-only: for primitives that must never copy a value (oneshot, mpsc, watch ...).
using Counted = BasicCounted<false>;
// Copyable: broadcast clones a value per receiver; each clone is an instance of its own.
using CloneCounted = BasicCounted<true>;

// No Counted error so far (a double destruction, a use after destruction).
#define WEFT_FUZZ_LEDGER_CLEAN()                                \
  REQUIRE_MESSAGE(::weft::fuzz::Ledger::get().errors().empty(), \
                  ::weft::fuzz::Ledger::get().errors_text())

// ===== The world's tasks and the wakes the model expects =====

// The MockTasks a driver polls its futures from, and the wakes its model expects of them.
// A driver's World derives from Tasks<tasks>; its futures remember the task that polled
// them while pending (an int, -1 for none). When the model says an operation completes
// such a future, the driver calls expect_wake on that int (which then says "none": the
// waker is used up) and, after the operation, check_wakes: each expected task must have
// been woken since its baseline. The baseline is either
//   - the wake count now: expect_wake, when the model's expectations are computed before
//     the operation runs, or
//   - the wake count at snap(): expect_wake_since_snap, when snap() is called before the
//     operation and the expectations are computed after it.
// require_waker_refs checks the waker clones each task has out against the model's count
// (a leaked or a missing clone shows up there).
template <int N>
struct Tasks {
  std::array<MockTask, N> task;
  std::array<std::size_t, N> snapshot{};
  std::vector<std::pair<int, std::size_t>> expected_wakes;  // (task, wake count before)

  void snap() {
    for (int t = 0; t < N; ++t) snapshot[t] = task[t].wake_count();
  }
  void expect_wake(int& t) {
    if (t >= 0) expected_wakes.emplace_back(t, task[t].wake_count());
    t = -1;
  }
  void expect_wake_since_snap(int& t) {
    if (t >= 0) expected_wakes.emplace_back(t, snapshot[t]);
    t = -1;
  }
  void check_wakes(const char* what) {
    for (auto [t, before] : expected_wakes) {
      INFO("task ", t, " must be woken by ", std::string(what));
      REQUIRE(task[t].wake_count() > before);
    }
    expected_wakes.clear();
  }
  // expected(t): how many waker clones of task t the model says are out.
  template <class Expected>
  void require_waker_refs(Expected&& expected) {
    for (int t = 0; t < N; ++t) {
      const std::size_t want = expected(t);
      INFO("waker clones of task ", t);
      REQUIRE(task[t].waker_ref_count() == want);
    }
  }
  // At the end of an iteration, every handle and future gone: no waker clone is out.
  void require_no_waker_refs() {
    require_waker_refs([](int) { return std::size_t{0}; });
  }
};

// A Sender in a slot, with the closed() future it may have out and the task that polled
// that future while pending (broadcast, watch, mpsc_unbounded). The future neither copies
// nor moves (it is built in place, on the heap) and must not outlive its Sender: it goes
// first whenever the Sender goes.
template <class Sender, class Closed = typename Sender::Closed>
struct SenderSlot {
  struct ClosedHolder {
    explicit ClosedHolder(const Sender& tx) : fut(tx.closed()) {}
    Closed fut;
  };
  std::optional<Sender> tx;
  std::unique_ptr<ClosedHolder> closed;
  int closed_task = -1;  // the task its pending closed() future registered

  // Polls the closed() future (made on first use) from `task`, task number t: true when
  // it completed (it is gone then), false when pending (registered by t).
  bool poll_closed(MockTask& task, int t) {
    if (!closed) closed = std::make_unique<ClosedHolder>(*tx);
    const bool ready = task.poll(closed->fut).is_ready();
    closed_task = ready ? -1 : t;
    if (ready) closed.reset();
    return ready;
  }
  void drop_closed() {
    closed.reset();
    closed_task = -1;
  }
  // 1 if the pending closed() future holds a waker clone of task t.
  std::size_t waker_refs_of(int t) const { return closed && closed_task == t ? 1 : 0; }
};

// How many of `slots` hold a handle in their std::optional member `field` (a driver's
// live senders, receivers, cells ...).
template <class Slots, class Field>
std::size_t filled(const Slots& slots, Field field) {
  std::size_t n = 0;
  for (const auto& s : slots) n += (s.*field).has_value() ? 1 : 0;
  return n;
}

// ===== The permit model of detail::BatchSemaphore =====

// BatchSemaphore, Semaphore and the bounded mpsc channel's capacity share one sequential
// model: a permit count, a closed flag and a FIFO of waiting acquires, each with the
// permits it still needs and those already assigned to it.

// An acquire's stage. init: never polled. queued: in the queue (need > 0). granted: a
// release met its need and took it out of the queue; its next poll completes (an error if
// the semaphore closed meanwhile). closed_out: close() took it out of the queue. done:
// completed. Until it is dropped an acquire keeps its assigned permits, except after an
// Ok (they are the caller's then: assigned is 0).
enum class AcquireStage { init, queued, granted, closed_out, done };

// One acquire future in the model; a driver's future model derives from it.
struct AcquireModel {
  AcquireStage stage = AcquireStage::init;
  std::size_t wanted = 0;
  std::size_t need = 0;      // still needed while queued
  std::size_t assigned = 0;  // taken from the count before completion; given back on drop
  int task = -1;             // its waker, while queued
};

// What a poll of an acquire must return.
enum class AcquirePoll { pending, ok, err };

// The count, the closed flag and the queue. The acquires' models live in the driver's
// slots: `at(s)` is slot s's AcquireModel, and `granted(f)` is told of each acquire a
// give-back completes (the driver expects a wake of f.task, and sets it to -1).
struct PermitModel {
  std::size_t avail = 0;
  bool closed = false;
  std::deque<int> queue;  // slots of the queued acquires, oldest first

  // Slot s's acquire `f`, polled by task t: what the poll must return. An acquire that
  // the count cannot serve at once takes what there is and queues for the rest.
  AcquirePoll poll(int s, AcquireModel& f, int t) {
    switch (f.stage) {
      case AcquireStage::init:
        if (closed) return AcquirePoll::err;
        if (avail >= f.wanted) {
          avail -= f.wanted;
          return AcquirePoll::ok;
        }
        f.assigned = avail;
        f.need = f.wanted - avail;
        avail = 0;
        f.stage = AcquireStage::queued;
        f.task = t;
        queue.push_back(s);
        return AcquirePoll::pending;
      case AcquireStage::queued: f.task = t; return AcquirePoll::pending;
      case AcquireStage::granted: return closed ? AcquirePoll::err : AcquirePoll::ok;
      case AcquireStage::closed_out: return AcquirePoll::err;
      case AcquireStage::done: break;
    }
    FAIL("model: a completed acquire is not polled again");
    return AcquirePoll::err;
  }
  // `n` permits given back: the queued acquires are served first, oldest first. Returns
  // what is left for the count; the caller adds it (or reports the overflow).
  template <class At, class Granted>
  std::size_t serve_queue(std::size_t n, At&& at, Granted&& granted) {
    while (n > 0 && !queue.empty()) {
      AcquireModel& f = at(queue.front());
      const std::size_t give = std::min(n, f.need);
      f.need -= give;
      f.assigned += give;
      n -= give;
      if (f.need != 0) break;
      queue.pop_front();
      f.stage = AcquireStage::granted;
      granted(f);
    }
    return n;
  }
  // forget_permits(n): takes up to n from the count (not from the queued acquires);
  // returns how many it took.
  std::size_t forget(std::size_t n) {
    const std::size_t removed = std::min(n, avail);
    avail -= removed;
    return removed;
  }
  // close(): every queued acquire is closed out (and woken: closed_out(f)).
  template <class At, class ClosedOut>
  void close(At&& at, ClosedOut&& closed_out) {
    closed = true;
    for (int s : queue) {
      AcquireModel& f = at(s);
      f.stage = AcquireStage::closed_out;
      closed_out(f);
    }
    queue.clear();
  }
  // Slot s's acquire `f` is dropped: it leaves the queue; returns what it gives back.
  std::size_t drop(int s, const AcquireModel& f) {
    switch (f.stage) {
      case AcquireStage::queued:
        queue.erase(std::find(queue.begin(), queue.end(), s));
        return f.assigned;
      case AcquireStage::closed_out:
      case AcquireStage::done: return f.assigned;
      case AcquireStage::granted: return f.wanted;
      case AcquireStage::init: break;
    }
    return 0;
  }
};

// ===== The driver loop =====

// What a crash handler prints: the current iteration's rerun line and operations.
// (doctest reports a crash, but not the INFO context of the iteration.)
struct CrashReport {
  static CrashReport& get() {
    static CrashReport report;
    return report;
  }
  const char* driver = "";
  std::uint64_t seed = 0;
  const Trace* trace = nullptr;
  bool active = false;
};

extern "C" inline void weft_fuzz_on_crash(int signal) {
  CrashReport& r = CrashReport::get();
  if (r.active) {
    r.active = false;
    std::fprintf(stderr,
                 "\nfuzz/%s crashed (signal %d). Rerun this iteration alone: "
                 "WEFT_FUZZ_SEED=%llu WEFT_FUZZ_ITERATIONS=1\noperations:\n%s\n",
                 r.driver, signal, static_cast<unsigned long long>(r.seed),
                 r.trace != nullptr ? r.trace->text().c_str() : "");
    std::fflush(stderr);
  }
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

inline void install_crash_report() {
  for (int sig : {SIGABRT, SIGSEGV, SIGFPE, SIGILL, SIGBUS}) std::signal(sig, &weft_fuzz_on_crash);
}

struct Config {
  std::uint64_t seed = 0;
  std::uint64_t iterations = 0;  // 0: until the time budget is spent
  double seconds = 2.0;
};

inline Config config_from_env() {
  Config c;
  if (const char* s = std::getenv("WEFT_FUZZ_SEED")) {
    c.seed = std::strtoull(s, nullptr, 10);
  } else {
    c.seed =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) %
        1000000000ULL;
  }
  if (const char* s = std::getenv("WEFT_FUZZ_ITERATIONS"))
    c.iterations = std::strtoull(s, nullptr, 10);
  if (const char* s = std::getenv("WEFT_FUZZ_SECONDS")) c.seconds = std::strtod(s, nullptr);
  return c;
}

// Runs one(rng, trace) per iteration; each iteration must leave every Counted destroyed.
template <class Fn>
void run(const char* driver, Fn&& one) {
  const Config c = config_from_env();
  std::printf("fuzz/%s: WEFT_FUZZ_SEED=%llu %s\n", driver, static_cast<unsigned long long>(c.seed),
              c.iterations != 0 ? ("WEFT_FUZZ_ITERATIONS=" + std::to_string(c.iterations)).c_str()
                                : ("WEFT_FUZZ_SECONDS=" + std::to_string(c.seconds)).c_str());
  std::fflush(stdout);
  install_crash_report();
  const auto start = std::chrono::steady_clock::now();
  const auto budget = std::chrono::duration<double>(c.seconds);
  std::uint64_t done = 0;
  std::uint64_t ops = 0;
  for (std::uint64_t i = 0;; ++i) {
    if (c.iterations != 0 ? i >= c.iterations
                          : (std::chrono::steady_clock::now() - start) >= budget) {
      break;
    }
    const std::uint64_t seed = c.seed + i;
    Ledger::get().reset();
    Trace trace;
    CrashReport& crash = CrashReport::get();
    crash.driver = driver;
    crash.seed = seed;
    crash.trace = &trace;
    crash.active = true;
    INFO("rerun this iteration alone: WEFT_FUZZ_SEED=", seed, " WEFT_FUZZ_ITERATIONS=1 (fuzz/",
         std::string(driver), ")\noperations:\n", trace.text());
    {
      Rng rng(seed);
      one(rng, trace);
    }
    WEFT_FUZZ_LEDGER_CLEAN();
    REQUIRE_MESSAGE(Ledger::get().live() == 0,
                    "Counted instances never destroyed (ids): ", Ledger::get().live_ids());
    crash.active = false;
    crash.trace = nullptr;
    ops += trace.ops();
    ++done;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("fuzz/%s: %llu iterations, %llu operations, %.2f s\n", driver,
              static_cast<unsigned long long>(done), static_cast<unsigned long long>(ops), secs);
  CHECK(done > 0);
}

}  // namespace weft::fuzz
