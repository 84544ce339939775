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

// A set of event indices.
struct Bits {
  std::vector<std::uint64_t> words;
  explicit Bits(std::size_t n = 0) : words((n + 63) / 64) {}
  void set(std::size_t i) { words[i / 64] |= std::uint64_t{1} << (i % 64); }
  bool test(std::size_t i) const { return (words[i / 64] >> (i % 64)) & 1; }
  void unite(const Bits& other) {
    for (std::size_t w = 0; w < words.size(); ++w) words[w] |= other.words[w];
  }
  bool meets(const Bits& other) const {
    for (std::size_t w = 0; w < words.size(); ++w) {
      if (words[w] & other.words[w]) return true;
    }
    return false;
  }
  template <class F>
  void each(F&& f) const {
    for (std::size_t w = 0; w < words.size(); ++w) {
      for (std::uint64_t bits = words[w]; bits != 0; bits &= bits - 1) {
        f(w * 64 + static_cast<std::size_t>(__builtin_ctzll(bits)));
      }
    }
  }
};

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
  psc_graph_ = true;
  sc_nodes_.clear();
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
    if (psc_graph_) {
      psc_edges(e);
      const bool cycle = psc_cycle();
      if (verify_psc_) verify_psc(e, cycle);
      return cycle;
    }
    push(e);
    const bool ok = psc_acyclic();
    pop();
    return !ok;
  });
}

