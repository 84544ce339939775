// weft/model/dpor/explorer.h: source-DPOR with sleep sets (Abdulla, Aronis, Jonsson,
// Sagonas, "Optimal dynamic partial order reduction", POPL 2014, Algorithm 1).
//
// Stateless: every execution replays a prefix of the exploration tree from the start,
// then extends it. A node of the tree is a state; it records which thread ran there, which
// of that operation's memory-model choices was taken (the store a load reads, a store's
// place in mo, ...), the threads still to try (backtrack), those already tried (done) and
// those asleep (their next operation was explored from an equivalent state). When thread
// p's next operation races with an earlier step e (dependent, not ordered through other
// steps, reversible), a thread that can start the reversed order is added at e's node,
// unless one already is (source sets). At most one complete execution per equivalence
// class is run; a state where every enabled thread sleeps ends its execution early
// (counted as blocked).
//
// Preemption bounding (Coons, Musuvathi, McKinley, "Bounded partial-order reduction",
// OOPSLA 2013): with a bound k, a path switches away from a thread that could go on at most
// k times. The bound makes steps that DPOR deems independent dependent (the same trace may
// fit the bound in one order and not the other), so each backtrack point is also added, when
// the bound allows, at the start of the block of steps that holds the racing step: there
// the other thread starts without a new preemption.
//
// Covered reads (the reads-from view of Abdulla, Atig, Jonsson, Ngo, "Optimal stateless
// model checking under the release-acquire semantics", OOPSLA 2018): a thread q explored at
// node a read there, with its next operation L, every store a's state had. In a sibling
// subtree of a, L (q has not run since) need not read those stores again: an execution that
// does is the same graph as one with L moved back to a, explored under q (L only reads, or
// is an RMW right after the store it reads, and moving it changes nothing another thread
// may do or read, RC11 loads reading any coherent store). Under a preemption bound the move
// must not cost a preemption: only where q was running at a and another thread preempted it.
// Not under SC (a moved RMW would change what later loads read) nor for a spurious cas
// failure that a was not offered. It is where a load racing a store went first: the order
// store-first then explores only the reads of the new store.
//
// Two operations of different threads are dependent when they touch a common object and
// not both only read it, and, for the memory model's choices, not both only store to it:
// stores take every permitted place in mo, so their relative order is explored by the
// choices, not by the schedule (sequential-consistency mode keeps stores dependent).
#pragma once

#include "model/dpor/clock.h"
#include "model/dpor/memory.h"

#include <cstdint>
#include <string>
#include <vector>

namespace weft::dpor {

// How an operation touches an object (an atomic, mutex, condvar or thread).
enum class Mode : std::uint8_t {
  read,     // atomic load
  write,    // atomic store (dependent with stores only in sc mode, where it is rmw)
  rmw,      // anything that reads and writes: RMW, cas, try_lock, notify, cv wait
  acquire,  // mutex lock: enabled only once the previous release ran
  release,  // mutex unlock (also the release half of a cv wait)
  exit,     // a thread's end
  join,     // waiting for that end
};

struct Footprint {
  unsigned object[2] = {0, 0};
  Mode mode[2] = {Mode::read, Mode::read};
  std::uint8_t count = 0;
  bool after_yield = false;  // the first step after a yield (switching away is free)
  int enabled_by = -1;       // a step this one waited for (the notify that woke a cv waiter)

