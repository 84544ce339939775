// weft/sync/platform/spare_block.h: SpareBlock<Size, Align>, where a small object that is
// made and freed once per operation (a oneshot channel's state) gets its memory: each
// thread keeps the last block of that size it freed and hands it to its next allocation.
//
// Why: a request / response round trip on a oneshot made and freed one block, and glibc's
// malloc and free were half of its time (perf of bench's oneshot: malloc 19%, _int_free
// 17%, free 6%, operator new / delete 4%); with one spare block per thread the row ran
// 1.72x faster (bench/README.md, "oneshot"). Tokio allocates an Arc per channel.
//
// Concurrency: a block may be freed on another thread than the one that allocated it
// (it becomes that thread's spare). Every operation touches only the calling thread's
// slot: no atomic, no lock. At most one block per thread and per (Size, Align) is held;
// it is given back to ::operator delete when the thread exits. A free that runs in the
// thread's exit after the slot is gone (a later thread_local's or a static's destructor)
// goes to ::operator delete at once.
//
// The model build, and builds under AddressSanitizer (which must see a use after free),
// use ::operator new / delete directly, as FrameCache (sync/task/frame_cache.h).
//
//   using Spare = SpareBlock<sizeof(State), alignof(State)>;
//   void* p = Spare::allocate();  // or std::bad_alloc
//   Spare::free(p);
#pragma once

#include "sync/platform/config.h"

#include <cstddef>
#include <new>
#include <utility>

namespace weft::platform {

// Where SpareBlock's blocks come from and go back to: ::operator new / delete.
struct GlobalNew {
  static void* allocate(std::size_t size, std::size_t align) {
    if (align > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      return ::operator new (size, std::align_val_t{align});
    }
    return ::operator new(size);
  }
  static void deallocate(void* block, std::size_t /*size*/, std::size_t align) noexcept {
    // Unsized: the model build (Relacy) compiles without sized deallocation.
    if (align > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      ::operator delete (block, std::align_val_t{align});
    } else {
      ::operator delete(block);
    }
  }
};

// Upstream: GlobalNew, or a type with the same two static functions (the tests count).
template <std::size_t Size, std::size_t Align, class Upstream = GlobalNew>
class SpareBlock {
 public:
#if defined(WEFT_MODEL) || defined(__SANITIZE_ADDRESS__)
  static constexpr bool enabled = false;
#else
  static constexpr bool enabled = true;
#endif

  // Size bytes aligned to Align: this thread's spare block, or a new one.
  static void* allocate() {
    if constexpr (enabled) {
      if (void* block = spare_) {
        spare_ = nullptr;
        return block;
      }
    }
    return new_block();
  }

  // Gives back a block from allocate() (on any thread).
  static void free(void* block) noexcept {
    if constexpr (enabled) {
      if (spare_ == nullptr && stage_ != Stage::gone) {
        if (stage_ == Stage::fresh) arm_reaper();
        spare_ = block;
        return;
      }
    }
    delete_block(block);
  }

 private:
  static void* new_block() { return Upstream::allocate(Size, Align); }
  static void delete_block(void* block) noexcept { Upstream::deallocate(block, Size, Align); }

  // This thread's slot: plain thread_locals with constant initialisers and no destructor,
  // so each use is one thread-pointer-relative access (a thread_local with a destructor
  // costs a guard check and a call on every use: 1.4x slower on bench's oneshot). The
  // Reaper, made on the thread's first free, gives the spare back when the thread exits.
  //   fresh  no Reaper yet (the thread never kept a block)
  //   armed  the Reaper will free the spare at thread exit
  //   gone   the Reaper ran: frees go to ::operator delete
  enum class Stage : unsigned char { fresh, armed, gone };
  static inline thread_local void* spare_ = nullptr;
  static inline thread_local Stage stage_ = Stage::fresh;

  struct Reaper {
    Reaper() = default;
    Reaper(const Reaper&) = delete;
    Reaper& operator=(const Reaper&) = delete;
    ~Reaper() {
      stage_ = Stage::gone;
      if (void* block = std::exchange(spare_, nullptr)) delete_block(block);
    }
  };
  [[gnu::noinline]] static void arm_reaper() noexcept {
    thread_local Reaper reaper;  // constructed once: registers its destructor
    (void)reaper;
    stage_ = Stage::armed;
  }
};

}  // namespace weft::platform
