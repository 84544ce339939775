// weft/sync/time/timer_driver.h: TimerDriver, the timers of one driver (a block_on call, a
// LocalExecutor, a ThreadPool), and TimerEntry, the waiter inside every sleep and timeout.
//
// Structure: a binary min-heap of entries keyed by (deadline, registration order), each
// entry keeping its heap index, so insert, cancel and fire cost O(log n) with exact
// deadlines and FIFO among equal ones. A hierarchical wheel (tokio/src/runtime/time/wheel)
// pays off at Tokio's timer counts with millisecond slots; a weft driver holds few timers,
// and a heap has no slot rounding and a quarter of the code.
//
// An entry is a waiter like a Notify waiter: registered under the driver's lock with its
// task's waker (cloned outside the lock), removed by its own destructor (cancel-safe:
// nothing of the driver points at it once it is gone), and fired by moving its waker out
// under the lock and waking it outside (detail::wake_in_batches), in deadline order.
//
// Clock: steady_clock, unless the driver is paused (pause / advance / advance_to_next, as
// tokio::time::pause / advance): then time stands still until advanced by hand, and the
// executors advance it to the next deadline when they have nothing else to run (Tokio's
// auto-advance). Model scenarios always pause.
//
// Concurrency: every member may be called from any thread; the state is under one mutex.
// An entry is polled and destroyed by its owner (one thread at a time, as any future);
// fire_due / advance may run concurrently with polls and destructions of entries.
// Memory ordering: what the firing thread did before fire_due / advance happens-before the
// poll that sees the entry fired (the Release store of fired_ in fire_locked, the Acquire
// load in TimerEntry; or the lock, when the poll takes it).
//
// Lifetime: reference-counted. Its owner holds one reference and every registered entry
// one, so an entry that outlives its executor never touches a freed driver.
//
// Which driver: TimerDriver::current(), the innermost context on this thread (the slot
// that block_on, the executors or a TimerScope installed; sync/task/timer_slot.h). With
// none, polling a timer throws std::invalid_argument ("no timer", where Tokio panics): weft's
// timers run under block_on, a LocalExecutor or a ThreadPool; a custom executor drives them with a
// TimerScope around its polls and fire_due() / next_deadline() where it parks:
//
//   weft::TimerDriver* timers = weft::TimerDriver::create();
//   { weft::TimerScope scope(*timers); task.poll(sleep); }   // registers
//   ... park until *timers->next_deadline() ...; timers->fire_due();
//   timers->release();
#pragma once

#include "sync/detail/wake_list.h"
#include "sync/platform/atomic.h"
#include "sync/platform/cell.h"
#include "sync/platform/invariant.h"
#include "sync/platform/mutex.h"
#include "sync/task/poll.h"
#include "sync/task/thread_waker.h"
#include "sync/task/timer_slot.h"
#include "sync/task/waker.h"
#include "sync/time/clock.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace weft {

namespace detail {

// The waiter of one timer. Owned by its future; not movable once registered.
class TimerEntry {
 public:
  TimerEntry() = default;
  TimerEntry(const TimerEntry&) = delete;
  TimerEntry& operator=(const TimerEntry&) = delete;
  ~TimerEntry() { cancel(); }

  // Ready once `deadline` has passed on the current driver's clock; else registers the
  // task's waker (or updates it) and is pending. Polled under another driver than the one
  // it waits in (a future moved between executors before it fired), it moves there.
  // Throws std::invalid_argument with no timer context (see the top of this file).
  Poll<void> poll(Context& cx, Instant deadline) {
    const Poll<void> out = wait(cx, deadline);
    if (out.is_ready()) ready_ = true;
    return out;
  }

  // Unregisters (a fired entry has nothing left to undo). The entry may be polled again.
  void cancel() noexcept;

  // Waits for `deadline` instead: a queued entry keeps its waker and moves in the heap, or,
  // if `deadline` has passed, leaves it and wakes that waker (the next poll is ready); a
  // fired one leaves its driver, and the next poll registers it anew. Throws
  // std::bad_alloc only if the heap cannot grow; the entry is then ready at its next poll.
  void reset(Instant deadline);

  // Fired, or polled ready, since the last reset (Tokio's TimerEntry::is_elapsed).
  bool elapsed() const noexcept {
    // Acquire: pairs with the Release store in TimerDriver::fire_locked.
    return ready_ || (driver_ != nullptr && fired_.load(std::memory_order_acquire));
  }

  // Registered with a driver (polled pending at least once, not cancelled since).
  bool registered() const noexcept { return driver_ != nullptr; }

 private:
  friend class weft::TimerDriver;
  static constexpr std::size_t not_queued = ~std::size_t{0};

