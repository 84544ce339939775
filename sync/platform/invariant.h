// weft/sync/platform/invariant.h: WEFT_INVARIANT(cond), a check that is always on.
//
// For conditions whose failure means a bug in weft or in a scenario, never for user
// errors (those get a documented error value). Model build: reported as an assertion
// failure with the trace that led to it. Production: prints the condition and location
// to stderr and aborts.
#pragma once

#include "sync/platform/config.h"

#include <cstdio>
#include <cstdlib>
#include <source_location>

namespace weft::platform {

inline void invariant(bool holds, const char* condition,
                      std::source_location loc = std::source_location::current()) {
  if (holds) [[likely]]
    return;
#if defined(WEFT_MODEL_DPOR)
  detail::engine().fail(dpor::Failure::assertion, condition, detail::where(loc));
#elif defined(WEFT_MODEL_RELACY)
  rl::ctx().fail_test(condition, rl::test_result_user_assert_failed, detail::where(loc));
#else
  std::fprintf(stderr, "%s:%u: %s: invariant failed: %s\n", loc.file_name(),
               static_cast<unsigned>(loc.line()), loc.function_name(), condition);
  std::abort();
#endif
}

}  // namespace weft::platform

#define WEFT_INVARIANT(cond) ::weft::platform::invariant(static_cast<bool>(cond), #cond)
