// The execution engine: fibers scheduled one visible operation at a time (CHESS-style
// stateless model checking), explored by source-DPOR (explorer.h) over RC11 (memory.h).
#include "model/dpor/engine.h"

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>
#include <utility>

#include <pthread.h>

namespace weft::dpor {
namespace {

Engine* g_current = nullptr;

// The executions run in this process so far, across explorations (Engine::execution()).
std::uint64_t g_executions = 0;

// Whether the code running now is the program's (a fiber outside the engine's calls): only
// then is an allocation the program's. `g_hooked` stops the tracking's own allocations.
bool g_program_running = false;
bool g_hooked = false;

// What frees a block the program freed, once its execution ends (null: blocks not kept).
void (*g_release_block)(void*) = nullptr;

// Marks an engine call made by the program: its allocations are the engine's.
class EngineCall {
 public:
  EngineCall() : saved_(g_program_running) { g_program_running = false; }
  ~EngineCall() { g_program_running = saved_; }
  EngineCall(const EngineCall&) = delete;
  EngineCall& operator=(const EngineCall&) = delete;

 private:
  bool saved_;
};

// Disposes of the body of a thread that never started (its execution ended first) without
// destroying it. Its captures are that execution's objects, and an ended execution's
// objects are never destroyed (as on its fibers' stacks): their destructors make model
// operations, which in a later execution act on its objects of the same numbers (a Sender
// dropped twice), and after the exploration abort.
void forget(std::function<void()>& body) {
  if (body) static_cast<void>(new std::function<void()>(std::move(body)));
  body = nullptr;
}

// " at file:line", or nothing for an unknown place.
std::string at(Where where) {
  return where.line == 0 ? std::string()
                         : std::string(" at ") + where.file + ":" + std::to_string(where.line);
}

const char* order_name(std::memory_order order) {
  switch (order) {
    case std::memory_order_relaxed: return "relaxed";
    case std::memory_order_consume: return "consume";
    case std::memory_order_acquire: return "acquire";
    case std::memory_order_release: return "release";
    case std::memory_order_acq_rel: return "acq_rel";
    case std::memory_order_seq_cst: return "seq_cst";
  }
  return "?";
}

}  // namespace

const char* describe(Failure failure) {
  switch (failure) {
    case Failure::none: return "no failure";
    case Failure::assertion: return "ASSERTION FAILED";
    case Failure::data_race: return "DATA RACE";
    case Failure::deadlock: return "DEADLOCK";
    case Failure::livelock: return "LIVELOCK";
    case Failure::leak: return "MEMORY LEAK";
    case Failure::double_free: return "DOUBLE FREE";
    case Failure::use_after_free: return "ACCESS TO FREED MEMORY";
    case Failure::crash: return "CRASH";
    case Failure::nondeterminism: return "NONDETERMINISM";
    case Failure::usage: return "USAGE ERROR";
  }
  return "?";
}

struct Engine::Thread {
  Fiber fiber;
  Engine* engine = nullptr;
  unsigned id = 0;
  unsigned object = 0;
  std::function<void()> body;
  Pending pending;
  bool finished = false;
  bool after_yield = false;  // its next step is the first of a window
  bool notified = false;
  int woken_by = -1;
  // The condvars it woke spuriously from in this execution: at most once each (as Loom's
  // did_spur), so two wait loops cannot wake each other for ever.
  std::vector<unsigned> spurious_woken_from;
  // The location whose weak cas last failed spuriously: no other spurious failure there
  // until another thread moves or this one writes there (a retry would repeat the same state).
  int spurious_cas_loc = -1;
  // The same as the thread's own steps left it (not cleared by other threads' moves), and
  // the node of its last step: whether a covering node offered a spurious failure.
  int own_spurious_cas_loc = -1;
  std::size_t last_node = 0;
  ThreadView view;
  Value result = 0;
  bool success = false;
  // Spin detection: the stores read since the last yield, and in the window before; what
  // each operation of the window read and wrote (its values, its choices); whether the
  // window may repeat without effect (it woke no waiter).
  std::vector<int> window, previous_window;
  std::vector<Value> signature, previous_signature;
  bool window_read_only = true;
  bool window_repeatable = true;
  bool window_spurious = false;  // a weak cas of the window failed spuriously
  bool has_previous_window = false;
  unsigned stutters = 0;
  // What the window read: objects (an atomic loaded, an RMW's, a mutex tried, a condvar
  // notified) and cells; news: another thread wrote one of them after the window read it.
  std::vector<unsigned> read_objects, read_cells;
  bool window_news = false;
  // Spinning with no news: blocked until another thread writes what its last window read
  // (read_objects, read_cells, kept); that thread's step enables it (spin_woken_by).
  bool spin_blocked = false;
  int spin_woken_by = -1;
  std::size_t window_start = 0;  // the window's first step
  bool block_analysed = false;   // blocked on a mutex: its races analysed (Explorer::blocked)
};

struct Engine::Cell {
  unsigned writer = 0;
  std::uint32_t write_time = 0;  // the writer's next event number at the write
  Where write_where;
  std::array<std::uint32_t, max_threads> read_time{};
  std::array<Where, max_threads> read_where{};
  bool dead = false;  // destroyed: any later access is a use after free
};

Engine::Engine(const Options& options) : options_(options), memory_(options.sc_only) {
  memory_.set_verify_psc(options.verify_psc);
  explorer_.set_reduction(options.reduce);
  explorer_.set_preemption_bound(options.preemption_bound);
  explorer_.set_chooser(options.chooser);
  explorer_.set_splitter(options.splitter);
}
Engine::~Engine() {
  for (auto& th : threads_) forget(th->body);
  release_quarantine();
}

void Engine::keep_freed_blocks(void (*release)(void*)) { g_release_block = release; }

void Engine::release_quarantine() {
  for (void* block : quarantine_) g_release_block(block);
  quarantine_.clear();
}

namespace {

// The program's crashes (a dangling pointer followed, a division by zero) end the execution
// as a failure with its trace and replay, like an assertion; the checker's own crash keeps
// the default action. The handler runs on its own stack: a fiber's may be what overflowed.
constexpr int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};

const char* crash_name(int signal) {
  switch (signal) {
    case SIGSEGV: return "SIGSEGV (an invalid memory access: a dangling or wild pointer?)";
    case SIGBUS: return "SIGBUS (an invalid memory access)";
    case SIGFPE: return "SIGFPE (an arithmetic fault such as a division by zero)";
    case SIGILL: return "SIGILL (an illegal instruction)";
  }
  return "a signal";
}

// Installed by the outermost explore() and removed when it returns.
class CrashHandlers {
 public:
  explicit CrashHandlers(void (*handler)(int)) {
    stack_t alternate{};
    alternate.ss_sp = stack_.data();
    alternate.ss_size = stack_.size();
    installed_ = sigaltstack(&alternate, &previous_stack_) == 0;
    if (!installed_) return;
    struct sigaction action {};
    action.sa_handler = handler;
    action.sa_flags = SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < std::size(crash_signals); ++i) {
      sigaction(crash_signals[i], &action, &previous_[i]);
    }
  }
  ~CrashHandlers() {
    if (!installed_) return;
    for (std::size_t i = 0; i < std::size(crash_signals); ++i) {
      sigaction(crash_signals[i], &previous_[i], nullptr);
    }
    sigaltstack(&previous_stack_, nullptr);
  }
  CrashHandlers(const CrashHandlers&) = delete;
  CrashHandlers& operator=(const CrashHandlers&) = delete;

