// weft/sync/mpsc/block.h: Block<T>, one node of the mpsc list: BLOCK_CAP value slots, their
// ready bits, and the link to the next block.
//
// Follows tokio/src/sync/mpsc/block.rs.
//
// Internal to the mpsc channels (see list.h for the protocol that uses it). Concurrency:
// any number of senders write distinct slots (each slot index is claimed once, by a
// fetch_add on the list's tail position), one receiver reads them; the ready bit of a slot
// is the hand-off. next is pushed by CAS from any sender; start_index and the
// observed tail position are plain data published by the atomics documented beside them.
#pragma once

#include "sync/platform/atomic.h"
#include "sync/platform/cell.h"
#include "sync/platform/config.h"
#include "sync/platform/invariant.h"
#include "sync/platform/spin.h"

#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <utility>

namespace weft::mpsc::detail {

// Slots per block. The model build shrinks it so that a scenario crosses block boundaries
// (grow, release, recycling) within a few sends, as Tokio does under Loom.
#if defined(WEFT_MODEL)
inline constexpr std::size_t BLOCK_CAP = 2;
#else
inline constexpr std::size_t BLOCK_CAP = 32;
#endif
static_assert(BLOCK_CAP >= 2 && (BLOCK_CAP & (BLOCK_CAP - 1)) == 0, "a power of two");
static_assert(BLOCK_CAP + 2 <= 64, "the ready word holds BLOCK_CAP bits and two flags");

// Slot index -> the start index of its block, and its offset in that block.
inline constexpr std::size_t BLOCK_MASK = ~(BLOCK_CAP - 1);
inline constexpr std::size_t SLOT_MASK = BLOCK_CAP - 1;
inline std::size_t start_index(std::size_t slot_index) noexcept { return slot_index & BLOCK_MASK; }
inline std::size_t offset(std::size_t slot_index) noexcept { return slot_index & SLOT_MASK; }

// What the receiver finds at its index.
enum class ReadStatus {
  Value,   // a value, moved out of the slot
  Closed,  // every sender is gone and all values before this slot were read
  Empty,   // nothing here yet (not claimed, or claimed and still being written)
};

// The receiver's copy of a block's ready word and of its hole bits, loaded together by
// Block::read (the hole bits after the ready word that made them current).
struct SlotsSeen {
  std::uint64_t ready = 0;
  std::uint64_t holes = 0;
};

// What Block::read found in one slot: a ReadStatus, or a hole (the slot's sender failed
// to write it: its value's constructor threw), which the list passes (ListRx::pop).
enum class SlotRead { Value, Closed, Empty, Hole };

template <class T>
class Block {
 public:
  explicit Block(std::size_t start) : start_index_(start) {}
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;
  // Slots still holding values are the list's to destroy (it reads them out first).
  ~Block() = default;

  // The ready word: one atomic per block.
  //   bits 0 .. BLOCK_CAP-1  READY: slot i holds a value (set once by its writer, Release)
  //   RELEASED               the senders are done with this block: block_tail moved past
  //                          it and observed_tail_position_ is set (Release, after it)
  //   TX_CLOSED              the last sender closed the list at a slot of this block
  // Bits are only ever set (fetch_or), until the receiver recycles the block and
  // reset() zeroes the word while it owns the block alone.
  static constexpr std::uint64_t READY_MASK = (std::uint64_t{1} << BLOCK_CAP) - 1;
  static constexpr std::uint64_t RELEASED = std::uint64_t{1} << BLOCK_CAP;
  static constexpr std::uint64_t TX_CLOSED = RELEASED << 1;

  bool is_at_index(std::size_t index) const {
    return start_index_.with([](const std::size_t& s) { return s; }) == index;
  }
  std::size_t start() const {
    return start_index_.with([](const std::size_t& s) { return s; });
  }

  // Blocks from this one to the block starting at `other_start` (which is after it).
  std::size_t distance(std::size_t other_start) const {
    return (other_start - start()) / BLOCK_CAP;
  }

  // Writes `value` into its slot and sets its ready bit. The caller claimed the slot. If
  // T's constructor throws, the slot becomes a hole (ready, no value: the receiver passes
  // it) and the exception propagates once the slot is published.
  template <class U>
  void write(std::size_t slot_index, U&& value) {
    const std::size_t slot = offset(slot_index);
    try {
      values_[slot].with_mut([&](Storage& s) { ::new (s.bytes) T(std::forward<U>(value)); });
    } catch (...) {
      // Relaxed: published by the ready bit (publish()), as a value would be.
      holes_.fetch_or(std::uint64_t{1} << slot, std::memory_order_relaxed);
      publish(slot);
      throw;
    }
    publish(slot);
  }

  // Reads the slot at `slot_index` (the receiver only). On Value the value is moved into
  // `out` and the slot is left empty. `seen` is the receiver's copy of this block's ready
  // word and hole bits, from an earlier read ({} for none): a slot whose ready bit it
  // holds is read without loading the shared words again (bits are only ever set while
  // the block is in the list), so a receiver that trails its senders touches them once
  // per batch of ready slots, not once per value. They are reloaded into `seen` otherwise.
  SlotRead read(std::size_t slot_index, std::optional<T>& out, SlotsSeen& seen) {
    const std::size_t slot = offset(slot_index);
    const std::uint64_t bit = std::uint64_t{1} << slot;
    if ((seen.ready & bit) == 0) {
      // SeqCst: Acquire pairs with the fetch_or in publish() (the value, and the values of
      // every other bit kept in `seen`) and tx_close(); SeqCst for the receiver's look
      // after RX_WAITING (see chan.h).
      seen.ready = ready_slots_.load(std::memory_order_seq_cst);
      if ((seen.ready & bit) == 0) {
        return (seen.ready & TX_CLOSED) != 0 ? SlotRead::Closed : SlotRead::Empty;
      }
      // Relaxed: the load above ordered the hole bit of every slot it shows ready (set
      // before that slot's ready bit) before this one.
      seen.holes = holes_.load(std::memory_order_relaxed);
    }
    if ((seen.holes & bit) != 0) return SlotRead::Hole;
    values_[slot].with_mut([&](Storage& s) {
      T* stored = std::launder(reinterpret_cast<T*>(s.bytes));
      out.emplace(std::move(*stored));
      stored->~T();
    });
    return SlotRead::Value;
  }

