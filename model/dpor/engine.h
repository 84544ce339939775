// weft/model/dpor/engine.h: weft's stateless model checker. Runs a program's threads as
// fibers, one visible operation at a time, over every execution the exploration
// (explorer.h, source-DPOR) and the memory model (memory.h, RC11) allow.
//
//   auto result = dpor::Engine::explore([] {
//     auto& e = dpor::Engine::current();
//     unsigned x = e.new_atomic(0);
//     unsigned t = e.spawn([x] { dpor::Engine::current().store(x, 1, relaxed, {}); }, {});
//     e.load(x, relaxed, {});
//     e.join(t, {});
//   }, {});
//
// Visible operations: atomic accesses, fences, mutex and condvar operations, spawn's
// child start, join, a thread's end, yield. Everything between them runs natively.
// Plain shared data (cells) is not a scheduling point: each access is checked against
// happens-before for data races (vector clocks, as in FastTrack's epochs).
#pragma once

#include "model/dpor/clock.h"
#include "model/dpor/explorer.h"
#include "model/dpor/fiber.h"
#include "model/dpor/heap_watch.h"
#include "model/dpor/memory.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace weft::dpor {

// Where a visible operation was called from, for traces.
struct Where {
  const char* file = "";
  unsigned line = 0;
};

enum class Failure {
  none,
  assertion,       // fail() from the program (WEFT_INVARIANT)
  data_race,       // two cell accesses not ordered by happens-before, one a write
  deadlock,        // threads remain, none can run
  livelock,        // an execution longer than the depth limit
  leak,            // memory allocated during an execution and never freed
  double_free,     // memory allocated during an execution and freed twice
  use_after_free,  // an operation on an atomic, cell, mutex or condvar after its destruction
  crash,           // the program crashed (SIGSEGV, SIGBUS, SIGFPE, SIGILL, an uncaught exception)
  nondeterminism,  // a replayed prefix took another path: the program is not deterministic
  usage,           // the program misused the checker (too many threads, bad replay)
};

const char* describe(Failure failure);

struct Options {
  bool sc_only = false;  // sequential consistency instead of RC11
  // Yield-to-yield windows of a spinning thread that may repeat exactly (the same loads
  // reading the same stores, nothing else) before the execution is cut or the thread
  // blocks until another writes what it read (see README).
  unsigned stutter_limit = 0;
  bool reduce = true;                // false: plain depth-first search of every interleaving
  int preemption_bound = -1;         // at most this many preemptions per execution; -1: none
  bool spurious_wakeups = true;      // a condvar wait may return without a notify, as C++ allows
  unsigned depth_limit = 5000;       // steps per execution before LIVELOCK
  std::uint64_t max_executions = 0;  // 0: until the tree is exhausted
  bool verify_psc = false;           // tests: the incremental psc check against the full one
  std::string replay;                // run only this schedule (from Result::replay)
  // Tests: every execution's graph checked from scratch for RC11 consistency (atomicity,
  // coherence, psc); a graph that is not is a USAGE ERROR naming the axiom (an engine bug).
  bool verify_graph = false;
  // Samples executions instead of exploring the tree (then max_executions counts the
  // executions ended early too).
  Chooser* chooser = nullptr;
  // Splits the exploration over processes (jobs.h); null: this process explores it all.
  Splitter* splitter = nullptr;
  // Called at the end of every complete execution (inside it, on the main fiber's behalf);
  // false stops the exploration (Result::stopped).
  std::function<bool()> on_complete;
  // Called after every execution cut short (blocked or discarded); false stops too.
  std::function<bool()> go_on;
};

struct Result {
  Failure failure = Failure::none;
  std::string message;
  std::uint64_t executions = 0;  // complete executions run
  std::uint64_t blocked = 0;     // ended early: every enabled thread asleep, or no choice
  bool exhausted = false;        // the whole tree was explored
  bool stopped = false;          // on_complete or go_on asked to stop
  std::string trace;             // the failing execution, one step a line
  std::string replay;            // its schedule, for Options::replay
};

class Engine {
 public:
  static Result explore(std::function<void()> main, const Options& options);

  // The engine of the execution running on this fiber.
  static Engine& current();
  static bool running();

