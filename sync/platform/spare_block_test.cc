#include "sync/platform/spare_block.h"

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <thread>

namespace {

// Counts the blocks it lent out and not yet got back (each test uses its own Tag, so
// each has its own SpareBlock slots and counts). Only one thread uses it at a time: the
// tests join before they look.
template <int Tag>
struct Counting {
  static inline long live = 0;
  static inline long allocations = 0;
  static void* allocate(std::size_t size, std::size_t align) {
    ++live;
    ++allocations;
    return weft::platform::GlobalNew::allocate(size, align);
  }
  static void deallocate(void* block, std::size_t size, std::size_t align) noexcept {
    --live;
    weft::platform::GlobalNew::deallocate(block, size, align);
  }
};

template <int Tag, std::size_t Size = 48, std::size_t Align = alignof(std::max_align_t)>
using Spare = weft::platform::SpareBlock<Size, Align, Counting<Tag>>;

TEST_CASE("a freed block is the same thread's next allocation") {
  using S = Spare<1>;
  void* first = S::allocate();
  S::free(first);
  void* second = S::allocate();
  if constexpr (S::enabled) {
    CHECK(second == first);
    CHECK(Counting<1>::allocations == 1);
  }
  S::free(second);
}

TEST_CASE("one spare per thread: a second free goes back upstream") {
  using S = Spare<2>;
  void* a = S::allocate();
  void* b = S::allocate();
  CHECK(Counting<2>::live == 2);
  S::free(a);
  S::free(b);
  CHECK(Counting<2>::live == (S::enabled ? 1 : 0));
  void* c = S::allocate();  // the spare (a), no upstream call
  CHECK(Counting<2>::live == 1);
  S::free(c);
}

TEST_CASE("a thread's spare goes back upstream when the thread exits") {
  using S = Spare<3>;
  void* block = S::allocate();
  std::thread([block] { S::free(block); }).join();  // freed on another thread: its spare
  CHECK(Counting<3>::live == 0);
  std::thread([] {
    S::free(S::allocate());
    CHECK(Counting<3>::live == (S::enabled ? 1 : 0));
  }).join();
  CHECK(Counting<3>::live == 0);
}

// A thread_local made before the thread's first free is destroyed after the slot's
// Reaper: its free must go upstream, not into the gone slot.
template <class S>
struct FreesAtExit {
  void* block = S::allocate();
  ~FreesAtExit() { S::free(block); }
};

TEST_CASE("a free after the thread's slot is gone goes back upstream") {
  using S = Spare<4>;
  std::thread([] {
    thread_local FreesAtExit<S> late;  // constructed first, destroyed last
    (void)late;
    S::free(S::allocate());  // arms the Reaper: the thread now holds a spare
  }).join();
  CHECK(Counting<4>::live == 0);
}

TEST_CASE("an over-aligned size gets aligned blocks") {
  using S = Spare<5, 256, 128>;
  void* a = S::allocate();
  void* b = S::allocate();
  CHECK(reinterpret_cast<std::uintptr_t>(a) % 128 == 0);
  CHECK(reinterpret_cast<std::uintptr_t>(b) % 128 == 0);
  S::free(a);
  S::free(b);
  void* c = S::allocate();
  CHECK(reinterpret_cast<std::uintptr_t>(c) % 128 == 0);
  S::free(c);
}

}  // namespace
