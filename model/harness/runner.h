// weft/model/harness/runner.h: the main() shared by model and stress test binaries.
#pragma once

#include "model/harness/strategy.h"

namespace weft::model::detail {

struct Backend {
  const char* name;             // "model" or "stress"
  bool runs_expected_failures;  // the stress backend skips checker self-tests
  bool checks_reached;          // WEFT_MODEL_REACHES fails a scenario (a search, not luck)
};

// Runs every registered scenario that the command line selects; returns the exit code.
int run_registered(int argc, char** argv, const Backend& backend);

}  // namespace weft::model::detail
