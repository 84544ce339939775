// weft/sync/mpsc/list.h: the lock-free FIFO list under every mpsc channel: a linked list
// of Blocks, pushed by any number of senders, popped by one receiver, with emptied blocks
// recycled to the tail instead of freed.
//
// Follows tokio/src/sync/mpsc/list.rs. One difference: the tail word carries the CLOSED
// bit next to the slot count, so the slot that close() claims and the fact of closing
// are one atomic step, and len() / try_pop() never count the close slot as a value.
//
// Protocol, in short:
//  - push: claim a slot index with one fetch_add on the tail word, find (or grow to) the
//    block holding it from block_tail, write the value, set its ready bit. No lock; an
//    allocation only when the list has to grow and no recycled block is waiting.
//  - block_tail only moves past blocks whose every slot is ready ("final"). The sender
//    that moves it reads the tail word (a Release RMW) and records that position in the
//    block before setting RELEASED: every sender claiming a later slot synchronizes with
//    that RMW, so it finds block_tail past the block and never touches it again.
//  - pop: the receiver reads its index from its head block, then gives blocks it has
//    passed (RELEASED, and observed position <= index: every writer is done) back to
//    Tx::reclaim_block, which resets them and links them after the tail (up to three
//    tries), or frees them.
//  - close: the last sender claims one more slot with the CLOSED bit and sets TX_CLOSED
//    in that slot's block; the receiver reads "Closed" there after every value.
//  - close_rx (the unbounded channel, which has no semaphore): the receiver sets RX_CLOSED
//    in the tail word and records how many values were claimed before it; a try_push
//    whose claim comes after it fails and keeps its value, and its slot is never written.
//    The claim is the send's one RMW on a shared word, and the point where a send and
//    the receiver's close are ordered: a send either claimed a slot before the close and
//    is read before the end, or it fails.
//  - a push whose value's constructor throws still sets its ready bit, with the slot's
//    hole bit (Block::write), and pop passes holes. A push whose block allocation throws
//    (Block::grow) cannot: its slot stays claimed and unwritten, and the receiver stops
//    there for good (Tokio aborts on allocation failure; here it is a known gap).
//
// Concurrency: Tx is shared by all senders; Rx belongs to the receiver alone (the channel
// keeps it in a cell only the receiver touches).
#pragma once

#include "sync/mpsc/block.h"
#include "sync/platform/atomic.h"
#include "sync/platform/invariant.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

namespace weft::mpsc::detail {

// What Rx::try_pop found.
enum class TryPop {
  Value,   // a value, moved out
  Empty,   // no value was claimed and not read
  Closed,  // every sender is gone and every value was read
  Busy,    // a value was claimed but its sender is still writing it
};

template <class T>
class ListTx {
 public:
  // Tail word: the one counter every sender RMWs.
  //   bit 0       CLOSED: set once, by close(), in the same fetch_add that claims the
  //               close slot; no push follows it (no sender is left to push)
  //   bit 1       RX_CLOSED: set once, by close_rx() (only where try_push is used, the
  //               unbounded channel); a try_push that claims after it fails, and the
  //               slot it claimed stays empty
  //   bits 2..    SLOT: the number of slots claimed, values, the close slot and the slots
  //               of failed try_pushes alike; the next claim is slot index
  //               (word >> SLOT_SHIFT)
  static constexpr std::size_t CLOSED = 1;
  static constexpr std::size_t RX_CLOSED = 2;
  static constexpr unsigned SLOT_SHIFT = 2;
  static constexpr std::size_t SLOT = std::size_t{1} << SLOT_SHIFT;

  explicit ListTx(Block<T>* initial) : block_tail_(initial) {}
  ListTx(const ListTx&) = delete;
  ListTx& operator=(const ListTx&) = delete;

  template <class U>
  void push(U&& value) {
    // AcqRel: Acquire pairs with the Release fetch_add(0) in find_block (see there);
    // Release orders this sender's earlier work before what len() and try_pop() see.
    const std::size_t word = tail_position_.fetch_add(SLOT, std::memory_order_acq_rel);
    WEFT_INVARIANT((word & (CLOSED | RX_CLOSED)) == 0);
    const std::size_t slot_index = word >> SLOT_SHIFT;
    find_block(slot_index)->write(slot_index, std::forward<U>(value));
  }