  // Marks the list closed at a slot of this block (the last sender, once).
  void tx_close() {
    // Release: pairs with the Acquire load in read(), which then reports Closed.
    ready_slots_.fetch_or(TX_CLOSED, std::memory_order_release);
  }

  // Every slot written: the block will not change until it is recycled.
  bool is_final() const {
    // Acquire: pairs with the Release fetch_or in publish(), one per slot.
    return (ready_slots_.load(std::memory_order_acquire) & READY_MASK) == READY_MASK;
  }

  // The sender that moved block_tail past this block records the tail position it saw
  // after the move: no sender that claims a slot at or after it will touch this block.
  void tx_release(std::size_t tail_position) {
    // Written once, before RELEASED; read by the receiver only after it sees RELEASED.
    observed_tail_position_.with_mut([&](std::size_t& p) { p = tail_position; });
    // Release: pairs with the Acquire load in observed_tail_position().
    ready_slots_.fetch_or(RELEASED, std::memory_order_release);
  }

  // The tail position recorded by tx_release(), once RELEASED is set.
  std::optional<std::size_t> observed_tail_position() const {
    // Acquire: pairs with the Release fetch_or in tx_release().
    if ((ready_slots_.load(std::memory_order_acquire) & RELEASED) == 0) return std::nullopt;
    return observed_tail_position_.with([](const std::size_t& p) { return p; });
  }

  Block* load_next(std::memory_order order) const { return next_.load(order); }

  // Links `block` after this one if next_ is empty; otherwise returns the next block.
  // `block` is owned by the caller (not yet reachable by anyone else).
  Block* try_push(Block* block) {
    block->start_index_.with_mut([&](std::size_t& s) { s = start() + BLOCK_CAP; });
    Block* expected = nullptr;
    // SeqCst: Release publishes `block` (its start index, zeroed word) to the loads of
    // next_ in find_block / try_advancing_head; on failure, Acquire pairs with the Release
    // CAS in try_push() that won, so the caller may walk into the block it found. SeqCst on
    // both, and on the senders' loads that lead to a block (find_block), so that linking a
    // block precedes, in the order S, every push into it (see Chan::send).
    if (next_.compare_exchange_strong(expected, block, std::memory_order_seq_cst,
                                      std::memory_order_seq_cst)) {
      return nullptr;
    }
    return expected;
  }

  // Appends a new block somewhere after this one (at its end if another sender grew the
  // list first) and returns the block right after this one.
  Block* grow() {
    Block* fresh = new Block(start() + BLOCK_CAP);
    Block* next = try_push(fresh);
    if (next == nullptr) return fresh;
    // Someone else linked a block first: keep ours for later, at the end of the list.
    Block* current = next;
    Block* after;
    while ((after = current->try_push(fresh)) != nullptr) {
      current = after;
      platform::spin_hint();
    }
    return next;
  }

  // Makes a block that left the list blank again (the receiver, which owns it alone).
  void reset() {
    start_index_.with_mut([](std::size_t& s) { s = 0; });
    // Relaxed: the block is published again only by the SeqCst CAS in try_push().
    next_.store(nullptr, std::memory_order_relaxed);
    ready_slots_.store(0, std::memory_order_relaxed);
    holes_.store(0, std::memory_order_relaxed);  // Relaxed: as ready_slots_
  }

 private:
  // Sets the ready bit of a slot just written (or made a hole).
  void publish(std::size_t slot) {
    // SeqCst: Release publishes the value (or the hole) to the receiver's Acquire load in
    // read(); SeqCst puts the push in the one order S with the receiver's SeqCst store of
    // RX_WAITING (Rx::register_waker) and Chan::send's SeqCst load of it (see chan.h).
    // After this the block may be recycled at any moment: the caller must not touch it.
    ready_slots_.fetch_or(std::uint64_t{1} << slot, std::memory_order_seq_cst);
  }

  struct Storage {
    alignas(T) unsigned char bytes[sizeof(T)];
  };

  // Written by whoever owns the block before publishing it (the grower or the receiver
  // recycling it), read by everyone who reached it through an Acquire load of a next_ or
  // of block_tail.
  platform::cell<std::size_t> start_index_;
  platform::atomic<Block*> next_{nullptr};
  platform::atomic<std::uint64_t> ready_slots_{0};
  // Slots whose write threw (bit i: slot i), set before their ready bit; almost always 0.
  platform::atomic<std::uint64_t> holes_{0};
  // Written by the one sender that releases the block, before RELEASED (see above).
  platform::cell<std::size_t> observed_tail_position_{std::size_t{0}};
  // Slot i: written by the sender that claimed it, before its ready bit; read (moved out
  // and destroyed) by the receiver after it.
  platform::cell<Storage> values_[BLOCK_CAP];
};

}  // namespace weft::mpsc::detail
