// weft/bench/weft_support.h: how the weft workloads run their tasks.
//
// run_tasks(tasks): runs every weft::Task<void> to completion on a weft::ThreadPool of 2
// workers (sync/runtime/thread_pool.h), as Tokio's workloads run on a 2-worker runtime, and
// returns when all are done; run_tasks(count, make) runs `count` tasks that make() returns. The
// pool is started before the tasks are spawned and joined after, inside the measurement (both are a
// few tens of microseconds).
#pragma once

#include "bench/harness.h"
#include "sync/task/block_on.h"
#include "sync/task/task.h"
#include "sync/runtime/thread_pool.h"

#include <utility>
#include <vector>

namespace bench {

inline constexpr unsigned kWorkers = 2;

inline void run_tasks(std::vector<weft::Task<void>> tasks) {
  weft::ThreadPool pool(kWorkers);
  std::vector<weft::JoinHandle<void>> handles;
  handles.reserve(tasks.size());
  for (auto& task : tasks) handles.push_back(pool.spawn(std::move(task)));
  for (auto& h : handles) BENCH_CHECK(h.blocking_join().is_ok());
}

// run_tasks of `count` tasks, each made by make().
template <class Make>
void run_tasks(int count, Make make) {
  std::vector<weft::Task<void>> tasks;
  for (int t = 0; t < count; ++t) tasks.push_back(make());
  run_tasks(std::move(tasks));
}

}  // namespace bench
