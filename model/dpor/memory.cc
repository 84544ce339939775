// RC11 consistency, checked per event (Lahav et al., PLDI 2017, section 3: coherence,
// atomicity, psc acyclicity; po ∪ rf acyclic by construction).
#include "model/dpor/memory.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace weft::dpor {
namespace {

bool acquires(std::memory_order order) {
  return order == std::memory_order_acquire || order == std::memory_order_acq_rel ||
         order == std::memory_order_seq_cst || order == std::memory_order_consume;
}
bool releases(std::memory_order order) {
  return order == std::memory_order_release || order == std::memory_order_acq_rel ||
         order == std::memory_order_seq_cst;
}

}  // namespace

Value apply(RmwOp op, Value old, Value operand) {
  switch (op) {
    case RmwOp::exchange: return operand;
    case RmwOp::add: return old + operand;
    case RmwOp::sub: return old - operand;
    case RmwOp::bit_or: return old | operand;
    case RmwOp::bit_and: return old & operand;
    case RmwOp::bit_xor: return old ^ operand;
  }
  return operand;
}

void Memory::clear() {
  events_.clear();
  location_count_ = 0;  // their vectors are kept for the next execution's locations
  sc_fences_.clear();
  sc_events_ = 0;
  for (unsigned t = 0; t < max_threads; ++t) {
    last_[t] = -1;
    before_run_[t] = -1;
    run_[t].clear();
  }
  psc_nodes_.clear();
  psc_adjacency_.clear();
}

void Memory::record(int index) {
  const Event& e = events_[index];
  std::vector<int>& run = run_[e.thread];
  if (!run.empty() && !same_loc(events_[run.front()], e)) {
    for (int x : run) events_[x].next_other_loc = e.local;
    before_run_[e.thread] = run.back();
    run.clear();
  }
  run.push_back(index);
  last_[e.thread] = index;
}

unsigned Memory::new_location(Value initial, unsigned thread, ThreadView& view) {
  const auto loc = static_cast<unsigned>(location_count_++);
  if (loc == locations_.size()) locations_.emplace_back();
  locations_[loc].mo.clear();
  locations_[loc].events.clear();
  ++view.hb.at[thread];
  Event e{};
  e.thread = thread;
  e.local = view.hb.at[thread];
  e.kind = Access::write;
  e.loc = loc;
  e.order = std::memory_order_relaxed;
  e.value = initial;
  e.initial = true;
  e.hb = view.hb;
  push(e);
  record(static_cast<int>(events_.size()) - 1);
  return loc;
}

unsigned Memory::coherence_floor(unsigned loc, const Clock& clock) const {
  unsigned floor = 0;
  for (int i : locations_[loc].events) {
    const Event& e = events_[i];
    if (!clock.covers(e.thread, e.local)) continue;
    // CoWW / CoWR: a store that happens-before; CoRW / CoRR: what a load before read.
    if (is_write(e)) floor = std::max(floor, e.mo_pos);
    if (e.rf >= 0) floor = std::max(floor, events_[e.rf].mo_pos);
  }
  return floor;
}

Memory::Event Memory::make_event(const Request& r, const Choice& c, unsigned thread,
                                 const ThreadView& view) const {
  Event e{};
  e.thread = thread;
  e.local = view.hb.at[thread];
  e.loc = r.loc;
  e.order = r.order;
  e.hb = view.hb;
  switch (r.kind) {
    case Access::read: e.kind = Access::read; break;
    case Access::write: e.kind = Access::write; break;
    case Access::rmw: e.kind = Access::rmw; break;
    case Access::cas:
      e.kind = c.success ? Access::rmw : Access::read;
      if (!c.success) e.order = r.fail_order;
      break;
    case Access::fence: e.kind = Access::fence; break;
  }
  if (e.kind == Access::fence) {
    if (acquires(e.order)) e.hb.join(view.acq_pending);
    return e;
  }
  if (e.kind == Access::read || e.kind == Access::rmw) {
    e.rf = c.rf;
    const Event& source = events_[c.rf];
    if (acquires(e.order)) e.hb.join(source.msg);
    e.value = source.value;
  }
  if (e.kind == Access::write) e.value = r.value;
  if (e.kind == Access::rmw) {
    e.value = r.kind == Access::cas ? r.value : apply(r.op, events_[c.rf].value, r.value) & r.mask;
  }
  if (is_write(e)) {
    e.mo_pos = c.mo_pos;
    e.msg = releases(e.order) ? e.hb : view.rel_fence;
    if (e.kind == Access::rmw) e.msg.join(events_[c.rf].msg);  // the release sequence goes on
  }
  return e;
}

