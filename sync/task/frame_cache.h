// weft/sync/task/frame_cache.h: where Task frame blocks come from: small blocks freed by
// one thread are reused by the threads that allocate, without glibc's arena lock.
//
// Why: glibc frees a block into the arena it was allocated from, under that arena's
// lock, unless the block is fastbin-sized (chunks up to 128 bytes, freed lock-free). A
// spawned trivial Task's block is 248 bytes; with one worker spawning and the other
// running (and freeing) the tasks, every malloc and every free took the spawner's arena
// lock, and on an idle 2-core machine that lock was contended on most spawns: 0.3-0.45
// futex system calls per spawn, 2-3 s of system time per 4M spawns (bench/README,
// "spawn"). Tokio's task is 112 bytes (fastbin-sized), so its frees take no lock.
//
// How: a block of up to block_size bytes is allocated as block_size bytes. A freeing
// thread keeps up to local_limit blocks in its own list (platform::thread_cached: no
// atomics); when that is full it hands the whole list over to one process-wide
// BlockStack (one CAS per local_limit frees). A thread whose list is empty takes the
// whole stack at once (one exchange) before it falls back to ::operator new. The stack
// holds at most shared_limit blocks; a list it refuses goes back to ::operator delete.
// A thread's list is freed when the thread exits.
//
// The model build, and builds under AddressSanitizer (which must see a frame's use
// after free), use ::operator new / delete directly; the BlockStack protocol is checked
// in model/frame_cache.cc.
#pragma once

#include "sync/platform/atomic.h"
#include "sync/platform/cell.h"
#include "sync/platform/config.h"
#include "sync/platform/invariant.h"
#include "sync/platform/thread_cached.h"

#include <cstddef>
#include <new>

namespace weft::detail {

// A free block: its first bytes link it to the next one.
struct FreeBlock {
  // Written by the one thread that holds the block (its list's owner, or a pusher before
  // its CAS publishes it); read by the taker after its exchange.
  platform::cell<FreeBlock*> next{nullptr};
};

// A lock-free stack of chains of free blocks: push_chain from any thread, take_all from
// any thread. No ABA: nothing is ever popped alone, take_all takes the whole stack.
class BlockStack {
 public:
  explicit BlockStack(std::size_t limit) noexcept : limit_(limit) {}
  BlockStack(const BlockStack&) = delete;
  BlockStack& operator=(const BlockStack&) = delete;

  // Pushes the chain first -> ... -> last of `count` blocks (last's link is overwritten),
  // or refuses it (false: the caller keeps the blocks) when the stack would pass `limit`.
  bool push_chain(FreeBlock* first, FreeBlock* last, std::size_t count) noexcept {
    // Relaxed: a bound on memory only, ordering nothing.
    if (count_.fetch_add(count, std::memory_order_relaxed) + count > limit_) {
      count_.fetch_sub(count, std::memory_order_relaxed);
      return false;
    }
    // Relaxed: the CAS below decides.
    FreeBlock* head = head_.load(std::memory_order_relaxed);
    do {
      last->next.set(head);
      // Release: publishes the chain's links (and the frees before them) to take_all's
      // Acquire exchange. Failure relaxed: we only retry with the new head.
    } while (!head_.compare_exchange_weak(head, first, std::memory_order_release,
                                          std::memory_order_relaxed));
    return true;
  }

  // Every block on the stack, as a chain ending in null (null if none); `count` says how
  // many.
  FreeBlock* take_all(std::size_t& count) noexcept {
    count = 0;
    // Relaxed: a hint that saves the exchange when empty; the exchange decides.
    if (head_.load(std::memory_order_relaxed) == nullptr) return nullptr;
    // Acquire: pairs with the Release CAS in push_chain (the chains' links).
    FreeBlock* first = head_.exchange(nullptr, std::memory_order_acquire);
    for (FreeBlock* b = first; b != nullptr; b = b->next.get()) ++count;
    // Relaxed: as in push_chain.
    if (count != 0) count_.fetch_sub(count, std::memory_order_relaxed);
    return first;
  }

 private:
  const std::size_t limit_;
  platform::atomic<FreeBlock*> head_{nullptr};
  platform::atomic<std::size_t> count_{0};  // blocks pushed and not yet taken (about)
};

class FrameCache {
 public:
  // Blocks up to this size are cached (a spawned trivial Task: 248 bytes).
  static constexpr std::size_t block_size = 256;
  static constexpr std::size_t local_limit = 64;     // blocks a thread keeps
  static constexpr std::size_t shared_limit = 4096;  // blocks on the shared stack (1 MiB)
#if defined(WEFT_MODEL) || defined(__SANITIZE_ADDRESS__)
  static constexpr bool enabled = false;
#else
  static constexpr bool enabled = true;
#endif

  // Whether a block of `bytes` comes from the cache (and must go back through free()).
  static constexpr bool cached(std::size_t bytes) noexcept {
    return enabled && bytes <= block_size;
  }

  // `bytes` of storage (for a cached size: block_size bytes); throws std::bad_alloc.
  static void* allocate(std::size_t bytes) {
    if (!cached(bytes)) return ::operator new(bytes);
    platform::thread_cached<List> list;
    if (list->head == nullptr) list->adopt(shared().take_all(list->size));
    if (FreeBlock* block = list->pop()) {
      block->~FreeBlock();
      return block;
    }
    return ::operator new(block_size);
  }

  // Gives back a block from allocate(bytes), with the same `bytes`.
  static void free(void* block, std::size_t bytes) noexcept {
    if (!cached(bytes)) {
      ::operator delete(block);
      return;
    }
    platform::thread_cached<List> list;
    if (list->size >= local_limit) {
      // Full: hand the list over. If the stack is full too, the list goes back to malloc
      // (so the next local_limit frees make no atomic RMW either).
      if (shared().push_chain(list->head, list->last(), list->size)) {
        list->head = nullptr;
        list->size = 0;
      } else {
        list->release();
      }
    }
    list->push(new (block) FreeBlock);
  }

 private:
  // One thread's free blocks (one per thread: platform::thread_cached).
  struct List {
    FreeBlock* head = nullptr;
    std::size_t size = 0;

    List() = default;
    List(const List&) = delete;
    List& operator=(const List&) = delete;
    ~List() { release(); }
    // Every block back to ::operator delete.
    void release() noexcept {
      while (FreeBlock* block = pop()) {
        block->~FreeBlock();
        ::operator delete(block);
      }
    }
    void adopt(FreeBlock* chain) noexcept {
      WEFT_INVARIANT(head == nullptr);
      head = chain;
    }
    FreeBlock* pop() noexcept {
      FreeBlock* block = head;
      if (block != nullptr) {
        head = block->next.get();
        --size;
      }
      return block;
    }
    void push(FreeBlock* block) noexcept {
      block->next.set(head);
      head = block;
      ++size;
    }
    FreeBlock* last() const noexcept {
      FreeBlock* block = head;
      while (block->next.get() != nullptr) block = block->next.get();
      return block;
    }
  };

  // Never destroyed: a thread may free frames after static destruction began.
  static BlockStack& shared() noexcept {
    static BlockStack* const stack = new BlockStack(shared_limit);
    return *stack;
  }
};

}  // namespace weft::detail