  void add(unsigned obj, Mode m) {
    object[count] = obj;
    mode[count] = m;
    ++count;
  }
};

bool dependent(const Footprint& a, const Footprint& b);

// A scheduling-choice hook: sampling strategies (the harness's random and PCT) choose each
// step's thread and memory-model choice here instead of the depth-first order. With one,
// every execution is a fresh path: nothing is backtracked, nothing reduced.
class Chooser {
 public:
  virtual ~Chooser() = default;
  virtual void begin() = 0;  // an execution starts
  // The thread to run among `candidates` (a mask); `last` ran the previous step.
  virtual unsigned thread(std::uint32_t candidates, const std::vector<Footprint>& pending,
                          unsigned last) = 0;
  // Which of `choices` (> 1) ways the step's operation executes.
  virtual unsigned choice(unsigned choices) = 0;
};

class Explorer;

// Splits the tree over processes (jobs.h). Between executions a process gives the
// shallowest alternative still to explore on its path (another thread at a node, or the
// current thread's remaining choices there) to a new process, rooted at that node. A
// backtrack point that a race adds at or above a process's root goes to the process that
// owns the node, which does not leave the node before every process rooted there ended.
enum class Handoff {
  keep,   // no free job: explore it here
  given,  // another process explores it: skip it
  taken,  // this is the new process, rooted at the node: explore it
};
class Splitter {
 public:
  virtual ~Splitter() = default;
  // Between executions: takes in what other processes sent; false stops the exploration.
  virtual bool poll(Explorer& explorer) = 0;
  // Gives an alternative at `node` to a new process if a job is free.
  virtual Handoff split(std::size_t node) = 0;
  // A backtrack point at a node this process does not own (Explorer::add_initial's args).
  virtual void forward(std::size_t node, std::uint32_t initials, unsigned thread) = 0;
  // Before `node` is left: waits until no process rooted at or below it runs; true if it
  // waited (their points may have added to the node).
  virtual bool settle(Explorer& explorer, std::size_t node) = 0;
};

class Explorer {
 public:
  // Starts an execution (replaying the tree's current path first).
  void begin(unsigned main_thread);
  // A new thread inherits its parent's dependence clock (spawn enables it).
  void spawned(unsigned parent, unsigned child);

  // Chooses the thread for the next step: -1 if every enabled thread sleeps. `pending`
  // holds each thread's next operation; `last` ran the previous step.
  int pick(std::uint32_t enabled, const std::vector<Footprint>& pending, unsigned last);
  // Records the step of the picked thread (after pick); `choices` is how many ways its
  // operation may execute. Returns which one to take; -1 if the replayed schedule no
  // longer matches the program (it is not deterministic).
  int step(unsigned thread, const Footprint& footprint, unsigned choices);

  // Under a bound, before a new state: `thread` cannot run its next operation (a lock, a
  // relock) while another thread holds the mutex. Its races are analysed now, as Flanagan
  // and Godefroid's DPOR analyses every thread's next transition, enabled or not: the
  // holder's lock races with it. Else, when the lock runs only after a later lock of the
  // holder (a preemption more than the bound allows, once the holder unlocked), that
  // later lock hides the race, and an order within the bound is never explored.
  void blocked(unsigned thread, const Footprint& footprint);

  // Moves to the next unexplored path; false when the tree is exhausted.
  bool next_execution();
  // Replays exactly `schedule` (from replay_string()), exploring nothing else.
  bool load_replay(const std::string& schedule);
  std::string replay_string() const;

  std::size_t depth() const { return depth_; }

  // Before pick(): how many memory events the execution has (the stores a step at the
  // next node could read).
  void set_events(std::uint32_t events) { events_ = events; }
  // The memory events a step of `thread` now need not read (it read each of them, with the
  // same next operation, at an earlier node explored already): their indices are below this.
  std::uint32_t covered(unsigned thread) const { return covered_[thread]; }
  std::size_t covered_at(unsigned thread) const { return covered_at_[thread]; }  // that node

