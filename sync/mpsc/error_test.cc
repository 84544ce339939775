// Unit tests of the mpsc errors' conversions (sync/mpsc/error.h). Follows Tokio's
// `impl From<SendError<T>> for TrySendError<T>` (tokio/src/sync/mpsc/error.rs).
#include "sync/mpsc/bounded.h"
#include "sync/mpsc/error.h"
#include "sync/result.h"
#include "testing/counted.h"

#include <doctest/doctest.h>

#include <string>
#include <type_traits>
#include <utility>

namespace {

using weft::mpsc::SendError;
using weft::mpsc::TrySendError;

TEST_CASE("a SendError converts to a closed TrySendError, value and all") {
  TrySendError<std::string> error = SendError<std::string>{"job"};
  CHECK(error.is_closed());
  CHECK_FALSE(error.is_full());
  CHECK(std::move(error).into_inner() == "job");
  TrySendError<void> unit = SendError<void>{};
  CHECK(unit.is_closed());
  // Not the other way: a TrySendError may be Full, which no SendError means.
  static_assert(!std::is_convertible_v<TrySendError<int>, SendError<int>>);
}

TEST_CASE("a failed send's error, converted, is what try_send gives on a closed channel") {
  auto [tx, rx] = weft::mpsc::channel<weft::testing::Counted>(1);
  rx.close();
  auto sent = tx.blocking_send(weft::testing::Counted(7));
  REQUIRE(sent.is_err());
  TrySendError<weft::testing::Counted> converted = std::move(sent.error());
  auto tried = tx.try_send(weft::testing::Counted(8));
  REQUIRE(tried.is_err());
  CHECK(converted.kind == tried.error().kind);
  CHECK(converted.value.value == 7);
}

}  // namespace