void Memory::push(const Event& event) {
  const int index = static_cast<int>(events_.size());
  events_.push_back(event);
  Event& e = events_.back();
  if (e.order == std::memory_order_seq_cst) {
    ++sc_events_;
    if (e.kind == Access::fence) sc_fences_.push_back(index);
  }
  if (e.kind == Access::fence) return;
  Location& loc = locations_[e.loc];
  loc.events.push_back(index);
  if (e.kind == Access::rmw) events_[e.rf].read_by_rmw = true;
  if (is_write(e)) {
    loc.mo.insert(loc.mo.begin() + e.mo_pos, index);
    for (std::size_t p = e.mo_pos + 1; p < loc.mo.size(); ++p) events_[loc.mo[p]].mo_pos = p;
  }
}

void Memory::pop() {
  const int index = static_cast<int>(events_.size()) - 1;
  const Event& e = events_.back();
  if (e.order == std::memory_order_seq_cst) {
    --sc_events_;
    if (e.kind == Access::fence) sc_fences_.pop_back();
  }
  if (e.kind != Access::fence) {
    Location& loc = locations_[e.loc];
    loc.events.pop_back();
    if (e.kind == Access::rmw) events_[e.rf].read_by_rmw = false;
    if (is_write(e)) {
      loc.mo.erase(loc.mo.begin() + e.mo_pos);
      for (std::size_t p = e.mo_pos; p < loc.mo.size(); ++p) events_[loc.mo[p]].mo_pos = p;
    }
  }
  (void)index;
  events_.pop_back();
}

void Memory::choices(const Request& r, unsigned thread, const ThreadView& view,
                     std::vector<Choice>& out, int covered, bool spurious_covered,
                     std::vector<std::uint32_t>* kept) {
  all_choices(r, thread, view, out);
  if (kept == nullptr) return;
  kept->clear();
  std::size_t n = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const Choice& c = out[i];
    // Whether a spurious failure was offered at the covering node depends on the history.
    const bool spurious = r.kind == Access::cas && !c.success && events_[c.rf].value == r.expected;
    if (c.rf >= 0 && c.rf < covered && (spurious_covered || !spurious)) continue;
    kept->push_back(static_cast<std::uint32_t>(i));
    out[n++] = c;
  }
  out.resize(n);
}

void Memory::all_choices(const Request& r, unsigned thread, const ThreadView& view,
                         std::vector<Choice>& out) {
  out.clear();
  if (r.kind == Access::fence) {
    out.push_back(Choice{});
  } else {
    const Location& loc = locations_[r.loc];
    const auto size = static_cast<unsigned>(loc.mo.size());
    const unsigned floor = sc_only_ ? size - 1 : coherence_floor(r.loc, view.hb);
    if (r.kind == Access::write) {
      for (unsigned pos = size; pos > floor; --pos) {
        // Atomicity: nothing goes between an RMW and the store it read.
        if (pos < size && events_[loc.mo[pos]].kind == Access::rmw &&
            events_[loc.mo[pos]].rf == loc.mo[pos - 1]) {
          continue;
        }
        out.push_back(Choice{-1, pos, true});
      }
    } else {
      for (unsigned k = size; k-- > floor;) {
        const int w = loc.mo[k];
        const bool free = !events_[w].read_by_rmw;  // atomicity: one RMW per store read
        switch (r.kind) {
          case Access::read: out.push_back(Choice{w, 0, false}); break;
          case Access::rmw:
            if (free) out.push_back(Choice{w, k + 1, true});
            break;
          case Access::cas:
            if (events_[w].value == r.expected) {
              if (free) out.push_back(Choice{w, k + 1, true});
              if (r.weak && !sc_only_) out.push_back(Choice{w, 0, false});  // spurious
            } else {
              out.push_back(Choice{w, 0, false});
            }
            break;
          default: break;
        }
      }
    }
  }
  if (sc_only_) return;
  // psc: only a seq_cst event, or one after a seq_cst fence, can close a psc cycle, and
  // only if some relation leads out of it. The newest event has no hb, po or rf
  // successors yet: only eco ones, stores after it in mo (a store not placed last, a load
  // or RMW reading a store that is not last). Most choices have none (a load of the
  // latest store): the whole check, most of mpsc's time, is skipped for them.
  const bool may_be_sc = r.order == std::memory_order_seq_cst ||
                         (r.kind == Access::cas && r.fail_order == std::memory_order_seq_cst);
  if ((!may_be_sc && sc_fences_.empty()) || sc_events_ + (may_be_sc ? 1 : 0) < 2) return;
  const auto mo_size = r.kind == Access::fence ? 0u : locations_[r.loc].mo.size();
  auto has_successors = [&](const Choice& c) {
    if (r.kind == Access::fence) return false;
    const bool reads_only = r.kind == Access::read || (r.kind == Access::cas && !c.success);
    return reads_only ? events_[c.rf].mo_pos + 1 < mo_size : c.mo_pos < mo_size;
  };
  std::erase_if(out, [&](const Choice& c) {
    if (!has_successors(c)) return false;
    const Event e = make_event(r, c, thread, view);
    if (!psc_needed(e)) return false;
    psc_edges(e);
    const bool cycle = psc_cycle();
    if (verify_psc_) verify_psc(e, cycle);
    return cycle;
  });
}

