// weft/testing/yield_now.h: YieldNow for unit tests, stress tests and model scenarios:
// the public weft::YieldNow (sync/task/yield_now.h, tokio::task::yield_now), under the
// name the tests have used since before it was public.
//
//   Task<void> twice() {
//     co_await weft::testing::YieldNow{};
//     co_await weft::testing::YieldNow{};
//   }
#pragma once

#include "sync/task/yield_now.h"

namespace weft::testing {

using weft::YieldNow;

}  // namespace weft::testing
