// weft/bench/weft_support.h: how the weft workloads run their tasks.
//
// run_tasks(tasks): runs every weft::Task<void> to completion and returns when all are
// done. Until weft has a thread-pool executor, each task gets its own OS thread and runs
// under weft::block_on there (a task that waits parks its thread), so "2 tasks" means 2
// threads and "4 tasks" means 4 threads on the 2-core machine; Tokio runs the same tasks
// on a 2-worker runtime.
#pragma once

#include "sync/task/block_on.h"
#include "sync/task/task.h"

#include <thread>
#include <utility>
#include <vector>

namespace bench {

inline void run_tasks(std::vector<weft::Task<void>> tasks) {
  std::vector<std::thread> threads;
  threads.reserve(tasks.size());
  for (auto& task : tasks) {
    threads.emplace_back([t = std::move(task)]() mutable { weft::block_on(t); });
  }
  for (auto& t : threads) t.join();
}

}  // namespace bench
