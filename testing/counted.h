// weft/testing/counted.h: a value that counts its live instances, for the leak checks of
// every test tier (unit, stress, fuzz drivers' plain checks).
//
// Every constructor (from a value, copy, move) adds one to a count and the destructor takes
// one off, so a test that destroyed its primitive expects the count back where it started:
// a value a primitive leaked (or destroyed twice) shows up there. The count is a
// process-wide one (unit tests: `Counted::live()`), or one the test owns and passes in
// (stress tests, whose runs overlap: `Counted(&live, v)`; model scenarios, which must
// build their atomics inside the execution, too).
//
// The value is a long, or any small copyable type a test stamps its values with
// (`CountedOf<Stamp>`, `MoveOnlyCountedOf<Stamp>`: which sender, which sequence number);
// each value type has a process-wide count of its own.
//
//   CHECK(Counted::live() == 0);
//   { auto [tx, rx] = weft::oneshot::channel<Counted>(); (void)std::move(tx).send(Counted(1)); }
//   CHECK(Counted::live() == 0);  // the value the Receiver never took was destroyed
#pragma once

#include "sync/platform/atomic.h"

#include <utility>

namespace weft::testing {

template <bool Copyable, class Value = long>
class BasicCounted {
 public:
  using Count = platform::atomic<long>;

  // The process-wide count. Built on first use, so a model build that never uses it never
  // builds an instrumented atomic outside a model execution.
  static Count& global() {
    static Count count{0};
    return count;
  }
  // Relaxed: a count read after the threads that change it were joined.
  static long live() { return global().load(std::memory_order_relaxed); }

  explicit BasicCounted(Value v) : BasicCounted(&global(), std::move(v)) {}
  BasicCounted(Count* count, Value v) : count_(count), value(std::move(v)) { add(); }
  BasicCounted(const BasicCounted& other) requires Copyable : count_(other.count_),
                                                              value(other.value) {
    add();
  }
  BasicCounted(BasicCounted&& other) noexcept : count_(other.count_), value(other.value) { add(); }
  // An assignment takes the value only: each instance stays on the count it was made on.
  BasicCounted& operator=(const BasicCounted& other) requires Copyable {
    value = other.value;
    return *this;
  }
  BasicCounted& operator=(BasicCounted&& other) noexcept {
    value = other.value;
    return *this;
  }
  ~BasicCounted() { count_->fetch_sub(1, std::memory_order_relaxed); }

  bool operator==(const BasicCounted& other) const { return value == other.value; }

 private:
  // Relaxed: only the total matters, read after joins.
  void add() { count_->fetch_add(1, std::memory_order_relaxed); }
  Count* count_;

 public:
  Value value;
};

// Copyable: for primitives that hand out copies (watch, broadcast, set_once's get ...).
using Counted = BasicCounted<true>;
// Move-only: a primitive that must never copy its value does not compile with a copy.
using MoveOnlyCounted = BasicCounted<false>;
// The same with a value of the test's own type.
template <class Value>
using CountedOf = BasicCounted<true, Value>;
template <class Value>
using MoveOnlyCountedOf = BasicCounted<false, Value>;

}  // namespace weft::testing
