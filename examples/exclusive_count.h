// weft/examples/exclusive_count.h: the scenario every lock example runs. Each of
// `Threads` threads takes the lock `Rounds` times and increments a plain counter inside;
// the counter is a platform::cell, so two threads inside at once is a DATA RACE in the
// model (and a lost increment on real threads), and the final count must be exact.
//
// A lock here is any class with lock(int thread) and unlock(int thread), the thread's
// index in the scenario (Peterson's and MCS's locks need it; a ticket lock ignores it).
#pragma once

#include "model/harness/scenario.h"
#include "sync/platform/platform.h"

namespace weft::examples {

template <class Lock, int Threads, int Rounds = 1>
struct exclusive_count {
  static constexpr int threads = Threads;
  Lock lock;
  platform::cell<int> count{0};

  void thread(int index) {
    for (int round = 0; round < Rounds; ++round) {
      lock.lock(index);
      count.set(count.get() + 1);
      lock.unlock(index);
    }
  }
  void check() { WEFT_INVARIANT(count.get() == Threads * Rounds); }
};

}  // namespace weft::examples