 private:
  std::array<char, 64 * 1024> stack_{};
  stack_t previous_stack_{};
  struct sigaction previous_[std::size(crash_signals)]{};
  bool installed_ = false;
};

}  // namespace

void Engine::on_crash(int signal) {
  Engine* const e = g_current;
  if (e == nullptr || !g_program_running) {
    std::signal(signal, SIG_DFL);  // the checker's own: returning re-faults, now fatally
    return;
  }
  // Never returns to the faulting code: unblock the signal the kernel blocked for the
  // handler, record the failure, and leave the fiber for good (as fail() does). Allocating
  // here is a risk taken: the program's blocks are quarantined, so malloc's own state is
  // seldom what a dangling pointer breaks.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, signal);
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  g_program_running = false;
  e->finish_failure(Failure::crash, std::string("the program crashed: ") + crash_name(signal) +
                                        " in thread " + std::to_string(e->running_) +
                                        " after its last step in the trace");
  e->threads_[e->running_]->fiber.suspend();
  std::abort();
}

Engine& Engine::current() {
  if (g_current == nullptr) {
    std::fprintf(stderr, "weft dpor: a model operation outside an exploration\n");
    std::abort();
  }
  return *g_current;
}

bool Engine::running() { return g_current != nullptr; }

Result Engine::explore(std::function<void()> main, const Options& options) {
  Result result;
  Engine engine(options);
  Engine* const outer = g_current;
  std::unique_ptr<CrashHandlers> crash_handlers;
  if (outer == nullptr) crash_handlers = std::make_unique<CrashHandlers>(&Engine::on_crash);
  g_current = &engine;
  if (!options.replay.empty() && !engine.explorer_.load_replay(options.replay)) {
    result.failure = Failure::usage;
    result.message = "bad replay schedule '" + options.replay + "'";
    g_current = outer;
    return result;
  }
  for (;;) {
    engine.run_execution(main);
    if (options.verify_graph && engine.failure_ == Failure::none) {
      const std::string why = engine.memory_.inconsistency();
      if (!why.empty()) engine.finish_failure(Failure::usage, "graph not RC11-consistent: " + why);
    }
    if (engine.failure_ != Failure::none) {
      result.failure = engine.failure_;
      result.message = engine.failure_message_;
      result.trace = engine.format_trace();
      result.replay = engine.explorer_.replay_string();
      ++result.executions;
      break;
    }
    if (engine.abandoned_) {
      ++result.blocked;
      result.stopped = options.go_on && !options.go_on();
    } else {
      ++result.executions;
      result.stopped = options.on_complete && !options.on_complete();
    }
    if (result.stopped) break;
    const std::uint64_t counted = result.executions + (options.chooser ? result.blocked : 0);
    if (options.max_executions != 0 && counted >= options.max_executions) break;
    if (!engine.explorer_.next_execution()) {
      result.exhausted = options.replay.empty();
      break;
    }
  }
  g_current = outer;
  return result;
}

