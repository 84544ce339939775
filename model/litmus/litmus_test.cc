// Litmus tests of the DPOR engine's memory model. Each records the set of outcomes the
// exhaustive exploration produced and checks it EQUALS the set RC11 allows (Lahav et al.,
// PLDI 2017), written by hand with the reason. Locations start at 0. Names follow the
// herd/diy catalogue (SB, MP, LB, IRIW, 2+2W, CoRR, CoWR, WRC, R, S).
#include "model/litmus/litmus.h"

#include <doctest/doctest.h>

#include <string>

using namespace weft::litmus;

namespace {

constexpr auto rlx = std::memory_order_relaxed;
constexpr auto acq = std::memory_order_acquire;
constexpr auto rel = std::memory_order_release;
constexpr auto sc = std::memory_order_seq_cst;

// Every outcome over `registers` registers that each take one of `values`.
Outcomes all_of(unsigned registers, std::vector<Value> values) {
  Outcomes out{{}};
  for (unsigned i = 0; i < registers; ++i) {
    Outcomes next;
    for (const Outcome& o : out) {
      for (Value v : values) {
        Outcome longer = o;
        longer.push_back(v);
        next.insert(longer);
      }
    }
    out = next;
  }
  return out;
}

Outcomes all_but(unsigned registers, std::vector<Value> values, const Outcomes& forbidden) {
  Outcomes out = all_of(registers, values);
  for (const Outcome& o : forbidden) out.erase(o);
  return out;
}

std::string spell(const Outcomes& outcomes) {
  std::string out;
  for (const Outcome& o : outcomes) {
    out += " (";
    for (std::size_t i = 0; i < o.size(); ++i) out += (i ? "," : "") + std::to_string(o[i]);
    out += ")";
  }
  return out;
}

void expect(const Test& test, const Outcomes& allowed) {
  const Run r = run(test);
  REQUIRE(r.result.failure == weft::dpor::Failure::none);
  CHECK(r.result.exhausted);
  INFO("produced:" << spell(r.outcomes) << "\n allowed:" << spell(allowed));
  CHECK(r.outcomes == allowed);
}

// SB: x=1; r0=y || y=1; r1=x.
Test sb(std::memory_order st, std::memory_order ld, bool fences) {
  return Test{2,
              2,
              {
                  [=](const unsigned* x, Value* r) {
                    store(x[0], 1, st);
                    if (fences) fence(sc);
                    r[0] = load(x[1], ld);
                  },
                  [=](const unsigned* x, Value* r) {
                    store(x[1], 1, st);
                    if (fences) fence(sc);
                    r[1] = load(x[0], ld);
                  },
              }};
}

// MP: data=1; flag=1 || r0=flag; r1=data.
Test mp(std::memory_order st, std::memory_order ld, bool fences) {
  return Test{2,
              2,
              {
                  [=](const unsigned* x, Value*) {
                    store(x[0], 1, rlx);
                    if (fences) fence(rel);
                    store(x[1], 1, st);
                  },
                  [=](const unsigned* x, Value* r) {
                    r[0] = load(x[1], ld);
                    if (fences) fence(acq);
                    r[1] = load(x[0], rlx);
                  },
              }};
}

// LB: r0=x; y=1 || r1=y; x=1.
Test lb(std::memory_order st, std::memory_order ld, bool fences) {
  return Test{2,
              2,
              {
                  [=](const unsigned* x, Value* r) {
                    r[0] = load(x[0], ld);
                    if (fences) fence(sc);
                    store(x[1], 1, st);
                  },
                  [=](const unsigned* x, Value* r) {
                    r[1] = load(x[1], ld);
                    if (fences) fence(sc);
                    store(x[0], 1, st);
                  },
              }};
}

// IRIW: x=1 || y=1 || r0=x; r1=y || r2=y; r3=x.
Test iriw(std::memory_order st, std::memory_order ld, bool fences) {
  return Test{2,
              4,
              {
                  [=](const unsigned* x, Value*) { store(x[0], 1, st); },
                  [=](const unsigned* x, Value*) { store(x[1], 1, st); },
                  [=](const unsigned* x, Value* r) {
                    r[0] = load(x[0], ld);
                    if (fences) fence(sc);
                    r[1] = load(x[1], ld);
                  },
                  [=](const unsigned* x, Value* r) {
                    r[2] = load(x[1], ld);
                    if (fences) fence(sc);
                    r[3] = load(x[0], ld);
                  },
              }};
}

// 2+2W: x=1; y=2 || y=1; x=2; outcome: final x, y.
Test two_plus_two_w(std::memory_order st, bool fences) {
  Test t{2,
         0,
         {
             [=](const unsigned* x, Value*) {
               store(x[0], 1, st);
               if (fences) fence(sc);
               store(x[1], 2, st);
             },
             [=](const unsigned* x, Value*) {
               store(x[1], 1, st);
               if (fences) fence(sc);
               store(x[0], 2, st);
             },
         }};
  t.final_values = true;
  return t;
}

// WRC: x=1 || r0=x; y=1 || r1=y; r2=x.
Test wrc(std::memory_order st, std::memory_order ld, bool fences) {
  return Test{2,
              3,
              {
                  [=](const unsigned* x, Value*) { store(x[0], 1, st); },
                  [=](const unsigned* x, Value* r) {
                    r[0] = load(x[0], ld);
                    if (fences) fence(rel);
                    store(x[1], 1, st);
                  },
                  [=](const unsigned* x, Value* r) {
                    r[1] = load(x[1], ld);
                    if (fences) fence(acq);
                    r[2] = load(x[0], ld);
                  },
              }};
}

// R: x=1; y=1 || y=2; r0=x; outcome: r0, final y.
Test r_test(std::memory_order st, std::memory_order ld, bool fences) {
  Test t{2,
         1,
         {
             [=](const unsigned* x, Value*) {
               store(x[0], 1, st);
               if (fences) fence(sc);
               store(x[1], 1, st);
             },
             [=](const unsigned* x, Value* r) {
               store(x[1], 2, st);
               if (fences) fence(sc);
               r[0] = load(x[0], ld);
             },
         }};
  t.final_values = true;
  return t;
}

// S: x=2; y=1 || r0=y; x=1; outcome: r0, final x.
Test s_test(std::memory_order st, std::memory_order ld, bool fences) {
  Test t{2,
         1,
         {
             [=](const unsigned* x, Value*) {
               store(x[0], 2, rlx);
               if (fences) fence(rel);
               store(x[1], 1, st);
             },
             [=](const unsigned* x, Value* r) {
               r[0] = load(x[1], ld);
               if (fences) fence(acq);
               store(x[0], 1, rlx);
             },
         }};
  t.final_values = true;
  return t;
}

// R and S outcomes are (r0, final x, final y); the location not in question always ends
// at 1 (its only store).
Outcomes with_final(const Outcomes& pairs, bool final_is_x) {
  Outcomes out;
  for (const Outcome& p : pairs) {
    out.insert(final_is_x ? Outcome{p[0], p[1], 1} : Outcome{p[0], 1, p[1]});
  }
  return out;
}

}  // namespace

