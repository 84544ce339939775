// weft/model/dpor/clock.h: a vector clock over the model threads of one execution.
//
// Used twice, for two different orders: the memory model's happens-before (hb, from
// program order and synchronizes-with) and the exploration's dependence order (program
// order and every pair of dependent operations, in the order they ran). Component t counts
// the events of thread t that are ordered before (and including) the clock's owner.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

namespace weft::dpor {

inline constexpr unsigned max_threads = 16;  // per execution; checked at spawn

struct Clock {
  std::array<std::uint32_t, max_threads> at{};

  void join(const Clock& other) {
    for (unsigned t = 0; t < max_threads; ++t) at[t] = std::max(at[t], other.at[t]);
  }
  // Whether the event that is number `local` of `thread` is ordered before this clock.
  bool covers(unsigned thread, std::uint32_t local) const { return at[thread] >= local; }
};

}  // namespace weft::dpor
