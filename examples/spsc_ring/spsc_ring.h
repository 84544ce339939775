// examples/spsc_ring/spsc_ring.h: a bounded single-producer single-consumer ring buffer
// (L. Lamport, "Specifying Concurrent Program Modules", TOPLAS 5(2), 1983; the same
// shape as folly::ProducerConsumerQueue), written against weft's platform layer.
//
// Two counters that only grow: `tail_`, written by the producer only (the next slot to
// fill), and `head_`, written by the consumer only (the next slot to read). The ring holds
// tail - head values, 0 <= tail - head <= Capacity; slot i lives at i % Capacity. Each
// side reads the other's counter with acquire and publishes its own with release:
//   - the producer fills slot t, then stores tail = t + 1 (Release); the consumer's
//     Acquire load of tail that sees t + 1 makes the slot's value visible;
//   - the consumer reads slot h, then stores head = h + 1 (Release); the producer's
//     Acquire load of head that sees h + 1 orders the read before the slot's next write.
// The slots are platform::cells, so the model checker reports any access the two
// counters fail to order as a DATA RACE.
//
// `Publish` is the order of the producer's tail store. It exists so that the example can
// keep its broken variant, SpscRing<T, N, std::memory_order_relaxed>, which the model
// scenario `relaxed_publish` must catch; real code never passes it.
//
// Concurrency: at most one thread calls try_push() and at most one (other) thread calls
// try_pop() at a time; both are wait-free (no loop, no lock, no allocation).
// Memory ordering: a try_push(v) happens-before the try_pop() that returns v.
//
//   SpscRing<int, 64> ring;
//   producer:  while (!ring.try_push(42)) backoff.snooze();
//   consumer:  std::optional<int> v = ring.try_pop();   // std::nullopt if empty
#pragma once

#include "sync/platform/platform.h"

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>

namespace weft::examples {

template <class T, std::size_t Capacity, std::memory_order Publish = std::memory_order_release>
class SpscRing {
  static_assert(Capacity >= 1, "a ring holds at least one value");

 public:
  SpscRing() : slots_(std::make_unique<platform::cell<T>[]>(Capacity)) {}
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // Producer only. Appends `value`; false if the ring is full (`value` is then dropped).
  // guide:begin try_push
  bool try_push(T value) {
    // Relaxed: only this thread writes tail_.
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    // Acquire: pairs with the Release store of head_ in try_pop(): the consumer's read of
    // the slot we may overwrite happens-before our write.
    const std::size_t head = head_.load(std::memory_order_acquire);
    if (tail - head == Capacity) return false;
    slots_[tail % Capacity].with_mut([&](T& slot) { slot = std::move(value); });
    // Release: pairs with the Acquire load of tail_ in try_pop(): publishes the slot.
    tail_.store(tail + 1, Publish);
    return true;
  }
  // guide:end try_push

  // Consumer only. Takes the oldest value, or std::nullopt if the ring is empty.
  std::optional<T> try_pop() {
    // Relaxed: only this thread writes head_.
    const std::size_t head = head_.load(std::memory_order_relaxed);
    // Acquire: pairs with the Release store of tail_ in try_push(): the slot is filled.
    const std::size_t tail = tail_.load(std::memory_order_acquire);
    if (tail == head) return std::nullopt;
    T value = slots_[head % Capacity].with_mut([](T& slot) { return std::move(slot); });
    // Release: pairs with the Acquire load of head_ in try_push(): frees the slot.
    head_.store(head + 1, std::memory_order_release);
    return value;
  }

 private:
  // A real ring would put each counter on its own cache line (crossbeam's CachePadded);
  // the example keeps the layout plain.
  platform::atomic<std::size_t> head_{0};  // written by the consumer only
  platform::atomic<std::size_t> tail_{0};  // written by the producer only
  // Slot i % Capacity: written by the producer while i is in [head, head + Capacity) and
  // not yet published, read by the consumer once i < tail.
  std::unique_ptr<platform::cell<T>[]> slots_;
};

}  // namespace weft::examples
