// Scenarios of the seqlock example: //examples:seqlock_model_test explores them under the
// Relacy model checker, //examples:seqlock_threads_test runs them on real threads.
// Two deliberately broken variants pass only if the model checker finds their bug:
// `plain_data` (the textbook seqlock over plain data: a DATA RACE) and
// `reader_without_fence` (relaxed words without the reader's fence: a torn read).
#include "examples/seqlock/seqlock.h"
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"

#include <array>
#include <atomic>
#include <cstdint>

namespace platform = weft::platform;
using weft::examples::SeqLock;
using weft::model::Failure;

namespace {

#if defined(WEFT_MODEL)
constexpr std::uint64_t writes = 2;  // writes per execution
constexpr int reads = 2;             // reads per reader per execution
#else
constexpr std::uint64_t writes = 2000;
constexpr int reads = 2000;
#endif

// The textbook seqlock: the same protocol over plain data. The reader's copy of the
// words races with the writer's stores, which the C++ memory model makes undefined
// behaviour even though the value is thrown away: the model checker says DATA RACE.
// guide:begin plain_seqlock
class PlainSeqLock {
 public:
  using Value = std::array<std::uint64_t, 2>;
  void write(const Value& value) {
    const std::uint64_t seq = seq_.load(std::memory_order_relaxed);
    seq_.store(seq + 1, std::memory_order_relaxed);
    platform::fence(std::memory_order_release);
    data_.with_mut([&](Value& data) { data = value; });
    seq_.store(seq + 2, std::memory_order_release);
  }
  Value read() const {
    platform::Backoff backoff;
    for (;;) {
      const std::uint64_t before = seq_.load(std::memory_order_acquire);
      if ((before & 1) == 0) {
        const Value value = data_.with([](const Value& data) { return data; });
        platform::fence(std::memory_order_acquire);
        if (seq_.load(std::memory_order_relaxed) == before) return value;
      }
      backoff.snooze();
    }
  }

 private:
  platform::atomic<std::uint64_t> seq_{0};
  platform::cell<Value> data_{Value{}};
};
// guide:end plain_seqlock

// Thread 0 writes {1, 1}, {2, 2}, ...; the other threads read `reads` times each. Every
// snapshot must be whole (both words equal) and no older than the reader's last one.
template <class Lock, int Readers>
struct snapshots {
  static constexpr int threads = 1 + Readers;
  Lock lock;
  void thread(int index) {
    if (index == 0) {
      for (std::uint64_t v = 1; v <= writes; ++v) lock.write({v, v});
      return;
    }
    std::uint64_t last = 0;
    for (int i = 0; i < reads; ++i) {
      const auto value = lock.read();
      WEFT_INVARIANT(value[0] == value[1]);
      WEFT_INVARIANT(value[0] >= last && value[0] <= writes);
      last = value[0];
    }
  }
  void check() {
    const auto value = lock.read();
    WEFT_INVARIANT(value[0] == writes && value[1] == writes);
  }
};

}  // namespace

using consistent_snapshot = snapshots<SeqLock<2>, 1>;
using plain_data = snapshots<PlainSeqLock, 1>;
using reader_without_fence = snapshots<SeqLock<2, /*ReaderFence=*/false>, 1>;
using two_readers = snapshots<SeqLock<2>, 2>;
WEFT_MODEL_SCENARIO(consistent_snapshot, weft::model::bounded(4));
// On DPOR two_readers samples: each retry of a reader may read any older sequence number
// and data under RC11, so bounded(0) takes 492 805 executions (11 s). Relacy keeps bounded(2).
WEFT_MODEL_SCENARIO(two_readers, weft::model::bounded(2).on_dpor(weft::model::pct(100000, 3)));
WEFT_MODEL_SCENARIO_FAILS(plain_data, weft::model::bounded(2), Failure::data_race);
WEFT_MODEL_SCENARIO_FAILS(reader_without_fence, weft::model::bounded(2), Failure::assertion);

#if !defined(WEFT_MODEL)
// Real threads only: one writer, three readers, thousands of writes.
using many_readers = snapshots<SeqLock<2>, 3>;
WEFT_MODEL_SCENARIO(many_readers, weft::model::bounded(2));
#endif
