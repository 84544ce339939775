// Model scenarios of platform::parker, the base of block_on and every blocking_* call.
// Tokio has no Loom test of its parker by this name; these follow std::thread::park's
// contract (one token; an unpark before the park is kept).
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"

namespace platform = weft::platform;

namespace {

// Each scenario runs twice: on platform::parker, whose modelled futex never returns
// spuriously in the model build (a lost wake cannot be rescued by one and shows as
// DEADLOCK), and on the production futex policy, whose modelled futex may return
// spuriously once (the park loops must cope).
using SpuriousFutexParker = platform::basic_parker<platform::futex>;

// The token is handed over whichever of park and unpark comes first.
template <class Parker>
struct basic_unpark_then_park {
  static constexpr int threads = 2;
  Parker parker;
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
using unpark_then_park = basic_unpark_then_park<platform::parker>;
using unpark_then_park_spurious_return = basic_unpark_then_park<SpuriousFutexParker>;
WEFT_MODEL_SCENARIO(unpark_then_park, weft::model::exhaustive());
WEFT_MODEL_SCENARIO(unpark_then_park_spurious_return, weft::model::exhaustive());

// Two rounds of ping-pong between two parkers: the state word returns to EMPTY after
// each token, and no round's token is lost or reused.
template <class Parker>
struct basic_ping_pong {
  static constexpr int threads = 2;
  static constexpr int rounds = 2;
  Parker parkers[2];
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
using ping_pong = basic_ping_pong<platform::parker>;
using ping_pong_spurious_return = basic_ping_pong<SpuriousFutexParker>;
WEFT_MODEL_SCENARIO(ping_pong, weft::model::bounded(3));
WEFT_MODEL_SCENARIO(ping_pong_spurious_return, weft::model::bounded(3));

// Two unparks before any park leave one token: the second park must wait for the third
// unpark, made only after the first park returned.
template <class Parker>
struct basic_tokens_do_not_accumulate {
  static constexpr int threads = 2;
  Parker parker;
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
      // park()'s Acquire pairs with the Release exchange in basic_parker::unpark() (the third
      // unpark): its store is visible.
      WEFT_INVARIANT(third.load(std::memory_order_relaxed) == 1);
    }
  }
};
using tokens_do_not_accumulate = basic_tokens_do_not_accumulate<platform::parker>;
using tokens_do_not_accumulate_spurious_return =
    basic_tokens_do_not_accumulate<SpuriousFutexParker>;
WEFT_MODEL_SCENARIO(tokens_do_not_accumulate, weft::model::bounded(3));
WEFT_MODEL_SCENARIO(tokens_do_not_accumulate_spurious_return, weft::model::bounded(3));

// A token given as a timed park times out is not lost: park_until either takes it (true)
// or leaves it for the next park(), which then returns. The checker chooses when the
// timeout fires relative to every step of unpark(); a lost token leaves thread 1 parked
// forever (DEADLOCK). Either way the token publishes the data.
template <class Parker>
struct basic_unpark_races_timeout {
  static constexpr int threads = 2;
  Parker parker;
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
using unpark_races_timeout = basic_unpark_races_timeout<platform::parker>;
using unpark_races_timeout_spurious_return = basic_unpark_races_timeout<SpuriousFutexParker>;
WEFT_MODEL_SCENARIO(unpark_races_timeout, weft::model::exhaustive());
WEFT_MODEL_SCENARIO(unpark_races_timeout_spurious_return, weft::model::exhaustive());
WEFT_MODEL_REACHES(unpark_races_timeout, "timed out");
WEFT_MODEL_REACHES(unpark_races_timeout_spurious_return, "timed out");

// Two rounds of a timed park (then an untimed one if it timed out) against two unparks:
// a timed-out park takes no token, so each round's park() finds its own. The second
// unpark comes after the first round, so the two tokens are never merged.
template <class Parker>
struct basic_timed_parks_keep_tokens {
  static constexpr int threads = 2;
  Parker parker;
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
using timed_parks_keep_tokens = basic_timed_parks_keep_tokens<platform::parker>;
using timed_parks_keep_tokens_spurious_return = basic_timed_parks_keep_tokens<SpuriousFutexParker>;
WEFT_MODEL_SCENARIO(timed_parks_keep_tokens, weft::model::bounded(3));
WEFT_MODEL_SCENARIO(timed_parks_keep_tokens_spurious_return, weft::model::bounded(3));

}  // namespace