TEST_CASE("SB") {
  // Relaxed and release/acquire: a load may read the initial 0 while the other store is
  // not yet visible, on both sides (RA does not forbid store buffering).
  expect(sb(rlx, rlx, false), all_of(2, {0, 1}));
  expect(sb(rel, acq, false), all_of(2, {0, 1}));
  // seq_cst accesses: psc orders the four, so one load sees the other store.
  expect(sb(sc, sc, false), all_but(2, {0, 1}, {{0, 0}}));
  // Relaxed accesses with seq_cst fences between: psc_F between the fences forbids 0,0.
  expect(sb(rlx, rlx, true), all_but(2, {0, 1}, {{0, 0}}));
}

TEST_CASE("MP") {
  // Relaxed: the flag may be seen before the data.
  expect(mp(rlx, rlx, false), all_of(2, {0, 1}));
  // Release/acquire or seq_cst flag: seeing the flag makes the data store happen-before.
  expect(mp(rel, acq, false), all_but(2, {0, 1}, {{1, 0}}));
  expect(mp(sc, sc, false), all_but(2, {0, 1}, {{1, 0}}));
  // Release fence before a relaxed flag store, acquire fence after a relaxed flag load.
  expect(mp(rlx, rlx, true), all_but(2, {0, 1}, {{1, 0}}));
}

