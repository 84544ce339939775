// examples/treiber_stack/treiber_stack.h: a lock-free LIFO of node indices (R. K. Treiber,
// "Systems Programming: Coping with Parallelism", IBM RJ 5118, 1986), the structure under
// most lock-free free lists, with the ABA problem and its classic fix, a tagged head.
//
// The stack is intrusive and never frees: it owns an arena of `Capacity` nodes, each with
// a `next` link and an int payload, and pushes and pops node *indices*. A thread that
// popped an index owns that node (it may read and write its payload, push it again now
// or later); the stack owns every node currently on it. Nodes are recycled, never freed,
// so a stale pop can always read a node's `next` safely, and that is exactly what makes
// ABA possible:
//
//   T0: pop() reads head = A and A.next = B, then is preempted.
//   T1: pop() -> A, pop() -> B, push(A): head = A again, but A.next is now C.
//   T0: CAS(head: A -> B) succeeds, because head is A. B, which T1 owns, is back on the
//       stack, and C is lost.
//
// AbaGuard::tagged (the default, correct) packs a 32-bit tag beside the 32-bit index in
// the 64-bit head and bumps it on every successful CAS, so T0's CAS sees a different
// word and retries. AbaGuard::none keeps the tag at zero: the broken variant that the
// model scenario `aba_without_tag` must catch. A tag only fails after 2^32 operations
// between one pop's load and its CAS, which no preemption lasts.
//
// Concurrency: push() and pop() are lock-free and may run on any number of threads.
// Memory ordering: everything a thread wrote to a node's payload before push(index)
// happens-before the return of the pop() that returns that index.
//
//   TreiberStack<4> stack;                   // nodes 0..3, the stack starts empty
//   stack.payload(2).with_mut([](int& p) { p = 7; });   // node 2 is ours: not pushed yet
//   stack.push(2);
//   std::uint32_t n = stack.pop();           // 2 (or TreiberStack<4>::nil if empty)
#pragma once

#include "sync/platform/platform.h"

#include <cstdint>
#include <memory>

namespace weft::examples {

enum class AbaGuard { tagged, none };

template <std::uint32_t Capacity, AbaGuard Guard = AbaGuard::tagged>
class TreiberStack {
 public:
  static constexpr std::uint32_t nil = 0xffffffffu;  // "no node": an empty stack, end of list

  TreiberStack() : nodes_(std::make_unique<Node[]>(Capacity)) {}
  TreiberStack(const TreiberStack&) = delete;
  TreiberStack& operator=(const TreiberStack&) = delete;

  // Puts node `index` on top. The caller must own it (popped it, or never pushed it).
  void push(std::uint32_t index) {
    WEFT_INVARIANT(index < Capacity);
    platform::Backoff backoff;
    std::uint64_t head = head_.load(std::memory_order_relaxed);
    for (;;) {
      // Relaxed: published by the Release CAS below.
      nodes_[index].next.store(index_of(head), std::memory_order_relaxed);
      // Release: pairs with the Acquire load and CAS in pop(): publishes `next` and the
      // payload written by the owner. Failure relaxed: we only retry with the new head.
      if (head_.compare_exchange_weak(head, pack(index, next_tag(head)), std::memory_order_release,
                                      std::memory_order_relaxed)) {
        return;
      }
      backoff.spin();
    }
  }

  // Takes the top node and returns its index, or nil if the stack is empty.
  std::uint32_t pop() {
    platform::Backoff backoff;
    // Acquire: pairs with the Release CAS in push() that put this head on the stack (or
    // with it through the release sequence of later CASes): its `next` is visible.
    std::uint64_t head = head_.load(std::memory_order_acquire);
    for (;;) {
      const std::uint32_t index = index_of(head);
      if (index == nil) return nil;
      // Relaxed: ordered by the Acquire that read `head`. If the node was popped and
      // pushed again since, this value may be stale: the tag makes the CAS below fail.
      const std::uint32_t next = nodes_[index].next.load(std::memory_order_relaxed);
      // Acquire (success and failure): pairs with the Release CAS in push(); on success
      // we read the payload, on failure the new head's `next`.
      if (head_.compare_exchange_weak(head, pack(next, next_tag(head)), std::memory_order_acquire,
                                      std::memory_order_acquire)) {
        return index;
      }
      backoff.spin();
    }
  }

  // The payload of node `index`; only its owner may touch it.
  platform::cell<int>& payload(std::uint32_t index) {
    WEFT_INVARIANT(index < Capacity);
    return nodes_[index].payload;
  }

 private:
  struct Node {
    // The index below this node while it is on the stack; written only by its owner
    // before a push, read by any pop() (possibly stale, hence atomic).
    platform::atomic<std::uint32_t> next{nil};
    // Owned by whoever popped the node (or by the stack's user before the first push).
    platform::cell<int> payload{0};
  };

  // The head word: bits 0..31 the top node's index (nil: empty), bits 32..63 the ABA
  // tag, bumped by every successful push and pop (AbaGuard::tagged) or always zero
  // (AbaGuard::none). Compared and swapped as one 64-bit word.
  static constexpr std::uint64_t pack(std::uint32_t index, std::uint32_t tag) {
    return (static_cast<std::uint64_t>(tag) << 32) | index;
  }
  static constexpr std::uint32_t index_of(std::uint64_t head) {
    return static_cast<std::uint32_t>(head);
  }
  // guide:begin next_tag
  static constexpr std::uint32_t next_tag(std::uint64_t head) {
    if constexpr (Guard == AbaGuard::tagged) {
      return static_cast<std::uint32_t>(head >> 32) + 1;  // wraps after 2^32 operations
    } else {
      return 0;
    }
  }
  // guide:end next_tag

  platform::atomic<std::uint64_t> head_{pack(nil, 0)};
  std::unique_ptr<Node[]> nodes_;  // on the heap: model threads have 64 KiB stacks
};

}  // namespace weft::examples
