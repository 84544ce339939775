// weft/model/dpor/memory.h: the C++20 atomics as RC11 (Lahav, Vafeiadis, Kang, Hur,
// Dreyer, "Repairing sequential consistency in C/C++11", PLDI 2017), built one event at a
// time.
//
// The execution graph holds every atomic access and fence of the execution so far: which
// store each load reads from (rf), the modification order of each location (mo), and
// happens-before (hb) as vector clocks. Events are added in an order consistent with
// po ∪ rf (a load reads only a store already in the graph), so po ∪ rf is acyclic by
// construction: no out-of-thin-air values. For each new event the graph offers every
// choice that keeps it RC11-consistent:
//   a load, every store it may read from (coherence: hb;eco irreflexive; psc acyclic);
//   a store, every place in mo it may take (coherence, and never between an RMW and the
//   store that RMW read: atomicity);
//   an RMW, every store it may read, taking the place right after it in mo;
//   a compare-exchange, each readable store as a success (value equal) or a failure read
//   with the failure order; a weak one may also fail spuriously on an equal value.
// Consistency is prefix-closed, so checking each new event against the graph so far
// explores exactly the consistent graphs whose po ∪ rf is acyclic.
//
// Release sequences are C++20's (P0982R1: the RMW chain only, not the later same-thread
// stores of RC11's original definition).
//
// sc_only mode is sequential consistency: each load reads the last store in execution
// order and mo is execution order (the engine's first milestone, and its counting tests).
#pragma once

#include "model/dpor/clock.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace weft::dpor {

using Value = std::uint64_t;

enum class Access : std::uint8_t { read, write, rmw, cas, fence };

enum class RmwOp : std::uint8_t { exchange, add, sub, bit_or, bit_and, bit_xor };

Value apply(RmwOp op, Value old, Value operand);

// One thread's memory-model state.
struct ThreadView {
  Clock hb;           // what happens-before this thread's next event (own component: its count)
  Clock rel_fence;    // hb at this thread's last release fence (carried by its relaxed stores)
  Clock acq_pending;  // release views its relaxed loads met (taken by an acquire fence)
};

// An atomic operation as the engine asks for it.
struct Request {
  Access kind = Access::read;
  unsigned loc = 0;
  std::memory_order order = std::memory_order_seq_cst;
  std::memory_order fail_order = std::memory_order_relaxed;  // cas
  Value value = 0;     // store: the value; rmw: the operand; cas: the desired value
  Value expected = 0;  // cas
  RmwOp op = RmwOp::exchange;
  bool weak = false;       // cas
  Value mask = ~Value{0};  // rmw: the bits kept (arithmetic wraps at the type's width)
};

// One way the request may execute.
struct Choice {
  int rf = -1;          // the store read (read, rmw, cas)
  unsigned mo_pos = 0;  // where the store goes in mo (write, rmw, successful cas)
  bool success = true;  // cas
};

class Memory {
 public:
  explicit Memory(bool sc_only) : sc_only_(sc_only) { clear(); }

  void clear();
  // Tests: check every incremental psc verdict against the full recomputation (abort on a
  // difference).
  void set_verify_psc(bool on) { verify_psc_ = on; }
  // A new location, its initial store made by `thread` (first in mo).
  unsigned new_location(Value initial, unsigned thread, ThreadView& view);

  // Every consistent way `request` by `thread` may execute, the latest store first.
  // With `kept`: no choice reading a store whose index is below `covered` (see
  // explorer.h), and kept[i] is out[i]'s index among all the choices.
  void choices(const Request& request, unsigned thread, const ThreadView& view,
               std::vector<Choice>& out, int covered = 0, bool spurious_covered = false,
               std::vector<std::uint32_t>* kept = nullptr);
  // Adds the event; returns the value read (0 for a store or fence). `success` is the
  // cas outcome.
  Value commit(const Request& request, const Choice& choice, unsigned thread, ThreadView& view);

  // The event that wrote what `event` read, for traces: (thread, its local number).
  struct Writer {
    unsigned thread;
    std::uint32_t local;
    bool initial;
  };
  Writer writer_of_last_read() const;
  std::uint32_t event_count() const { return static_cast<std::uint32_t>(events_.size()); }
  // Tests: the whole graph checked from scratch (atomicity, coherence, psc unless sc_only);
  // empty if RC11-consistent, else which axiom fails and where.
  std::string inconsistency() const;
  // The store the last event read (an index into this execution's events), and whether
  // a store of a thread other than `reader` is later in mo than `store` (the reader's own
  // later stores are po-after its read).
  int source_of_last_read() const { return events_.back().rf; }
  bool superseded(int store, unsigned reader) const {
    const Event& w = events_[store];
    const std::vector<int>& mo = locations_[w.loc].mo;
    for (std::size_t i = w.mo_pos + 1; i < mo.size(); ++i) {
      if (events_[mo[i]].thread != reader) return true;
    }
    return false;
  }

