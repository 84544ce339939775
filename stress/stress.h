// weft/stress/stress.h: what the stress tests share: the seed and the rerun command, a
// small PRNG, per-run op counts scaled for sanitizers and soak runs; for channels, the
// Stamp of a sender's value and the Deliveries a receiver checks; and for scenarios with
// futures and tasks: a Tally of what threads added, YieldNow (a suspension point),
// GiveUpAfter (a timeout inside a task), poll_then_cancel (a future dropped halfway on a
// plain thread) and join_pool_tasks (spawn on a ThreadPool, join, none lost, sum).
//
// Seeds. WEFT_STRESS_SEED=N fixes the base seed (otherwise the clock picks one). It is
// printed, flushed, at start together with the command that reruns the test with it.
// Each run of a scenario draws its seed from (base seed, scenario name, run index) only,
// so `--scenario=NAME` with the same base seed replays the same choices for run i (the
// thread interleaving is the OS's and cannot be replayed; the choices can). When a run
// fails (WEFT_INVARIANT aborts) or is killed (Bazel's timeout sends SIGTERM: a lost
// wakeup hangs), a handler prints the scenario, run index, run seed and the rerun line.
//
// Bounds. A run does ops(n) operations per thread: n in a plain build, n / 4 under
// ThreadSanitizer (five to ten times slower), n / 2 under AddressSanitizer, times
// WEFT_STRESS_SOAK (default 1). The number of runs per scenario is the runner's
// --iterations=N / WEFT_STRESS_ITERATIONS (default 200). Soak mode outside CI, e.g.:
//   WEFT_STRESS_SOAK=20 bazel run //stress:mutex -- --iterations=5000
//
// Use, in stress/foo.cc:
//   const std::uint64_t seed_printed = weft::stress::base_seed("foo");  // at namespace scope
//   struct my_scenario {
//     std::uint64_t seed = weft::stress::run_seed<my_scenario>("my_scenario");
//     void thread(int i) { weft::stress::Rng rng{seed, i}; ... rng.below(4) ... }
//   };
#pragma once

#include "sync/platform/platform.h"
#include "sync/task/future.h"
#include "sync/task/mock_task.h"
#include "sync/task/poll.h"
#include "sync/runtime/thread_pool.h"
#include "testing/yield_now.h"

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstddef>
#include <chrono>
#include <optional>
#include <utility>
#include <vector>
#include <unistd.h>

