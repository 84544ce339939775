// weft/fuzz/fuzz.h: what every operation-sequence fuzz driver shares: the seed and
// iteration budget from the environment, a small deterministic RNG, a trace of the
// operations applied (printed with the rerun command when a check fails or the driver
// crashes), and Counted, a value whose every instance must be destroyed exactly once.
//
// A driver is a doctest TEST_CASE that calls
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

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
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
  long between(long lo, long hi) { return lo + static_cast<long>(below(static_cast<std::size_t>(hi - lo + 1))); }
  // True with probability num / den.
  bool chance(unsigned num, unsigned den) { return below(den) < num; }
  // An index chosen by weight: weights[i] / sum(weights).
  std::size_t weighted(std::initializer_list<unsigned> weights) {
    unsigned total = 0;
    for (unsigned w : weights) total += w;
    std::size_t pick = below(total);
    std::size_t index = 0;
    for (unsigned w : weights) {
      if (pick < w) return index;
      pick -= w;
      ++index;
    }
    return index - 1;
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
  BasicCounted(BasicCounted&& other) noexcept : value_(other.checked()), id_(Ledger::get().born()) {}
  BasicCounted(const BasicCounted& other)
    requires Copyable
      : value_(other.checked()), id_(Ledger::get().born()) {}
  BasicCounted& operator=(BasicCounted&& other) noexcept {
    value_ = other.checked();
    return *this;
  }
  BasicCounted& operator=(const BasicCounted& other)
    requires Copyable
  {
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
#define WEFT_FUZZ_LEDGER_CLEAN() \
  REQUIRE_MESSAGE(::weft::fuzz::Ledger::get().errors().empty(), ::weft::fuzz::Ledger::get().errors_text())

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
    std::fprintf(stderr, "\nfuzz/%s crashed (signal %d). Rerun this iteration alone: "
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
    c.seed = static_cast<std::uint64_t>(
                 std::chrono::steady_clock::now().time_since_epoch().count()) %
             1000000000ULL;
  }
  if (const char* s = std::getenv("WEFT_FUZZ_ITERATIONS")) c.iterations = std::strtoull(s, nullptr, 10);
  if (const char* s = std::getenv("WEFT_FUZZ_SECONDS")) c.seconds = std::strtod(s, nullptr);
  return c;
}

// Runs one(rng, trace) per iteration; each iteration must leave every Counted destroyed.
template <class Fn>
void run(const char* driver, Fn&& one) {
  const Config c = config_from_env();
  std::printf("fuzz/%s: WEFT_FUZZ_SEED=%llu %s\n", driver,
              static_cast<unsigned long long>(c.seed),
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
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("fuzz/%s: %llu iterations, %llu operations, %.2f s\n", driver,
              static_cast<unsigned long long>(done), static_cast<unsigned long long>(ops), secs);
  CHECK(done > 0);
}

}  // namespace weft::fuzz
