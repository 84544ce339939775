// The stress backend's runner: the same scenarios on real threads.
#include "model/harness/runner.h"

int main(int argc, char** argv) {
  return weft::model::detail::run_registered(argc, argv, {"stress", false});
}
