// weft/sync/mpsc/bounded_capacity.h: BoundedSemaphore, the bounded channel's capacity: the
// senders' fair batch semaphore, plus a count of received values that the receiver
// publishes with a store, instead of giving each value's permit back with a CAS on the
// word every sender CASes (issue 16: while both ran, that word's cache line crossed
// between the cores twice per message).
//
// Follows tokio/src/sync/mpsc/bounded.rs's Semaphore (a batch semaphore and its bound);
// the lazy give-back is weft's.
//
// Capacity free = the semaphore's permits + (received_ - harvested_):
//   received_   values the receiver has received, ever (64 bits: never wraps). Written
//               only by the receiver, one store per receive, on its own cache line.
//   harvested_  how much of received_ has been given back to the semaphore. Advanced
//               only under the semaphore's waiter lock, in the same critical section
//               that releases the difference (BatchSemaphore::release_counted), so a
//               harvest is one step: whoever harvests after it (and so every try path,
//               which harvests before it says Full) sees its permits in the count. (A
//               CAS on harvested_ and a release after it let a try_send that followed
//               its own receive see Full while another sender's harvest of that receive
//               was in flight: //model:mpsc try_recv, at execution 9.)
// Senders harvest only when the semaphore cannot serve them (a try_acquire short of
// permits, a capacity wait before and after it queues), so a sender ahead of the receiver
// by less than the bound reads received_ and locks once per harvest, not once per value.
// The harvested permits go to the semaphore's oldest waiters first: FIFO holds.
//
// A try path's Full is linearizable (C++20 / RC11, not only SC). It is decided under the
// waiter lock from one snapshot, never from a load of the semaphore made outside it: L,
// the Acquire load of the permit word (p), is its point. There harvested_ is exact (h:
// written only under the lock we hold); p is exact (L's place in the word's modification
// order) and holds every earlier harvest's permits (their releases precede our lock);
// received_ is loaded after L (r), so by coherence r counts every receive that happens
// before L, the caller's own and any whose effect L saw (a take that followed a receive
// synchronizes with L through the word's release sequence). Receives that do not happen
// before L are concurrent with the call and may be ordered after it. So the capacity at
// L is at most p + (r - h), and Full is reported only when that is below n; otherwise
// the harvest released r - h and the try runs again (each retry follows new receives or
// another sender's take: lock-free). Two weaker forms fail: a retry outside the lock read
// a take that followed a receive its harvest's load of received_ had missed (a SeqCst
// load may read a store older than one that happens before a later load of another
// word; //model:mpsc_dpor try_recv at execution 1544); and "Full once a harvest after a
// failed try finds nothing new" misses another sender's harvest that took the receive
// between the failed try and ours and released it after that try's load (model scenario
// try_send_sees_other_senders_harvest). As in the batch semaphore itself (and Tokio's),
// a release to more waiters than one WakeList is not one step: a try in the gap may see
// Full while the rest goes to queued waiters.
//
// No lost wakeup: a capacity wait that queued counts itself in waiters_ (SeqCst RMW),
// then harvests (SeqCst load of received_); the receiver stores received_ (SeqCst), then
// loads waiters_ (SeqCst) and harvests if anyone waits. A store-buffering pair on the
// single order S: either the waiter's load sees the receive, or the receiver's load sees
// the waiter. waiters_ overstates while a served wait has not run again (it counts itself
// until it ends), so the receiver harvests only while the semaphore also has WAITERS (a
// load after that of waiters_, which synchronizes with the count-in that followed the
// queuing): else it would lock once per receive until the woken sender runs (measured:
// 411 instructions and 9.6 RMWs per message under callgrind's one-thread schedule).
//
// is_idle() (every permit back) adds three words read at different times. It never
// overstates: harvested_ is stored before the Release that puts its permits in the
// semaphore, so a load of the semaphore that counts them (Acquire) is followed by a load
// of harvested_ that sees the store. It may understate while a harvest is in progress;
// the receiver harvests itself (under the lock, after every earlier harvest) before it
// looks for the end (receiver_flush()), and then nothing is left for anyone else to
// harvest until it receives again (so it flushes again only then; before its first
// receive there is nothing to harvest).
#pragma once

#include "sync/detail/batch_semaphore.h"
#include "sync/platform/atomic.h"
#include "sync/platform/cache_padded.h"
#include "sync/platform/cell.h"
#include "sync/result.h"

#include <cstddef>
#include <cstdint>

namespace weft::mpsc::detail {

class BoundedSemaphore {
 public:
  explicit BoundedSemaphore(std::size_t bound) : semaphore(bound), bound(bound) {}
  // The receiver's close() closes this semaphore (not the list: see chan.h).
  static constexpr bool closes_in_list = false;

  // Permits given back by a sender (a Permit dropped or released unused).
  void add_permits(std::size_t n) { semaphore.release(n); }

