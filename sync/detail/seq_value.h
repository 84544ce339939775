// weft/sync/detail/seq_value.h: SeqValue<T>, a trivially copyable value that readers copy
// without writing its cache line (a seqlock), so that reading does not take the line from
// the writer. Used by broadcast's slots and watch's value.
//
// After Boehm, "Can Seqlocks Get Along with Programming Language Memory Models?" (MSPC
// 2012): the value's bytes are relaxed atomic words, so a copy that races a write is a
// stale or torn copy that the stamp check throws away, never a data race.
//
// Concurrency: one writer at a time (broadcast's tail lock serializes its writers, watch's
// WRITING bit its own); any number of readers, which never write. A reader that cannot get
// a clean copy (a write overlapped) looks again (watch), or under the writers' lock
// (broadcast).
//
// Memory ordering: a copy accepted by load_if / try_load is the value of one write, and
// everything its writer did before store() happens-before the reader's return.
//
//   SeqValue<Pair> v(0, Pair{1, 2});
//   v.store(2, Pair{3, 4});                      // under the writers' lock
//   if (auto p = v.load_if(2)) use(*p);          // any thread
#pragma once

#include "sync/platform/atomic.h"
#include "sync/platform/fence.h"

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <type_traits>

namespace weft::detail {

template <class T>
class SeqValue {
  static_assert(std::is_trivially_copyable_v<T>, "a seqlock copies the value's bytes");

 public:
  // The stamp: even when the words hold a complete value, odd (stamp + 1) while the writer
  // stores them. Each store() moves it to a larger even number (the caller picks which:
  // broadcast, twice the send position; watch, a count of writes).
  static constexpr bool complete(std::uint64_t stamp) noexcept { return stamp % 2 == 0; }

  SeqValue() = default;
  // Before the value is shared.
  SeqValue(std::uint64_t stamp, const T& value) { init(stamp, value); }
  void init(std::uint64_t stamp, const T& value) {
    put_words(value);
    init_stamp(stamp);
  }
  // A stamp no reader will ask for, with no value (broadcast's slots before their first
  // send). Before the value is shared.
  void init_stamp(std::uint64_t stamp) {
    // Relaxed: nothing is shared yet.
    stamp_.store(stamp, std::memory_order_relaxed);
  }

  // Writer only, under the writers' lock. `stamp` is even and above the current one.
  void store(std::uint64_t stamp, const T& value) {
    stamp_.store(stamp + 1, std::memory_order_relaxed);
    // Release: pairs with the Acquire fence in copy_if: a reader whose copy read any word
    // stored below sees this odd stamp (or a later one) when it checks again.
    platform::fence(std::memory_order_release);
    put_words(value);
    // Release: pairs with the Acquire load of the stamp in copy_if: the words stored above
    // are the ones a reader that sees this stamp copies (or later ones, caught by its check).
    stamp_.store(stamp, std::memory_order_release);
  }

  // The value stored with stamp `want`, if that is what the words hold now.
  std::optional<T> load_if(std::uint64_t want) const { return copy_if(want, false); }
  // The value of the last complete store, unless one overlapped the copy.
  std::optional<T> try_load() const { return copy_if(0, true); }

  // By the writer (no store can run meanwhile): the stamp and the words as they are.
  std::uint64_t writer_stamp() const {
    // Relaxed: the caller is the only writer, ordered after every earlier store() by the
    // writers' exclusion.
    return stamp_.load(std::memory_order_relaxed);
  }
  T writer_load() const { return get_words(); }

 private:
  static constexpr std::size_t words = (sizeof(T) + 7) / 8;
  using Bytes = std::array<std::byte, words * 8>;

  std::optional<T> copy_if(std::uint64_t want, bool any) const {
    // Acquire: pairs with the Release store of the stamp in store(): the words stored
    // before it are the ones copied below (or later ones, caught by the check).
    const std::uint64_t before = stamp_.load(std::memory_order_acquire);
    if (any ? !complete(before) : before != want) return std::nullopt;
    const T copy = get_words();
    // Acquire: pairs with the Release fence in store(): if the copy read a word of a later
    // value, the load below sees that value's odd stamp (or a later one).
    platform::fence(std::memory_order_acquire);
    // Relaxed: ordered by the fence above.
    if (stamp_.load(std::memory_order_relaxed) != before) return std::nullopt;
    return copy;
  }

  void put_words(const T& value) {
    Bytes bytes{};
    std::memcpy(bytes.data(), &value, sizeof(T));
    for (std::size_t i = 0; i < words; ++i) {
      std::uint64_t w;
      std::memcpy(&w, bytes.data() + i * 8, 8);
      // Relaxed: published by the Release store of the stamp after them.
      word_[i].store(w, std::memory_order_relaxed);
    }
  }
  T get_words() const {
    Bytes bytes;
    for (std::size_t i = 0; i < words; ++i) {
      // Relaxed: ordered by the stamp loads around the copy (copy_if), or by the lock.
      const std::uint64_t w = word_[i].load(std::memory_order_relaxed);
      std::memcpy(bytes.data() + i * 8, &w, 8);
    }
    std::array<std::byte, sizeof(T)> exact;
    std::memcpy(exact.data(), bytes.data(), sizeof(T));
    return std::bit_cast<T>(exact);
  }

  platform::atomic<std::uint64_t> stamp_{0};
  platform::atomic<std::uint64_t> word_[words];
};

}  // namespace weft::detail
