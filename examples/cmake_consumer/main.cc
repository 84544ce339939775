// weft from a CMake project: tasks on a ThreadPool, a bounded channel, a Mutex.
// Prints "weft consumer: 4950 4950" and exits 0 when every value arrived.
#include "sync/mpsc/bounded.h"
#include "sync/mutex.h"
#include "sync/runtime/thread_pool.h"
#include "sync/task/block_on.h"
#include "sync/task/task.h"

#include <cstdio>
#include <optional>
#include <utility>

namespace {

weft::Task<int> produce(weft::mpsc::Sender<int> tx) {
  for (int i = 0; i < 100; ++i) (void)co_await tx.send(i);
  co_return 0;
}

weft::Task<int> consume(weft::mpsc::Receiver<int> rx, weft::Mutex<int>* total) {
  int sum = 0;
  while (std::optional<int> v = co_await rx.recv()) sum += *v;
  *(co_await total->lock()) += sum;
  co_return sum;
}

}  // namespace

int main() {
  weft::ThreadPool pool(2);
  weft::Mutex<int> total(0);
  auto [tx, rx] = weft::mpsc::channel<int>(8);
  auto consumer = pool.spawn(consume(std::move(rx), &total));
  auto producer = pool.spawn(produce(std::move(tx)));
  (void)producer.blocking_join();
  const int sum = consumer.blocking_join().value();
  const int locked = *total.blocking_lock();
  std::printf("weft consumer: %d %d\n", sum, locked);
  return sum == 4950 && locked == 4950 ? 0 : 1;
}
