// weft/testing/waker_leak_check.h: a test helper. Does the handle or future that stored a
// task's waker let go of it when it is destroyed?
//
// A primitive that parks a task keeps a clone of the task's waker. Once the handle that
// registered it is gone, nothing is left to wake, and a clone still held keeps the task's
// resources alive (Tokio #7886: a dropped oneshot Receiver kept its waker until the Sender
// went too). waker_released_on_destroy() polls once as a fresh MockTask, destroys, and
// counts the task's live waker clones before and after. Works in both builds (a unit
// test CHECKs the result; a model scenario WEFT_INVARIANTs it).
//
//   using weft::testing::waker_released_on_destroy;
//   CHECK(waker_released_on_destroy([&] { return notify.notified(); }));  // a future
//   CHECK(waker_released_on_destroy(                                      // a handle, by hand
//       [&](weft::Context& cx) { return tx->poll_closed(cx); }, [&] { tx.reset(); }));
#pragma once

#include "sync/task/future.h"
#include "sync/task/mock_task.h"
#include "sync/task/waker.h"

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>
#include <ostream>

namespace weft::testing {

// What waker_released_on_destroy() saw. True when the poll registered the waker (pending,
// at least one clone held) and the destruction dropped every clone.
struct WakerRelease {
  bool pending = false;  // the poll returned pending
  std::size_t held = 0;  // the task's waker clones alive after the poll
  std::size_t left = 0;  // ... and after the destruction: must be 0
  explicit operator bool() const noexcept { return pending && held > 0 && left == 0; }
  friend std::ostream& operator<<(std::ostream& out, const WakerRelease& r) {
    return out << "{pending " << r.pending << ", wakers held " << r.held << ", left after destroy "
               << r.left << "}";
  }
};

// Polls with poll(Context&) (which returns a Poll) once as a fresh MockTask, then calls
// destroy().
template <class PollFn, class DestroyFn>
WakerRelease waker_released_on_destroy(PollFn&& poll, DestroyFn&& destroy) {
  MockTask task;
  WakerRelease r;
  r.pending = task.enter([&](Context& cx) { return poll(cx).is_pending(); });
  r.held = task.waker_ref_count();
  destroy();
  r.left = task.waker_ref_count();
  return r;
}

// The common case: the future itself is what is destroyed. make() returns it (built in
// place, so it need not be movable); it is polled once, then destroyed.
template <class Make>
requires Future<std::invoke_result_t<Make&>> WakerRelease waker_released_on_destroy(Make&& make) {
  struct Held {
    std::invoke_result_t<Make&> future;
    explicit Held(Make& m) : future(m()) {}
  };
  std::optional<Held> held(std::in_place, make);
  return waker_released_on_destroy([&](Context& cx) { return held->future.poll(cx); },
                                   [&] { held.reset(); });
}

}  // namespace weft::testing