void Engine::run_execution(const std::function<void()>& main) {
  memory_.clear();
  objects_.clear();
  mutexes_.clear();
  condvars_.clear();
  cells_.clear();
  records_.clear();
  annotated_.clear();
  thread_count_ = 0;
  failure_ = Failure::none;
  failure_message_.clear();
  abandoned_ = false;
  execution_ = ++g_executions;
  release_quarantine();
  heap_.clear();
  clock_ = 0;
  clock_object_ = new_object(Kind::clock, 0);
  explorer_.begin(0);
  new_thread(main);
  unsigned last = 0;
  for (;;) {
    if (explorer_.depth() >= options_.depth_limit) {
      finish_failure(Failure::livelock, "execution longer than " +
                                            std::to_string(options_.depth_limit) +
                                            " steps (a spin loop that never sees progress?)");
      return;
    }
    std::uint32_t mask = 0;
    bool all_finished = true;
    pending_footprints_.resize(thread_count_);
    for (unsigned t = 0; t < thread_count_; ++t) {
      Thread& th = *threads_[t];
      if (!th.finished) all_finished = false;
      if (!enabled(t)) {
        const bool on_mutex =
            th.pending.op == Op::lock || (th.pending.op == Op::relock && th.notified);
        if (!th.finished && !th.spin_blocked && on_mutex && !th.block_analysed) {
          th.block_analysed = true;
          explorer_.blocked(t, footprint(t));
        }
        continue;
      }
      mask |= 1u << t;
      pending_footprints_[t] = footprint(t);
    }
    if (mask == 0) {
      if (all_finished && heap_.live() != 0) {
        finish_failure(Failure::leak, std::to_string(heap_.live()) +
                                          " allocation(s) made during the execution never freed");
      }
      if (all_finished) return;
      for (unsigned t = 0; t < thread_count_; ++t) {
        const Thread& th = *threads_[t];
        if (!th.finished && th.pending.op == Op::relock && th.pending.timed && !th.notified) {
          abandoned_ = true;  // it times out: the same as its wait's timeout choice, explored
          return;
        }
      }
      for (unsigned t = 0; t < thread_count_; ++t) {
        if (threads_[t]->spin_blocked) {
          finish_failure(Failure::livelock,
                         "a thread spins (yield after yield) and no other "
                         "thread can run to change what it reads");
          return;
        }
      }
      finish_failure(Failure::deadlock, "no thread can run (all blocked)");
      return;
    }
    explorer_.set_events(memory_.event_count());
    const int picked = explorer_.pick(mask, pending_footprints_, last);
    if (picked == -1) {
      abandoned_ = true;  // every enabled thread sleeps: an equivalent run was explored
      return;
    }
    if (picked < 0) {
      finish_failure(Failure::nondeterminism, "the replayed schedule no longer applies");
      return;
    }
    const auto thread = static_cast<unsigned>(picked);
    // A replayed step takes the choice it took before: its choices are not recomputed
    // (coherence floors and psc checks were most of a replayed prefix's cost).
    const Pending& pending = threads_[thread]->pending;
    const bool memory_op = is_atomic_access(pending.op) && pending.op != Op::fence;
    const Explorer::Taken* taken = memory_op ? explorer_.taken() : nullptr;
    if (taken != nullptr && taken->object != pending.object) taken = nullptr;  // diverged
    unsigned count = 0;
    if (taken != nullptr) {
      count = explorer_.taken_choices();
      choice_buffer_.resize(count);
      choice_buffer_[explorer_.taken_index()] = taken->choice;
    } else {
      count = choices(thread);
    }
    const int choice = explorer_.step(thread, pending_footprints_[thread], count);
    if (choice >= 0 && memory_op && taken == nullptr && count != 0) {
      explorer_.take(Explorer::Taken{choice_buffer_[static_cast<unsigned>(choice)], pending.object,
                                     choice_index_[static_cast<unsigned>(choice)]});
    }
    if (choice < 0) {
      finish_failure(Failure::nondeterminism,
                     "the program took another path on a replayed prefix (it must be "
                     "deterministic given the schedule)");
      return;
    }
    if (count == 0) {
      abandoned_ = true;  // no consistent way on (RC11 dead end)
      return;
    }
    execute(thread, static_cast<unsigned>(choice));
    last = thread;
    if (failure_ != Failure::none || abandoned_) return;
  }
}

bool Engine::enabled(unsigned t) const {
  const Thread& th = *threads_[t];
  if (th.finished || th.spin_blocked) return false;
  switch (th.pending.op) {
    case Op::join: return threads_[objects_[th.pending.object].index]->finished;
    case Op::lock: return mutexes_[objects_[th.pending.object].index].holder < 0;
    case Op::relock: return th.notified && mutexes_[objects_[th.pending.object2].index].holder < 0;
    default: return true;
  }
}

Footprint Engine::footprint(unsigned t) const {
  const Thread& th = *threads_[t];
  const Pending& p = th.pending;
  Footprint fp;
  switch (p.op) {
    case Op::start:
    case Op::yield:
    case Op::fence: break;
    case Op::exit: fp.add(th.object, Mode::exit); break;
    case Op::join: fp.add(p.object, Mode::join); break;
    case Op::load: fp.add(p.object, Mode::read); break;
    case Op::store: fp.add(p.object, options_.sc_only ? Mode::rmw : Mode::write); break;
    case Op::rmw:
    case Op::cas:
    case Op::try_lock:
    case Op::notify_one:
    case Op::notify_all: fp.add(p.object, Mode::rmw); break;
    case Op::lock: fp.add(p.object, Mode::acquire); break;
    case Op::unlock: fp.add(p.object, Mode::release); break;
    case Op::wait:
      fp.add(p.object, Mode::rmw);
      fp.add(p.object2, Mode::release);
      break;
    case Op::relock:
      fp.add(p.object2, Mode::acquire);
      fp.enabled_by = th.woken_by;
      break;
    case Op::clock_read: fp.add(clock_object_, Mode::read); break;
    // Moves commute (the clock keeps the latest deadline): writes, as two stores in RC11.
    case Op::clock_advance:
      fp.add(clock_object_, Mode::write);
      fp.enabled_by = th.woken_by;  // after a notify that woke it (-1: its wait's timeout)
      break;
  }
  if (th.spin_woken_by >= 0) fp.enabled_by = th.spin_woken_by;
  fp.after_yield = th.after_yield;
  return fp;
}

unsigned Engine::choices(unsigned t) {
  Thread& th = *threads_[t];
  const Pending& p = th.pending;
  switch (p.op) {
    case Op::load:
    case Op::store:
    case Op::rmw:
    case Op::cas:
    case Op::fence: {
      ThreadView view = th.view;
      ++view.hb.at[t];
      Request request = p.request;
      if (static_cast<int>(request.loc) == th.spurious_cas_loc) request.weak = false;
      // Under SC a covered choice's step may not move earlier: it would change what later
      // loads read (the last store), so nothing is covered there.
      const std::uint32_t covered = options_.sc_only ? 0 : explorer_.covered(t);
      // The covering node offered a spurious failure unless the thread's step just before
      // it failed so on this location.
      const bool spurious_covered = !(th.own_spurious_cas_loc == static_cast<int>(request.loc) &&
                                      explorer_.covered_at(t) == th.last_node + 1);
      memory_.choices(request, t, view, choice_buffer_, static_cast<int>(covered), spurious_covered,
                      &choice_index_);
      return static_cast<unsigned>(choice_buffer_.size());
    }
    case Op::wait: return wait_choices(th);
    case Op::notify_one:
    case Op::notify_all: return notify_choices(p);
    default: return 1;
  }
}

// A notify's choices. C++ lets a timed wait woken by a notify still return timeout (its
// deadline passed before it returned): the notify is consumed, the wait reports timeout.
// notify_one: 0..n-1 wake waiter i (n waiters, at least 1 choice), then n..n+k-1 wake the
// i-th timed waiter, which times out; notify_all: bit i of the choice, the i-th timed
// waiter times out. Made here, as the timeout at the wait: its clock move is still a step
// of the waiter's own, so other threads' reads and moves interleave with it either way.
unsigned Engine::notify_choices(const Pending& p) const {
  const auto& waiters = condvars_[objects_[p.object].index].waiters;
  unsigned timed = 0;
  for (unsigned w : waiters) timed += threads_[w]->pending.timed ? 1 : 0;
  if (p.op == Op::notify_all) return 1u << timed;
  return waiters.empty() ? 1 : static_cast<unsigned>(waiters.size()) + timed;
}

