// Model scenarios that kill mutations of sync/watch.h the main suite (model/watch.cc) lets
// survive (ci/mutations.py names them). In the main suite the senders go away right after
// sending, and the close notification hides a send that forgot to notify.
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "sync/watch.h"

#include <memory>

namespace platform = weft::platform;
namespace watch = weft::watch;

// Kills watch.send_no_notify: a receiver waiting in changed() is woken by the send itself,
// while a Sender is still alive (so no close can wake it instead).
WEFT_MODEL_TEST(send_wakes_with_sender_alive, weft::model::bounded(1), 1) {
  auto [tx, rx] = watch::channel<int>(0);
  platform::thread sender([tx] { WEFT_INVARIANT(tx.send(1).is_ok()); });  // a copy of tx
  WEFT_INVARIANT(weft::block_on(rx.changed()).is_ok());
  WEFT_INVARIANT(*rx.borrow() == 1);
  sender.join();
}

namespace {
struct Note {
  platform::cell<int> value{0};
};
}  // namespace

// Kills watch.version_relaxed: what the sender did before send() happens-before the
// changed() that observes the new version, even when changed() sees the version directly
// (before the sender's notify_waiters, which would otherwise order it).
WEFT_MODEL_TEST(changed_orders_sender_writes, weft::model::bounded(2), 1) {
  auto [tx, rx] = watch::channel<int>(0);
  auto note = std::make_shared<Note>();
  platform::thread sender([tx, note] {
    note->value.with_mut([](int& v) { v = 7; });  // plain data, outside the value lock
    WEFT_INVARIANT(tx.send(1).is_ok());
  });
  WEFT_INVARIANT(weft::block_on(rx.changed()).is_ok());
  note->value.with([](const int& v) { WEFT_INVARIANT(v == 7); });
  sender.join();
}
