// weft/model/litmus/litmus.h: run a litmus test on weft's DPOR engine and collect the
// set of outcomes its exhaustive exploration produced.
#pragma once

#include "model/dpor/engine.h"

#include <functional>
#include <set>
#include <vector>

namespace weft::litmus {

using dpor::Value;
using Outcome = std::vector<Value>;
using Outcomes = std::set<Outcome>;

// Thread bodies read locations x[0..] and record what they read in r[0..].
using Body = std::function<void(const unsigned* x, Value* r)>;

struct Test {
  unsigned locations = 2;
  unsigned registers = 2;
  std::vector<Body> threads;
  bool final_values = false;  // append each location's final value to the outcome
};

struct Run {
  Outcomes outcomes;
  dpor::Result result;
};

Run run(const Test& test, bool sc_only = false);

// Short spellings for test bodies.
inline dpor::Engine& engine() { return dpor::Engine::current(); }
inline Value load(unsigned x, std::memory_order order) { return engine().load(x, order, {}); }
inline void store(unsigned x, Value v, std::memory_order order) { engine().store(x, v, order, {}); }
inline void fence(std::memory_order order) { engine().fence(order, {}); }

}  // namespace weft::litmus
