// Source-DPOR with sleep sets (Abdulla et al., POPL 2014, Algorithm 1), stateless; covered
// reads as reads-from equivalence (Abdulla, Atig, Jonsson, Ngo, OOPSLA 2018).
#include "model/dpor/explorer.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace weft::dpor {
namespace {

bool conflict(Mode a, Mode b) {
  return !(a == Mode::read && b == Mode::read) && !(a == Mode::write && b == Mode::write);
}

// Whether an earlier step `e` and a later step `s` of another thread could have run in
// the other order. A lock cannot run before the unlock it waited for, nor a join before
// the end it waited for: such pairs order the steps but are not races (the race is
// between the two locks).
bool reversible(const Footprint& e, const Footprint& s) {
  for (unsigned i = 0; i < e.count; ++i) {
    for (unsigned j = 0; j < s.count; ++j) {
      if (e.object[i] != s.object[j] || !conflict(e.mode[i], s.mode[j])) continue;
      const bool waited = (s.mode[j] == Mode::acquire && e.mode[i] == Mode::release) ||
                          (s.mode[j] == Mode::join && e.mode[i] == Mode::exit);
      if (!waited) return true;
    }
  }
  return false;
}

unsigned lowest(std::uint32_t mask) { return static_cast<unsigned>(__builtin_ctz(mask)); }

}  // namespace

bool dependent(const Footprint& a, const Footprint& b) {
  for (unsigned i = 0; i < a.count; ++i) {
    for (unsigned j = 0; j < b.count; ++j) {
      if (a.object[i] == b.object[j] && conflict(a.mode[i], b.mode[j])) return true;
    }
  }
  return false;
}

void Explorer::begin(unsigned main_thread) {
  depth_ = 0;
  trace_.clear();
  for (auto& steps : by_object_) steps.clear();
  object_clocks_.clear();
  for (auto& clock : thread_clock_) clock = Clock{};
  std::fill(std::begin(covered_), std::end(covered_), 0u);
  (void)main_thread;
  child_sleep_ = 0;
  if (chooser_ != nullptr && !replay_only_) chooser_->begin();
}

void Explorer::spawned(unsigned parent, unsigned child) {
  thread_clock_[child] = thread_clock_[parent];
}

Explorer::ObjectClocks& Explorer::object_clocks(unsigned obj) {
  if (obj >= object_clocks_.size()) object_clocks_.resize(obj + 1);
  return object_clocks_[obj];
}

std::vector<std::size_t>& Explorer::object_steps(unsigned obj) {
  if (obj >= by_object_.size()) by_object_.resize(obj + 1);
  return by_object_[obj];
}

int Explorer::pick(std::uint32_t enabled, const std::vector<Footprint>& pending, unsigned last) {
  pending_ = &pending;
  if (depth_ < path_.size()) {
    const Node& node = path_[depth_];
    return (enabled >> node.thread) & 1 ? node.thread : -2;
  }
  Node node;
  node.enabled = enabled;
  node.events = events_;
  if (depth_ > 0) {
    const Node& parent = path_[depth_ - 1];
    node.preemptions = static_cast<std::uint16_t>(
        parent.preemptions + (parent.running != no_thread && parent.thread != parent.running));
    // A switch after a yield is free, as a thread's end or block.
    if ((enabled >> last) & 1 && !pending[last].after_yield) {
      node.running = static_cast<std::uint8_t>(last);
    }
  }
  // Sleep sets lose traces under a bound (a sibling explored a thread at a preemption
  // count this path does not share; engine_test shows it), so they are off there.
  const std::uint32_t sleep = reduce_ && bound_ < 0 ? child_sleep_ : 0;
  const std::uint32_t candidates = enabled & ~sleep & allowed(node);
  if (candidates == 0) return -1;
  // Keep running the same thread when allowed (fewer preemptions, readable traces), but
  // after a yield another first.
  const std::uint32_t others = candidates & ~(1u << last);
  const unsigned thread = chooser_ != nullptr ? chooser_->thread(candidates, pending, last)
                          : node.running == last && (candidates >> last) & 1 ? last
                          : others != 0                                      ? lowest(others)
                                                                             : last;
  node.thread = static_cast<std::uint8_t>(thread);
  node.backtrack = reduce_ ? 1u << thread : enabled;
  node.sleep = sleep;
  path_.push_back(node);
  return static_cast<int>(thread);
}

