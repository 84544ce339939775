// Model scenarios of BlockStack (sync/task/frame_cache.h), the shared stack through which
// Task frame blocks freed on one thread reach the threads that allocate. No Tokio
// counterpart (Tokio leaves this to the allocator); the properties are the allocator's:
// every block pushed is taken exactly once, what its last owner wrote happens-before the
// taker's reuse, and the bound holds and recovers.
#include "model/harness/scenario.h"
#include "sync/platform/platform.h"
#include "sync/task/frame_cache.h"

namespace platform = weft::platform;
using weft::detail::BlockStack;
using weft::detail::FreeBlock;

namespace {

// Two threads each free a chain of two blocks (after a last write into each, as a frame's
// last use); a third takes what is there and reuses it (writes it again). Then the rest
// is taken: each block exactly once, and no reuse races with a last use.
struct pushers_and_taker {
  static constexpr int threads = 3;
  static constexpr int blocks_per_pusher = 2;
  FreeBlock blocks[4];
  platform::cell<int> contents[4];  // the frame that lived in each block
  platform::cell<int> taken[4];     // times each block was taken
  BlockStack stack{4};

  int index_of(FreeBlock* b) const { return static_cast<int>(b - blocks); }
  // Takes the whole stack and reuses each block.
  void take_and_reuse() {
    std::size_t count = 0;
    std::size_t walked = 0;
    for (FreeBlock* b = stack.take_all(count); b != nullptr; ++walked) {
      FreeBlock* next = b->next.get();
      const int i = index_of(b);
      WEFT_INVARIANT(contents[i].get() != 0);  // the last owner's write is visible
      contents[i].set(-1);                     // reused
      taken[i].set(taken[i].get() + 1);
      b = next;
    }
    WEFT_INVARIANT(walked == count);
  }
  void thread(int index) {
    if (index < 2) {
      FreeBlock* first = &blocks[blocks_per_pusher * index];
      FreeBlock* last = first + 1;
      contents[index_of(first)].set(index + 1);
      contents[index_of(last)].set(index + 1);
      first->next.set(last);
      WEFT_INVARIANT(stack.push_chain(first, last, blocks_per_pusher));
    } else {
      take_and_reuse();
    }
  }
  void check() {
    take_and_reuse();
    for (auto& t : taken) WEFT_INVARIANT(t.get() == 1);
  }
};
// On DPOR the tree grows with the bound without end (bounded(10): 17 603 executions,
// bounded(20): 60 043, bounded(40): 231 323): the stack's cas loops may retry on every
// older head RC11 lets them read.
WEFT_MODEL_SCENARIO(pushers_and_taker, weft::model::exhaustive().on_dpor(weft::model::bounded(20)));

// A stack bounded at 3 blocks: of two chains of two pushed at once, one is refused (the
// count includes the other, taken or not), and once everything is taken the stack takes
// a full chain again (the count came back to zero).
struct bound_holds_and_recovers {
  static constexpr int threads = 3;
  FreeBlock blocks[5];
  BlockStack stack{3};
  platform::atomic<int> accepted{0};
  platform::cell<std::size_t> taken{0};

  void thread(int index) {
    if (index < 2) {
      FreeBlock* first = &blocks[2 * index];
      first->next.set(first + 1);
      if (stack.push_chain(first, first + 1, 2)) accepted.fetch_add(1, std::memory_order_relaxed);
    } else {
      std::size_t count = 0;
      (void)stack.take_all(count);
      taken.set(count);
    }
  }
  void check() {
    std::size_t count = 0;
    (void)stack.take_all(count);
    const int pushed = accepted.load(std::memory_order_relaxed);
    WEFT_INVARIANT(pushed >= 1);
    WEFT_INVARIANT(count + taken.get() == static_cast<std::size_t>(2 * pushed));
    blocks[4].next.set(nullptr);
    FreeBlock* chain = &blocks[0];  // any three unlinked blocks: the stack is empty
    chain->next.set(&blocks[1]);
    blocks[1].next.set(&blocks[4]);
    WEFT_INVARIANT(stack.push_chain(chain, &blocks[4], 3));
  }
};
WEFT_MODEL_SCENARIO(bound_holds_and_recovers, weft::model::exhaustive());

}  // namespace