  unsigned thread_index() const { return running_; }
  // The running execution's number, unique in the process (explorations one after another
  // or nested included): state the program keeps outside the engine per thread
  // (platform::thread_local_pointer) tells a previous execution's from its own by it, as
  // an execution may end before the program puts that state back.
  std::uint64_t execution() const { return execution_; }

  unsigned new_atomic(Value initial);
  Value load(unsigned atomic, std::memory_order order, Where where);
  void store(unsigned atomic, Value value, std::memory_order order, Where where);
  Value rmw(unsigned atomic, RmwOp op, Value operand, std::memory_order order, Where where,
            Value mask = ~Value{0});
  bool compare_exchange(unsigned atomic, Value& expected, Value desired, std::memory_order success,
                        std::memory_order failure, bool weak, Where where);
  void fence(std::memory_order order, Where where);

  unsigned spawn(std::function<void()> body, Where where);
  void join(unsigned thread, Where where);
  void yield(Where where);

  unsigned new_mutex();
  void lock(unsigned mutex, Where where);
  bool try_lock(unsigned mutex, Where where);
  void unlock(unsigned mutex, Where where);
  unsigned new_condvar();
  // Releases the mutex, blocks until a notify, relocks. Returns false when it ended without
  // one: a spurious wakeup, or for a timed wait its timeout (always possible, a choice),
  // which moves the virtual clock to `deadline` before the relock. A timed wait a notify
  // woke may also time out so (a choice of the notify): the notify is consumed.
  bool wait(unsigned condvar, unsigned mutex, Where where, bool timed = false,
            std::int64_t deadline = 0);
  void notify(unsigned condvar, bool all, Where where);

  // The virtual clock (platform::clock in the model build): 0 at an execution's start,
  // moved only by timeouts, to their deadlines. A read is a visible operation, dependent
  // with each timeout's move (not with another read), so both orders of a read and a
  // timeout of another thread are explored.
  std::int64_t clock_now(Where where);

  unsigned new_cell(Where where);
  void cell_access(unsigned cell, bool write, Where where);

  [[noreturn]] void fail(Failure failure, const std::string& message, Where where);
  // Ends the current execution without a verdict (an assumption that does not hold).
  [[noreturn]] void discard();

  // Heap tracking, called by a replaced global operator new / delete (the DPOR harness
  // runner installs one): only the program's own allocations count, not the engine's.
  // Once keep_freed_blocks(release) is called, freed() returns true when the engine keeps
  // the program's block until the execution ends and then calls release on it (the caller
  // must not free it): its objects keep their ids, so a later access through a dangling
  // pointer is found (destroyed()), and no new object can take its place.
  static void allocated(void* pointer);
  static bool freed(void* pointer);
  static void keep_freed_blocks(void (*release)(void*));
  // The end of an atomic, mutex or condvar (`object`), or of a cell (`cell`): a later
  // operation on it is USE AFTER FREE, and so is the end itself unless every other
  // thread's operation on it happens before it (and no thread holds the mutex or waits on
  // the condvar). Ignored outside the program's code.
  static void destroyed(unsigned object);
  static void cell_destroyed(unsigned cell);
  // Synchronization the program makes through atomics that are not the platform's, as
  // libstdc++ annotates std::shared_ptr's reference count (annotations.h): what the thread
  // did before a release at `address` happens before what a thread does after a later
  // acquire there. Ignored outside the program's code.
  static void annotated_release(const volatile void* address);
  static void annotated_acquire(const volatile void* address);

  Engine(const Options& options);
  ~Engine();