// A wait's choices: 0 waits for a notify; 1 wakes without one, which a timed wait may
// always do (its timeout), an untimed one only spuriously.
unsigned Engine::wait_choices(const Thread& th) const {
  if (th.pending.timed) return 2;
  const auto& woken = th.spurious_woken_from;
  const bool spent = std::find(woken.begin(), woken.end(), th.pending.object) != woken.end();
  return options_.spurious_wakeups && !spent ? 2 : 1;
}

void Engine::execute(unsigned t, unsigned choice) {
  Thread& th = *threads_[t];
  const Pending p = th.pending;
  const Footprint& fp = pending_footprints_[t];
  for (unsigned u = 0; u < thread_count_; ++u) {
    if (u != t) threads_[u]->spurious_cas_loc = -1;
  }
  if (th.spin_woken_by >= 0) {  // the window that blocked it is over
    th.read_objects.clear();
    th.read_cells.clear();
    th.spin_woken_by = -1;
  }
  for (unsigned k = 0; k < fp.count; ++k) {
    if (fp.mode[k] != Mode::read) written(t, fp.object[k], false);
    if (fp.mode[k] == Mode::read || fp.mode[k] == Mode::rmw) note_read(th, false, fp.object[k]);
  }
  if (th.after_yield) th.window_start = explorer_.depth() - 1;
  th.after_yield = false;
  th.block_analysed = false;
  th.last_node = explorer_.depth() - 1;
  ++th.view.hb.at[t];
  Record record{t, p.op, p.object, p.request.order, 0, false, choice, 1, {0, 0, false}, p.where};
  for (unsigned k = 0; k < fp.count; ++k) {
    Object& o = objects_[fp.object[k]];
    if (o.dead) {  // issued before its destruction, scheduled after it
      records_.push_back(record);
      finish_failure(Failure::use_after_free, dead_message(fp.object[k]) + at(p.where));
      return;
    }
    o.use_time[t] = th.view.hb.at[t];
    o.use_record[t] = static_cast<std::uint32_t>(records_.size());
  }
  auto lock_mutex = [&](unsigned object) {
    Mutex& m = mutexes_[objects_[object].index];
    m.holder = static_cast<int>(t);
    th.view.hb.join(m.released);
  };
  auto unlock_mutex = [&](unsigned object) {
    Mutex& m = mutexes_[objects_[object].index];
    if (m.holder != static_cast<int>(t)) {
      finish_failure(Failure::assertion, "unlock of a mutex this thread does not hold");
      return false;
    }
    m.holder = -1;
    m.released = th.view.hb;
    return true;
  };
  bool resume_thread = true;
  switch (p.op) {
    case Op::start: break;
    case Op::exit:
      th.finished = true;
      resume_thread = false;
      break;
    case Op::join: th.view.hb.join(threads_[objects_[p.object].index]->view.hb); break;
    case Op::yield:
      th.after_yield = true;
      end_window(t);
      break;
    case Op::load:
    case Op::store:
    case Op::rmw:
    case Op::cas:
    case Op::fence: {
      const Choice c = choice_buffer_[choice];
      th.result = memory_.commit(p.request, c, t, th.view);
      th.success = c.success;
      const auto loc = static_cast<int>(p.request.loc);
      if (p.op == Op::cas && !c.success && p.request.weak && th.result == p.request.expected) {
        th.spurious_cas_loc = loc;
        th.own_spurious_cas_loc = loc;
        th.window_spurious = true;
      } else if (p.op != Op::load && p.op != Op::fence && (p.op != Op::cas || c.success)) {
        // A write elsewhere is no news for the cas (a retry's setup).
        if (loc == th.spurious_cas_loc) th.spurious_cas_loc = -1;
        if (loc == th.own_spurious_cas_loc) th.own_spurious_cas_loc = -1;
      }
      record.value = p.op == Op::store ? p.request.value : th.result;
      record.success = c.success;
      record.choices = static_cast<unsigned>(choice_buffer_.size());
      if (p.op != Op::store && p.op != Op::fence) record.writer = memory_.writer_of_last_read();
      const bool reads_only = p.op == Op::load || (p.op == Op::cas && !c.success);
      note_window(t, reads_only,
                  p.op == Op::store || p.op == Op::fence ? -1 : memory_.source_of_last_read());
      th.signature.insert(th.signature.end(), {static_cast<Value>(p.op), p.request.loc, th.result,
                                               p.request.value, p.request.expected, c.success});
      break;
    }
    case Op::lock: lock_mutex(p.object); break;
    case Op::try_lock:
      th.success = mutexes_[objects_[p.object].index].holder < 0;
      if (th.success) lock_mutex(p.object);
      record.success = th.success;
      break;
    case Op::unlock: unlock_mutex(p.object); break;
    case Op::wait:
      if (!unlock_mutex(p.object2)) break;
      // Choice 1: a spurious wakeup or a timeout. The thread never waits: a later one is
      // the same as this one with its relock scheduled later.
      if (choice == 0) condvars_[objects_[p.object].index].waiters.push_back(t);
      record.choices = wait_choices(th);
      // A timeout moves the clock (its own step, so a read of another thread may come
      // between the wait and the move) before the relock.
      th.pending.op = p.timed && choice == 1 ? Op::clock_advance : Op::relock;
      th.notified = choice == 1;
      if (choice == 1 && !p.timed) th.spurious_woken_from.push_back(p.object);
      th.woken_by = -1;
      th.success = choice == 0;
      record.success = choice == 1;
      record.value = p.timed;
      resume_thread = false;
      break;
    case Op::relock:
      lock_mutex(p.object2);
      th.notified = false;
      break;
    case Op::clock_read: record.value = th.result = static_cast<Value>(clock_); break;
    case Op::clock_advance:
      clock_ = std::max(clock_, p.deadline);
      record.value = static_cast<Value>(clock_);
      th.pending.op = Op::relock;
      resume_thread = false;
      break;
    case Op::notify_one:
    case Op::notify_all: {
      auto& waiters = condvars_[objects_[p.object].index].waiters;
      // A notify that woke a waiter changed another thread: not a window that may repeat.
      if (!waiters.empty()) th.window_repeatable = false;
      const int step = static_cast<int>(explorer_.depth()) - 1;
      record.choices = notify_choices(p);
      // A woken timed waiter that times out anyway moves the clock to its deadline in a
      // step of its own (ordered after this notify), then relocks; its wait returns false.
      auto wake = [&](unsigned w, bool times_out) {
        Thread& waiter = *threads_[w];
        waiter.notified = true;
        waiter.woken_by = step;
        if (times_out) {
          waiter.pending.op = Op::clock_advance;
          waiter.success = false;
          record.success = true;  // for the trace
        }
      };
      if (p.op == Op::notify_all) {
        unsigned timed = 0;
        for (unsigned w : waiters) {
          const bool may = threads_[w]->pending.timed;
          wake(w, may && (choice >> timed & 1u) != 0);
          timed += may ? 1 : 0;
        }
        waiters.clear();
      } else if (!waiters.empty()) {
        unsigned index = choice;
        bool times_out = false;
        if (index >= waiters.size()) {  // the (index - n)-th timed waiter, timing out
          unsigned k = index - static_cast<unsigned>(waiters.size());
          for (index = 0; !threads_[waiters[index]]->pending.timed || k-- != 0; ++index) {
          }
          times_out = true;
        }
        wake(waiters[index], times_out);
        waiters.erase(waiters.begin() + index);
      }
      break;
    }
  }
  if (p.op != Op::yield && p.op != Op::start && !is_atomic_access(p.op)) {
    // A read of the clock is a read: a window that read the same time may be a stutter.
    note_window(t, p.op == Op::clock_read, -1);
    th.signature.insert(th.signature.end(), {static_cast<Value>(p.op), p.object, record.choice,
                                             record.success, record.value});
  }
  records_.push_back(record);
  if (failure_ != Failure::none || abandoned_) return;
  if (resume_thread) resume(t);
}