namespace weft::stress {

namespace detail {

// What the failure handler prints. Written by the runner's thread before a run's threads
// start (relaxed: the thread start orders them before any failure in the run).
struct Current {
  const char* test = "?";
  std::uint64_t base = 0;
  platform::atomic<const char*> scenario{nullptr};
  platform::atomic<std::uint64_t> run{0};
  platform::atomic<std::uint64_t> seed{0};
};
inline Current current;

inline std::uint64_t mix(std::uint64_t x) {  // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline std::uint64_t hash(const char* s) {  // FNV-1a
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (; *s != '\0'; ++s) h = (h ^ static_cast<unsigned char>(*s)) * 0x100000001b3ULL;
  return h;
}

// The Bazel label to rerun: the test's own (TEST_TARGET, e.g. //stress:mutex_tsan) under
// `bazel test`, //stress:<name> otherwise.
inline void target(char* out, std::size_t size) {
  const char* t = std::getenv("TEST_TARGET");
  if (t != nullptr && *t != '\0') {
    std::snprintf(out, size, "%s", t);
  } else {
    std::snprintf(out, size, "//stress:%s", current.test);
  }
}

// On abort (a failed WEFT_INVARIANT) or SIGTERM (a timeout): say which run and how to
// rerun it, then die of the same signal. The failure is synchronous and the process is
// ending, so formatting here is acceptable; the text goes out with one write().
inline void on_fatal_signal(int sig) {
  char label[256];
  target(label, sizeof label);
  const char* scenario = current.scenario.load(std::memory_order_relaxed);
  char text[1024];
  const int n = std::snprintf(
      text, sizeof text,
      "\nstress/%s: %s in scenario %s, run #%llu (run seed %llu)\n"
      "rerun: WEFT_STRESS_SEED=%llu bazel run %s -- --scenario=%s --iterations=%llu\n",
      current.test, sig == SIGABRT ? "FAILED" : "KILLED (timeout?)",
      scenario != nullptr ? scenario : "?",
      static_cast<unsigned long long>(current.run.load(std::memory_order_relaxed)),
      static_cast<unsigned long long>(current.seed.load(std::memory_order_relaxed)),
      static_cast<unsigned long long>(current.base), label, scenario != nullptr ? scenario : "?",
      static_cast<unsigned long long>(current.run.load(std::memory_order_relaxed) + 1));
  if (n > 0) {
    ssize_t ignored = ::write(
        2, text,
        static_cast<std::size_t>(n) < sizeof text ? static_cast<std::size_t>(n) : sizeof text - 1);
    (void)ignored;
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

inline std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

}  // namespace detail

// The process's base seed. The first call (at static initialization: see the use above)
// reads or draws it, prints it with the rerun command, flushed, and installs the handler.
inline std::uint64_t base_seed(const char* test) {
  static const std::uint64_t seed = [test] {
    detail::current.test = test;
    const std::uint64_t s = detail::env_u64(
        "WEFT_STRESS_SEED",
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    detail::current.base = s;
    char label[256];
    detail::target(label, sizeof label);
    std::printf("stress/%s: WEFT_STRESS_SEED=%llu  (rerun: WEFT_STRESS_SEED=%llu bazel run %s)\n",
                test, static_cast<unsigned long long>(s), static_cast<unsigned long long>(s),
                label);
    std::fflush(stdout);  // abort() does not flush stdio: the seed must be out already
    std::signal(SIGABRT, detail::on_fatal_signal);
    std::signal(SIGTERM, detail::on_fatal_signal);
    return s;
  }();
  return seed;
}

// The seed of the next run of scenario S (call once per run, from a member initializer
// or setup(): the runner builds scenarios on its own thread, one run at a time).
template <class S>
std::uint64_t run_seed(const char* scenario) {
  static platform::atomic<std::uint64_t> runs{0};
  const std::uint64_t run = runs.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t seed = detail::mix(detail::current.base ^ detail::hash(scenario)) + run;
  detail::current.scenario.store(scenario, std::memory_order_relaxed);
  detail::current.run.store(run, std::memory_order_relaxed);
  detail::current.seed.store(seed, std::memory_order_relaxed);
  return seed;
}

// A per-thread PRNG (PCG's LCG step, high bits out): Rng{seed, thread_index}.
struct Rng {
  std::uint64_t state;
  Rng(std::uint64_t seed, int stream)
      : state(detail::mix(seed * 0x9e3779b97f4a7c15ULL + static_cast<std::uint64_t>(stream))) {}
  std::uint32_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>(state >> 33);
  }
  std::uint32_t below(std::uint32_t n) { return next() % n; }
  bool one_in(std::uint32_t n) { return below(n) == 0; }
  // Yields the thread 0 to `max` times: shakes up the interleaving.
  void jitter(std::uint32_t max) {
    for (std::uint32_t k = below(max + 1); k > 0; --k) platform::yield_now();
  }
};

// What a thread adds to a run's total: each thread sums its own share in a local and adds
// it once, after its loop; check() reads the total. Relaxed: the runner joins every
// thread before check() (the join orders the adds before the read), and the total is a
// count, not what orders the data under test.
struct Tally {
  platform::atomic<long> value{0};
  void add(long n) { value.fetch_add(n, std::memory_order_relaxed); }
  long total() const { return value.load(std::memory_order_relaxed); }
};

// What a value carries in a scenario with several senders: which sender made it and its
// number in that sender's sequence (0, 1, 2 ...). Counted: testing::CountedOf<Stamp>.
struct Stamp {
  int sender;
  int seq;
  bool operator==(const Stamp&) const = default;
};

// What one receiver saw of the senders' stamped values: each sender's arrive in increasing
// order, so none twice; with `gapless`, none skipped either (a channel that loses nothing:
// mpsc; broadcast reports what it skipped as lagged instead). `received` counts them.
class Deliveries {
 public:
  Deliveries(int senders, bool gapless)
      : last_(static_cast<std::size_t>(senders), -1), gapless_(gapless) {}
  void take(const Stamp& s) {
    int& last = last_[static_cast<std::size_t>(s.sender)];
    WEFT_INVARIANT(gapless_ ? s.seq == last + 1 : s.seq > last);
    last = s.seq;
    ++received;
  }
  long received = 0;

 private:
  std::vector<int> last_;  // each sender's last seq received, -1 before the first
  bool gapless_;
};

// Futures for the cancellation and task scenarios. -----------------------------------

// A suspension point for a task (testing/yield_now.h). A task holding a guard across it
// is requeued and may resume on another worker.
using weft::testing::YieldNow;

// A timeout for a future awaited inside a task: `inner` polled at most `budget` times;
// ready with nullopt once the budget is spent, and the inner future, still pending, is
// destroyed with this one (cancelled, maybe while being handed what it waited for).
template <class Fut>
struct GiveUpAfter {
  using Output = weft::future_output_t<Fut>;
  Fut inner;
  int budget;
  GiveUpAfter(Fut f, int b) : inner(std::move(f)), budget(b) {}
  weft::Poll<std::optional<Output>> poll(weft::Context& cx) {
    auto p = inner.poll(cx);
    if (p.is_ready()) return std::optional<Output>(std::move(p).value());
    if (--budget <= 0) return std::optional<Output>();
    return weft::pending;
  }
};

// The same on a plain thread: `fut` polled up to `polls` times by a MockTask of its own,
// the thread yielding once between polls (or rng->jitter(max_jitter) times when an Rng
// is given), and dropped if it is still pending: cancellation halfway, often just as a
// release hands it the lock or permits. The output if it completed, else nullopt.
template <class Fut>
std::optional<weft::future_output_t<Fut>> poll_then_cancel(Fut fut, int polls, Rng* rng = nullptr,
                                                           std::uint32_t max_jitter = 2) {
  weft::MockTask task;
  for (int i = 0; i < polls; ++i) {
    auto p = task.poll(fut);
    if (p.is_ready()) return std::move(p).value();
    if (rng != nullptr) {
      rng->jitter(max_jitter);
    } else {
      platform::yield_now();
    }
  }
  return std::nullopt;  // `fut` is destroyed pending: cancelled
}

// The driver of a pool-task scenario: spawns `tasks` tasks, make_task(t) for t in
// [0, tasks), each a Task<long> that returns what it added, on a ThreadPool(workers);
// joins them all with blocking_join, checks that every one completed (none lost or
// cancelled) and returns the sum of their results. Call it from one scenario thread while
// the others contend on plain threads.
template <class MakeTask>
long join_pool_tasks(unsigned workers, int tasks, MakeTask make_task) {
  weft::ThreadPool pool(workers);
  std::vector<weft::JoinHandle<long>> handles;
  handles.reserve(static_cast<std::size_t>(tasks));
  for (int t = 0; t < tasks; ++t) handles.push_back(pool.spawn(make_task(t)));
  long sum = 0;
  for (auto& h : handles) {
    auto r = h.blocking_join();
    WEFT_INVARIANT(r.is_ok());  // no task lost or cancelled
    sum += *r;
  }
  return sum;
}

// Sanitizer slow-down, divided out of the per-run op counts.
#if defined(__SANITIZE_THREAD__)
inline constexpr int sanitizer_divisor = 4;
#elif defined(__SANITIZE_ADDRESS__)
inline constexpr int sanitizer_divisor = 2;
#else
inline constexpr int sanitizer_divisor = 1;
#endif

// Operations per thread per run: n, scaled down under sanitizers and up by WEFT_STRESS_SOAK.
inline int ops(int n) {
  static const std::uint64_t soak = detail::env_u64("WEFT_STRESS_SOAK", 1);
  const std::uint64_t scaled = static_cast<std::uint64_t>(n) * (soak == 0 ? 1 : soak) /
                               static_cast<std::uint64_t>(sanitizer_divisor);
  return scaled < 1 ? 1 : static_cast<int>(scaled);
}

}  // namespace weft::stress