TEST_CASE("LB") {
  // RC11 forbids load buffering at every order (po ∪ rf acyclic, no out-of-thin-air):
  // 1,1 is never produced. C++20 proper allows it for relaxed accesses; this is a limit
  // of the model (README), shared with GenMC's RC11 mode.
  for (bool fences : {false, true}) {
    expect(lb(rlx, rlx, fences), all_but(2, {0, 1}, {{1, 1}}));
  }
  expect(lb(rel, acq, false), all_but(2, {0, 1}, {{1, 1}}));
  expect(lb(sc, sc, false), all_but(2, {0, 1}, {{1, 1}}));
}

TEST_CASE("IRIW") {
  // Relaxed and release/acquire: RC11 is not multi-copy atomic, the readers may disagree
  // on the order of the two independent stores (1,0,1,0 allowed).
  expect(iriw(rlx, rlx, false), all_of(4, {0, 1}));
  expect(iriw(rel, acq, false), all_of(4, {0, 1}));
  // seq_cst: one total order of the stores for both readers.
  expect(iriw(sc, sc, false), all_but(4, {0, 1}, {{1, 0, 1, 0}}));
  // seq_cst fences between the readers' relaxed loads (psc_F: F hb;fr;rf;hb F, both ways).
  expect(iriw(rlx, rlx, true), all_but(4, {0, 1}, {{1, 0, 1, 0}}));
}

TEST_CASE("2+2W") {
  // Final x, y. Relaxed and release: each location's mo is free, final 1,1 allowed (no
  // reads, so hb is po and coherence never crosses locations). Relacy cannot produce it.
  expect(two_plus_two_w(rlx, false), all_of(2, {1, 2}));
  expect(two_plus_two_w(rel, false), all_of(2, {1, 2}));
  // seq_cst stores, or seq_cst fences between relaxed ones: psc forbids 1,1.
  expect(two_plus_two_w(sc, false), all_but(2, {1, 2}, {{1, 1}}));
  expect(two_plus_two_w(rlx, true), all_but(2, {1, 2}, {{1, 1}}));
}

TEST_CASE("CoRR, CoWR, CoRW, CoWW: coherence at every order") {
  for (auto order : {rlx, acq, sc}) {
    // CoRR: x=1 || r0=x; r1=x. Reading 1 then 0 goes back in mo.
    expect(Test{1,
                2,
                {
                    [=](const unsigned* x, Value*) { store(x[0], 1, order == acq ? rel : order); },
                    [=](const unsigned* x, Value* r) {
                      r[0] = load(x[0], order);
                      r[1] = load(x[0], order);
                    },
                }},
           all_but(2, {0, 1}, {{1, 0}}));
    // CoWR: x=1; r0=x || x=2, outcome r0, final x. A thread never reads what precedes
    // its own store (no 0), and a read of 2 puts 2 last (no 2,1).
    Test cowr{1,
              1,
              {
                  [=](const unsigned* x, Value* r) {
                    store(x[0], 1, order == acq ? rel : order);
                    r[0] = load(x[0], order);
                  },
                  [=](const unsigned* x, Value*) { store(x[0], 2, order == acq ? rel : order); },
              }};
    cowr.final_values = true;
    expect(cowr, Outcomes{{1, 1}, {1, 2}, {2, 2}});
    // CoRW: r0=x; x=1 || x=2, outcome r0, final x. A read of 2 puts 2 before 1 in mo.
    Test corw{1,
              1,
              {
                  [=](const unsigned* x, Value* r) {
                    r[0] = load(x[0], order);
                    store(x[0], 1, order == acq ? rel : order);
                  },
                  [=](const unsigned* x, Value*) { store(x[0], 2, order == acq ? rel : order); },
              }};
    corw.final_values = true;
    expect(corw, Outcomes{{0, 1}, {0, 2}, {2, 1}});
  }
  // CoWW: x=1; x=2 in one thread: the final value is 2.
  Test coww{1, 0, {[](const unsigned* x, Value*) {
              store(x[0], 1, rlx);
              store(x[0], 2, rlx);
            }}};
  coww.final_values = true;
  expect(coww, Outcomes{{2}});
}

