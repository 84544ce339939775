// weft/testing/last_drop.h: a model scenario written once for every handle whose last drop
// closes something (the Senders of mpsc and broadcast): what each owner did before it
// dropped its handle happens-before whoever sees the end.
//
// Two threads each write a plain cell and then drop their copy of `handle`; whichever is
// last closes. see_end(), on the calling thread, returns once it has seen the end (a recv
// that reports closed). Both writes must then be visible: the one made by the thread that
// did not close reaches see_end() only through the handles' count (AcqRel decrements, one
// release sequence), so a weaker decrement is a data race on its cell.
//
//   WEFT_MODEL_TEST(senders_writes_ordered_before_end, weft::model::bounded(2), 2) {
//     auto [tx, rx] = mpsc::unbounded_channel<int>();
//     weft::testing::writes_ordered_before_last_drop(
//         std::move(tx), [&] { WEFT_INVARIANT(!rx.blocking_recv().has_value()); });
//   }
#pragma once

#include "sync/platform/cell.h"
#include "sync/platform/invariant.h"
#include "sync/platform/thread.h"

#include <memory>
#include <optional>
#include <utility>

namespace weft::testing {

template <class Handle, class SeeEnd>
void writes_ordered_before_last_drop(Handle handle, SeeEnd see_end) {
  struct Notes {
    platform::cell<int> a{0};
    platform::cell<int> b{0};
  };
  auto notes = std::make_shared<Notes>();
  auto second = std::make_shared<std::optional<Handle>>(handle);
  platform::thread a([notes, handle = std::move(handle)]() mutable {
    notes->a.with_mut([](int& v) { v = 1; });
    auto gone = std::move(handle);
  });
  platform::thread b([notes, second] {
    notes->b.with_mut([](int& v) { v = 1; });
    second->reset();
  });
  see_end();
  notes->a.with([](const int& v) { WEFT_INVARIANT(v == 1); });
  notes->b.with([](const int& v) { WEFT_INVARIANT(v == 1); });
  a.join();
  b.join();
}

}  // namespace weft::testing
