// Scenarios of the SPSC ring example: //examples:spsc_ring_model_test explores them under
// the Relacy model checker, //examples:spsc_ring_threads_test runs them on real threads.
// `relaxed_publish` is the deliberately broken variant: it passes only if the model
// checker reports the DATA RACE on a slot.
#include "examples/spsc_ring/spsc_ring.h"
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>

namespace platform = weft::platform;
using weft::examples::SpscRing;
using weft::model::Failure;

namespace {

// The ring's capacity and the number of values sent: in the model build, one value more
// than fits, so the producer sees a full ring and the slots are reused.
// guide:begin model_knob
#if defined(WEFT_MODEL)
constexpr std::size_t capacity = 2;
constexpr int messages = 3;
#else
constexpr std::size_t capacity = 16;
constexpr int messages = 5000;
#endif
// guide:end model_knob

// The producer sends 1..messages, waiting while the ring is full; the consumer receives
// them all, in order, waiting while it is empty.
template <std::memory_order Publish>
struct send_in_order {
  static constexpr int threads = 2;
  SpscRing<int, capacity, Publish> ring;
  void thread(int index) {
    platform::Backoff backoff;
    if (index == 0) {
      for (int v = 1; v <= messages; ++v) {
        while (!ring.try_push(v)) backoff.snooze();
      }
    } else {
      for (int expected = 1; expected <= messages;) {
        if (std::optional<int> v = ring.try_pop()) {
          WEFT_INVARIANT(*v == expected);
          ++expected;
        } else {
          backoff.snooze();
        }
      }
    }
  }
  void check() { WEFT_INVARIANT(!ring.try_pop().has_value()); }
};

}  // namespace

using fifo_order = send_in_order<std::memory_order_release>;
using relaxed_publish = send_in_order<std::memory_order_relaxed>;
WEFT_MODEL_SCENARIO(fifo_order, weft::model::bounded(3));
WEFT_MODEL_SCENARIO_FAILS(relaxed_publish, weft::model::bounded(2), Failure::data_race);

namespace {

// A value that owns heap memory: the leak checker sees one that the ring drops or
// duplicates, and the race checker sees the owned int as well as the slot.
struct owned_values {
  static constexpr int threads = 2;
  SpscRing<std::unique_ptr<int>, capacity> ring;
  void thread(int index) {
    platform::Backoff backoff;
    if (index == 0) {
      for (int v = 0; v < 2; ++v) {
        auto value = std::make_unique<int>(v);
        while (!ring.try_push(std::move(value))) {
          value = std::make_unique<int>(v);  // a failed push must leave no trace
          backoff.snooze();
        }
      }
    } else {
      // Takes one value; the other stays in the ring and is freed with it.
      for (;;) {
        if (auto v = ring.try_pop()) {
          WEFT_INVARIANT(**v == 0);
          break;
        }
        backoff.snooze();
      }
    }
  }
};

}  // namespace

WEFT_MODEL_SCENARIO(owned_values, weft::model::bounded(3));

// Full and empty edges, on one thread: what try_push and try_pop report.
WEFT_MODEL_TEST(full_and_empty, weft::model::exhaustive(), 0) {
  SpscRing<int, 2> ring;
  WEFT_INVARIANT(!ring.try_pop().has_value());
  WEFT_INVARIANT(ring.try_push(1));
  WEFT_INVARIANT(ring.try_push(2));
  WEFT_INVARIANT(!ring.try_push(3));
  WEFT_INVARIANT(ring.try_pop() == 1);
  WEFT_INVARIANT(ring.try_push(3));
  WEFT_INVARIANT(ring.try_pop() == 2);
  WEFT_INVARIANT(ring.try_pop() == 3);
  WEFT_INVARIANT(!ring.try_pop().has_value());
}
