// weft/model/dpor/heap_watch.h: the program's allocations within one execution, for the
// leak and double-free checks: an open-addressing table kept across executions (a
// generation number empties it), so watching costs no allocation of its own once grown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace weft::dpor {

class HeapWatch {
 public:
  // Forgets every pointer (a new execution).
  void clear() {
    ++generation_;
    used_ = 0;
    live_ = 0;
  }
  void allocated(void* pointer) {
    Slot& slot = find(pointer);
    if (slot.generation != generation_) {
      slot = Slot{pointer, generation_, true};
      ++used_;
      ++live_;
      if (2 * used_ > slots_.size()) grow();
    } else if (!slot.live) {  // an address freed earlier in the execution, reused
      slot.live = true;
      ++live_;
    }
  }
  enum class Free { foreign, ok, twice };
  Free freed(void* pointer) {
    Slot& slot = find(pointer);
    if (slot.generation != generation_) return Free::foreign;
    if (!slot.live) return Free::twice;
    slot.live = false;
    --live_;
    return Free::ok;
  }
  std::size_t live() const { return live_; }

 private:
  struct Slot {
    void* pointer = nullptr;
    std::uint64_t generation = 0;  // the slot is empty unless it is the current one
    bool live = false;
  };

  // The slot of `pointer`, or the empty one where it would go.
  Slot& find(void* pointer) {
    if (slots_.empty()) slots_.resize(256);
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = (reinterpret_cast<std::uintptr_t>(pointer) >> 4) * 0x9e3779b97f4a7c15ull >> 32;
    for (;; ++i) {
      Slot& slot = slots_[i & mask];
      if (slot.generation != generation_ || slot.pointer == pointer) return slot;
    }
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& slot : old) {
      if (slot.generation == generation_) find(slot.pointer) = slot;
    }
  }

  std::vector<Slot> slots_;
  std::uint64_t generation_ = 1;
  std::size_t used_ = 0;
  std::size_t live_ = 0;
};

}  // namespace weft::dpor
