// examples/seqlock/seqlock.h: a sequence lock (as in Linux's seqlock_t), expressed so
// that it is correct under the C++ memory model, after H.-J. Boehm, "Can Seqlocks Get
// Along With Programming Language Memory Models?", MSPC 2012.
//
// One writer publishes a value of `Words` 64-bit words; any number of readers take
// consistent snapshots without writing shared memory. The writer makes the sequence
// number odd, writes the words, and makes it even again; a reader reads the sequence
// number, the words, and the sequence number again, and retries if the two differ or
// the first was odd.
//
// A reader's loads of the words race with the writer's stores by design: the retry
// throws the torn values away. With plain data that is still a data race, undefined
// behaviour in C++ and a DATA RACE in the model checker (scenario `plain_data` shows it).
// So the words are platform::atomic<uint64_t> accessed with relaxed loads and stores,
// and two fences carry the ordering the plain version takes for granted:
//   - writer: seq = odd (relaxed); fence(release); word stores (relaxed) ...
//   - reader: ... word loads (relaxed); fence(acquire); seq again (relaxed).
// If a reader's word load sees a store made after the writer's release fence, that fence
// synchronizes with the reader's acquire fence, so the second seq load sees at least the
// odd value and the reader retries. The words themselves are published by the Release
// store that makes seq even and the Acquire load that starts a read.
//
// Concurrency: write() from one thread at a time (serialize writers with a lock); read()
// from any number of threads, concurrently with a write(). Readers are lock-free but may
// retry while writes keep coming. Memory ordering: a read() that returns the value of
// write(v) happens-after everything write(v)'s caller did before it.
//
//   SeqLock<2> position;                       // e.g. two coordinates updated together
//   writer:  position.write({x, y});
//   reader:  std::array<std::uint64_t, 2> p = position.read();   // never half-updated
#pragma once

#include "sync/platform/platform.h"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace weft::examples {

// `ReaderFence` exists so that the example can keep a broken variant, SeqLock<N, false>,
// whose reader lacks the acquire fence; scenario `reader_without_fence` must catch it.
template <std::size_t Words, bool ReaderFence = true>
class SeqLock {
 public:
  using Value = std::array<std::uint64_t, Words>;

  SeqLock() = default;
  SeqLock(const SeqLock&) = delete;
  SeqLock& operator=(const SeqLock&) = delete;

  // One writer at a time.
  // guide:begin write_read
  void write(const Value& value) {
    // Relaxed: only the writer stores seq_.
    const std::uint64_t seq = seq_.load(std::memory_order_relaxed);
    seq_.store(seq + 1, std::memory_order_relaxed);
    // Release fence: pairs with the Acquire fence in read(): a reader that loads any word
    // stored below also sees seq + 1 (or later) in its second load of seq_.
    platform::fence(std::memory_order_release);
    for (std::size_t i = 0; i < Words; ++i) {
      words_[i].store(value[i], std::memory_order_relaxed);
    }
    // Release: pairs with the Acquire load of seq_ that starts read(): the words are
    // published with the even number.
    seq_.store(seq + 2, std::memory_order_release);
  }

  // A consistent snapshot: the value of one complete write() (or the initial zeros).
  Value read() const {
    platform::Backoff backoff;
    for (;;) {
      // Acquire: pairs with the Release store of an even seq_ in write().
      const std::uint64_t before = seq_.load(std::memory_order_acquire);
      if ((before & 1) == 0) {
        Value value;
        for (std::size_t i = 0; i < Words; ++i) {
          // Relaxed: may be torn; the check below throws a torn value away.
          value[i] = words_[i].load(std::memory_order_relaxed);
        }
        // Acquire fence: pairs with the Release fence in write() (see the header).
        if constexpr (ReaderFence) platform::fence(std::memory_order_acquire);
        // Relaxed: ordered after the word loads by the fence above.
        if (seq_.load(std::memory_order_relaxed) == before) return value;
      }
      backoff.snooze();  // a write is in progress: let the writer run
    }
  }
  // guide:end write_read

 private:
  // The sequence number: even when no write is in progress, odd during a write; grows
  // by 2 per write. Written by the writer only.
  platform::atomic<std::uint64_t> seq_{0};
  // The value; stored by the writer between its two seq_ stores, loaded by any reader.
  std::array<platform::atomic<std::uint64_t>, Words> words_{};
};

}  // namespace weft::examples
