// Unit tests of FrameCache and BlockStack (sync/task/frame_cache.h): reuse on one
// thread, hand-over between threads through the shared stack, the stack's bound, and
// sizes above block_size going to the plain allocator.
#include "sync/task/frame_cache.h"

#include <doctest/doctest.h>

#include <cstddef>
#include <set>
#include <thread>
#include <vector>

namespace {

using weft::detail::BlockStack;
using weft::detail::FrameCache;
using weft::detail::FreeBlock;

constexpr std::size_t small = 200;  // a cached size

}  // namespace

TEST_CASE("block_stack_push_take_and_bound") {
  FreeBlock blocks[5];
  BlockStack stack(3);
  std::size_t count = 99;
  CHECK(stack.take_all(count) == nullptr);
  CHECK(count == 0);
  blocks[0].next.set(&blocks[1]);
  CHECK(stack.push_chain(&blocks[0], &blocks[1], 2));
  CHECK_FALSE(stack.push_chain(&blocks[2], &blocks[2], 2));  // 4 > 3: refused
  CHECK(stack.push_chain(&blocks[3], &blocks[3], 1));        // 3: taken
  FreeBlock* chain = stack.take_all(count);
  CHECK(count == 3);
  std::set<FreeBlock*> seen;
  for (FreeBlock* b = chain; b != nullptr; b = b->next.get()) seen.insert(b);
  CHECK(seen == std::set<FreeBlock*>{&blocks[0], &blocks[1], &blocks[3]});
  CHECK(stack.take_all(count) == nullptr);  // emptied, and the count with it
  CHECK(stack.push_chain(&blocks[4], &blocks[4], 1));
  CHECK(stack.take_all(count) == &blocks[4]);
  CHECK(count == 1);
}

TEST_CASE("freed_block_is_reused_on_the_same_thread") {
  void* first = FrameCache::allocate(small);
  FrameCache::free(first, small);
  void* second = FrameCache::allocate(small);
  if (FrameCache::enabled) CHECK(second == first);
  FrameCache::free(second, small);
}

TEST_CASE("blocks_freed_on_one_thread_serve_another") {
  // Allocated here, freed on a second thread: its list fills, then hands full lists to
  // the shared stack; a third thread (with an empty list) takes them from there.
  constexpr std::size_t n = 3 * FrameCache::local_limit;
  std::vector<void*> blocks;
  for (std::size_t i = 0; i < n; ++i) blocks.push_back(FrameCache::allocate(small));
  const std::set<void*> freed(blocks.begin(), blocks.end());
  std::thread([&] {
    for (void* b : blocks) FrameCache::free(b, small);
  }).join();  // the thread's last list goes back to malloc as it exits
  std::size_t reused = 0;
  std::thread([&] {
    std::vector<void*> again;
    for (std::size_t i = 0; i < 2 * FrameCache::local_limit; ++i) {
      again.push_back(FrameCache::allocate(small));
    }
    for (void* b : again) reused += freed.count(b);
    for (void* b : again) FrameCache::free(b, small);
  }).join();
  if (FrameCache::enabled) CHECK(reused == 2 * FrameCache::local_limit);
}

TEST_CASE("big_blocks_bypass_the_cache") {
  void* big = FrameCache::allocate(FrameCache::block_size + 1);
  static_cast<unsigned char*>(big)[FrameCache::block_size] = 1;  // the whole size is there
  FrameCache::free(big, FrameCache::block_size + 1);
  CHECK_FALSE(FrameCache::cached(FrameCache::block_size + 1));
  CHECK(FrameCache::cached(FrameCache::block_size) == FrameCache::enabled);
}