bool Engine::is_atomic_access(Op op) {
  return op == Op::load || op == Op::store || op == Op::rmw || op == Op::cas || op == Op::fence;
}

void Engine::note_window(unsigned t, bool read_only, int store) {
  Thread& th = *threads_[t];
  if (!read_only) th.window_read_only = false;
  if (store >= 0) th.window.push_back(store);
}

// A yield ends a window. A read-only window that read exactly the stores the previous one
// read changed nothing: the thread is spinning without news. So is a window that read and
// wrote exactly the values the previous one did (a retry loop that takes and gives back a
// flag, reading a stale value each time). Unless another thread wrote what it read after
// it read it, its next window would repeat it while no other thread writes what it read,
// unless one of its reads may read a newer store:
// - a read of a store another thread superseded in mo (or a weak cas that failed
//   spuriously): the newer store's read (the success) is a sibling choice, explored; this
//   execution is cut;
// - else the thread is blocked until another thread writes what the window read (an
//   atomic it read, a mutex it tried, a condvar it notified, a cell it read), which
//   enables it as an unlock enables a lock: its next step is ordered after that thread's
//   step, and the window's reads race with it as any read with a store. If nothing can
//   run, it spins forever (LIVELOCK). So a spin iteration runs only where it can read
//   something new.
void Engine::end_window(unsigned t) {
  Thread& th = *threads_[t];
  const bool read = !th.read_objects.empty() || !th.read_cells.empty();
  const bool stutter = th.window_repeatable && !th.window_news && read && th.has_previous_window &&
                       th.signature == th.previous_signature &&
                       (!th.window_read_only || th.window == th.previous_window);
  if (stutter && ++th.stutters > options_.stutter_limit) {
    bool news = th.window_spurious;
    for (int store : th.window) news = news || memory_.superseded(store, t);
    if (news) {
      abandoned_ = true;
    } else {
      th.spin_blocked = true;
      explorer_.mark_repeat(th.window_start);
    }
  }
  if (!stutter) th.stutters = 0;
  th.previous_window.swap(th.window);
  th.window.clear();
  th.previous_signature.swap(th.signature);
  th.signature.clear();
  if (!th.spin_blocked) {
    th.read_objects.clear();
    th.read_cells.clear();
  }
  th.window_news = false;
  if (!th.window_repeatable) th.previous_signature.push_back(~Value{0});  // never repeated
  th.window_read_only = true;
  th.window_repeatable = true;
  th.window_spurious = false;
  th.has_previous_window = true;
}

// Only a window after the first may repeat the one before: the first reads are not kept.
void Engine::note_read(Thread& th, bool cell, unsigned object) {
  if (!th.has_previous_window) return;
  std::vector<unsigned>& read = cell ? th.read_cells : th.read_objects;
  if (std::find(read.begin(), read.end(), object) == read.end()) read.push_back(object);
}

// Thread `writer` wrote `object` (a cell's index if `cell`), in or just after its last
// step: news for another thread whose window read it, which wakes it if it is blocked.
void Engine::written(unsigned writer, unsigned object, bool cell) {
  for (unsigned u = 0; u < thread_count_; ++u) {
    Thread& th = *threads_[u];
    const std::vector<unsigned>& read = cell ? th.read_cells : th.read_objects;
    if (u == writer || std::find(read.begin(), read.end(), object) == read.end()) continue;
    if (th.spin_blocked) {
      th.spin_blocked = false;
      th.spin_woken_by = static_cast<int>(explorer_.depth()) - 1;
    } else {
      th.window_news = true;
    }
  }
}

void Engine::resume(unsigned t) {
  running_ = t;
  g_program_running = true;
  threads_[t]->fiber.resume();
  g_program_running = false;
}

void Engine::allocated(void* pointer) {
  if (!g_program_running || g_hooked || g_current == nullptr || pointer == nullptr) return;
  g_hooked = true;
  g_current->heap_.allocated(pointer);
  g_hooked = false;
}