 private:
  enum class Op : std::uint8_t {
    start,
    exit,
    join,
    yield,
    load,
    store,
    rmw,
    cas,
    fence,
    lock,
    try_lock,
    unlock,
    wait,
    relock,
    notify_one,
    notify_all,
    clock_read,     // now()
    clock_advance,  // a timed wait timed out: the clock moves to its deadline
  };
  struct Pending {
    Op op = Op::start;
    unsigned object = 0;        // atomic, mutex, condvar or thread
    unsigned object2 = 0;       // wait: the mutex
    bool timed = false;         // wait: may time out
    std::int64_t deadline = 0;  // timed wait: where its timeout moves the clock
    Request request;            // atomic operations
    Where where;
  };
  struct Thread;
  struct Cell;
  enum class Kind : std::uint8_t { atomic, mutex, condvar, thread, clock };
  static constexpr std::uint32_t no_record = ~std::uint32_t{0};
  struct Object {
    Kind kind;
    unsigned index;     // memory location, mutex, condvar or thread
    bool dead = false;  // destroyed: any later operation on it is a use after free
    // Per thread, its last operation on the object (its event number, 0 if none; the
    // creation counts, ordered before the creator's next event) and that step's record
    // (no_record: the creation): each must happen before the destruction.
    std::array<std::uint32_t, max_threads> use_time{};
    std::array<std::uint32_t, max_threads> use_record{};
  };
  struct Mutex {
    int holder = -1;
    Clock released;  // hb at the last unlock
  };
  struct Condvar {
    std::vector<unsigned> waiters;
  };
  struct Record {  // one step, for the trace
    unsigned thread;
    Op op;
    unsigned object;
    std::memory_order order;
    Value value;
    bool success;
    unsigned choice, choices;
    Memory::Writer writer;
    Where where;
  };

  void run_execution(const std::function<void()>& main);
  bool enabled(unsigned thread) const;
  Footprint footprint(unsigned thread) const;
  unsigned choices(unsigned thread);
  unsigned wait_choices(const Thread& thread) const;
  unsigned notify_choices(const Pending& pending) const;
  void execute(unsigned thread, unsigned choice);
  void resume(unsigned thread);
  static bool is_atomic_access(Op op);
  Value visible(Pending pending);  // from a fiber: wait to be scheduled, return the result
  Value visible(Op op, unsigned object, Where where);
  unsigned new_object(Kind kind, unsigned index);
  unsigned new_thread(std::function<void()> body);
  static void thread_entry(void* arg);
  std::string format_trace() const;
  void finish_failure(Failure failure, std::string message);
  // The object's index (location, mutex, condvar) if it is alive, else USE AFTER FREE.
  unsigned live(unsigned object, Where where);
  std::string dead_message(unsigned object) const;
  static const char* kind_name(Kind kind);
  static const char* op_name(Op op);
  // A destruction by the running thread is a write of the object's memory: every other
  // thread's access must happen before it (its clock covers `time`, the access's event).
  bool ordered_before_now(unsigned thread, std::uint32_t time) const;
  // USE AFTER FREE at such a destruction of `what`, in use as `why` says.
  [[noreturn]] void destroyed_in_use(const std::string& what, const std::string& why);
  void release_quarantine();
  static void on_crash(int signal);
  void note_window(unsigned thread, bool read_only, int store);
  void end_window(unsigned thread);
  void written(unsigned writer, unsigned object, bool cell);
  void note_read(Thread& thread, bool cell, unsigned object);

  Options options_;
  Explorer explorer_;
  Memory memory_;
  std::vector<std::unique_ptr<Thread>> threads_;  // fibers kept across executions
  unsigned thread_count_ = 0;
  unsigned running_ = 0;
  std::vector<Object> objects_;
  std::vector<Mutex> mutexes_;
  std::vector<Condvar> condvars_;
  std::vector<Cell> cells_;
  std::vector<Choice> choice_buffer_;
  std::vector<std::uint32_t> choice_index_;  // each one's index among all, covered included
  std::vector<Footprint> pending_footprints_;
  std::vector<Record> records_;
  Failure failure_ = Failure::none;
  std::string failure_message_;
  bool abandoned_ = false;
  std::uint64_t execution_ = 0;
  // hb released at each annotated address (few an execution: searched in order, and the
  // vector keeps its memory across executions).
  std::vector<std::pair<const volatile void*, Clock>> annotated_;
  std::int64_t clock_ = 0;         // the virtual clock, in nanoseconds
  unsigned clock_object_ = 0;      // its object, for the dependence of reads and moves
  HeapWatch heap_;                 // the program's allocations in this execution
  std::vector<void*> quarantine_;  // the program's blocks freed in this execution
};

}  // namespace weft::dpor