int Explorer::step(unsigned thread, const Footprint& footprint, unsigned choices) {
  Node& node = path_[depth_];
  // The dependence order only feeds the race analysis and the sleep sets: the plain and
  // the sampled searches skip it.
  Clock clock;
  if (reduce_) clock = dependence_clock(thread, footprint);

  if (node.fresh) {
    if (!replay_only_ && reduce_) analyse_races(thread, footprint, clock);
    node.choices = choices;
    node.choice = chooser_ != nullptr && choices > 1 ? chooser_->choice(choices) : 0;
    node.fresh = false;
  } else if (replay_only_ ? node.choice >= choices && choices != 0 : node.choices != choices) {
    return -1;
  }
  if (reduce_) record_step(thread, footprint, clock, node);
  ++depth_;
  return static_cast<int>(node.choice);
}

// The step's place in the dependence order: after its thread's previous step and every
// earlier step it depends on.
Clock Explorer::dependence_clock(unsigned thread, const Footprint& footprint) {
  Clock clock = thread_clock_[thread];
  for (unsigned k = 0; k < footprint.count; ++k) {
    const ObjectClocks& o = object_clocks(footprint.object[k]);
    if (footprint.mode[k] != Mode::read) clock.join(o.read);
    if (footprint.mode[k] != Mode::write) clock.join(o.write);
    clock.join(o.other);
  }
  if (footprint.enabled_by >= 0) clock.join(trace_[footprint.enabled_by].clock);
  ++clock.at[thread];
  return clock;
}

void Explorer::record_step(unsigned thread, const Footprint& footprint, const Clock& clock,
                           const Node& node) {
  const std::size_t index = trace_.size();
  trace_.push_back(Step{thread, footprint, clock});
  for (unsigned k = 0; k < footprint.count; ++k) {
    auto& steps = object_steps(footprint.object[k]);
    if (steps.empty() || steps.back() != index) steps.push_back(index);
  }
  for (unsigned k = 0; k < footprint.count; ++k) {
    ObjectClocks& o = object_clocks(footprint.object[k]);
    (footprint.mode[k] == Mode::read    ? o.read
     : footprint.mode[k] == Mode::write ? o.write
                                        : o.other)
        .join(clock);
  }
  thread_clock_[thread] = clock;

  // Reads covered at this node: a thread explored here already ran its next operation
  // here, reading every store the node's state had.
  covered_[thread] = 0;
  std::uint32_t explored = node.done & ~(1u << thread);
  if (bound_ >= 0) explored &= node.running == no_thread ? 0u : 1u << node.running;
  for (std::uint32_t rest = explored; rest != 0; rest &= rest - 1) {
    covered_[lowest(rest)] = node.events;
    covered_at_[lowest(rest)] = trace_.size() - 1;
  }

  // Sleep sets: a sleeping (or already explored) thread stays asleep below this step
  // while its next operation is independent of the step.
  child_sleep_ = 0;
  const std::uint32_t asleep = (node.sleep | node.done) & ~(1u << thread);
  for (std::uint32_t rest = asleep; rest != 0; rest &= rest - 1) {
    const unsigned q = lowest(rest);
    if (!dependent((*pending_)[q], footprint)) child_sleep_ |= 1u << q;
  }
}