bool Engine::freed(void* pointer) {
  if (!g_program_running || g_hooked || g_current == nullptr || pointer == nullptr) return false;
  g_hooked = true;
  Engine& e = *g_current;
  const HeapWatch::Free verdict = e.heap_.freed(pointer);
  const bool keep = verdict == HeapWatch::Free::ok && g_release_block != nullptr;
  if (keep) e.quarantine_.push_back(pointer);
  g_hooked = false;
  if (verdict == HeapWatch::Free::twice) e.fail(Failure::double_free, "memory freed twice", {});
  return keep;
}

// A destruction is no step: it runs where the thread is, between its steps. An access of
// another thread that does not happen before it races with it (C++: a data race of the
// destructor, or of the free, with that access), whichever order the search ran them in:
// found here when the access ran first, at the access (a dead object) when it ran after.
// So the destruction need not be a step the search reorders, and an access that no
// execution runs after it (it is po ∪ rf-before the free, as in a relaxed reference count)
// is found too.
void Engine::destroyed(unsigned object) {
  if (!g_program_running || g_current == nullptr) return;
  EngineCall engine_call;
  Engine& e = *g_current;
  if (object >= e.objects_.size()) return;
  Object& o = e.objects_[object];
  const std::string what = std::string("the ") + kind_name(o.kind) + " #" + std::to_string(object);
  for (unsigned u = 0; u < e.thread_count_; ++u) {
    if (o.use_time[u] == 0 || e.ordered_before_now(u, o.use_time[u])) continue;
    const std::uint32_t r = o.use_record[u];
    const Record* use = r == no_record ? nullptr : &e.records_[r];
    e.destroyed_in_use(what, std::string(use != nullptr ? op_name(use->op) : "construction") +
                                 " by thread " + std::to_string(u) +
                                 (use != nullptr ? at(use->where) : "") +
                                 " does not happen before it");
  }
  if (o.kind == Kind::mutex && e.mutexes_[o.index].holder >= 0) {
    e.destroyed_in_use(what, "thread " + std::to_string(e.mutexes_[o.index].holder) + " holds it");
  }
  if (o.kind == Kind::condvar && !e.condvars_[o.index].waiters.empty()) {
    e.destroyed_in_use(
        what, "thread " + std::to_string(e.condvars_[o.index].waiters[0]) + " waits on it");
  }
  o.dead = true;
}

void Engine::cell_destroyed(unsigned index) {
  if (!g_program_running || g_current == nullptr) return;
  EngineCall engine_call;
  Engine& e = *g_current;
  if (index >= e.cells_.size()) return;
  Cell& cell = e.cells_[index];
  const std::string what = "the cell #" + std::to_string(index);
  const unsigned t = e.running_;
  if (cell.writer != t && !e.ordered_before_now(cell.writer, cell.write_time)) {
    e.destroyed_in_use(what, "write by thread " + std::to_string(cell.writer) +
                                 at(cell.write_where) + " does not happen before it");
  }
  for (unsigned u = 0; u < max_threads; ++u) {
    if (u == t || cell.read_time[u] == 0 || e.ordered_before_now(u, cell.read_time[u])) continue;
    e.destroyed_in_use(what, "read by thread " + std::to_string(u) + at(cell.read_where[u]) +
                                 " does not happen before it");
  }
  cell.dead = true;
}

void Engine::annotated_release(const volatile void* address) {
  if (!g_program_running || g_current == nullptr) return;
  EngineCall engine_call;
  Engine& e = *g_current;
  Clock& hb = e.threads_[e.running_]->view.hb;
  ++hb.at[e.running_];  // an event: the thread's cell accesses and creations come before it
  for (auto& [at_address, released] : e.annotated_) {
    if (at_address == address) return released.join(hb);
  }
  e.annotated_.emplace_back(address, hb);
}

void Engine::annotated_acquire(const volatile void* address) {
  if (!g_program_running || g_current == nullptr) return;
  EngineCall engine_call;
  Engine& e = *g_current;
  for (const auto& [at_address, released] : e.annotated_) {
    if (at_address == address) return e.threads_[e.running_]->view.hb.join(released);
  }
}

bool Engine::ordered_before_now(unsigned thread, std::uint32_t time) const {
  return thread == running_ || threads_[running_]->view.hb.covers(thread, time);
}

void Engine::destroyed_in_use(const std::string& what, const std::string& why) {
  const unsigned t = running_;
  std::string after;
  for (std::size_t i = records_.size(); i-- > 0;) {
    if (records_[i].thread != t) continue;
    after = " after its step " + std::to_string(i) + at(records_[i].where);
    break;
  }
  fail(Failure::use_after_free,
       what + " destroyed by thread " + std::to_string(t) + after + " while in use: the " + why,
       {});
}

const char* Engine::kind_name(Kind kind) {
  switch (kind) {
    case Kind::atomic: return "atomic";
    case Kind::mutex: return "mutex";
    case Kind::condvar: return "condvar";
    case Kind::thread: return "thread";
    case Kind::clock: return "clock";
  }
  return "object";
}

unsigned Engine::live(unsigned object, Where where) {
  // An id read from freed memory, or from memory that never held an object of this
  // execution, is out of range; a destroyed object's is marked dead.
  if (object >= objects_.size() || objects_[object].dead) {
    fail(Failure::use_after_free,
         object >= objects_.size()
             ? "an operation on an object this execution never made (freed or wild memory)"
             : dead_message(object),
         where);
  }
  return objects_[object].index;
}

std::string Engine::dead_message(unsigned object) const {
  return std::string("an operation on a destroyed ") + kind_name(objects_[object].kind) +
         " (freed memory)";
}

Value Engine::visible(Pending pending) {
  Thread& th = *threads_[running_];
  th.pending = pending;
  th.fiber.suspend();
  return th.result;
}