Value Memory::commit(const Request& r, const Choice& c, unsigned thread, ThreadView& view) {
  const Event e = make_event(r, c, thread, view);
  const bool psc = !sc_only_ && (is_sc(e) || !sc_fences_.empty());
  if (psc) psc_edges(e);
  push(e);
  const int index = static_cast<int>(events_.size()) - 1;
  record(index);
  if (psc) psc_add_nodes(index);
  view.hb = e.hb;
  if (e.kind == Access::fence && releases(e.order)) view.rel_fence = e.hb;
  if (e.rf >= 0 && !acquires(e.order)) view.acq_pending.join(events_[e.rf].msg);
  return e.kind == Access::read || e.kind == Access::rmw ? events_[e.rf].value : 0;
}

Memory::Writer Memory::writer_of_last_read() const {
  const Event& e = events_.back();
  if (e.rf < 0) return Writer{0, 0, false};
  const Event& w = events_[e.rf];
  return Writer{w.thread, w.local, w.initial};
}

// The axioms checked per event by choices(), checked again on the finished graph without
// the incremental shortcuts: each RMW right after the store it read in mo (so no store is
// read by two), coherence as the four hb floors (CoWW, CoWR, CoRW, CoRR), psc acyclic.
std::string Memory::inconsistency() const {
  auto name = [this](int i) {
    const Event& e = events_[i];
    return "event " + std::to_string(i) + " (thread " + std::to_string(e.thread) + ", location " +
           std::to_string(e.loc) + ")";
  };
  for (std::size_t l = 0; l < location_count_; ++l) {
    const Location& loc = locations_[l];
    for (std::size_t k = 0; k < loc.mo.size(); ++k) {
      if (events_[loc.mo[k]].mo_pos != k) return name(loc.mo[k]) + ": mo position out of date";
    }
    for (int i : loc.events) {
      const Event& e = events_[i];
      if (e.kind == Access::rmw && e.mo_pos != events_[e.rf].mo_pos + 1) {
        return name(i) + ": an RMW not right after the store it read, " + name(e.rf) +
               " (atomicity: another RMW read it, or a store came between)";
      }
    }
    // The mo position an access observes: a store its own, a load the one it read.
    auto written = [this](const Event& e) { return is_write(e) ? e.mo_pos : ~0u; };
    auto read = [this](const Event& e) { return e.rf >= 0 ? events_[e.rf].mo_pos : ~0u; };
    for (int i : loc.events) {
      for (int j : loc.events) {
        if (!hb(i, j)) continue;
        const Event& a = events_[i];
        const Event& b = events_[j];
        const bool ok = (written(a) == ~0u || written(b) == ~0u || written(a) < written(b)) &&
                        (written(a) == ~0u || read(b) == ~0u || written(a) <= read(b)) &&
                        (read(a) == ~0u || written(b) == ~0u || read(a) < written(b)) &&
                        (read(a) == ~0u || read(b) == ~0u || read(a) <= read(b));
        if (!ok) return name(i) + " happens before " + name(j) + " against mo (coherence)";
      }
    }
  }
  if (!sc_only_ && !psc_acyclic()) return "psc has a cycle";
  return {};
}

}  // namespace weft::dpor
