// The stress backend's runner: the same scenarios on real threads.
#include "model/harness/execution.h"
#include "model/harness/runner.h"

namespace weft::model::detail {

// Unwinds the thread (or the setup or check) whose assumption failed; the thread backend
// catches it there (thread_backend.h). Other threads of the execution run on.
[[noreturn]] void abandon_execution(const char*, std::source_location) { throw Discarded{}; }

}  // namespace weft::model::detail

int main(int argc, char** argv) {
  return weft::model::detail::run_registered(argc, argv, {"stress", false, false});
}