Value Memory::commit(const Request& r, const Choice& c, unsigned thread, ThreadView& view) {
  const Event e = make_event(r, c, thread, view);
  const bool node = !sc_only_ && psc_graph_ && is_sc(e) && e.kind != Access::fence;
  if (node) psc_edges(e);
  if (is_sc(e) && e.kind == Access::fence) psc_graph_ = false;
  push(e);
  const int index = static_cast<int>(events_.size()) - 1;
  record(index);
  if (node) psc_add_node(index);
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

// The scb edges into a new seq_cst access e, with no seq_cst fence in the graph (so every
// psc edge is an scb edge between seq_cst accesses, and e adds edges only to and from
// itself): from a when a is po-before e; po|≠loc;hb;po|≠loc (a po u, u at another
// location than a, u hb v, v po e, v at another location than e: v is the last such event
// of e's thread, and u the first after a at another location); hb|loc; mo or rb (a is
// eco-before e, e a store). Out of e: the stores eco-after it (mo, rb), psc's only edges
// from an event without successors in hb.
void Memory::psc_edges(const Event& e) const {
  const std::size_t m = sc_nodes_.size();
  const std::size_t words = (m + 63) / 64;
  into_.assign(words, 0);
  out_.assign(words, 0);
  auto set = [](std::vector<std::uint64_t>& bits, std::size_t i) {
    bits[i / 64] |= std::uint64_t{1} << (i % 64);
  };
  const Location& loc = locations_[e.loc];
  const unsigned first = is_write(e) ? e.mo_pos : events_[e.rf].mo_pos + 1;
  for (std::size_t k = first; k < loc.mo.size(); ++k) {
    const int node = events_[loc.mo[k]].sc_node;
    if (node >= 0) set(out_, static_cast<std::size_t>(node));
  }
  int v = last_[e.thread];
  if (v >= 0 && same_loc(events_[v], e)) v = before_run_[e.thread];
  const Clock* middle = v >= 0 ? &events_[v].hb : nullptr;
  for (std::size_t node = 0; node < m; ++node) {
    const Event& a = events_[sc_nodes_[node]];
    const bool edge =
        a.thread == e.thread || (middle != nullptr && a.next_other_loc <= middle->at[a.thread]) ||
        (a.loc == e.loc &&
         (hb_new(a, e) ||
          (is_write(e) && (is_write(a) ? a.mo_pos : events_[a.rf].mo_pos) < e.mo_pos)));
    if (edge) set(into_, node);
  }
}

// Whether psc_edges' edges close a cycle: some node e leads to reaches one leading to e.
bool Memory::psc_cycle() const {
  const std::size_t words = into_.size();
  bool any_into = false;
  for (std::uint64_t w : into_) any_into = any_into || w != 0;
  if (!any_into) return false;
  seen_.assign(out_.begin(), out_.end());
  frontier_.clear();
  for (std::size_t w = 0; w < words; ++w) {
    if ((seen_[w] & into_[w]) != 0) return true;
    for (std::uint64_t bits = seen_[w]; bits != 0; bits &= bits - 1) {
      frontier_.push_back(static_cast<int>(w * 64 + __builtin_ctzll(bits)));
    }
  }
  while (!frontier_.empty()) {
    const std::uint64_t* row = psc_row(static_cast<std::size_t>(frontier_.back()));
    frontier_.pop_back();
    for (std::size_t w = 0; w < words; ++w) {
      const std::uint64_t fresh = row[w] & ~seen_[w];
      if (fresh == 0) continue;
      if ((fresh & into_[w]) != 0) return true;
      seen_[w] |= fresh;
      for (std::uint64_t bits = fresh; bits != 0; bits &= bits - 1) {
        frontier_.push_back(static_cast<int>(w * 64 + __builtin_ctzll(bits)));
      }
    }
  }
  return false;
}

void Memory::verify_psc(const Event& e, bool cycle) {
  push(e);
  const bool full = !psc_acyclic();
  pop();
  if (full != cycle) {
    std::fprintf(stderr, "weft dpor: the incremental psc check says %s, the full one %s\n",
                 cycle ? "cycle" : "acyclic", full ? "cycle" : "acyclic");
    std::abort();
  }
}

// Adds the committed seq_cst access `index` as a node, with psc_edges' edges.
void Memory::psc_add_node(int index) {
  const std::size_t m = sc_nodes_.size();
  if (m + 1 > psc_stride_ * 64) {
    const std::size_t stride = psc_stride_ == 0 ? 1 : psc_stride_ * 2;
    std::vector<std::uint64_t> grown(m * stride, 0);
    for (std::size_t node = 0; node < m; ++node) {
      std::copy_n(psc_row(node), psc_stride_, &grown[node * stride]);
    }
    psc_adjacency_.swap(grown);
    psc_stride_ = stride;
  }
  psc_adjacency_.resize((m + 1) * psc_stride_, 0);
  std::copy(out_.begin(), out_.end(), psc_row(m));
  for (std::size_t w = 0; w < into_.size(); ++w) {
    for (std::uint64_t bits = into_[w]; bits != 0; bits &= bits - 1) {
      psc_row(w * 64 + __builtin_ctzll(bits))[m / 64] |= std::uint64_t{1} << (m % 64);
    }
  }
  sc_nodes_.push_back(index);
  events_[index].sc_node = static_cast<int>(m);
}

bool Memory::psc_needed(const Event& e) const {
  const int sc_count = sc_events_ + (is_sc(e) ? 1 : 0);
  if (sc_count < 2) return false;
  if (is_sc(e)) return true;
  for (int f : sc_fences_) {
    if (e.hb.covers(events_[f].thread, events_[f].local)) return true;
  }
  return false;
}

// psc = psc_base ∪ psc_F over the seq_cst events, as RC11 section 3 defines them:
//   scb      = po ∪ po|≠loc;hb;po|≠loc ∪ hb|loc ∪ mo ∪ rb
//   psc_base = ([E_sc] ∪ [F_sc];hb?) ; scb ; ([E_sc] ∪ hb?;[F_sc])
//   psc_F    = [F_sc] ; (hb ∪ hb;eco;hb) ; [F_sc]
bool Memory::psc_acyclic() const {
  const std::size_t n = events_.size();
  std::vector<int> sc;
  for (std::size_t i = 0; i < n; ++i) {
    if (is_sc(events_[i])) sc.push_back(static_cast<int>(i));
  }
  auto fence = [&](std::size_t i) { return events_[i].kind == Access::fence; };
  auto same_location = [&](std::size_t a, std::size_t b) {
    return same_loc(events_[a], events_[b]);
  };
  std::vector<Bits> hb_after(n, Bits(n)), hb_before(n, Bits(n)), po_nloc(n, Bits(n)),
      eco(n, Bits(n));
  for (std::size_t a = 0; a < n; ++a) {
    for (std::size_t b = 0; b < n; ++b) {
      if (!hb(static_cast<int>(a), static_cast<int>(b))) continue;
      hb_after[a].set(b);
      hb_before[b].set(a);
      if (events_[a].thread == events_[b].thread && !same_location(a, b)) po_nloc[a].set(b);
    }
  }
  for (std::size_t l = 0; l < location_count_; ++l) {
    const Location& loc = locations_[l];
    for (int i : loc.events) {
      const Event& e = events_[i];
      // A store's eco successors: later stores, loads of itself or later stores; a
      // load's: stores after the one it read, and loads of those.
      const unsigned from = is_write(e) ? e.mo_pos : events_[e.rf].mo_pos + 1;
      for (int j : loc.events) {
        if (j == i) continue;
        const Event& other = events_[j];
        if (is_write(other) && other.mo_pos > (is_write(e) ? e.mo_pos : from - 1)) {
          eco[i].set(j);
        } else if (!is_write(other) && events_[other.rf].mo_pos >= from) {
          eco[i].set(j);
        }
      }
    }
  }
  auto scb = [&](std::size_t x) {
    Bits out(n);
    // po (within hb_after, same thread)
    for (std::size_t y = 0; y < n; ++y) {
      if (hb_after[x].test(y) && events_[y].thread == events_[x].thread) out.set(y);
    }
    Bits middle(n);
    po_nloc[x].each([&](std::size_t a) { middle.unite(hb_after[a]); });
    middle.each([&](std::size_t b) { out.unite(po_nloc[b]); });
    hb_after[x].each([&](std::size_t y) {
      if (same_location(x, y)) out.set(y);
    });
    if (!fence(x)) {
      // mo ∪ rb, both inside eco: the eco successors that are stores.
      eco[x].each([&](std::size_t y) {
        if (is_write(events_[y]) && y != x) out.set(y);
      });
    }
    return out;
  };
  const std::size_t m = sc.size();
  std::vector<std::vector<bool>> edge(m, std::vector<bool>(m, false));
  for (std::size_t i = 0; i < m; ++i) {
    const std::size_t a = sc[i];
    Bits reach = scb(a);
    if (fence(a)) hb_after[a].each([&](std::size_t x) { reach.unite(scb(x)); });
    Bits eco_reach(n);  // psc_F: hb;eco from a fence
    if (fence(a)) hb_after[a].each([&](std::size_t x) { eco_reach.unite(eco[x]); });
    for (std::size_t j = 0; j < m; ++j) {
      const std::size_t b = sc[j];
      bool e = reach.test(b) || (fence(b) && reach.meets(hb_before[b]));
      if (fence(a) && fence(b)) {
        e = e || hb_after[a].test(b) || eco_reach.meets(hb_before[b]);
      }
      edge[i][j] = e;
    }
  }
  // Acyclic: repeatedly remove nodes without incoming edges.
  std::vector<int> indegree(m, 0);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < m; ++j) indegree[j] += edge[i][j] ? 1 : 0;
  }
  std::vector<std::size_t> ready;
  for (std::size_t j = 0; j < m; ++j) {
    if (indegree[j] == 0) ready.push_back(j);
  }
  std::size_t removed = 0;
  while (!ready.empty()) {
    const std::size_t i = ready.back();
    ready.pop_back();
    ++removed;
    for (std::size_t j = 0; j < m; ++j) {
      if (edge[i][j] && --indegree[j] == 0) ready.push_back(j);
    }
  }
  return removed == m;
}

}  // namespace weft::dpor