  Poll<void> wait(Context& cx, Instant deadline);

  // The driver this entry is registered with and holds a reference to; owner only.
  TimerDriver* driver_ = nullptr;
  bool ready_ = false;  // a poll returned ready since the last reset; owner only
  // Fired: removed from the heap, its waker taken. Set by the firing thread under the
  // driver's lock; after that the driver never touches the entry.
  platform::atomic<bool> fired_{false};
  // The fields below are protected by driver_'s mutex while registered (owner only before).
  platform::cell<Instant> deadline_{};
  platform::cell<std::uint64_t> order_{0};         // registration order: FIFO on equal deadlines
  platform::cell<std::size_t> index_{not_queued};  // position in the heap; not_queued once fired
  platform::cell<Waker> waker_{};
};

}  // namespace detail

class TimerDriver {
 public:
  // A driver with one reference, the caller's.
  static TimerDriver* create() { return new TimerDriver(); }
  TimerDriver(const TimerDriver&) = delete;
  TimerDriver& operator=(const TimerDriver&) = delete;

  void acquire() noexcept {
    // Relaxed: made from a reference the caller holds.
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    // AcqRel: the last owner's delete sees every other owner's use; pairs with theirs.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  // The driver's time: steady_clock, or the frozen time while paused.
  Instant now() {
    platform::mutex_guard guard(mutex_);
    return now_locked();
  }

  // Freezes the clock at the current steady time. Throws std::invalid_argument if paused.
  void pause() {
    platform::mutex_guard guard(mutex_);
    if (paused_.get())
      throw std::invalid_argument("weft::TimerDriver::pause: the clock is already paused");
    frozen_.set(detail::steady_now());
    paused_.set(true);
  }
  // Lets the clock run again (from the steady time now). Throws std::invalid_argument unless
  // paused.
  void resume() {
    platform::mutex_guard guard(mutex_);
    if (!paused_.get())
      throw std::invalid_argument("weft::TimerDriver::resume: the clock is not paused");
    paused_.set(false);
  }
  bool is_paused() {
    platform::mutex_guard guard(mutex_);
    return paused_.get();
  }

  // Paused clock only: moves it forward by `by` and fires every timer due by then, in
  // deadline order, waking their tasks. Returns how many fired. Throws
  // std::invalid_argument if not paused or if `by` is negative.
  std::size_t advance(Duration by) {
    if (by < Duration::zero()) {
      throw std::invalid_argument("weft::TimerDriver::advance: negative duration");
    }
    platform::mutex_guard guard(mutex_);
    if (!paused_.get()) {
      throw std::invalid_argument("weft::TimerDriver::advance: the clock is not paused");
    }
    frozen_.set(frozen_.get() + by);
    return fire_locked(guard, frozen_.get());
  }

  // Paused clock only (else does nothing and returns 0): moves it to the next deadline,
  // if any, and fires what is due then. Executors call it when idle (Tokio's auto-advance).
  std::size_t advance_to_next() {
    platform::mutex_guard guard(mutex_);
    if (!paused_.get()) return 0;
    heap_.with([&](const Heap& heap) {
      if (!heap.empty() && heap.front()->deadline_.get() > frozen_.get()) {
        frozen_.set(heap.front()->deadline_.get());
      }
    });
    return fire_locked(guard, frozen_.get());
  }

  // Fires every timer whose deadline has passed, in deadline order. Returns how many.
  std::size_t fire_due() {
    platform::mutex_guard guard(mutex_);
    return fire_locked(guard, now_locked());
  }

  // The earliest deadline waiting, if any.
  std::optional<Instant> next_deadline() {
    platform::mutex_guard guard(mutex_);
    return heap_.with([](const Heap& heap) {
      return heap.empty() ? std::nullopt : std::optional<Instant>(heap.front()->deadline_.get());
    });
  }

  // How many timers wait.
  std::size_t size() {
    platform::mutex_guard guard(mutex_);
    return heap_.with([](const Heap& heap) { return heap.size(); });
  }

  // The time a timer made now measures from (sleep(d), timeout(f, d)): the clock of this
  // thread's timer context (a paused driver's frozen time), or the steady clock outside
  // every context and in a block_on call with no driver yet (its driver starts unpaused).
  static Instant context_now() {
    detail::TimerSlot* slot = detail::current_timer_slot();
    return slot != nullptr && slot->driver != nullptr ? slot->driver->now() : detail::steady_now();
  }

  // The driver of the innermost timer context on this thread; in a block_on call that has
  // none yet, a new one. Throws std::invalid_argument outside every context.
  static TimerDriver& current() {
    detail::TimerSlot* slot = detail::current_timer_slot();
    if (slot == nullptr) {
      throw std::invalid_argument(
          "weft: a timer was polled outside a timer context (no timer): poll it under "
          "weft::block_on, a LocalExecutor, a ThreadPool, or a weft::TimerScope");
    }
    if (slot->driver == nullptr) {  // a block_on call's first timer
      slot->driver = create();
      slot->park = &park_thread;
      slot->release = [](TimerDriver* driver) noexcept { driver->release(); };
    }
    return *slot->driver;
  }

 private:
  friend class detail::TimerEntry;
  using Heap = std::vector<detail::TimerEntry*>;

  TimerDriver() = default;
  ~TimerDriver() {
    WEFT_INVARIANT(heap_.with([](const Heap& heap) { return heap.empty(); }));
  }

  // block_on's park with timers (TimerSlot::park): until unparked, the next deadline (then
  // fires what is due) or `limit`; false only when `limit` passed. A paused clock with
  // timers waiting jumps to the next deadline instead (the thread has nothing else to do:
  // Tokio's auto-advance).
  static bool park_thread(TimerDriver* driver, detail::ThreadWaker& thread, Instant limit) {
    const std::optional<Instant> next = driver->next_deadline();
    if (next && driver->is_paused()) {
      (void)driver->advance_to_next();
      return true;
    }
    const Instant until = next ? std::min(*next, limit) : limit;
    bool woken = true;
    if (until == Instant::max()) {
      thread.park();
    } else {
      woken = thread.park_until(until);
    }
    (void)driver->fire_due();
    return woken || limit == Instant::max() || detail::steady_now() < limit;
  }

  Instant now_locked() const { return paused_.get() ? frozen_.get() : detail::steady_now(); }

  // Fires the entries due at `now` (see the top of this file); returns with the lock released.
  std::size_t fire_locked(platform::mutex_guard& guard, Instant now) {
    std::size_t fired = 0;
    detail::wake_in_batches(guard, mutex_, [&](detail::WakeList& wakers) {
      return heap_.with_mut([&](Heap& heap) {
        while (wakers.can_push() && due(heap, now)) {
          detail::TimerEntry* entry = pop_front(heap);
          wakers.push(entry->waker_.with_mut([](Waker& waker) { return std::move(waker); }));
          // Release: pairs with the Acquire loads of fired_ in TimerEntry::wait, cancel,
          // reset and elapsed; from here on the entry is its owner's alone.
          entry->fired_.store(true, std::memory_order_release);
          ++fired;
        }
        return due(heap, now);
      });
    });
    return fired;
  }

  // Registers `entry` (owner: not registered anywhere) for `deadline` with `waker`, unless
  // the deadline has passed: then returns false, registers nothing and leaves `waker`.
  bool insert(detail::TimerEntry& entry, Instant deadline, Waker&& waker) {
    platform::mutex_guard guard(mutex_);
    if (deadline <= now_locked()) return false;
    entry.deadline_.set(deadline);
    entry.order_.set(next_order_.get());
    next_order_.set(next_order_.get() + 1);
    entry.waker_.with_mut([&](Waker& slot) { slot = std::move(waker); });
    heap_.with_mut([&](Heap& heap) {
      heap.push_back(&entry);  // may throw: nothing was linked yet
      entry.index_.set(heap.size() - 1);
      sift_up(heap, heap.size() - 1);
    });
    return true;
  }

  // Unregisters `entry` if it is still queued; its waker goes to `out`, to be dropped
  // outside the lock. Returns whether it had fired.
  bool remove(detail::TimerEntry& entry, Waker& out) noexcept {
    platform::mutex_guard guard(mutex_);
    const std::size_t index = entry.index_.get();
    if (index == detail::TimerEntry::not_queued) return true;  // fired under the lock
    out = entry.waker_.with_mut([](Waker& waker) { return std::move(waker); });
    heap_.with_mut([&](Heap& heap) { erase_at(heap, index); });
    return false;
  }

  static bool due(const Heap& heap, Instant now) {
    return !heap.empty() && heap.front()->deadline_.get() <= now;
  }
  static bool earlier(const detail::TimerEntry* a, const detail::TimerEntry* b) {
    const Instant da = a->deadline_.get();
    const Instant db = b->deadline_.get();
    return da < db || (da == db && a->order_.get() < b->order_.get());
  }
  static void place(Heap& heap, std::size_t i, detail::TimerEntry* entry) {
    heap[i] = entry;
    entry->index_.set(i);
  }
  static void sift_up(Heap& heap, std::size_t i) {
    detail::TimerEntry* entry = heap[i];
    while (i > 0 && earlier(entry, heap[(i - 1) / 2])) {
      place(heap, i, heap[(i - 1) / 2]);
      i = (i - 1) / 2;
    }
    place(heap, i, entry);
  }
  static void sift_down(Heap& heap, std::size_t i) {
    detail::TimerEntry* entry = heap[i];
    for (;;) {
      std::size_t child = 2 * i + 1;
      if (child >= heap.size()) break;
      if (child + 1 < heap.size() && earlier(heap[child + 1], heap[child])) ++child;
      if (!earlier(heap[child], entry)) break;
      place(heap, i, heap[child]);
      i = child;
    }
    place(heap, i, entry);
  }
  static detail::TimerEntry* pop_front(Heap& heap) {
    detail::TimerEntry* front = heap.front();
    erase_at(heap, 0);
    return front;
  }
  static void erase_at(Heap& heap, std::size_t i) {
    heap[i]->index_.set(detail::TimerEntry::not_queued);
    detail::TimerEntry* last = heap.back();
    heap.pop_back();
    if (i == heap.size()) return;  // it was the last
    place(heap, i, last);
    sift_down(heap, i);
    sift_up(heap, last->index_.get());
  }

  platform::atomic<std::size_t> refs_{1};
  platform::mutex mutex_;
  // The fields below are protected by mutex_.
  platform::cell<Heap> heap_{};
  platform::cell<std::uint64_t> next_order_{0};
  platform::cell<bool> paused_{false};
  platform::cell<Instant> frozen_{};  // the time while paused
};

// Makes `driver` this thread's timer context until destroyed (for a custom executor, or a
// test polling timers by hand); the previous context comes back after.
class TimerScope {
 public:
  explicit TimerScope(TimerDriver& driver) noexcept : slot_{&driver}, scope_(slot_) {}
  TimerScope(const TimerScope&) = delete;
  TimerScope& operator=(const TimerScope&) = delete;

