// Model scenarios of platform::parker, the base of block_on and every blocking_* call.
// Tokio has no Loom test of its parker by this name; these follow std::thread::park's
// contract (one token; an unpark before the park is kept).
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"

namespace platform = weft::platform;

namespace {

// The token is handed over whichever of park and unpark comes first.
struct unpark_then_park {
  static constexpr int threads = 2;
  platform::parker parker;
  platform::cell<int> data{0};
  platform::atomic<int> ready{0};
  void thread(int index) {
    if (index == 0) {
      data.with_mut([](int& d) { d = 1; });
      ready.store(1, std::memory_order_relaxed);
      parker.unpark();  // publishes data: unpark's Release, park's Acquire
    } else {
      parker.park();  // the only token comes from the unpark after the write
      WEFT_INVARIANT(ready.load(std::memory_order_relaxed) == 1);
      data.with([](const int& d) { WEFT_INVARIANT(d == 1); });
    }
  }
};
WEFT_MODEL_SCENARIO(unpark_then_park, weft::model::exhaustive());

// Two rounds of ping-pong between two parkers: the state word returns to EMPTY after
// each token, and no round's token is lost or reused.
struct ping_pong {
  static constexpr int threads = 2;
  static constexpr int rounds = 2;
  platform::parker parkers[2];
  platform::atomic<int> turn{0};
  void thread(int index) {
    for (int round = 0; round < rounds; ++round) {
      while (turn.load(std::memory_order_acquire) % 2 != index) parkers[index].park();
      // Release: pairs with the Acquire load of the other thread's wait loop.
      turn.fetch_add(1, std::memory_order_release);
      parkers[1 - index].unpark();
    }
  }
  void check() { WEFT_INVARIANT(turn.load(std::memory_order_relaxed) == 2 * rounds); }
};
WEFT_MODEL_SCENARIO(ping_pong, weft::model::bounded(3));

// Two unparks before any park leave one token: the second park must wait for the third
// unpark, made only after the first park returned.
struct tokens_do_not_accumulate {
  static constexpr int threads = 2;
  platform::parker parker;
  platform::atomic<int> two_unparked{0};
  platform::atomic<int> first_parked{0};
  platform::atomic<int> third{0};
  void thread(int index) {
    if (index == 0) {
      parker.unpark();
      parker.unpark();
      two_unparked.store(1, std::memory_order_relaxed);
      while (first_parked.load(std::memory_order_relaxed) == 0) platform::yield_now();
      third.store(1, std::memory_order_relaxed);
      parker.unpark();
    } else {
      while (two_unparked.load(std::memory_order_relaxed) == 0) platform::yield_now();
      parker.park();
      first_parked.store(1, std::memory_order_relaxed);
      parker.park();
      // park()'s Acquire pairs with the Release exchange in parker::unpark() (the third
      // unpark): its store is visible.
      WEFT_INVARIANT(third.load(std::memory_order_relaxed) == 1);
    }
  }
};
WEFT_MODEL_SCENARIO(tokens_do_not_accumulate, weft::model::bounded(3));

// A token given as a timed park times out is not lost: park_until either takes it (true)
// or leaves it for the next park(), which then returns. The checker chooses when the
// timeout fires relative to every step of unpark(); a lost token leaves thread 1 parked
// forever (DEADLOCK). Either way the token publishes the data.
struct unpark_races_timeout {
  static constexpr int threads = 2;
  platform::parker parker;
  platform::cell<int> data{0};
  void thread(int index) {
    if (index == 0) {
      data.with_mut([](int& d) { d = 1; });
      parker.unpark();
    } else {
      const auto deadline = platform::deadline_after(std::chrono::milliseconds(1));
      if (!parker.park_until(deadline)) {
        WEFT_REACHED("timed out");
        WEFT_INVARIANT(platform::clock::now() >= deadline);
        parker.park();
      }
      data.with([](const int& d) { WEFT_INVARIANT(d == 1); });
    }
  }
};
WEFT_MODEL_SCENARIO(unpark_races_timeout, weft::model::exhaustive());
WEFT_MODEL_REACHES(unpark_races_timeout, "timed out");

// Two rounds of a timed park (then an untimed one if it timed out) against two unparks:
// a timed-out park takes no token, so each round's park() finds its own. The second
// unpark comes after the first round, so the two tokens are never merged.
struct timed_parks_keep_tokens {
  static constexpr int threads = 2;
  platform::parker parker;
  platform::atomic<int> first_done{0};
  void thread(int index) {
    if (index == 0) {
      parker.unpark();
      while (first_done.load(std::memory_order_relaxed) == 0) platform::yield_now();
      parker.unpark();
    } else {
      if (!parker.park_for(std::chrono::milliseconds(1))) parker.park();  // the first token
      first_done.store(1, std::memory_order_relaxed);
      if (!parker.park_for(std::chrono::milliseconds(1))) parker.park();  // the second
    }
  }
};
WEFT_MODEL_SCENARIO(timed_parks_keep_tokens, weft::model::bounded(3));

}  // namespace