  // The receiver received `n` values (only the receiver calls it).
  void receiver_released(std::size_t n) {
    // Relaxed: only the receiver writes received_.
    const std::uint64_t received = received_.load(std::memory_order_relaxed) + n;
    // SeqCst: Release publishes the receive to the harvest that reuses its capacity
    // (pairs with the load in harvest()); SeqCst: store-buffering with a waiter's fetch_add of
    // waiters_ and its harvest's load (see the top of this file).
    received_.store(received, std::memory_order_seq_cst);
    // SeqCst: the load after the store of that pair. A wait counts itself in after it
    // queued, so a count seen here comes with WAITERS (or a queue emptied since): with
    // WAITERS clear, the waiters counted were served and wait only to run again.
    if (waiters_.load(std::memory_order_seq_cst) != 0 && semaphore.has_waiters()) {
      (void)harvest();
    }
  }
  // The receiver, before it looks for the end of a closed channel: harvests what it
  // received, so that the last harvest to release sees the whole count (see the top).
  // Not again until it receives more: after a flush at k, harvested_ is k, so a later
  // harvest releases nothing unless received_ moved, and every earlier one is whole.
  void receiver_flush() {
    // Relaxed: only the receiver writes received_.
    const std::uint64_t received = received_.load(std::memory_order_relaxed);
    if (flushed_.get() == received) return;
    (void)harvest();
    flushed_.set(received);
  }

  // What a harvest saw under the semaphore's lock (see the top of this file).
  struct Harvest {
    std::size_t word = 0;     // the semaphore's permit word, before this harvest's release
    std::uint64_t fresh = 0;  // received values it gave back
  };

  // Gives the received values not yet given back to the semaphore (its waiters first),
  // under its waiter lock (see the top of this file).
  Harvest harvest() noexcept {
    Harvest found;
    semaphore.release_counted([&](std::size_t word) noexcept -> std::size_t {
      found.word = word;
      // Relaxed: harvested_ is written only under the lock this runs under.
      const std::uint64_t harvested = harvested_.load(std::memory_order_relaxed);
      // SeqCst: Acquire pairs with the store in receiver_released() (the receive
      // happens-before the use of its capacity); SeqCst: the load of the store-buffering
      // pair with waiters_ (see the top of this file). After the load of `word` (the
      // try paths' snapshot).
      const std::uint64_t received = received_.load(std::memory_order_seq_cst);
      if (received <= harvested) return 0;
      // Relaxed: the lock orders the harvests; it precedes the semaphore's Release of
      // these permits (see is_idle() at the top).
      harvested_.store(received, std::memory_order_relaxed);
      found.fresh = received - harvested;
      return static_cast<std::size_t>(found.fresh);
    });
    return found;
  }

  // The try paths' acquire (try_send, try_reserve*): short of permits, harvests, and
  // says Full only if the harvest's snapshot had fewer than n (see the top of this
  // file). Fair: with waiters queued the count is 0 and the harvest goes to them.
  Result<void, TryAcquireError> try_acquire(std::size_t n) {
    using weft::detail::BatchSemaphore;
    for (;;) {
      auto acquired = semaphore.try_acquire(n);
      if (acquired.is_ok() || acquired.error() == TryAcquireError::Closed) return acquired;
      const Harvest found = harvest();
      if ((found.word & BatchSemaphore::CLOSED) != 0) return Err(TryAcquireError::Closed);
      // WAITERS implies a count of 0: only received values can make n then.
      if ((found.word >> BatchSemaphore::PERMIT_SHIFT) + found.fresh < n) {
        return Err(TryAcquireError::NoPermits);
      }
    }
  }

  // A capacity wait queued / ended (CapacityWait in bounded.h).
  void wait_started() {
    // SeqCst: store-buffering with receiver_released() (see the top of this file); the
    // caller harvests after it.
    waiters_.fetch_add(1, std::memory_order_seq_cst);
  }
  void wait_ended() {
    // Relaxed: waiters_ only tells the receiver to harvest; a late decrement costs it a
    // harvest, never a wakeup.
    waiters_.fetch_sub(1, std::memory_order_relaxed);
  }

  // Capacity free now: the semaphore's permits and the received values not harvested.
  std::size_t available() const {
    const std::size_t permits = semaphore.available_permits();  // Acquire
    // Relaxed: after the Acquire above, it sees the store of every harvest whose
    // permits that load counted (see the top of this file).
    const std::uint64_t harvested = harvested_.load(std::memory_order_relaxed);
    // Acquire: pairs with the store in receiver_released() (a sender's capacity() sees a
    // receive that happened before it).
    const std::uint64_t received = received_.load(std::memory_order_acquire);
    // A sender's copy of received_ may trail harvested_.
    return permits + (received > harvested ? static_cast<std::size_t>(received - harvested) : 0);
  }
  bool is_idle() const { return available() == bound; }
  void close() { semaphore.close(); }
  bool is_closed() const { return semaphore.is_closed(); }

  weft::detail::BatchSemaphore semaphore;
  const std::size_t bound;

 private:
  // Senders' side, beside the semaphore's word. Written under its waiter lock.
  platform::atomic<std::uint64_t> harvested_{0};
  // The receiver's line: it writes received_ and reads waiters_ on every receive;
  // senders read it once per harvest and write waiters_ only when they queue. Set apart
  // by a gap, not alignas: the semaphore's word (the first member) shares a line with
  // the list's tail word in Chan, so a send takes one line, not two.
  platform::line_gap receiver_line_;
  platform::atomic<std::uint64_t> received_{0};
  platform::atomic<std::size_t> waiters_{0};
  // received_ at the receiver's last flush (receiver_flush()); only the receiver uses it.
  platform::cell<std::uint64_t> flushed_{0};
};

}  // namespace weft::mpsc::detail