void Explorer::analyse_races(unsigned thread, const Footprint& footprint, const Clock& clock) {
  // A step that waited for another (a relock for its notify, a spinner for the store that
  // woke it) comes after it and what precedes it: not races.
  Clock before = thread_clock_[thread];
  if (footprint.enabled_by >= 0) before.join(trace_[footprint.enabled_by].clock);
  std::vector<std::size_t> races;
  auto consider = [&](std::size_t i) {
    const Step& e = trace_[i];
    if (e.repeat || e.thread == thread || !dependent(e.footprint, footprint)) return;
    if (before.covers(e.thread, e.clock.at[e.thread])) return;  // already ordered
    if (!reversible(e.footprint, footprint)) return;
    races.push_back(i);
  };
  for (unsigned k = 0; k < footprint.count; ++k) {
    for (std::size_t i : object_steps(footprint.object[k])) consider(i);
  }
  std::sort(races.begin(), races.end());
  races.erase(std::unique(races.begin(), races.end()), races.end());
  for (std::size_t i : races) {
    // Only the races not ordered through another one (e ⋖ e').
    const Step& e = trace_[i];
    const bool through_other = std::any_of(races.begin(), races.end(), [&](std::size_t j) {
      return j != i && trace_[j].clock.covers(e.thread, e.clock.at[e.thread]);
    });
    if (!through_other) add_backtrack(i, thread, clock);
  }
}

void Explorer::blocked(unsigned thread, const Footprint& footprint) {
  if (!reduce_ || replay_only_ || bound_ < 0 || depth_ < path_.size()) return;  // not new
  analyse_races(thread, footprint, dependence_clock(thread, footprint));
}

// Adds to node i a thread that can start v = notdep(e, E).p (its initials, I(v)), unless
// one is there already.
void Explorer::add_backtrack(std::size_t i, unsigned thread, const Clock& clock) {
  const Step& e = trace_[i];
  const std::uint32_t e_local = e.clock.at[e.thread];
  std::uint32_t first[max_threads] = {};  // local number of each thread's first step in v
  std::uint32_t initials = 0;
  auto visit = [&](unsigned t, const Clock& c) {
    if (first[t] != 0) return;
    bool initial = true;
    for (unsigned other = 0; other < max_threads && initial; ++other) {
      if (other != t && first[other] != 0 && c.covers(other, first[other])) initial = false;
    }
    if (initial) initials |= 1u << t;
    first[t] = c.at[t];
  };
  for (std::size_t j = i + 1; j < trace_.size(); ++j) {
    const Step& s = trace_[j];
    if (s.clock.covers(e.thread, e_local)) continue;  // after e: not in v
    visit(s.thread, s.clock);
  }
  visit(thread, clock);
  // Under a bound, a thread started early must run on (or preempt): one that can start v
  // may not reach p within the bound, so the racing thread itself is added (classic DPOR,
  // Flanagan and Godefroid, POPL 2005).
  if (bound_ >= 0) initials = 1u << thread;
  add_initial(i, initials, thread);
  if (bound_ < 0) return;
  // The bound: also where the block of e's thread began (no new preemption there).
  std::size_t j = i;
  while (j > 0 && path_[j - 1].thread == path_[j].thread) --j;
  if (j != i) add_initial(j, initials, thread);
}

void Explorer::add_initial(std::size_t i, std::uint32_t initials, unsigned thread) {
  Node& node = path_[i];
  if ((node.backtrack & initials) != 0) return;
  // Not ours: the owner decides against its own, newer backtrack set (this copy is as old
  // as the fork, so a thread found in it is in the owner's too).
  if (root_ != no_root && i <= root_) return splitter_->forward(i, initials, thread);
  const std::uint32_t ready = initials & node.enabled;
  if (ready == 0) {
    node.backtrack |= node.enabled & allowed(node);  // cannot happen for a true race; stay complete
    return;
  }
  const std::uint32_t startable = ready & allowed(node);
  if (startable == 0) return;  // beyond the bound here
  node.backtrack |= 1u << ((startable >> thread) & 1 ? thread : lowest(startable));
}

std::uint32_t Explorer::allowed(const Node& node) const {
  if (bound_ < 0 || node.preemptions < bound_ || node.running == no_thread) return ~0u;
  return 1u << node.running;
}

