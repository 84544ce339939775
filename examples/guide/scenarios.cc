// The scenarios of docs/guide.md, built as //examples:guide_model_test (Relacy) and
// //examples:guide_threads_test (real threads). The regions between guide:begin and
// guide:end markers appear verbatim in the guide.
// guide:begin file_head
#include "examples/guide/mailbox.h"  // the design under test
#include "model/harness/scenario.h"  // WEFT_MODEL_SCENARIO, WEFT_MODEL_TEST, strategies
#include "sync/platform/platform.h"  // platform::thread, Backoff, WEFT_INVARIANT, ...

#include <atomic>
#include <memory>
#include <optional>

namespace platform = weft::platform;
using weft::examples::Mailbox;
// guide:end file_head

// guide:begin struct_scenario
// Thread 0 puts 42; thread 1 takes, and if it sees the mail, it must be 42.
template <std::memory_order Publish>
struct handoff_with {
  static constexpr int threads = 2;
  Mailbox<Publish> mailbox;

  void thread(int index) {
    if (index == 0) {
      mailbox.put(42);
    } else if (std::optional<int> mail = mailbox.take()) {
      WEFT_INVARIANT(*mail == 42);
    }
  }
  void check() {  // after both threads: the mail is there
    WEFT_INVARIANT(mailbox.take() == 42);
  }
};

using handoff = handoff_with<std::memory_order_release>;
WEFT_MODEL_SCENARIO(handoff, weft::model::exhaustive());
// guide:end struct_scenario

// guide:begin failing_scenario
// The broken variant, kept as a test of the test: it passes only if the model checker
// reports a data race (the stress backend skips it).
using relaxed_handoff = handoff_with<std::memory_order_relaxed>;
WEFT_MODEL_SCENARIO_FAILS(relaxed_handoff, weft::model::exhaustive(),
                          weft::model::Failure::data_race);
// guide:end failing_scenario

// guide:begin loom_scenario
// Loom style: the body is the first thread; it may spawn up to 1 more.
WEFT_MODEL_TEST(handoff_spawned, weft::model::bounded(2), /*max_spawned=*/1) {
  auto mailbox = std::make_shared<Mailbox<>>();  // heap: shared with the spawned thread
  platform::thread sender([mailbox] { mailbox->put(7); });

  platform::Backoff backoff;  // every wait loop yields through the platform layer
  std::optional<int> mail;
  while (!(mail = mailbox->take())) backoff.snooze();

  sender.join();
  WEFT_INVARIANT(*mail == 7);
}
// guide:end loom_scenario

// guide:begin threads_only
#if !defined(WEFT_MODEL)
// Real threads only: too many steps to model-check, cheap on threads.
struct handoff_many {
  static constexpr int threads = 2;
  static constexpr int rounds = 1000;
  std::unique_ptr<Mailbox<>[]> boxes = std::make_unique<Mailbox<>[]>(rounds);

  void thread(int index) {
    for (int i = 0; i < rounds; ++i) {
      if (index == 0) {
        boxes[i].put(i);
      } else if (std::optional<int> mail = boxes[i].take()) {
        WEFT_INVARIANT(*mail == i);
      }
    }
  }
};
WEFT_MODEL_SCENARIO(handoff_many, weft::model::bounded(2));  // strategy unused on threads
#endif
// guide:end threads_only
