// weft/testing/move_may_throw.h: MoveMayThrow, a value whose move constructor throws on
// demand, for the paths where a primitive moves a value into its own storage (an mpsc
// send moves it into its slot).
//
// Copying never throws; moving throws std::runtime_error when `throws` is set. A caller
// passes an lvalue to an API that takes T by value, so the copy into the parameter
// succeeds and the primitive's own move is the one that throws.
#pragma once

#include <stdexcept>

namespace weft::testing {

struct MoveMayThrow {
  int value = 0;
  bool throws = false;
  MoveMayThrow(int v, bool t) : value(v), throws(t) {}
  MoveMayThrow(const MoveMayThrow&) = default;
  MoveMayThrow(MoveMayThrow&& other) : value(other.value), throws(other.throws) {
    if (throws) throw std::runtime_error("MoveMayThrow: move");
  }
  MoveMayThrow& operator=(const MoveMayThrow&) = default;
};

}  // namespace weft::testing
