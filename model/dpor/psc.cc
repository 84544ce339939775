// psc acyclicity (RC11, Lahav et al., PLDI 2017, section 3), checked per event: an
// incremental graph over the seq_cst accesses and fences (and hubs, memory.h), and the
// full recomputation it is verified against.
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "model/dpor/memory.h"

namespace weft::dpor {
namespace {

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

void set_bit(std::vector<std::uint64_t>& bits, std::size_t i) {
  bits[i / 64] |= std::uint64_t{1} << (i % 64);
}
bool any_bit(const std::vector<std::uint64_t>& bits) {
  return std::any_of(bits.begin(), bits.end(), [](std::uint64_t w) { return w != 0; });
}

}  // namespace

bool Memory::psc_needed(const Event& e) const {
  const int sc_count = sc_events_ + (is_sc(e) ? 1 : 0);
  if (sc_count < 2) return false;
  if (is_sc(e)) return true;
  for (int f : sc_fences_) {
    if (e.hb.covers(events_[f].thread, events_[f].local)) return true;
  }
  return false;
}

// The edges a new event e adds (e not yet in the graph; positions in mo are those before
// its insertion). A new event has no successors in po, hb or rf, so psc leads out of it
// (or out of the fences hb-before it, through it) only along eco: to the stores after it
// in mo or after the store it read (mo, rb: its scb successors) and to their readers.
//   Its node (a seq_cst access): in, from a when a scb e (a seq_cst access), or a fence
//   hb? some such a; out, to the seq_cst stores eco-after it and the fences hb-after
//   one of them.
//   Its node (a seq_cst fence): in, psc_fence_sources; out, nothing yet.
//   Its hub (any access with seq_cst fences hb-before it): in, those fences; out, the
//   seq_cst stores eco-after it (psc_base, through scb) and the fences hb-after a store
//   or a load eco-after it (psc_base's hb?;[F_sc], psc_F's hb;eco;hb).
// scb into a seq_cst access e: po; po|≠loc;hb;po|≠loc (a po u, u at another location
// than a, u hb? v, v po e at another location than e: v is the last such event of e's thread, u the
// first event after a at another location); hb|loc; mo or rb (e a store).
void Memory::psc_edges(const Event& e) const {
  const std::size_t words = (psc_nodes_.size() + 63) / 64;
  into_.assign(words, 0);
  out_.assign(words, 0);
  hub_in_.assign(words, 0);
  hub_out_.assign(words, 0);
  node_ = is_sc(e);
  hub_ = false;
  if (e.kind == Access::fence) {
    if (node_) psc_fence_sources(e);
    return;
  }
  const Location& loc = locations_[e.loc];
  const unsigned first = is_write(e) ? e.mo_pos : events_[e.rf].mo_pos + 1;
  auto observed = [this](const Event& a) { return is_write(a) ? a.mo_pos : events_[a.rf].mo_pos; };
  if (node_) {
    for (std::size_t k = first; k < loc.mo.size(); ++k) {
      const int node = events_[loc.mo[k]].psc_node;
      if (node >= 0) set_bit(out_, static_cast<std::size_t>(node));
    }
    int v = last_[e.thread];
    if (v >= 0 && same_loc(events_[v], e)) v = before_run_[e.thread];
    const Clock* middle = v >= 0 ? &events_[v].hb : nullptr;
    for (std::size_t node = 0; node < psc_nodes_.size(); ++node) {
      if (psc_nodes_[node] < 0) continue;
      const Event& a = events_[psc_nodes_[node]];
      if (a.kind == Access::fence) continue;
      const bool edge =
          a.thread == e.thread || (middle != nullptr && a.next_other_loc <= middle->at[a.thread]) ||
          (a.loc == e.loc && (hb_new(a, e) || (is_write(e) && observed(a) < e.mo_pos)));
      if (edge) set_bit(into_, node);
    }
  }
  if (sc_fences_.empty()) return;
  if (node_) {
    // A fence F is a source when F hb? a for some a scb e: those a before e in its thread
    // (all hb? the last one), and those at e's location hb-before e or eco-before it.
    Clock reach{};
    if (last_[e.thread] >= 0) reach = events_[last_[e.thread]].hb;
    for (int i : loc.events) {
      const Event& a = events_[i];
      if (hb_new(a, e) || (is_write(e) && observed(a) < e.mo_pos)) reach.join(a.hb);
    }
    for (int f : sc_fences_) {
      if (reach.covers(events_[f].thread, events_[f].local)) {
        set_bit(into_, static_cast<std::size_t>(events_[f].psc_node));
      }
    }
  }
  for (int f : sc_fences_) {
    const Event& fence = events_[f];
    if (hb_new(fence, e)) set_bit(hub_in_, static_cast<std::size_t>(fence.psc_node));
  }
  // Without a node or a fence hb-before e, e has no psc edges out of it.
  if (!node_ && !any_bit(hub_in_)) return;
  for (int f : sc_fences_) {
    const auto node = static_cast<std::size_t>(events_[f].psc_node);
    bool from_store = false, from_load = false;
    for (int i : loc.events) {
      const Event& y = events_[i];
      if (observed(y) < first || !hb(i, f)) continue;
      (is_write(y) ? from_store : from_load) = true;
    }
    if (from_store && node_) set_bit(out_, node);
    if (from_store || from_load) set_bit(hub_out_, node);
  }
  if (!any_bit(hub_in_)) return;
  for (std::size_t k = first; k < loc.mo.size(); ++k) {
    const int node = events_[loc.mo[k]].psc_node;
    if (node >= 0) set_bit(hub_out_, static_cast<std::size_t>(node));
  }
  hub_ = any_bit(hub_out_);
}

// The edges into a new seq_cst fence e: from a seq_cst access a when a scb b' for some
// b' hb? e (psc_base); from the fences hb-before e (psc_F's hb) and those hb-before some x
// eco-before some y hb-before e (psc_F's hb;eco;hb, which holds psc_base's fence-to-fence
// edges: scb is within po ∪ hb ∪ eco). e is at no location, so scb into e itself is po and
// po|≠loc;hb;po|≠loc only.
void Memory::psc_fence_sources(const Event& e) const {
  const std::size_t n = events_.size();
  auto before = [&](const Event& a) { return hb_new(a, e); };
  auto observed = [this](const Event& a) { return is_write(a) ? a.mo_pos : events_[a.rf].mo_pos; };
  // Per thread, the last event hb-before e (po: every earlier one of that thread is scb
  // before it; po|≠loc;hb;po|≠loc adds nothing here, its first event is po-before one
  // hb-before e); per location, the latest store and the latest store read among the
  // accesses hb-before e (mo, rb, and eco into them).
  std::vector<std::uint32_t> last_local(max_threads, 0);
  std::vector<bool> has_last(max_threads, false);
  std::vector<int> top_store(location_count_, -1), top_read(location_count_, -1);
  for (std::size_t i = 0; i < n; ++i) {
    const Event& b = events_[i];
    if (!before(b)) continue;
    if (!has_last[b.thread] || b.local > last_local[b.thread]) {
      last_local[b.thread] = b.local;
      has_last[b.thread] = true;
    }
    if (b.kind == Access::fence) continue;
    int& top = is_write(b) ? top_store[b.loc] : top_read[b.loc];
    top = std::max(top, static_cast<int>(observed(b)));
  }
  Clock eco_reach{};  // the accesses eco-before an access hb-before e
  for (std::size_t i = 0; i < n; ++i) {
    const Event& a = events_[i];
    bool scb = (a.thread == e.thread) || (has_last[a.thread] && a.local < last_local[a.thread]);
    bool eco = false;
    if (a.kind != Access::fence) {
      const int pos = static_cast<int>(observed(a));
      const int stores = top_store[a.loc], reads = top_read[a.loc];
      // mo / rb into a store hb-before e.
      scb = scb || pos < stores;
      eco = pos < stores || (is_write(a) ? pos <= reads : pos < reads);
      if (!scb) {  // hb|loc: a hb b', b' at a's location and hb-before e
        for (int j : locations_[a.loc].events) {
          if (j != static_cast<int>(i) && before(events_[j]) && hb(static_cast<int>(i), j)) {
            scb = true;
            break;
          }
        }
      }
    }
    if (scb && a.kind != Access::fence && is_sc(a)) {
      set_bit(into_, static_cast<std::size_t>(a.psc_node));
    }
    if (eco) eco_reach.join(a.hb);
  }
  for (int f : sc_fences_) {
    const Event& fence = events_[f];
    if (before(fence) || eco_reach.covers(fence.thread, fence.local)) {
      set_bit(into_, static_cast<std::size_t>(fence.psc_node));
    }
  }
}

// Whether the new node or hub closes a cycle: one of them reaches itself, through the
// graph and the other one.
bool Memory::psc_cycle() const {
  struct Virtual {
    const std::vector<std::uint64_t>* in;
    const std::vector<std::uint64_t>* out;
    bool there;
  };
  const Virtual both[2] = {{&into_, &out_, node_}, {&hub_in_, &hub_out_, hub_}};
  const std::size_t words = into_.size();
  for (int start = 0; start < 2; ++start) {
    const Virtual& self = both[start];
    const Virtual& other = both[1 - start];
    if (!self.there || !any_bit(*self.in) || !any_bit(*self.out)) continue;
    seen_.assign(words, 0);
    frontier_.clear();
    bool other_taken = !other.there;
    // Adds `bits` to what is reached; true when they lead back into self.
    auto reach = [&](const std::uint64_t* bits) {
      for (std::size_t w = 0; w < words; ++w) {
        const std::uint64_t fresh = bits[w] & ~seen_[w];
        if (fresh == 0) continue;
        if ((fresh & (*self.in)[w]) != 0) return true;
        seen_[w] |= fresh;
        for (std::uint64_t b = fresh; b != 0; b &= b - 1) {
          frontier_.push_back(static_cast<int>(w * 64 + __builtin_ctzll(b)));
        }
      }
      return false;
    };
    if (reach(self.out->data())) return true;
    while (!frontier_.empty()) {
      const auto node = static_cast<std::size_t>(frontier_.back());
      frontier_.pop_back();
      if (reach(psc_row(node))) return true;
      if (!other_taken && (((*other.in)[node / 64] >> (node % 64)) & 1) != 0) {
        other_taken = true;
        if (reach(other.out->data())) return true;
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

// Adds the committed event `index`'s node and hub, as psc_edges found them.
void Memory::psc_add_nodes(int index) {
  if (node_) {
    psc_add_node(index, into_, out_);
    events_[index].psc_node = static_cast<int>(psc_nodes_.size()) - 1;
  }
  if (hub_) psc_add_node(-1, hub_in_, hub_out_);
  if (verify_psc_) verify_psc_graph();
}

// Tests: which seq_cst event reaches which in the kept graph (through hubs too) must be
// what the full psc relation's transitive closure says, after every event. Stronger than
// comparing verdicts: an edge missing where another path happens to close the cycle in
// the orders explored still shows.
void Memory::verify_psc_graph() const {
  std::vector<int> sc;
  const std::vector<std::vector<bool>> edge = psc_full_edges(sc);
  const std::size_t m = sc.size();
  const std::size_t nodes = psc_nodes_.size();
  for (std::size_t i = 0; i < m; ++i) {
    std::vector<bool> full(m, false), kept(nodes, false);
    std::vector<std::size_t> stack = {i};
    while (!stack.empty()) {
      const std::size_t a = stack.back();
      stack.pop_back();
      for (std::size_t b = 0; b < m; ++b) {
        if (edge[a][b] && !full[b]) {
          full[b] = true;
          stack.push_back(b);
        }
      }
    }
    stack = {static_cast<std::size_t>(events_[sc[i]].psc_node)};
    while (!stack.empty()) {
      const std::uint64_t* row = psc_row(stack.back());
      stack.pop_back();
      for (std::size_t b = 0; b < nodes; ++b) {
        if (((row[b / 64] >> (b % 64)) & 1) != 0 && !kept[b]) {
          kept[b] = true;
          stack.push_back(b);
        }
      }
    }
    for (std::size_t j = 0; j < m; ++j) {
      if (full[j] != kept[static_cast<std::size_t>(events_[sc[j]].psc_node)]) {
        std::fprintf(stderr,
                     "weft dpor: psc graph: event %d %s event %d, the full relation says it "
                     "does%s\n",
                     sc[i], full[j] ? "does not reach" : "reaches", sc[j], full[j] ? "" : " not");
        std::abort();
      }
    }
  }
}

void Memory::psc_add_node(int event, const std::vector<std::uint64_t>& in,
                          const std::vector<std::uint64_t>& out) {
  const std::size_t m = psc_nodes_.size();
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
  std::copy(out.begin(), out.end(), psc_row(m));
  for (std::size_t w = 0; w < in.size(); ++w) {
    for (std::uint64_t bits = in[w]; bits != 0; bits &= bits - 1) {
      psc_row(w * 64 + __builtin_ctzll(bits))[m / 64] |= std::uint64_t{1} << (m % 64);
    }
  }
  psc_nodes_.push_back(event);
}

// psc = psc_base ∪ psc_F over the seq_cst events, as RC11 section 3 defines them:
//   scb      = po ∪ po|≠loc;hb;po|≠loc ∪ hb|loc ∪ mo ∪ rb
//   psc_base = ([E_sc] ∪ [F_sc];hb?) ; scb ; ([E_sc] ∪ hb?;[F_sc])
//   psc_F    = [F_sc] ; (hb ∪ hb;eco;hb) ; [F_sc]
std::vector<std::vector<bool>> Memory::psc_full_edges(std::vector<int>& sc) const {
  const std::size_t n = events_.size();
  sc.clear();
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
  return edge;
}

bool Memory::psc_acyclic() const {
  std::vector<int> sc;
  const std::vector<std::vector<bool>> edge = psc_full_edges(sc);
  const std::size_t m = sc.size();
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
