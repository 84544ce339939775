// weft/bench/weft_notify.cc: weft::Notify workloads (sync/notify.h).
#include "bench/harness.h"
#include "bench/weft_support.h"
#include "sync/notify.h"

#include <cstdint>
#include <vector>

namespace {

weft::Task<void> ping_side(weft::Notify* ping, weft::Notify* pong, uint64_t rounds) {
  for (uint64_t i = 0; i < rounds; ++i) {
    ping->notify_one();
    co_await pong->notified();
  }
}

weft::Task<void> pong_side(weft::Notify* ping, weft::Notify* pong, uint64_t rounds) {
  for (uint64_t i = 0; i < rounds; ++i) {
    co_await ping->notified();
    pong->notify_one();
  }
}

// Two tasks hand a turn back and forth: n notifications in all.
uint64_t weft_notify_pingpong(uint64_t n) {
  const uint64_t rounds = n / 2;
  weft::Notify ping;
  weft::Notify pong;
  std::vector<weft::Task<void>> tasks;
  tasks.push_back(ping_side(&ping, &pong, rounds));
  tasks.push_back(pong_side(&ping, &pong, rounds));
  bench::run_tasks(std::move(tasks));
  return 2 * rounds;
}
BENCH_WORKLOAD("notify_pingpong", "weft", weft_notify_pingpong);

}  // namespace