  // The memory-model choice a node's step took, kept while the path replays that node
  // unchanged: the engine need not compute the step's choices again.
  struct Taken {
    Choice choice;
    unsigned object;      // the atomic: a replay that reaches another one diverged
    std::uint32_t index;  // among all the step's choices, covered ones included (replays)
  };
  // Before step(): the next step's kept choice, or nullptr (a new node, a new choice).
  const Taken* taken() const {
    if (depth_ >= path_.size() || !path_[depth_].has_taken) return nullptr;
    return &path_[depth_].taken;
  }
  unsigned taken_choices() const { return path_[depth_].choices; }
  unsigned taken_index() const { return path_[depth_].choice; }
  // After step(): keeps the choice its step took.
  void take(const Taken& taken) {
    if (chooser_ != nullptr) return;  // every sampled path is new
    path_[depth_ - 1].taken = taken;
    path_[depth_ - 1].has_taken = true;
  }
  // Off: every enabled thread at every node, no sleep sets (the reference search the
  // tests compare against).
  void set_reduction(bool on) { reduce_ = on; }
  // At most `bound` preemptions per path (negative: none).
  void set_preemption_bound(int bound) { bound_ = bound; }
  void set_chooser(Chooser* chooser) {
    chooser_ = chooser;
    if (chooser != nullptr) reduce_ = false;
  }
  void set_splitter(Splitter* splitter) { splitter_ = splitter; }
  // The steps from `first` on repeated the window before them exactly (a spinner that
  // blocked after them): a store's race with them is not reversed, since the store before
  // them is the same execution as the store after the block, which this one explores.
  void mark_repeat(std::size_t first) {
    for (std::size_t i = first; i < trace_.size(); ++i) trace_[i].repeat = true;
  }
  // Adds one of `initials` (preferring `thread`) at node i, or every enabled thread when
  // none of them can run there, within the bound; a node above this process's root gets it
  // through the splitter. Also a point another process forwarded.
  void add_initial(std::size_t i, std::uint32_t initials, unsigned thread);

 private:
  struct Node {
    std::uint8_t thread = 0;
    std::uint32_t choice = 0;
    std::uint32_t choices = 0;
    std::uint32_t backtrack = 0;
    std::uint32_t done = 0;
    std::uint32_t sleep = 0;
    std::uint32_t enabled = 0;
    std::uint32_t given = 0;           // threads another process explores here (Splitter)
    std::uint32_t choice_end = ~0u;    // the thread's later choices: another process's
    std::uint8_t running = no_thread;  // the previous step's thread, if it could go on
    std::uint16_t preemptions = 0;     // on the path before this node
    bool fresh = true;                 // its thread's races are not analysed yet
    bool has_taken = false;            // taken holds the current choice
    std::uint32_t events = 0;          // memory events before its step
    Taken taken{};
  };
  static constexpr std::uint8_t no_thread = 0xff;
  struct Step {
    unsigned thread;
    Footprint footprint;
    Clock clock;          // dependence order
    bool repeat = false;  // in a spin window that repeated the one before (mark_repeat)
  };

  Clock dependence_clock(unsigned thread, const Footprint& footprint);
  void record_step(unsigned thread, const Footprint& footprint, const Clock& clock,
                   const Node& node);
  void analyse_races(unsigned thread, const Footprint& footprint, const Clock& clock);
  void add_backtrack(std::size_t node, unsigned thread, const Clock& clock);
  // Gives an alternative to a free job (Splitter); true in the new process.
  bool share_work();
  // The threads node i may run without exceeding the preemption bound.
  std::uint32_t allowed(const Node& node) const;
  std::vector<std::size_t>& object_steps(unsigned obj);

  std::vector<Node> path_;
  std::size_t depth_ = 0;
  std::vector<Step> trace_;
  std::vector<std::vector<std::size_t>> by_object_;  // trace indices per object
  // Joined dependence clocks of the steps so far, per object and mode class: a new step
  // depends on exactly the classes its mode conflicts with.
  struct ObjectClocks {
    Clock read, write, other;
  };
  std::vector<ObjectClocks> object_clocks_;
  ObjectClocks& object_clocks(unsigned obj);
  Clock thread_clock_[max_threads];
  std::uint32_t events_ = 0;
  std::uint32_t covered_[max_threads] = {};
  std::size_t covered_at_[max_threads] = {};
  const std::vector<Footprint>* pending_ = nullptr;
  std::uint32_t child_sleep_ = 0;
  bool replay_only_ = false;
  bool reduce_ = true;
  int bound_ = -1;
  Chooser* chooser_ = nullptr;
  Splitter* splitter_ = nullptr;
  static constexpr std::size_t no_root = ~std::size_t{0};
  std::size_t root_ = no_root;  // nodes up to it belong to another process (Splitter)
};

}  // namespace weft::dpor