  // As push(), unless close_rx() came first: then false, and `value` is left as it was.
  bool try_push(T& value) {
    // AcqRel: as in push(); the Acquire half also pairs with the Release fetch_or in
    // close_rx() (a failed send sees what the receiver did before closing).
    const std::size_t word = tail_position_.fetch_add(SLOT, std::memory_order_acq_rel);
    WEFT_INVARIANT((word & CLOSED) == 0);
    if ((word & RX_CLOSED) != 0) return false;  // the receiver reads no slot from here on
    const std::size_t slot_index = word >> SLOT_SHIFT;
    find_block(slot_index)->write(slot_index, std::move(value));
    return true;
  }

  // The receiver closes the list for try_push (the unbounded channel's close()); returns
  // the tail word just before (ListRx::close_rx keeps the count of values it held).
  std::size_t close_rx() {
    // Release: pairs with the Acquire half of try_push()'s fetch_add and with
    // is_rx_closed()'s load.
    return tail_position_.fetch_or(RX_CLOSED, std::memory_order_release);
  }
  bool is_rx_closed() const {
    // Acquire: pairs with the Release fetch_or in close_rx().
    return (tail_position_.load(std::memory_order_acquire) & RX_CLOSED) != 0;
  }

  // Closes the list (the last sender, once): claims the close slot and marks its block.
  void close() {
    // AcqRel: as in push(); the Release half lets a receiver that reads CLOSED here (in
    // try_pop) see everything every sender did before dropping.
    const std::size_t word = tail_position_.fetch_add(SLOT | CLOSED, std::memory_order_acq_rel);
    WEFT_INVARIANT((word & CLOSED) == 0);
    // After close_rx() the receiver stops at the values claimed before it: no mark needed.
    if ((word & RX_CLOSED) != 0) return;
    const std::size_t slot_index = word >> SLOT_SHIFT;
    find_block(slot_index)->tx_close();
  }

  // The tail word (see above).
  std::size_t tail_word() const {
    // Acquire: pairs with the AcqRel fetch_add of push() and close().
    return tail_position_.load(std::memory_order_acquire);
  }

  // Links an emptied block, owned by the caller (the receiver), after the tail so that
  // senders reuse it; frees it if three tries find the list still growing.
  void reclaim_block(Block<T>* block) {
    block->reset();
    // Acquire: pairs with the Release CAS on block_tail_ in find_block (the block there
    // is live: blocks at or after block_tail are never recycled).
    Block<T>* current = block_tail_.load(std::memory_order_acquire);
    for (int attempt = 0; attempt < 3; ++attempt) {
      Block<T>* next = current->try_push(block);
      if (next == nullptr) return;  // reused
      current = next;
    }
    delete block;
  }

 private:
  // The block holding `slot_index`, growing the list as needed; moves block_tail_ forward
  // over final blocks on the way.
  Block<T>* find_block(std::size_t slot_index) {
    const std::size_t start = start_index(slot_index);
    // SeqCst: Acquire pairs with the CAS below (another sender's): the block is live.
    // SeqCst on every load and CAS that leads a sender to its block: see Block::try_push.
    Block<T>* block = block_tail_.load(std::memory_order_seq_cst);
    // Only a sender whose slot is far from the tail block tries to move block_tail
    // (fewer CAS collisions), as in Tokio.
    bool try_updating_tail = block->distance(start) > offset(slot_index);
    for (;;) {
      if (block->is_at_index(start)) return block;
      // SeqCst: Acquire pairs with the CAS in Block::try_push (the next block's fields);
      // SeqCst as the load of block_tail_ above.
      Block<T>* next = block->load_next(std::memory_order_seq_cst);
      if (next == nullptr) next = block->grow();
      // block_tail may only move past final blocks.
      try_updating_tail = try_updating_tail && block->is_final();
      if (try_updating_tail) {
        Block<T>* expected = block;
        // SeqCst: Release pairs with the Acquire loads of block_tail_ in find_block() and
        // reclaim_block(); SeqCst as the load above. Relaxed on failure: the value found
        // is not used.
        if (block_tail_.compare_exchange_strong(expected, next, std::memory_order_seq_cst,
                                                std::memory_order_relaxed)) {
          // Release RMW: a sender whose fetch_add comes after this one in the tail word's
          // order (a later slot) synchronizes with it, so it sees block_tail moved.
          const std::size_t word = tail_position_.fetch_add(0, std::memory_order_release);
          block->tx_release(word >> SLOT_SHIFT);
        } else {
          try_updating_tail = false;  // another sender is moving it
        }
      }
      block = next;
    }
  }