bool Explorer::next_execution() {
  if (replay_only_) return false;
  if (splitter_ != nullptr && !splitter_->poll(*this)) return false;
  if (chooser_ != nullptr) {  // each execution samples a new path
    path_.clear();
    return true;
  }
  if (splitter_ != nullptr && share_work()) return true;
  while (!path_.empty()) {
    const std::size_t k = path_.size() - 1;
    Node& node = path_.back();
    if (node.choice + 1 < std::min(node.choices, node.choice_end)) {
      ++node.choice;
      node.has_taken = false;
      return true;
    }
    if (k == root_) {  // a process's share at its root ends with its thread's choices
      splitter_->settle(*this, k);
      return false;
    }
    node.done |= (1u << node.thread) | node.given;
    std::uint32_t todo = 0;
    do {
      todo = node.backtrack & ~node.done & ~node.sleep & node.enabled & allowed(node);
    } while (todo == 0 && splitter_ != nullptr && splitter_->settle(*this, k));
    if (todo != 0) {
      node.thread = static_cast<std::uint8_t>(lowest(todo));
      node.choice = 0;
      node.choices = 0;
      node.choice_end = ~0u;
      node.fresh = true;
      node.has_taken = false;
      return true;
    }
    path_.pop_back();
  }
  return false;
}

// The shallowest node of the upper half of the path (deeper ones root small subtrees)
// with an alternative still to explore besides its current thread's current choice.
bool Explorer::share_work() {
  for (std::size_t j = root_ == no_root ? 0 : root_ + 1; 2 * j < path_.size(); ++j) {
    Node& node = path_[j];
    const std::uint32_t others = node.backtrack & ~node.done & ~node.given & ~node.sleep &
                                 node.enabled & allowed(node) & ~(1u << node.thread);
    const bool choices_left = node.choice + 1 < std::min(node.choices, node.choice_end);
    if (others == 0 && !choices_left) continue;
    const Handoff handoff = splitter_->split(j);
    if (handoff == Handoff::keep) return false;
    if (handoff == Handoff::given) {  // skipped here from now on
      if (others != 0) {
        node.given |= 1u << lowest(others);
      } else {
        node.choice_end = node.choice + 1;
      }
      return false;
    }
    // The new process, rooted at j: the alternative comes after the current thread and
    // those given before it, in the one-job order (its sleep sets count them done; they
    // never count it).
    path_.resize(j + 1);
    Node& root = path_.back();
    if (others != 0) {
      root.done |= (1u << root.thread) | root.given;
      root.thread = static_cast<std::uint8_t>(lowest(others));
      root.choice = 0;
      root.choices = 0;
      root.choice_end = ~0u;
      root.fresh = true;
    } else {
      ++root.choice;
    }
    root.has_taken = false;
    root_ = j;
    return true;
  }
  return false;
}

std::string Explorer::replay_string() const {
  std::string out;
  for (std::size_t i = 0; i < depth_ && i < path_.size(); ++i) {
    if (!out.empty()) out += ',';
    const Node& node = path_[i];
    out += std::to_string(node.thread);
    const std::uint32_t choice = node.has_taken ? node.taken.index : node.choice;
    if (choice != 0) out += "." + std::to_string(choice);
  }
  return out;
}

bool Explorer::load_replay(const std::string& schedule) {
  path_.clear();
  replay_only_ = true;
  std::stringstream in(schedule);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) return false;
    Node node;
    char* end = nullptr;
    const unsigned long t = std::strtoul(item.c_str(), &end, 10);
    if (end == item.c_str() || t >= max_threads) return false;
    node.thread = static_cast<std::uint8_t>(t);
    if (*end == '.') {
      const char* digits = end + 1;
      node.choice = static_cast<std::uint32_t>(std::strtoul(digits, &end, 10));
      if (end == digits) return false;
    }
    if (*end != '\0') return false;
    node.fresh = false;
    path_.push_back(node);
  }
  return true;
}

}  // namespace weft::dpor