 private:
  detail::TimerSlot slot_;  // borrows the caller's reference: no release
  detail::TimerSlotScope scope_;
};

namespace detail {

inline Poll<void> TimerEntry::wait(Context& cx, Instant deadline) {
  TimerDriver& current = TimerDriver::current();
  Waker old;  // dropped after every lock is released
  if (driver_ != nullptr && driver_ != &current) {
    // Waiting in another driver: leave it and register here, unless it fired there (then
    // it stays with that driver, fired).
    if (driver_->remove(*this, old)) return ready;
    std::exchange(driver_, nullptr)->release();
  }
  if (driver_ == nullptr) {
    // Relaxed: not registered, so nobody else touches the entry.
    fired_.store(false, std::memory_order_relaxed);
    if (!current.insert(*this, deadline, Waker(cx.waker()))) return ready;
    current.acquire();
    driver_ = &current;
    return pending;
  }
  // Acquire: pairs with the Release store in TimerDriver::fire_locked.
  if (fired_.load(std::memory_order_acquire)) return ready;
  std::optional<Waker> fresh;
  for (;;) {
    {
      platform::mutex_guard guard(driver_->mutex_);
      if (index_.get() == not_queued) return ready;  // fired; the lock orders it before us
      const bool same = waker_.with([&](const Waker& w) { return w.will_wake(cx.waker()); });
      if (same) return pending;
      if (fresh) {
        waker_.with_mut([&](Waker& w) { old = std::exchange(w, std::move(*fresh)); });
        return pending;
      }
    }
    fresh.emplace(cx.waker());  // clone outside the lock, then look again; may throw
  }
}

inline void TimerEntry::cancel() noexcept {
  if (driver_ == nullptr) return;
  Waker old;  // dropped after the lock is released
  // Acquire: pairs with the Release store in TimerDriver::fire_locked; a fired entry is
  // out of the heap for good.
  if (!fired_.load(std::memory_order_acquire)) (void)driver_->remove(*this, old);
  std::exchange(driver_, nullptr)->release();
}

inline void TimerEntry::reset(Instant deadline) {
  ready_ = false;
  if (driver_ == nullptr) return;  // registers at the next poll
  Waker waker;                     // woken or dropped after the lock is released
  // Acquire: pairs with the Release store in TimerDriver::fire_locked.
  if (!fired_.load(std::memory_order_acquire) && !driver_->remove(*this, waker)) {
    // Was queued: queue it again with the same waker (a new registration: FIFO after the
    // entries already waiting for `deadline`).
    if (driver_->insert(*this, deadline, std::move(waker))) return;
    std::exchange(driver_, nullptr)->release();
    waker.wake();  // passed already: its task polls and finds it ready
    return;
  }
  std::exchange(driver_, nullptr)->release();  // fired: the next poll registers anew
}

}  // namespace detail
}  // namespace weft