void Engine::thread_entry(void* arg) {
  auto* th = static_cast<Thread*>(arg);
  {
    auto body = std::move(th->body);  // its captures die inside the execution
    // An exception that leaves the thread is the program's failure, reported with its
    // trace (it would call std::terminate: the process died with no report). The failure
    // is raised after the handler: a fiber left inside one would keep the exception.
    std::string uncaught;
    try {
      body();
    } catch (const std::exception& error) {
      uncaught = std::string("what(): ") + error.what();
    } catch (...) {
      uncaught = "not a std::exception";
    }
    if (!uncaught.empty()) {
      th->engine->fail(Failure::crash,
                       "thread " + std::to_string(th->id) + " ended by an uncaught exception (" +
                           uncaught + ") after its last step in the trace",
                       {});
    }
  }
  th->pending = Pending{};
  th->pending.op = Op::exit;
  th->fiber.suspend();
  std::fprintf(stderr, "weft dpor: a finished thread was resumed\n");
  std::abort();
}

unsigned Engine::new_object(Kind kind, unsigned index) {
  Object object{kind, index};
  // Made between the creator's steps, before its next one (the clock: before any thread).
  if (kind != Kind::thread && kind != Kind::clock) {
    object.use_time[running_] = threads_[running_]->view.hb.at[running_] + 1;
    object.use_record[running_] = no_record;
  }
  objects_.push_back(object);
  return static_cast<unsigned>(objects_.size() - 1);
}

unsigned Engine::new_thread(std::function<void()> body) {
  const unsigned id = thread_count_;
  if (id >= max_threads) {
    fail(Failure::usage, "more than " + std::to_string(max_threads) + " threads", {});
  }
  ++thread_count_;
  if (threads_.size() <= id) threads_.push_back(std::make_unique<Thread>());
  Thread& th = *threads_[id];
  th.engine = this;
  th.id = id;
  forget(th.body);
  th.body = std::move(body);
  th.pending = Pending{};
  th.finished = false;
  th.after_yield = false;
  th.notified = false;
  th.woken_by = -1;
  th.spurious_woken_from.clear();
  th.spurious_cas_loc = -1;
  th.own_spurious_cas_loc = -1;
  th.last_node = 0;
  th.view = ThreadView{};
  th.result = 0;
  th.success = false;
  th.window.clear();
  th.previous_window.clear();
  th.signature.clear();
  th.previous_signature.clear();
  th.read_objects.clear();
  th.read_cells.clear();
  th.window_news = false;
  th.window_read_only = true;
  th.window_repeatable = true;
  th.window_spurious = false;
  th.has_previous_window = false;
  th.stutters = 0;
  th.spin_blocked = false;
  th.spin_woken_by = -1;
  th.block_analysed = false;
  th.object = new_object(Kind::thread, id);
  th.fiber.reset(&Engine::thread_entry, &th);
  return id;
}

void Engine::finish_failure(Failure failure, std::string message) {
  if (failure_ != Failure::none) return;
  failure_ = failure;
  failure_message_ = std::move(message);
}

void Engine::fail(Failure failure, const std::string& message, Where where) {
  EngineCall engine_call;
  std::string text = message;
  text += at(where);
  finish_failure(failure, text);
  threads_[running_]->fiber.suspend();  // never resumed: the execution ends here
  std::fprintf(stderr, "weft dpor: a failed thread was resumed\n");
  std::abort();
}

void Engine::discard() {
  abandoned_ = true;
  threads_[running_]->fiber.suspend();  // never resumed
  std::fprintf(stderr, "weft dpor: a discarded execution was resumed\n");
  std::abort();
}

// ---- operations called from the program's fibers ----

unsigned Engine::new_atomic(Value initial) {
  EngineCall engine_call;
  const unsigned loc = memory_.new_location(initial, running_, threads_[running_]->view);
  return new_object(Kind::atomic, loc);
}

Value Engine::load(unsigned atomic, std::memory_order order, Where where) {
  EngineCall engine_call;
  Pending p;
  p.op = Op::load;
  p.object = atomic;
  p.request = Request{Access::read, live(atomic, where), order};
  p.where = where;
  return visible(p);
}

void Engine::store(unsigned atomic, Value value, std::memory_order order, Where where) {
  EngineCall engine_call;
  Pending p;
  p.op = Op::store;
  p.object = atomic;
  p.request = Request{Access::write, live(atomic, where), order};
  p.request.value = value;
  p.where = where;
  visible(p);
}

Value Engine::rmw(unsigned atomic, RmwOp op, Value operand, std::memory_order order, Where where,
                  Value mask) {
  EngineCall engine_call;
  Pending p;
  p.op = Op::rmw;
  p.object = atomic;
  p.request = Request{Access::rmw, live(atomic, where), order};
  p.request.op = op;
  p.request.value = operand;
  p.request.mask = mask;
  p.where = where;
  return visible(p);
}

bool Engine::compare_exchange(unsigned atomic, Value& expected, Value desired,
                              std::memory_order success, std::memory_order failure, bool weak,
                              Where where) {
  EngineCall engine_call;
  Pending p;
  p.op = Op::cas;
  p.object = atomic;
  p.request = Request{Access::cas, live(atomic, where), success, failure, desired, expected};
  p.request.weak = weak;
  p.where = where;
  const Value seen = visible(p);
  const bool ok = threads_[running_]->success;
  if (!ok) expected = seen;
  return ok;
}

void Engine::fence(std::memory_order order, Where where) {
  EngineCall engine_call;
  Pending p;
  p.op = Op::fence;
  p.request = Request{Access::fence, 0, order};
  p.where = where;
  visible(p);
}

unsigned Engine::spawn(std::function<void()> body, Where) {
  EngineCall engine_call;
  const unsigned parent = running_;
  const unsigned child = new_thread(std::move(body));
  Thread& from = *threads_[parent];
  ++from.view.hb.at[parent];  // the spawn is an event: the child sees all before it
  threads_[child]->view.hb = from.view.hb;
  explorer_.spawned(parent, child);
  return child;
}

Value Engine::visible(Op op, unsigned object, Where where) {
  EngineCall engine_call;
  Pending p;
  p.op = op;
  p.object = object;
  p.where = where;
  return visible(p);
}

void Engine::join(unsigned thread, Where where) {
  EngineCall engine_call;
  if (thread >= thread_count_ || thread == running_) {
    fail(Failure::usage, "join of an unknown thread or of itself", where);
  }
  visible(Op::join, threads_[thread]->object, where);
}

void Engine::yield(Where where) { visible(Op::yield, 0, where); }

