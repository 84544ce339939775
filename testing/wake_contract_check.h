// weft/testing/wake_contract_check.h: a test helper for the wake policy of
// sync/task/waker.h. A Waker whose wake throws breaks the contract; every place that wakes
// must then stop at a failed WEFT_INVARIANT, never pass an exception on.
//
//   CHECK(weft::testing::aborts_on_throwing_wake([] {
//     weft::Notify notify;
//     auto fut = notify.notified();
//     weft::Waker bad = weft::testing::throwing_wake_waker();
//     weft::Context cx(bad);
//     (void)fut.poll(cx);
//     notify.notify_one();                // wakes `bad`: the invariant fails here
//   }));
//
// Production build only (the check runs the code in a forked child).
#pragma once

#include "testing/throwing_waker.h"

#include <csignal>
#include <cstdio>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace weft::testing {

// Runs fn() in a forked child. True when the child aborted with WEFT_INVARIANT's report of
// a throwing wake; false when it finished, an exception came out of fn(), or it died
// otherwise (std::terminate from a noexcept caller reports no invariant).
template <class Fn>
bool aborts_on_throwing_wake(Fn&& fn) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return false;
  std::fflush(nullptr);  // or the child's exit flushes the parent's buffered output again
  const pid_t child = fork();
  if (child < 0) return false;
  if (child == 0) {
    dup2(pipe_fds[1], STDERR_FILENO);
    close(pipe_fds[0]);
    try {
      fn();
    } catch (...) {
      _exit(2);  // an exception got out: the policy does not hold
    }
    _exit(0);
  }
  close(pipe_fds[1]);
  std::string report;
  char buffer[512];
  for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) > 0;) report.append(buffer, n);
  close(pipe_fds[0]);
  int status = 0;
  if (waitpid(child, &status, 0) != child) return false;
  // Aborted: SIGABRT, or the exit status a sanitizer's abort handler chose instead.
  const bool aborted = WIFSIGNALED(status) ? WTERMSIG(status) == SIGABRT
                                           : WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 2;
  return aborted && report.find("invariant failed") != std::string::npos &&
         report.find("threw") != std::string::npos;
}

}  // namespace weft::testing
