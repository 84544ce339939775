// weft/bench/memory/counting_new.cc: the counting global operator new / delete (see
// counting_new.h). Each block carries a 16-byte-aligned prefix (or one alignment's worth)
// holding its size and the malloc'd base, so the unsized delete knows what it frees.
#include "bench/memory/counting_new.h"

#include "sync/platform/atomic.h"

#include <cstdlib>
#include <new>

namespace bench::memory {
namespace {

// Relaxed: counters read after the allocating threads are quiet (the program's join or
// its wait for idle tasks orders them).
weft::platform::atomic<std::size_t> live_bytes{0};
weft::platform::atomic<std::size_t> live_blocks{0};

struct Prefix {
  void* base;
  std::size_t size;
};

void* counted_alloc(std::size_t size, std::size_t align) {
  const std::size_t room = align < 16 ? 16 : align;  // the prefix fits in 16 bytes
  const std::size_t total = (room + size + room - 1) / room * room;
  void* base = std::aligned_alloc(room, total);
  if (base == nullptr) throw std::bad_alloc();
  char* p = static_cast<char*>(base) + room;
  reinterpret_cast<Prefix*>(p)[-1] = Prefix{base, size};
  live_bytes.fetch_add(size, std::memory_order_relaxed);
  live_blocks.fetch_add(1, std::memory_order_relaxed);
  return p;
}

void counted_free(void* p) noexcept {
  if (p == nullptr) return;
  const Prefix prefix = static_cast<Prefix*>(p)[-1];
  live_bytes.fetch_sub(prefix.size, std::memory_order_relaxed);
  live_blocks.fetch_sub(1, std::memory_order_relaxed);
  std::free(prefix.base);
}

}  // namespace

HeapUse heap_use() {
  return HeapUse{live_bytes.load(std::memory_order_relaxed),
                 live_blocks.load(std::memory_order_relaxed)};
}

}  // namespace bench::memory

using bench::memory::counted_alloc;
using bench::memory::counted_free;

void* operator new(std::size_t size) { return counted_alloc(size, 16); }
void* operator new[](std::size_t size) { return counted_alloc(size, 16); }
void* operator new(std::size_t size, std::align_val_t a) {
  return counted_alloc(size, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t size, std::align_val_t a) {
  return counted_alloc(size, static_cast<std::size_t>(a));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept try {
  return counted_alloc(size, 16);
} catch (...) {
  return nullptr;
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept try {
  return counted_alloc(size, 16);
} catch (...) {
  return nullptr;
}
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }
