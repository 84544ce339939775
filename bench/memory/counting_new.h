// weft/bench/memory/counting_new.h: the bytes a program holds on the heap, for the memory
// table (bench/memory/weft_memory.cc; bench/run --memory).
//
// counting_new.cc replaces the global operator new and delete (every form) and counts the
// bytes asked for, not what malloc rounds them to, as the Rust side's counting global
// allocator does (bench/tokio/src/memory.rs), so both columns count the same thing.
#pragma once

#include <cstddef>

namespace bench::memory {

struct HeapUse {
  std::size_t bytes = 0;   // bytes asked for and not yet freed
  std::size_t blocks = 0;  // allocations not yet freed
};

HeapUse heap_use();

}  // namespace bench::memory
