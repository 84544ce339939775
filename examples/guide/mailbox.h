// examples/guide/mailbox.h: the running example of docs/guide.md, a one-shot mailbox
// that hands one int from one thread to another. The regions between guide:begin and
// guide:end markers appear verbatim in the guide (checked by
// //examples:guide_snippets_test).
#pragma once

#include "sync/platform/platform.h"

#include <atomic>
#include <optional>

namespace weft::examples {

// guide:begin mailbox
// One thread calls put() once; another may call take() at any time.
// `Publish` is only there for the guide's broken variant: always leave the default.
template <std::memory_order Publish = std::memory_order_release>
class Mailbox {
 public:
  void put(int value) {
    value_.with_mut([&](int& v) { v = value; });
    // Release: pairs with the Acquire load in take(): publishes value_.
    full_.store(true, Publish);
  }

  std::optional<int> take() const {
    // Acquire: pairs with the Release store in put().
    if (!full_.load(std::memory_order_acquire)) return std::nullopt;
    return value_.with([](const int& v) { return v; });
  }

 private:
  weft::platform::atomic<bool> full_{false};
  weft::platform::cell<int> value_{0};  // written by put() before full_, read after it
};
// guide:end mailbox

}  // namespace weft::examples
