// weft/bench/main.cc: the C++ benchmark binary (weft and its C++ peers), driven by
// bench/run. One measurement per (workload, impl) per invocation:
//
//   bench --list                          "WORKLOAD impl impl ..." per workload
//   bench --workload=NAME --ops=N         every impl of NAME, once each
//   bench --workload=NAME --impl=I ...    only impl I
//   bench --smoke                         every entry with tiny counts (the CI smoke test)
//   bench --line-handoff                  `LINE_HANDOFF_NS <ns>`: the cores' line latency
//                                         now (line_handoff.h), printed by bench/run
//
// Prints `RESULT <workload> <impl> <ops> <seconds>` per measurement. Timing never fails
// anything; only a wrong result does (BENCH_CHECK aborts).
#include "bench/harness.h"
#include "bench/line_handoff.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

void usage() {
  std::fprintf(
      stderr,
      "usage: bench [--list] [--smoke] [--line-handoff] [--workload=NAME|all] [--impl=NAME] "
      "[--ops=N]\n");
}

double run_one(const bench::Entry& e, uint64_t n, uint64_t* ops) {
  const auto start = std::chrono::steady_clock::now();
  *ops = e.fn(n);
  const auto stop = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(stop - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string workload = "all";
  std::string impl;
  uint64_t ops = 4'000'000;
  bool list = false;
  bool smoke = false;
  bool line_handoff = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--list") {
      list = true;
    } else if (arg == "--smoke") {
      smoke = true;
    } else if (arg == "--line-handoff") {
      line_handoff = true;
    } else if (arg.rfind("--workload=", 0) == 0) {
      workload = arg.substr(std::strlen("--workload="));
    } else if (arg.rfind("--impl=", 0) == 0) {
      impl = arg.substr(std::strlen("--impl="));
    } else if (arg.rfind("--ops=", 0) == 0) {
      ops = std::strtoull(arg.c_str() + std::strlen("--ops="), nullptr, 10);
    } else {
      usage();
      return 2;
    }
  }

  // glibc skips the atomic instructions in pthread_mutex_lock/unlock while a process has
  // never had a second thread (measured here: std::mutex 200-270 Mops/s before, 37-51
  // after). Every entry must see the same, realistic, multi-threaded process whatever
  // ran before it, so start (and join) one thread first: glibc never goes back.
  std::thread([] {}).join();

  if (line_handoff) {
    std::printf("LINE_HANDOFF_NS %.1f\n", bench::line_handoff_ns());
    return 0;
  }

  const auto& entries = bench::registry();
  if (list) {
    // Workloads in registration order, impls in registration order within each.
    std::vector<std::string> order;
    std::map<std::string, std::string> impls;
    for (const auto& e : entries) {
      if (impls.find(e.workload) == impls.end()) order.push_back(e.workload);
      impls[e.workload] += std::string(" ") + e.impl;
    }
    for (const auto& w : order) std::printf("%s%s\n", w.c_str(), impls[w].c_str());
    return 0;
  }

  if (smoke) ops = 2'000;
  int ran = 0;
  for (const auto& e : entries) {
    if (workload != "all" && workload != e.workload) continue;
    if (!impl.empty() && impl != e.impl) continue;
    uint64_t done = 0;
    const double seconds = run_one(e, ops, &done);
    std::printf("RESULT %s %s %llu %.9f\n", e.workload, e.impl,
                static_cast<unsigned long long>(done), seconds);
    std::fflush(stdout);
    ++ran;
  }
  if (ran == 0) {
    std::fprintf(stderr, "bench: no entry matches --workload=%s --impl=%s\n", workload.c_str(),
                 impl.c_str());
    return 2;
  }
  if (smoke) std::printf("bench smoke: %d measurements ran, every result checked\n", ran);
  return 0;
}