 private:
  struct Event {
    unsigned thread;
    std::uint32_t local;
    Access kind;  // a cas becomes rmw (success) or read (failure)
    unsigned loc;
    std::memory_order order;
    Value value;  // written (write, rmw) or read (read)
    int rf = -1;
    unsigned mo_pos = 0;
    bool read_by_rmw = false;
    bool initial = false;
    int psc_node = -1;  // its node in the psc graph (a seq_cst access or fence)
    // The local number of the first po-later event at another location (a fence is at
    // none), for scb's po|≠loc;hb;po|≠loc.
    std::uint32_t next_other_loc = ~std::uint32_t{0};
    Clock hb;   // including the synchronization this event takes part in
    Clock msg;  // write, rmw: the release view a reader acquires
  };
  struct Location {
    std::vector<int> mo;      // stores in modification order
    std::vector<int> events;  // every access, in execution order
  };

  void all_choices(const Request& request, unsigned thread, const ThreadView& view,
                   std::vector<Choice>& out);
  bool is_write(const Event& e) const { return e.kind == Access::write || e.kind == Access::rmw; }
  bool is_sc(const Event& e) const { return e.order == std::memory_order_seq_cst; }
  static bool same_loc(const Event& a, const Event& b) {
    return a.kind != Access::fence && b.kind != Access::fence && a.loc == b.loc;
  }
  bool hb(int a, int b) const {
    const Event& from = events_[a];
    return a != b && events_[b].hb.covers(from.thread, from.local);
  }
  // Whether event x happens before the new event e (not yet in the graph).
  bool hb_new(const Event& x, const Event& e) const { return e.hb.covers(x.thread, x.local); }
  // The lowest mo position the next access of a thread with clock `hb` may observe.
  unsigned coherence_floor(unsigned loc, const Clock& hb) const;
  Event make_event(const Request& request, const Choice& choice, unsigned thread,
                   const ThreadView& view) const;
  void push(const Event& event);
  void pop();
  // Per-thread bookkeeping of the committed event `index` (next_other_loc).
  void record(int index);
  bool psc_needed(const Event& event) const;
  // The full psc check, from scratch (verify_psc, inconsistency()): the psc edges between
  // the seq_cst events, listed in `sc`, and whether they are acyclic.
  std::vector<std::vector<bool>> psc_full_edges(std::vector<int>& sc) const;
  bool psc_acyclic() const;
  // The incremental psc check (psc.cc). The graph's nodes are the seq_cst accesses and
  // fences, and a hub for each access hb-after a seq_cst fence with stores eco-after it:
  // the edges from those fences, through the access, to those stores and to the fences
  // after them (|sources| x |targets| edges) go through the hub. A new event's edges are
  // all incident to its node (into_ -> e -> out_) or its hub (hub_in_ -> hub -> hub_out_),
  // and end at nodes already there, so the graph, acyclic before, has a cycle only
  // through those two (psc_cycle).
  void psc_edges(const Event& e) const;
  void psc_fence_sources(const Event& e) const;
  bool psc_cycle() const;
  void psc_add_nodes(int index);
  void psc_add_node(int event, const std::vector<std::uint64_t>& in,
                    const std::vector<std::uint64_t>& out);
  void verify_psc(const Event& e, bool cycle);
  void verify_psc_graph() const;
  std::uint64_t* psc_row(std::size_t node) { return &psc_adjacency_[node * psc_stride_]; }
  const std::uint64_t* psc_row(std::size_t node) const {
    return &psc_adjacency_[node * psc_stride_];
  }

  bool sc_only_;
  bool verify_psc_ = false;
  std::vector<Event> events_;
  std::vector<Location> locations_;  // the first location_count_ are this execution's
  std::size_t location_count_ = 0;
  std::vector<int> sc_fences_;
  int sc_events_ = 0;
  // Per thread: its last event, the last one before its trailing run of events at one
  // location, and that run (their next_other_loc is not known yet).
  int last_[max_threads];
  int before_run_[max_threads];
  std::vector<int> run_[max_threads];
  // The psc graph, an adjacency matrix of psc_stride_ words a row.
  std::vector<int> psc_nodes_;  // node -> event (-1: a hub)
  std::vector<std::uint64_t> psc_adjacency_;
  std::size_t psc_stride_ = 0;
  // Scratch of psc_edges and psc_cycle (no allocation per step once grown): the new
  // event's node and hub, each with its edges, and whether each is there.
  mutable std::vector<std::uint64_t> into_, out_, hub_in_, hub_out_, seen_;
  mutable std::vector<int> frontier_;
  mutable bool node_ = false, hub_ = false;
};

}  // namespace weft::dpor