TEST_CASE("WRC") {
  // Relaxed: all eight (1,1,0 is the causality violation, allowed without synchronization).
  expect(wrc(rlx, rlx, false), all_of(3, {0, 1}));
  // Release/acquire chain: x=1 happens-before r2, which must read it: 1,1,0 forbidden.
  expect(wrc(rel, acq, false), all_but(3, {0, 1}, {{1, 1, 0}}));
  expect(wrc(sc, sc, false), all_but(3, {0, 1}, {{1, 1, 0}}));
  // Fences in the middle and last thread, every access relaxed: r0 hb r2 through the
  // fences, and r2 reading 0 would make hb;fr;rf a cycle (coherence): 1,1,0 forbidden.
  expect(wrc(rlx, rlx, true), all_but(3, {0, 1}, {{1, 1, 0}}));
}

TEST_CASE("R") {
  // Outcome r0, final y. x=1; y=1 || y=2; r0=x.
  // r0 in {0,1} with final y in {1,2}:
  const Outcomes every = with_final(Outcomes{{0, 1}, {0, 2}, {1, 1}, {1, 2}}, false);
  // Relaxed and release/acquire: 0 with y ending at 2 is allowed (RA does not forbid R).
  expect(r_test(rlx, rlx, false), every);
  expect(r_test(rel, acq, false), every);
  // seq_cst (RC11's psc, the fix of C11's SC) or seq_cst fences: 0 with final 2 forbidden.
  Outcomes strong = every;
  strong.erase(Outcome{0, 1, 2});
  expect(r_test(sc, sc, false), strong);
  expect(r_test(rlx, rlx, true), strong);
}

TEST_CASE("S") {
  // Outcome r0, final x. x=2; y=1 || r0=y; x=1.
  const Outcomes every = with_final(Outcomes{{0, 1}, {0, 2}, {1, 1}, {1, 2}}, true);
  // Relaxed: reading the flag does not order x=2 before x=1.
  expect(s_test(rlx, rlx, false), every);
  // Release/acquire, seq_cst, or fences: x=2 happens-before x=1, so x ends at 1 (CoWW).
  Outcomes ordered = every;
  ordered.erase(Outcome{1, 2, 1});
  expect(s_test(rel, acq, false), ordered);
  expect(s_test(sc, sc, false), ordered);
  expect(s_test(rlx, rlx, true), ordered);
}

TEST_CASE("RMW atomicity: two fetch_adds never both read 0; a cas succeeds once") {
  for (auto order : {rlx, std::memory_order_acq_rel, sc}) {
    expect(Test{1,
                2,
                {
                    [=](const unsigned* x, Value* r) {
                      r[0] = engine().rmw(x[0], weft::dpor::RmwOp::add, 1, order, {});
                    },
                    [=](const unsigned* x, Value* r) {
                      r[1] = engine().rmw(x[0], weft::dpor::RmwOp::add, 1, order, {});
                    },
                }},
           Outcomes{{0, 1}, {1, 0}});
    auto cas = [=](const unsigned* x, Value* r, unsigned i) {
      Value expected = 0;
      r[i] = engine().compare_exchange(x[0], expected, 1, order, rlx, false, {}) ? 1 : 0;
    };
    expect(Test{1,
                2,
                {[=](const unsigned* x, Value* r) { cas(x, r, 0); },
                 [=](const unsigned* x, Value* r) { cas(x, r, 1); }}},
           Outcomes{{0, 1}, {1, 0}});
  }
}
