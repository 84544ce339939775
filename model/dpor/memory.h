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
  void choices(const Request& request, unsigned thread, const ThreadView& view,
               std::vector<Choice>& out);
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
    int sc_node = -1;  // its node in the psc graph (a seq_cst access while it is kept)
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
  bool psc_acyclic() const;
  // The incremental psc check, exact while the graph has no seq_cst fence (psc_graph_):
  // the edges a new seq_cst access e adds are all incident to e (into_: the nodes with an
  // edge to e; out_: those e has an edge to), so the graph stays acyclic unless out_
  // reaches into_.
  void psc_edges(const Event& e) const;
  bool psc_cycle() const;
  void psc_add_node(int index);
  void verify_psc(const Event& e, bool cycle);
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
  // psc over the seq_cst accesses, an adjacency matrix of psc_stride_ words a row, kept
  // while the execution has no seq_cst fence (then psc_acyclic decides).
  bool psc_graph_ = true;
  std::vector<int> sc_nodes_;  // node -> event
  std::vector<std::uint64_t> psc_adjacency_;
  std::size_t psc_stride_ = 0;
  // Scratch of psc_edges and psc_cycle (no allocation per step once grown).
  mutable std::vector<std::uint64_t> into_, out_, seen_;
  mutable std::vector<int> frontier_;
};

}  // namespace weft::dpor
