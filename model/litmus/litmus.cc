#include "model/litmus/litmus.h"

namespace weft::litmus {

Run run(const Test& test, bool sc_only) {
  Run out;
  dpor::Options options;
  options.sc_only = sc_only;
  options.verify_psc = true;
  out.result = dpor::Engine::explore(
      [&] {
        std::vector<unsigned> x;
        for (unsigned i = 0; i < test.locations; ++i) x.push_back(engine().new_atomic(0));
        Outcome registers(test.registers, 0);
        std::vector<unsigned> threads;
        for (const Body& body : test.threads) {
          threads.push_back(engine().spawn([&] { body(x.data(), registers.data()); }, {}));
        }
        for (unsigned t : threads) engine().join(t, {});
        if (test.final_values) {
          for (unsigned loc : x) registers.push_back(load(loc, std::memory_order_relaxed));
        }
        out.outcomes.insert(registers);
      },
      options);
  return out;
}

}  // namespace weft::litmus
