// weft/bench/memory/weft_memory.cc: bytes per weft object at rest, for the memory table
// (bench/run --memory; the Rust side is bench/tokio/src/memory.rs, same keys).
//
// Prints `MEMORY <object> <inline bytes> <heap bytes> <heap blocks>` per object: inline is
// the sizeof of every handle the object needs (a channel: its Sender and Receiver), heap
// what creating it left allocated (counting_new.h: bytes asked for). A spawned idle task is
// K tasks parked on a Notify, heap divided by K, its JoinHandle dropped.
#include "bench/harness.h"
#include "bench/memory/counting_new.h"
#include "sync/broadcast.h"
#include "sync/mpsc/bounded.h"
#include "sync/mutex.h"
#include "sync/notify.h"
#include "sync/oneshot.h"
#include "sync/platform/atomic.h"
#include "sync/runtime/thread_pool.h"
#include "sync/semaphore.h"
#include "sync/task/task.h"
#include "sync/watch.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

namespace {

using bench::memory::heap_use;

void report(const char* object, std::size_t inline_bytes, bench::memory::HeapUse before,
            std::size_t count = 1) {
  const auto after = heap_use();
  std::printf("MEMORY %s %zu %zu %zu\n", object, inline_bytes, (after.bytes - before.bytes) / count,
              (after.blocks - before.blocks) / count);
}

weft::Task<void> idle(weft::Notify* wake, weft::platform::atomic<std::size_t>* parked) {
  // Relaxed: main only polls the count, then sleeps for the task to suspend.
  parked->fetch_add(1, std::memory_order_relaxed);
  co_await wake->notified();
}

// K tasks spawned on a 2-worker pool, each parked on a Notify once counted.
void idle_tasks() {
  constexpr std::size_t k = 1000;
  weft::ThreadPool pool(2);
  weft::Notify wake;
  weft::platform::atomic<std::size_t> parked{0};
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the workers' own start-up
  const auto before = heap_use();
  for (std::size_t i = 0; i < k; ++i) (void)pool.spawn(idle(&wake, &parked));
  while (parked.load(std::memory_order_relaxed) != k) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the last ones suspend
  report("task_idle", 0, before, k);
  wake.notify_waiters();
}

}  // namespace

int main() {
  std::thread([] {}).join();  // as bench/main.cc: the process is multi-threaded
  {
    const auto before = heap_use();
    auto [tx, rx] = weft::mpsc::channel<uint64_t>(bench::kCapacity);
    report("mpsc_bounded_1024", sizeof(tx) + sizeof(rx), before);
  }
  {
    const auto before = heap_use();
    weft::Mutex<uint64_t> m(0);
    report("mutex", sizeof(m), before);
  }
  {
    const auto before = heap_use();
    weft::Semaphore s(1);
    report("semaphore", sizeof(s), before);
  }
  {
    const auto before = heap_use();
    weft::Notify n;
    report("notify", sizeof(n), before);
  }
  {
    const auto before = heap_use();
    auto [tx, rx] = weft::oneshot::channel<uint64_t>();
    report("oneshot", sizeof(tx) + sizeof(rx), before);
  }
  {
    std::vector<weft::watch::Receiver<uint64_t>> more;
    more.reserve(3);  // not counted: the receivers' own bytes are in the inline column
    const auto before = heap_use();
    auto [tx, rx] = weft::watch::channel<uint64_t>(0);
    for (int i = 0; i < 3; ++i) more.push_back(rx);
    report("watch_4rx", sizeof(tx) + 4 * sizeof(rx), before);
  }
  {
    const auto before = heap_use();
    auto [tx, rx] = weft::broadcast::channel<uint64_t>(bench::kCapacity);
    report("broadcast_1024", sizeof(tx) + sizeof(rx), before);
  }
  idle_tasks();
  return 0;
}
