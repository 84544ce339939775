// Unit tests of the executors' RunQueue: FIFO order, overflow past the ring, and many
// producers and consumers at once with every item taken exactly once.
#include "sync/runtime/run_queue.h"

#include "sync/platform/atomic.h"

#include <doctest/doctest.h>

#include <memory>
#include <thread>
#include <vector>

namespace {

struct Item {
  weft::detail::ListLinks<Item> queue_links;
  int id = 0;
  weft::platform::atomic<int> taken{0};
};

using Queue = weft::detail::RunQueue<Item>;

}  // namespace

TEST_CASE("empty_pops_null") {
  Queue q;
  CHECK(q.pop() == nullptr);
}

TEST_CASE("fifo_within_the_ring") {
  Queue q;
  std::vector<Item> items(10);
  for (int i = 0; i < 10; ++i) {
    items[i].id = i;
    q.push(&items[i]);
  }
  for (int i = 0; i < 10; ++i) CHECK(q.pop()->id == i);
  CHECK(q.pop() == nullptr);
}

TEST_CASE("overflow_keeps_every_item") {
  Queue q;
  const int n = static_cast<int>(Queue::ring_capacity) * 3 + 7;
  std::vector<Item> items(n);
  for (int i = 0; i < n; ++i) {
    items[i].id = i;
    q.push(&items[i]);
  }
  // The ring's items come first in order; the overflow's follow in order.
  for (int i = 0; i < n; ++i) {
    Item* item = q.pop();
    REQUIRE(item != nullptr);
    CHECK(item->id == i);
  }
  CHECK(q.pop() == nullptr);
  // The ring is reusable after wrapping.
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 100; ++i) q.push(&items[i]);
    for (int i = 0; i < 100; ++i) CHECK(q.pop() == &items[i]);
  }
}

TEST_CASE("mpmc_every_item_exactly_once") {
  Queue q;
  constexpr int producers = 3;
  constexpr int per_producer = 20000;
  auto items = std::make_unique<Item[]>(producers * per_producer);
  weft::platform::atomic<int> consumed{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) q.push(&items[p * per_producer + i]);
    });
  }
  for (int c = 0; c < 2; ++c) {
    threads.emplace_back([&] {
      while (consumed.load(std::memory_order_relaxed) < producers * per_producer) {
        if (Item* item = q.pop()) {
          CHECK(item->taken.fetch_add(1, std::memory_order_relaxed) == 0);
          consumed.fetch_add(1, std::memory_order_relaxed);
        } else {
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(q.pop() == nullptr);
  for (int i = 0; i < producers * per_producer; ++i) {
    CHECK(items[i].taken.load(std::memory_order_relaxed) == 1);
  }
}