  // Shared by every sender (the receiver only reads them).
  platform::atomic<Block<T>*> block_tail_;
  platform::atomic<std::size_t> tail_position_{0};
};

template <class T>
class ListRx {
 public:
  explicit ListRx(Block<T>* initial) : head_(initial), free_head_(initial) {}
  ListRx(const ListRx&) = delete;
  ListRx& operator=(const ListRx&) = delete;

  // Pops the value at the receiver's index, if it is there; passes holes (Block::write).
  ReadStatus pop(ListTx<T>& tx, std::optional<T>& out) {
    for (;;) {
      if (!try_advancing_head()) return ReadStatus::Empty;
      reclaim_blocks(tx);
      switch (head_->read(index_, out, seen_)) {
        case SlotRead::Value: ++index_; return ReadStatus::Value;
        case SlotRead::Closed: return ReadStatus::Closed;
        case SlotRead::Empty: return ReadStatus::Empty;
        case SlotRead::Hole: ++index_; break;  // and on to the next slot
      }
    }
  }

  // As pop(), and tells an empty list from one whose next value is still being written.
  TryPop try_pop(ListTx<T>& tx, std::optional<T>& out) {
    const std::size_t word = tx.tail_word();
    switch (pop(tx, out)) {
      case ReadStatus::Value: return TryPop::Value;
      case ReadStatus::Closed: return TryPop::Closed;
      case ReadStatus::Empty: break;
    }
    if (index_ == values_claimed(word)) {
      // Nothing claimed that was not read. With CLOSED in the word, nothing ever will
      // be: the close slot is next (its TX_CLOSED bit may just not be visible yet).
      return (word & ListTx<T>::CLOSED) != 0 ? TryPop::Closed : TryPop::Empty;
    }
    return TryPop::Busy;
  }

  // Closes the list for try_push (ListTx::close_rx), once; the values claimed before are
  // still popped.
  void close_rx(ListTx<T>& tx) {
    if (!values_before_rx_close_) values_before_rx_close_ = values_claimed(tx.close_rx());
  }
  // close_rx() ran and every value claimed before it has been popped: none will follow.
  bool drained_after_rx_close() const {
    return values_before_rx_close_ && index_ == *values_before_rx_close_;
  }

  // Values claimed by senders and not yet popped (including values being written).
  std::size_t len(const ListTx<T>& tx) const { return values_claimed(tx.tail_word()) - index_; }
  bool is_empty(const ListTx<T>& tx) const { return len(tx) == 0; }

  // Frees every block. Only when the channel is destroyed, after the last value is read.
  void free_blocks() {
    Block<T>* block = free_head_;
    while (block != nullptr) {
      // Relaxed: the destroying thread owns the whole list (every handle is gone).
      Block<T>* next = block->load_next(std::memory_order_relaxed);
      delete block;
      block = next;
    }
    head_ = free_head_ = nullptr;
  }

 private:
  // Values claimed in `word`: its slots but the close slot, and none after close_rx().
  std::size_t values_claimed(std::size_t word) const {
    if (values_before_rx_close_) return *values_before_rx_close_;
    return (word >> ListTx<T>::SLOT_SHIFT) - (word & ListTx<T>::CLOSED);
  }

  // Moves head_ to the block holding index_; false if that block is not linked yet.
  bool try_advancing_head() {
    const std::size_t start = start_index(index_);
    while (!head_->is_at_index(start)) {
      // SeqCst: Acquire pairs with the CAS in Block::try_push; SeqCst for the receiver's
      // look after RX_WAITING (see chan.h).
      Block<T>* next = head_->load_next(std::memory_order_seq_cst);
      if (next == nullptr) return false;
      head_ = next;
      seen_ = {};  // the copy was of the block left behind
    }
    return true;
  }

  // Recycles the blocks before head_ that every sender is done with.
  void reclaim_blocks(ListTx<T>& tx) {
    while (free_head_ != head_) {
      Block<T>* block = free_head_;
      const std::optional<std::size_t> observed = block->observed_tail_position();
      if (!observed || *observed > index_) return;
      // Relaxed: try_advancing_head already acquired this link on its way to head_.
      free_head_ = block->load_next(std::memory_order_relaxed);
      tx.reclaim_block(block);
    }
  }

  Block<T>* head_;         // the block holding index_ (or before it)
  std::size_t index_ = 0;  // the next slot to read
  SlotsSeen seen_;         // head_'s ready and hole bits as last loaded (Block::read)
  Block<T>* free_head_;    // the oldest block not yet recycled
  // Set by close_rx(): the values claimed before it, the last the receiver will read.
  std::optional<std::size_t> values_before_rx_close_;
};

}  // namespace weft::mpsc::detail
