// Model scenarios that kill mutations of sync/broadcast.h the main suite
// (model/broadcast.cc) lets survive (ci/mutations.py names them).
#include "model/harness/scenario.h"
#include "sync/broadcast.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"

#include <memory>
#include <optional>

namespace platform = weft::platform;
namespace broadcast = weft::broadcast;

namespace {
struct Notes {
  platform::cell<int> a{0};
  platform::cell<int> b{0};
};
}  // namespace

// Kills broadcast.sender_count_relaxed: the drop of every Sender happens-before the recv
// that reports closed. Two Senders write plain data and go away; whichever is last closes
// the channel, and the other's write reaches the receiver only through the AcqRel
// decrements of the sender count (one release sequence).
WEFT_MODEL_TEST(senders_writes_ordered_before_closed, weft::model::bounded(2), 2) {
  auto notes = std::make_shared<Notes>();
  auto [tx, rx] = broadcast::channel<int>(1);
  auto second = std::make_shared<std::optional<broadcast::Sender<int>>>(tx);
  platform::thread a([notes, tx = std::move(tx)]() mutable {
    notes->a.with_mut([](int& v) { v = 1; });
    auto gone = std::move(tx);
  });
  platform::thread b([notes, second] {
    notes->b.with_mut([](int& v) { v = 1; });
    second->reset();
  });
  auto r = weft::block_on(rx.recv());
  WEFT_INVARIANT(r.is_err() && r.error().is_closed());
  notes->a.with([](const int& v) { WEFT_INVARIANT(v == 1); });
  notes->b.with([](const int& v) { WEFT_INVARIANT(v == 1); });
  a.join();
  b.join();
}