unsigned Engine::new_mutex() {
  EngineCall engine_call;
  mutexes_.emplace_back();
  return new_object(Kind::mutex, static_cast<unsigned>(mutexes_.size() - 1));
}

void Engine::lock(unsigned mutex, Where where) {
  EngineCall engine_call;
  if (mutexes_[live(mutex, where)].holder == static_cast<int>(running_)) {
    fail(Failure::deadlock, "a thread locks a mutex it holds", where);
  }
  visible(Op::lock, mutex, where);
}

bool Engine::try_lock(unsigned mutex, Where where) {
  live(mutex, where);
  visible(Op::try_lock, mutex, where);
  return threads_[running_]->success;
}

void Engine::unlock(unsigned mutex, Where where) {
  live(mutex, where);
  visible(Op::unlock, mutex, where);
}

unsigned Engine::new_condvar() {
  EngineCall engine_call;
  condvars_.emplace_back();
  return new_object(Kind::condvar, static_cast<unsigned>(condvars_.size() - 1));
}

bool Engine::wait(unsigned condvar, unsigned mutex, Where where, bool timed,
                  std::int64_t deadline) {
  EngineCall engine_call;
  live(condvar, where);
  live(mutex, where);
  Pending p;
  p.op = Op::wait;
  p.object = condvar;
  p.object2 = mutex;
  p.timed = timed;
  p.deadline = deadline;
  p.where = where;
  visible(p);
  return threads_[running_]->success;
}

std::int64_t Engine::clock_now(Where where) {
  return static_cast<std::int64_t>(visible(Op::clock_read, clock_object_, where));
}

void Engine::notify(unsigned condvar, bool all, Where where) {
  live(condvar, where);
  visible(all ? Op::notify_all : Op::notify_one, condvar, where);
}

unsigned Engine::new_cell(Where where) {
  EngineCall engine_call;
  const unsigned t = running_;
  Cell cell;
  cell.writer = t;
  cell.write_time = threads_[t]->view.hb.at[t] + 1;
  cell.write_where = where;
  cells_.push_back(cell);
  return static_cast<unsigned>(cells_.size() - 1);
}

void Engine::cell_access(unsigned index, bool write, Where where) {
  EngineCall engine_call;
  const unsigned t = running_;
  const Clock& now = threads_[t]->view.hb;
  const std::uint32_t epoch = now.at[t] + 1;  // ordered before this thread's next event
  if (index >= cells_.size() || cells_[index].dead) {
    fail(Failure::use_after_free,
         std::string(write ? "a write to " : "a read of ") +
             (index >= cells_.size() ? "a cell this execution never made (freed or wild memory)"
                                     : "a destroyed cell (freed memory)"),
         where);
  }
  Cell& cell = cells_[index];
  auto race = [&](const char* what, unsigned other, Where at) {
    fail(Failure::data_race,
         std::string(write ? "write" : "read") + " by thread " + std::to_string(t) + " at " +
             where.file + ":" + std::to_string(where.line) + " races with the " + what +
             " by thread " + std::to_string(other) + " at " + at.file + ":" +
             std::to_string(at.line),
         {});
  };
  if (cell.writer != t && !now.covers(cell.writer, cell.write_time)) {
    race("write", cell.writer, cell.write_where);
  }
  if (write) {
    for (unsigned u = 0; u < max_threads; ++u) {
      if (u != t && cell.read_time[u] != 0 && !now.covers(u, cell.read_time[u])) {
        race("read", u, cell.read_where[u]);
      }
    }
    cell.writer = t;
    cell.write_time = epoch;
    cell.write_where = where;
    cell.read_time.fill(0);
    written(t, index, true);
  } else {
    cell.read_time[t] = epoch;
    cell.read_where[t] = where;
    note_read(*threads_[t], true, index);
  }
}

const char* Engine::op_name(Op op) {
  static const char* const names[] = {
      "start", "exit",   "join",       "yield",      "load",     "store",
      "rmw",   "cas",    "fence",      "lock",       "try_lock", "unlock",
      "wait",  "relock", "notify_one", "notify_all", "now",      "clock_advance"};
  return names[static_cast<int>(op)];
}

std::string Engine::format_trace() const {
  std::ostringstream out;
  for (std::size_t i = 0; i < records_.size(); ++i) {
    const Record& r = records_[i];
    out << "  " << i << ": thread " << r.thread << "  " << op_name(r.op);
    const bool memory = r.op == Op::load || r.op == Op::store || r.op == Op::rmw ||
                        r.op == Op::cas || r.op == Op::fence;
    if (memory) {
      if (r.op != Op::fence) out << " #" << r.object;
      out << " " << order_name(r.order);
      if (r.op == Op::cas) out << (r.success ? " succeeded" : " failed");
      if (r.op != Op::fence) out << (r.op == Op::store ? " = " : " -> ") << r.value;
      if (r.op != Op::store && r.op != Op::fence) {
        if (r.writer.initial) {
          out << " (initial value)";
        } else {
          out << " (stored by thread " << r.writer.thread << ")";
        }
      }
    } else if (r.op != Op::start && r.op != Op::exit && r.op != Op::yield) {
      out << " #" << r.object;
      if (r.op == Op::try_lock) out << (r.success ? " acquired" : " busy");
      if (r.op == Op::wait && r.success) out << (r.value ? " (timed out)" : " (spurious wakeup)");
      if ((r.op == Op::notify_one || r.op == Op::notify_all) && r.success)
        out << " (a woken timed wait times out)";
      if (r.op == Op::clock_read || r.op == Op::clock_advance) out << " = " << r.value << " ns";
    }
    if (r.choices > 1) out << "  [choice " << r.choice << " of " << r.choices << "]";
    if (r.where.line != 0) out << "  at " << r.where.file << ":" << r.where.line;
    out << "\n";
  }
  if (!failure_message_.empty())
    out << "  => " << describe(failure_) << ": " << failure_message_ << "\n";
  return out.str();
}

}  // namespace weft::dpor

// The hooks of annotations.h.
extern "C" void weft_dpor_happens_before(const volatile void* address) noexcept {
  weft::dpor::Engine::annotated_release(address);
}
extern "C" void weft_dpor_happens_after(const volatile void* address) noexcept {
  weft::dpor::Engine::annotated_acquire(address);
}
