# Mutations for ci/mutants. Each: id, the file, the code to find (once; whitespace, line
# breaks and comments do not count, and the text holds no comment), its replacement, what
# it breaks, and the model tests that must catch it. A survivor needs a new model test
# that kills it, or an `equivalent` entry saying why it cannot be caught.

MUTATIONS = [
    # --- sync/platform/parker.h
    dict(id="parker.unpark_skips_wake", file="sync/platform/parker.h",
         what="unpark sets the token but never wakes a parked thread",
         find="      futex_.wake_one(state_);\n", replace="",
         tests=["//model:parker", "//model:harness_selftest"]),
    dict(id="parker.wake_before_token", file="sync/platform/parker.h",
         what="unpark wakes the futex before it sets the token: an owner that marks itself "
              "PARKED in between sleeps through the only wake (lost wakeup)",
         find="""    if (state_.exchange(NOTIFIED, std::memory_order_release) == PARKED) {
      futex_.wake_one(state_);
    }""",
         replace="""    futex_.wake_one(state_);
    state_.exchange(NOTIFIED, std::memory_order_release);""",
         tests=["//model:parker"]),
    dict(id="parker.unpark_relaxed", file="sync/platform/parker.h",
         what="unpark sets the token relaxed: the unparker's writes are not published",
         find="if (state_.exchange(NOTIFIED, std::memory_order_release) == PARKED) {",
         replace="if (state_.exchange(NOTIFIED, std::memory_order_relaxed) == PARKED) {",
         tests=["//model:parker"]),
    dict(id="parker.fast_path_relaxed", file="sync/platform/parker.h",
         what="park's first RMW (which takes a waiting token) is relaxed",
         find="const std::uint32_t previous = state_.fetch_sub(1, std::memory_order_acquire);",
         replace="const std::uint32_t previous = state_.fetch_sub(1, std::memory_order_relaxed);",
         tests=["//model:parker"]),
    dict(id="parker.woken_cas_relaxed", file="sync/platform/parker.h",
         what="the CAS that takes the token after a futex return is relaxed",
         find="""    return state_.compare_exchange_strong(token, EMPTY, std::memory_order_acquire,
                                          std::memory_order_relaxed);""",
         replace="""    return state_.compare_exchange_strong(token, EMPTY, std::memory_order_relaxed,
                                          std::memory_order_relaxed);""",
         tests=["//model:parker"]),
    dict(id="parker.spurious_return_taken_as_token", file="sync/platform/parker.h",
         what="park takes any futex return for a token: a spurious return ends the park "
              "with no unpark",
         find="""      futex_.wait(state_, PARKED);
      if (take_woken_token()) return;""",
         replace="""      futex_.wait(state_, PARKED);
      state_.store(EMPTY, std::memory_order_relaxed);
      return;""",
         tests=["//model:parker"]),
    dict(id="parker.timeout_drops_token", file="sync/platform/parker.h",
         what="a timed park that times out resets the state, losing a token given as it fires",
         find="        return state_.exchange(EMPTY, std::memory_order_acquire) == NOTIFIED;\n",
         replace="        state_.store(EMPTY, std::memory_order_relaxed);\n        return false;\n",
         tests=["//model:parker"]),
    dict(id="parker.timeout_exchange_relaxed", file="sync/platform/parker.h",
         what="the exchange of a timed-out park that takes a late token is relaxed",
         find="        return state_.exchange(EMPTY, std::memory_order_acquire) == NOTIFIED;\n",
         replace="        return state_.exchange(EMPTY, std::memory_order_relaxed) == NOTIFIED;\n",
         tests=["//model:parker"]),
    # --- sync/platform/futex_lock.h, futex_condvar.h (production platform::mutex, condvar)
    dict(id="futex_lock.unlock_skips_wake", file="sync/platform/futex_lock.h",
         what="unlock of a CONTENDED lock never wakes a sleeper",
         find="      futex_.wake_one(word_);\n", replace="",
         tests=["//model:futex_lock"]),
    dict(id="futex_lock.lock_cas_relaxed", file="sync/platform/futex_lock.h",
         what="lock()'s fast-path CAS is relaxed: the last holder's writes are not acquired",
         find="""    if (word_.compare_exchange_strong(unlocked, LOCKED, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
      return;
    }
    lock_contended();""",
         replace="""    if (word_.compare_exchange_strong(unlocked, LOCKED, std::memory_order_relaxed,
                                      std::memory_order_relaxed)) {
      return;
    }
    lock_contended();""",
         tests=["//model:futex_lock"]),
    dict(id="futex_lock.unlock_relaxed", file="sync/platform/futex_lock.h",
         what="unlock()'s exchange is relaxed: the critical section is not released",
         find="if (word_.exchange(UNLOCKED, std::memory_order_release) == CONTENDED) {",
         replace="if (word_.exchange(UNLOCKED, std::memory_order_relaxed) == CONTENDED) {",
         tests=["//model:futex_lock"]),
    dict(id="futex_lock.contended_exchange_relaxed", file="sync/platform/futex_lock.h",
         what="the exchange that marks the lock CONTENDED (and takes it when free) is relaxed",
         find="word_.exchange(CONTENDED, std::memory_order_acquire) == UNLOCKED",
         replace="word_.exchange(CONTENDED, std::memory_order_relaxed) == UNLOCKED",
         tests=["//model:futex_lock"]),
    dict(id="futex_lock.woken_takes_locked", file="sync/platform/futex_lock.h",
         what="a thread woken from the futex that finds the lock free takes it as LOCKED, "
              "forgetting the other sleepers (their wake is lost at its unlock)",
         find="""      futex_.wait(word_, CONTENDED);
      state = spin();""",
         replace="""      futex_.wait(word_, CONTENDED);
      state = spin();
      if (state == UNLOCKED && word_.compare_exchange_strong(state, LOCKED, std::memory_order_acquire,
                                                             std::memory_order_relaxed)) {
        return;
      }""",
         tests=["//model:futex_lock"]),
    dict(id="futex_condvar.counter_read_after_unlock", file="sync/platform/futex_condvar.h",
         what="wait() reads the notification counter after unlocking: a notify in between "
              "is lost",
         find="""    const std::uint32_t seen = notifications();
    lock.unlock();
    futex_.wait(notifications_, seen);""",
         replace="""    lock.unlock();
    const std::uint32_t seen = notifications();
    futex_.wait(notifications_, seen);""",
         tests=["//model:futex_lock"]),
    dict(id="futex_condvar.notify_all_wakes_one", file="sync/platform/futex_condvar.h",
         what="notify_all() wakes only one waiter",
         find="futex_.wake_all(notifications_);", replace="futex_.wake_one(notifications_);",
         tests=["//model:futex_lock"]),
    dict(id="futex_condvar.timed_wait_counter_after_unlock", file="sync/platform/futex_condvar.h",
         what="wait_until() reads the notification counter after unlocking",
         find="""    const std::uint32_t seen = notifications();
    lock.unlock();
    const bool in_time = futex_.wait_until(notifications_, seen, deadline);""",
         replace="""    lock.unlock();
    const std::uint32_t seen = notifications();
    const bool in_time = futex_.wait_until(notifications_, seen, deadline);""",
         tests=["//model:futex_lock"],
         equivalent="in the model a timed wait may time out at any step, so a timed waiter "
                    "that sleeps through a lost notify only waits for its deadline, which the "
                    "checkers cannot tell from a timeout (a real bug: latency up to the "
                    "deadline); the same line in wait() is futex_condvar.counter_read_after_unlock, "
                    "killed"),
    # --- sync/task/frame_cache.h
    dict(id="frame_cache.push_relaxed", file="sync/task/frame_cache.h",
         what="the CAS publishing a pushed chain is relaxed",
         find="""    } while (!head_.compare_exchange_weak(head, first, std::memory_order_release,
                                          std::memory_order_relaxed));""",
         replace="""    } while (!head_.compare_exchange_weak(head, first, std::memory_order_relaxed,
                                          std::memory_order_relaxed));""",
         tests=["//model:frame_cache"]),
    dict(id="frame_cache.take_relaxed", file="sync/task/frame_cache.h",
         what="the exchange taking the stack is relaxed",
         find="    FreeBlock* first = head_.exchange(nullptr, std::memory_order_acquire);\n",
         replace="    FreeBlock* first = head_.exchange(nullptr, std::memory_order_relaxed);\n",
         tests=["//model:frame_cache"]),
    dict(id="frame_cache.count_kept", file="sync/task/frame_cache.h",
         what="take_all leaves the taken blocks in the count (the stack fills for good)",
         find="    if (count != 0) count_.fetch_sub(count, std::memory_order_relaxed);\n",
         replace="",
         tests=["//model:frame_cache"]),
    # --- sync/task/atomic_waker.h
    dict(id="atomic_waker.register_release_relaxed", file="sync/task/atomic_waker.h",
         what="the CAS ending a registration is relaxed",
         find="""    if (!state_.compare_exchange_strong(registering, WAITING, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {""",
         replace="""    if (!state_.compare_exchange_strong(registering, WAITING, std::memory_order_relaxed,
                                        std::memory_order_relaxed)) {""",
         tests=["//model:atomic_waker"]),
    dict(id="atomic_waker.register_acquire_relaxed", file="sync/task/atomic_waker.h",
         what="the CAS starting a registration is relaxed",
         find="""    state_.compare_exchange_strong(actual, REGISTERING, std::memory_order_acquire,
                                   std::memory_order_acquire);""",
         replace="""    state_.compare_exchange_strong(actual, REGISTERING, std::memory_order_relaxed,
                                   std::memory_order_relaxed);""",
         tests=["//model:atomic_waker"]),
    dict(id="atomic_waker.take_fetch_or_relaxed", file="sync/task/atomic_waker.h",
         what="take_waker's fetch_or is relaxed",
         find="state_.fetch_or(WAKING, std::memory_order_acq_rel)",
         replace="state_.fetch_or(WAKING, std::memory_order_relaxed)",
         tests=["//model:atomic_waker"]),
    dict(id="atomic_waker.take_unlock_relaxed", file="sync/task/atomic_waker.h",
         what="take_waker releases the slot with a relaxed fetch_and",
         find="state_.fetch_and(~WAKING, std::memory_order_release);",
         replace="state_.fetch_and(~WAKING, std::memory_order_relaxed);",
         tests=["//model:atomic_waker"]),
    dict(id="atomic_waker.owed_wake_dropped", file="sync/task/atomic_waker.h",
         what="the registering thread forgets the wake a racing wake() left to it",
         find="      if (current) current->wake();\n",
         replace="",
         tests=["//model:atomic_waker"]),
    dict(id="atomic_waker.waking_no_self_wake", file="sync/task/atomic_waker.h",
         what="register during WAKING does not wake the new waker",
         find="      waker.wake_by_ref();\n      platform::spin_hint();",
         replace="      platform::spin_hint();",
         tests=["//model:atomic_waker"]),
    # --- sync/task/thread_waker.h
    dict(id="thread_waker.wake_skips_unpark", file="sync/task/thread_waker.h",
         what="wake (by value) releases the handle without unparking",
         find="""  static void wake(const void* data) {
    mut(data)->unpark();""",
         replace="""  static void wake(const void* data) {""",
         tests=["//model:atomic_waker"]),
    dict(id="thread_waker.release_relaxed", file="sync/task/thread_waker.h",
         what="the reference count's decrement is relaxed: the last owner frees the parker "
              "while another owner's use of it need not happen before (killed on DPOR, by its "
              "check at the destruction; Relacy checks nothing there and misses it)",
         find="if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;",
         replace="if (refs_.fetch_sub(1, std::memory_order_relaxed) == 1) delete this;",
         tests=["//model:task_block_on"]),
    # ===== The primitives (appended by the issue-6 session; see fuzz/ for the drivers) =====
    # --- sync/oneshot.h
    dict(id="oneshot.complete_cas_relaxed", file="sync/oneshot.h",
         what="the CAS that sets VALUE_SENT is relaxed: the value is not published",
         find="""      if (state_.compare_exchange_weak(state, next, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {""",
         replace="""      if (state_.compare_exchange_weak(state, next, std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {""",
         tests=["//model:oneshot"]),
    dict(id="oneshot.send_wake_dropped", file="sync/oneshot.h",
         what="complete() never wakes the receiver's registered waker",
         find="""        rx_task_.with([](const std::optional<Waker>& w) { w->wake_by_ref(); });\n""",
         replace="",
         tests=["//model:oneshot"]),
    dict(id="oneshot.close_wake_dropped", file="sync/oneshot.h",
         what="close() never wakes the sender's poll_closed waker",
         find="""      tx_task_.with([](const std::optional<Waker>& w) { w->wake_by_ref(); });""",
         replace="",
         tests=["//model:oneshot"]),
    dict(id="oneshot.close_relaxed", file="sync/oneshot.h",
         what="close()'s fetch_or is relaxed: the sender's waker is read unsynchronized",
         find="const std::uintptr_t prev = state_.fetch_or(CLOSED, std::memory_order_acq_rel);",
         replace="const std::uintptr_t prev = state_.fetch_or(CLOSED, std::memory_order_relaxed);",
         tests=["//model:oneshot"]),
    dict(id="oneshot.close_acquire_only", file="sync/oneshot.h",
         what="close()'s fetch_or is Acquire only (as Tokio's): the Receiver's work before "
              "close() is not visible to a Sender that sees CLOSED, as the header promises",
         find="const std::uintptr_t prev = state_.fetch_or(CLOSED, std::memory_order_acq_rel);",
         replace="const std::uintptr_t prev = state_.fetch_or(CLOSED, std::memory_order_acquire);",
         tests=["//model:oneshot"]),
    dict(id="oneshot.rx_register_relaxed", file="sync/oneshot.h",
         what="the receiver publishes its waker with a relaxed fetch_or",
         find="state = state_.fetch_or(RX_TASK_SET, std::memory_order_acq_rel);",
         replace="state = state_.fetch_or(RX_TASK_SET, std::memory_order_relaxed);",
         tests=["//model:oneshot"]),
    dict(id="oneshot.drop_leaks_value", file="sync/oneshot.h",
         what="the Receiver's destructor does not destroy a value sent but never received",
         find="      if ((prev & detail::OneshotInner<T>::VALUE_SENT) != 0) inner->consume_value();\n",
         replace="      (void)prev;\n",
         tests=["//model:oneshot"]),
    dict(id="oneshot.release_relaxed", file="sync/oneshot.h",
         what="the Sender releases its hold on the shared state with a relaxed fetch_or",
         find="if ((state_.fetch_or(TX_RELEASED, std::memory_order_acq_rel) & RX_RELEASED) != 0) {",
         replace="if ((state_.fetch_or(TX_RELEASED, std::memory_order_relaxed) & RX_RELEASED) != 0) {",
         tests=["//model:oneshot"]),
    dict(id="oneshot.send_releases_before_wake", file="sync/oneshot.h",
         what="send's CAS releases the Sender's hold even when it still has to wake the receiver",
         find="state | VALUE_SENT | ((state & (RX_TASK_SET | TX_TASK_SET)) == 0 ? TX_RELEASED : 0);",
         replace="state | VALUE_SENT | TX_RELEASED;",
         tests=["//model:oneshot"]),
    # --- sync/notify.h
    dict(id="notify.enqueue_cas_acquire", file="sync/notify.h",
         what="the enqueue CAS (EMPTY -> WAITING) is Acquire, not SeqCst: has_enqueued()'s "
              "Dekker pair with watch's send breaks",
         find="""            enqueue = notify.state_.compare_exchange_strong(
                word, Notify::set_state(word, Notify::WAITING), std::memory_order_seq_cst,
                std::memory_order_acquire);""",
         replace="""            enqueue = notify.state_.compare_exchange_strong(
                word, Notify::set_state(word, Notify::WAITING), std::memory_order_acquire,
                std::memory_order_acquire);""",
         tests=["//model:watch"]),
    dict(id="notify.has_enqueued_acquire", file="sync/notify.h",
         what="has_enqueued() loads the state with Acquire, not SeqCst: a send can miss a "
              "receiver that enqueued just before it looked",
         find="return get_state(state_.load(std::memory_order_seq_cst)) == WAITING;",
         replace="return get_state(state_.load(std::memory_order_acquire)) == WAITING;",
         tests=["//model:watch"]),
    dict(id="notify.fast_path_store_relaxed", file="sync/notify.h",
         what="notify_one's lock-free CAS storing the permit is relaxed",
         find="""    if (state_.compare_exchange_strong(word, set_state(word, NOTIFIED), std::memory_order_release,
                                     std::memory_order_relaxed)) {""",
         replace="""    if (state_.compare_exchange_strong(word, set_state(word, NOTIFIED), std::memory_order_relaxed,
                                     std::memory_order_relaxed)) {""",
         tests=["//model:notify"]),
    dict(id="notify.notification_store_relaxed", file="sync/notify.h",
         what="notify_locked publishes the notification with a relaxed store",
         find="waiter->notification.store(strategy, std::memory_order_release);",
         replace="waiter->notification.store(strategy, std::memory_order_relaxed);",
         tests=["//model:notify"]),
    dict(id="notify.cancel_forward_dropped", file="sync/notify.h",
         what="a Notified destroyed after notify_one chose it does not forward the notification",
         find="""      if (notification == NotifyWaiter::ONE || notification == NotifyWaiter::LAST) {
        forward = notify.notify_locked(list, word, notification);
      }""",
         replace="",
         tests=["//model:time", "//model:notify"]),
    dict(id="notify.waiters_wake_dropped", file="sync/notify.h",
         what="notify_waiters marks the waiters notified but never wakes them",
         find="      if (waker) wakers.push(std::move(*waker));\n",
         replace="",
         tests=["//model:notify"]),
    dict(id="notify.waiting_not_cleared", file="sync/notify.h",
         what="the last waiter leaving the list does not move the state out of WAITING",
         find="""  if (list.is_empty()) {
    state_.store(set_state(word, EMPTY), std::memory_order_relaxed);
  }""",
         replace="",
         tests=["//model:notify"]),
    dict(id="notify.cancel_unlink_skipped", file="sync/notify.h",
         what="a cancelled Notified does not unlink itself from the waiter list",
         find="""      if (notification == NotifyWaiter::NONE) {
        const bool linked = list.remove(&waiter_);
        WEFT_INVARIANT(linked);
      }""",
         replace="",
         tests=["//model:notify"]),
    dict(id="notify.consume_permit_relaxed", file="sync/notify.h",
         what="the lock-free CAS that consumes the permit is relaxed",
         find="""          notify.state_.compare_exchange_strong(word, Notify::set_state(word, Notify::EMPTY),
                                                std::memory_order_acquire,
                                                std::memory_order_relaxed)) {""",
         replace="""          notify.state_.compare_exchange_strong(word, Notify::set_state(word, Notify::EMPTY),
                                                std::memory_order_relaxed,
                                                std::memory_order_relaxed)) {""",
         tests=["//model:notify"]),
    # --- sync/detail/batch_semaphore.h
    dict(id="batch_semaphore.release_fast_relaxed", file="sync/detail/batch_semaphore.h",
         what="release()'s lock-free CAS adding permits is relaxed",
         find="""      if (permits_.compare_exchange_weak(curr, next, std::memory_order_release,
                                         std::memory_order_relaxed)) {
        return true;""",
         replace="""      if (permits_.compare_exchange_weak(curr, next, std::memory_order_relaxed,
                                         std::memory_order_relaxed)) {
        return true;""",
         tests=["//model:semaphore_batch"]),
    dict(id="batch_semaphore.fast_take_relaxed", file="sync/detail/batch_semaphore.h",
         what="the acquire fast path's CAS (try_take, first poll) is relaxed",
         find="""    return permits_.compare_exchange_strong(curr, curr - (n << PERMIT_SHIFT),
                                            std::memory_order_acq_rel,
                                            std::memory_order_relaxed);""",
         replace="""    return permits_.compare_exchange_strong(curr, curr - (n << PERMIT_SHIFT),
                                            std::memory_order_relaxed,
                                            std::memory_order_relaxed);""",
         tests=["//model:mutex"]),
    dict(id="batch_semaphore.idle_release_relaxed", file="sync/detail/batch_semaphore.h",
         what="the usually_idle guess CAS of a lock-free release (Mutex unlock) is relaxed",
         find="""      if (permits_.compare_exchange_strong(curr, idle_, std::memory_order_release,""",
         replace="""      if (permits_.compare_exchange_strong(curr, idle_, std::memory_order_relaxed,""",
         tests=["//model:mutex"]),
    dict(id="batch_semaphore.idle_try_acquire_relaxed", file="sync/detail/batch_semaphore.h",
         what="the usually_idle guess CAS of try_acquire (Mutex::try_lock, blocking_lock) is relaxed",
         find="""      if (permits_.compare_exchange_strong(curr, idle_ - wanted, std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {""",
         replace="""      if (permits_.compare_exchange_strong(curr, idle_ - wanted, std::memory_order_relaxed,
                                           std::memory_order_relaxed)) {""",
         tests=["//model:mutex"]),
    dict(id="batch_semaphore.try_acquire_relaxed", file="sync/detail/batch_semaphore.h",
         what="try_acquire's CAS taking permits is relaxed",
         find="""      if (permits_.compare_exchange_weak(curr, curr - wanted, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {""",
         replace="""      if (permits_.compare_exchange_weak(curr, curr - wanted, std::memory_order_relaxed,
                                         std::memory_order_relaxed)) {""",
         tests=["//model:semaphore_batch"]),
    dict(id="batch_semaphore.release_wake_dropped", file="sync/detail/batch_semaphore.h",
         what="a release that completes a waiter unlinks it but never wakes it",
         find="""        queue_.pop_back();
        oldest->waker.with_mut([&](std::optional<Waker>& w) {
          if (w) wakers.push(std::move(*w));
          w.reset();
        });""",
         replace="""        queue_.pop_back();""",
         tests=["//model:semaphore_batch"]),
    dict(id="batch_semaphore.close_no_drain", file="sync/detail/batch_semaphore.h",
         what="close() sets CLOSED but leaves the waiters queued, unwoken",
         find="wake_in_batches(guard, waiters_lock_, [&](WakeList& wakers) { return drain_locked(wakers); });",
         replace="guard.unlock();",
         tests=["//model:semaphore_batch"]),
    dict(id="batch_semaphore.cancel_keeps_permits", file="sync/detail/batch_semaphore.h",
         what="a cancelled acquire does not give back the permits assigned to it",
         find="""  node.waker.with_mut([&](std::optional<Waker>& w) { old = std::move(w); w.reset(); });
  release_locked(assigned, lock, Overflow::saturate);""",
         replace="""  node.waker.with_mut([&](std::optional<Waker>& w) { old = std::move(w); w.reset(); });
  (void)assigned;
  release_locked(0, lock, Overflow::saturate);""",
         tests=["//model:semaphore_batch", "//model:mutex", "//model:rwlock", "//model:semaphore"]),
    dict(id="batch_semaphore.lock_after_cas", file="sync/detail/batch_semaphore.h",
         what="an acquirer short of permits locks only after its CAS set WAITERS (window)",
         find="""      short_of_permits = true;
      lock.lock();
    }""",
         replace="""      short_of_permits = true;
    }""",
         tests=["//model:semaphore_batch"]),
    dict(id="batch_semaphore.assign_relaxed", file="sync/detail/batch_semaphore.h",
         what="assign_permits publishes a waiter's remaining need with a relaxed store",
         find="waiter.state.store(curr - assign, std::memory_order_release);",
         replace="waiter.state.store(curr - assign, std::memory_order_relaxed);",
         tests=["//model:semaphore_batch"],
         equivalent="assign_permits never stores the 0 that a queued node's lock-free re-poll "
                    "(served) completes on: a partial assignment stores a non-zero need, and a met "
                    "one is stored by release_locked's own Release store (served_relaxed). Other "
                    "reads of state are hints re-read under waiters_lock_; a stale hint only makes "
                    "it take permits that release_locked gives back at once"),
    dict(id="batch_semaphore.cancel_unlink_skipped", file="sync/detail/batch_semaphore.h",
         what="a cancelled acquire stays linked in the waiter queue",
         find="""  lock.lock();
  queue_.remove(&node);""",
         replace="""  lock.lock();""",
         tests=["//model:semaphore_batch"]),
    dict(id="batch_semaphore.waiters_flag_kept", file="sync/detail/batch_semaphore.h",
         what="release_locked adds permits to the count without clearing WAITERS",
         find="return (curr & CLOSED) | (next_count << PERMIT_SHIFT);",
         replace="return (curr & FLAGS) | (next_count << PERMIT_SHIFT);",
         tests=["//model:semaphore_batch"],
         equivalent="the count only grows while the queue is empty, so WAITERS left set with a "
                    "non-zero count changes no outcome: acquirers still take the count first, "
                    "release() just always takes the lock path (slower, not wrong)"),
    dict(id="batch_semaphore.served_relaxed", file="sync/detail/batch_semaphore.h",
         what="the release's store of 0 into a served waiter's state is relaxed: its lock-free "
              "re-poll (served) is not ordered after the permits' release",
         find="oldest->state.store(0, std::memory_order_release);",
         replace="oldest->state.store(0, std::memory_order_relaxed);",
         tests=["//model:semaphore_batch", "//model:mutex"]),
    dict(id="batch_semaphore.served_load_relaxed", file="sync/detail/batch_semaphore.h",
         what="served() reads the waiter's state with a relaxed load",
         find="if (node.state.load(std::memory_order_acquire) != 0) return false;",
         replace="if (node.state.load(std::memory_order_relaxed) != 0) return false;",
         tests=["//model:semaphore_batch"]),
    dict(id="batch_semaphore.served_before_unlink", file="sync/detail/batch_semaphore.h",
         what="the release stores 0 into a served waiter's state before it unlinks the node and "
              "takes its waker: the owner may complete and free the node first",
         find="""        rem -= need;
        queue_.pop_back();
        oldest->waker.with_mut([&](std::optional<Waker>& w) {
          if (w) wakers.push(std::move(*w));
          w.reset();
        });
        oldest->state.store(0, std::memory_order_release);""",
         replace="""        rem -= need;
        oldest->state.store(0, std::memory_order_release);
        queue_.pop_back();
        oldest->waker.with_mut([&](std::optional<Waker>& w) {
          if (w) wakers.push(std::move(*w));
          w.reset();
        });""",
         tests=["//model:semaphore_batch"]),
    # --- sync/semaphore.h
    dict(id="semaphore.permit_not_returned", file="sync/semaphore.h",
         what="a SemaphorePermit's destructor does not give its permits back",
         find="""inline void SemaphorePermit::release() noexcept {
  if (permits_ != 0) sem_->give_back(std::exchange(permits_, 0));""",
         replace="""inline void SemaphorePermit::release() noexcept {
  permits_ = 0;""",
         tests=["//model:semaphore"]),
    dict(id="semaphore.owned_permit_returned_twice", file="sync/semaphore.h",
         what="an OwnedSemaphorePermit gives its permits back twice",
         find="""  if (permits_ != 0) sem_->give_back(std::exchange(permits_, 0));
  sem_.reset();""",
         replace="""  if (permits_ != 0) sem_->give_back(permits_ + std::exchange(permits_, 0));
  sem_.reset();""",
         tests=["//model:semaphore"]),
    dict(id="semaphore.acquire_many_counts_one", file="sync/semaphore.h",
         what="the permit of acquire_many(n) holds 1 permit instead of n",
         find="""      return p.value().is_ok() ? Out(SemaphorePermit(sem_, inner_.num_permits()))""",
         replace="""      return p.value().is_ok() ? Out(SemaphorePermit(sem_, 1))""",
         tests=["//model:semaphore"]),
    # --- sync/mpsc/*
    dict(id="mpsc.unbounded_closed_bit_dropped", file="sync/mpsc/list.h",
         what="the unbounded channel's close() never sets RX_CLOSED in the tail word (sends "
              "still succeed)",
         find="return tail_position_.fetch_or(RX_CLOSED, std::memory_order_release);",
         replace="return tail_position_.load(std::memory_order_acquire);",
         tests=["//model:mpsc"]),
    dict(id="mpsc.hole_not_passed", file="sync/mpsc/list.h",
         what="the receiver stops at a hole (a slot whose write threw) instead of passing it",
         find="case SlotRead::Hole: ++index_; break;",
         replace="case SlotRead::Hole: return ReadStatus::Empty;",
         tests=["//model:mpsc"]),
    dict(id="mpsc.hole_bit_ignored", file="sync/mpsc/block.h",
         what="the receiver reads a hole as a value (storage no constructor finished)",
         find="if ((seen.holes & bit) != 0) return SlotRead::Hole;",
         replace="",
         tests=["//model:mpsc"]),
    dict(id="mpsc.hole_bits_before_ready_word", file="sync/mpsc/block.h",
         what="the receiver loads the hole bits before the ready word, so a hole made just "
              "before its ready bit is read as a value",
         find="""      seen.ready = ready_slots_.load(std::memory_order_seq_cst);
      if ((seen.ready & bit) == 0) {
        return (seen.ready & TX_CLOSED) != 0 ? SlotRead::Closed : SlotRead::Empty;
      }
      seen.holes = holes_.load(std::memory_order_relaxed);""",
         replace="""      seen.holes = holes_.load(std::memory_order_relaxed);
      seen.ready = ready_slots_.load(std::memory_order_seq_cst);
      if ((seen.ready & bit) == 0) {
        return (seen.ready & TX_CLOSED) != 0 ? SlotRead::Closed : SlotRead::Empty;
      }""",
         tests=["//model:mpsc"]),
    dict(id="mpsc.failed_send_keeps_capacity", file="sync/mpsc/chan.h",
         what="a bounded send whose value threw keeps the capacity it held",
         find="if constexpr (!S::closes_in_list) semaphore_.add_permits(1);",
         replace="",
         tests=["//model:mpsc"]),
    dict(id="mpsc.failed_send_no_wake", file="sync/mpsc/chan.h",
         what="a send whose value threw does not wake the receiver",
         find="""    if constexpr (!S::closes_in_list) semaphore_.add_permits(1);
    wake_rx();""",
         replace="""    if constexpr (!S::closes_in_list) semaphore_.add_permits(1);""",
         tests=["//model:mpsc"]),
    dict(id="mpsc.try_push_ignores_rx_closed", file="sync/mpsc/list.h",
         what="an unbounded send claims and fills a slot after the receiver's close",
         find="if ((word & RX_CLOSED) != 0) return false;",
         replace="",
         tests=["//model:mpsc"]),
    dict(id="mpsc.rx_close_stops_at_read_index", file="sync/mpsc/list.h",
         what="the receiver's close() ends the receives at the values it has read, not at "
              "the values claimed before the close (a send that returned Ok is lost)",
         find="if (!values_before_rx_close_) values_before_rx_close_ = values_claimed(tx.close_rx());",
         replace="if (!values_before_rx_close_) { (void)tx.close_rx(); values_before_rx_close_ = index_; }",
         tests=["//model:mpsc"]),
    dict(id="mpsc.len_counts_failed_claims", file="sync/mpsc/list.h",
         what="after the receiver's close, the slots of failed sends count as values (len() "
              "above 0, try_recv waiting for a value that never comes)",
         find="if (values_before_rx_close_) return *values_before_rx_close_;",
         replace="",
         tests=["//model:mpsc"]),
    dict(id="mpsc.rx_close_relaxed", file="sync/mpsc/list.h",
         what="the receiver's close (RX_CLOSED in the tail word) is relaxed",
         find="return tail_position_.fetch_or(RX_CLOSED, std::memory_order_release);",
         replace="return tail_position_.fetch_or(RX_CLOSED, std::memory_order_relaxed);",
         tests=["//model:mpsc"]),
    dict(id="mpsc.try_push_claim_release", file="sync/mpsc/list.h",
         what="an unbounded send's claim is Release only: a send that fails does not see what "
              "the receiver did before close()",
         find="""    const std::size_t word = tail_position_.fetch_add(SLOT, std::memory_order_acq_rel);
    WEFT_INVARIANT((word & CLOSED) == 0);
    if ((word & RX_CLOSED) != 0) return false;""",
         replace="""    const std::size_t word = tail_position_.fetch_add(SLOT, std::memory_order_release);
    WEFT_INVARIANT((word & CLOSED) == 0);
    if ((word & RX_CLOSED) != 0) return false;""",
         tests=["//model:mpsc"]),
    dict(id="mpsc.rx_closed_load_relaxed", file="sync/mpsc/list.h",
         what="a sender's is_closed() loads the tail word relaxed",
         find="return (tail_position_.load(std::memory_order_acquire) & RX_CLOSED) != 0;",
         replace="return (tail_position_.load(std::memory_order_relaxed) & RX_CLOSED) != 0;",
         tests=["//model:mpsc"]),
    dict(id="mpsc.send_wake_dropped", file="sync/mpsc/chan.h",
         what="Chan::send pushes the value and takes RX_WAITING but never wakes the receiver",
         find="""        rx_waiting_.exchange(false, std::memory_order_relaxed)) {
      rx_waker_.wake();
    }""",
         replace="""        rx_waiting_.exchange(false, std::memory_order_relaxed)) {
    }""",
         tests=["//model:mpsc"]),
    dict(id="mpsc.send_flag_load_acquire", file="sync/mpsc/chan.h",
         what="Chan::send loads RX_WAITING Acquire, not SeqCst (store-buffering with the receiver)",
         find="if (rx_waiting_.load(std::memory_order_seq_cst) &&",
         replace="if (rx_waiting_.load(std::memory_order_acquire) &&",
         tests=["//model:mpsc"]),
    dict(id="mpsc.register_flag_store_release", file="sync/mpsc/chan.h",
         what="the receiver sets RX_WAITING with a Release store, not SeqCst",
         find="chan_->rx_waiting_.store(true, std::memory_order_seq_cst);",
         replace="chan_->rx_waiting_.store(true, std::memory_order_release);",
         tests=["//model:mpsc"]),
    dict(id="mpsc.rx_next_load_acquire", file="sync/mpsc/list.h",
         what="the receiver's look for the next block is Acquire, not SeqCst (misses a new link)",
         find="      Block<T>* next = head_->load_next(std::memory_order_seq_cst);",
         replace="      Block<T>* next = head_->load_next(std::memory_order_acquire);",
         tests=["//model:mpsc"]),
    dict(id="mpsc.rx_waiting_not_set", file="sync/mpsc/chan.h",
         what="the receiver registers its waker but never sets RX_WAITING",
         find="    chan_->rx_waiting_.store(true, std::memory_order_seq_cst);\n",
         replace="",
         tests=["//model:mpsc"]),
    dict(id="mpsc.last_sender_no_wake", file="sync/mpsc/chan.h",
         what="the last sender closes the list but never wakes the receiver",
         find="""      chan->tx_.close();
      chan->wake_rx();""",
         replace="""      chan->tx_.close();""",
         tests=["//model:mpsc"]),
    dict(id="mpsc.tx_count_relaxed", file="sync/mpsc/chan.h",
         what="a sender's drop decrements the sender count relaxed",
         find="if (chan->tx_count_.fetch_sub(1, std::memory_order_acq_rel) == 1) {",
         replace="if (chan->tx_count_.fetch_sub(1, std::memory_order_relaxed) == 1) {",
         tests=["//model:mpsc"]),
    dict(id="mpsc.close_notify_dropped", file="sync/mpsc/chan.h",
         what="Receiver::close never completes the senders' closed() futures",
         find="""    chan_->semaphore_.close();
    chan_->notify_rx_closed_.notify_all();""",
         replace="""    chan_->semaphore_.close();""",
         tests=["//model:mpsc"]),
    dict(id="mpsc.recv_permit_not_returned", file="sync/mpsc/chan.h",
         what="poll_recv takes a value without giving its capacity back",
         find="case ReadStatus::Value: received(f, 1); return answer;",
         replace="case ReadStatus::Value: return answer;",
         tests=["//model:mpsc"]),
    dict(id="mpsc.block_write_relaxed", file="sync/mpsc/block.h",
         what="a slot's ready bit is set relaxed: the value is not published",
         find="ready_slots_.fetch_or(std::uint64_t{1} << slot, std::memory_order_seq_cst);",
         replace="ready_slots_.fetch_or(std::uint64_t{1} << slot, std::memory_order_relaxed);",
         tests=["//model:mpsc_list", "//model:mpsc"]),
    dict(id="mpsc.block_write_release", file="sync/mpsc/block.h",
         what="a slot's ready bit is set Release, not SeqCst (store-buffering with RX_WAITING)",
         find="ready_slots_.fetch_or(std::uint64_t{1} << slot, std::memory_order_seq_cst);",
         replace="ready_slots_.fetch_or(std::uint64_t{1} << slot, std::memory_order_release);",
         tests=["//model:mpsc"]),
    dict(id="mpsc.block_read_relaxed", file="sync/mpsc/block.h",
         what="the receiver reads a slot's ready bits relaxed",
         find="      seen.ready = ready_slots_.load(std::memory_order_seq_cst);",
         replace="      seen.ready = ready_slots_.load(std::memory_order_relaxed);",
         tests=["//model:mpsc_list", "//model:mpsc"]),
    dict(id="mpsc.known_ready_kept_across_blocks", file="sync/mpsc/list.h",
         what="the receiver keeps its copy of a ready word when it moves to the next block",
         find="""      head_ = next;
      seen_ = {};""",
         replace="""      head_ = next;""",
         tests=["//model:mpsc_list", "//model:mpsc"]),
    dict(id="mpsc.tx_release_relaxed", file="sync/mpsc/block.h",
         what="RELEASED is set relaxed: the observed tail position is not published",
         find="ready_slots_.fetch_or(RELEASED, std::memory_order_release);",
         replace="ready_slots_.fetch_or(RELEASED, std::memory_order_relaxed);",
         tests=["//model:mpsc_list", "//model:mpsc"]),
    dict(id="mpsc.bounded_permit_drop_no_wake", file="sync/mpsc/bounded.h",
         what="returning the last permit of a closed channel does not wake the receiver",
         find="  if (semaphore.is_closed() && semaphore.is_idle()) chan.wake_rx();\n",
         replace="  (void)semaphore;\n",
         tests=["//model:mpsc"]),
    dict(id="mpsc.capacity_wait_cancel_no_wake", file="sync/mpsc/bounded.h",
         what="a capacity wait that was pending ends (cancelled or failed on close) and gives "
              "its assigned permits back without waking a receiver waiting for the end",
         find="""      chan_->semaphore().wait_ended();
      wake_rx_if_drained(*chan_);""",
         replace="""      chan_->semaphore().wait_ended();""",
         tests=["//model:mpsc"]),
    dict(id="mpsc.rx_drop_keeps_waker", file="sync/mpsc/chan.h",
         what="the receiver's drop leaves its registered waker in the channel the senders "
              "keep alive (tokio#8095)",
         find="    (void)chan->rx_waker_.take_waker();\n",
         replace="",
         tests=["//model:mpsc"]),
    dict(id="mpsc.owned_permit_release_no_wake", file="sync/mpsc/bounded.h",
         what="OwnedPermit::release gives its permit back without waking a receiver waiting "
              "for the end of a closed channel (tokio#8075)",
         find="""    detail::release_permits(tx.chan(), 1);
    return Sender<T>(std::move(tx));""",
         replace="""    tx.semaphore().add_permits(1);
    return Sender<T>(std::move(tx));""",
         tests=["//model:mpsc"]),
    dict(id="mpsc.try_recv_closed_ignores_permits", file="sync/mpsc/chan.h",
         what="try_recv after close() says Disconnected while a permit may still send "
              "(tokio#8074)",
         find="""          case TryPop::Empty:
            if (drained_after_close(f)) {""",
         replace="""          case TryPop::Empty:
            if (f.rx_closed) {""",
         tests=["//model:mpsc"]),
    dict(id="mpsc.try_recv_closed_stays_empty", file="sync/mpsc/chan.h",
         what="try_recv after close() and drained says Empty while senders remain "
              "(tokio#7686)",
         find="""          case TryPop::Empty:
            if (drained_after_close(f)) {""",
         replace="""          case TryPop::Empty:
            if (false) {""",
         tests=["//model:mpsc"]),
    dict(id="mpsc.ready_after_register_keeps_waker", file="sync/mpsc/chan.h",
         what="a receive that registered its waker and then finds its answer returns ready "
              "with the waker still in the channel",
         find="""    if (!answer) return pending;
    (void)chan_->rx_waker_.take_waker();
""",
         replace="""    if (!answer) return pending;
""",
         tests=["//model:mpsc"]),
    dict(id="mpsc.unbounded_count_cas_split", file="sync/mpsc/list.h",
         what="an unbounded send claims its slot with a load and a store that rebuilds the "
              "tail word, undoing a close() in between",
         find="""    const std::size_t word = tail_position_.fetch_add(SLOT, std::memory_order_acq_rel);
    WEFT_INVARIANT((word & CLOSED) == 0);
    if ((word & RX_CLOSED) != 0) return false;""",
         replace="""    const std::size_t word = tail_position_.load(std::memory_order_acquire);
    tail_position_.store(word + SLOT, std::memory_order_release);
    WEFT_INVARIANT((word & CLOSED) == 0);
    if ((word & RX_CLOSED) != 0) return false;""",
         tests=["//model:mpsc"]),
    dict(id="mpsc.len_counts_close_slot", file="sync/mpsc/list.h",
         what="len() counts the close slot as a value (the len() of tokio#8062: n + 1 "
              "after the last sender's drop)",
         find="return values_claimed(tx.tail_word()) - index_;",
         replace="return (tx.tail_word() >> ListTx<T>::SLOT_SHIFT) - index_;",
         tests=["//model:mpsc"]),
    # --- sync/mpsc/bounded_capacity.h and its callers: the lazy give-back (issue 16)
    dict(id="mpsc.received_store_release", file="sync/mpsc/bounded_capacity.h",
         what="the receiver publishes its count of received values Release, not SeqCst "
              "(store-buffering with a queued sender's count-in and harvest)",
         find="received_.store(received, std::memory_order_seq_cst);",
         replace="received_.store(received, std::memory_order_release);",
         tests=["//model:mpsc"]),
    dict(id="mpsc.waiters_load_acquire", file="sync/mpsc/bounded_capacity.h",
         what="the receiver looks for queued senders with an Acquire load, not SeqCst",
         find="if (waiters_.load(std::memory_order_seq_cst) != 0 && semaphore.has_waiters()) {",
         replace="if (waiters_.load(std::memory_order_acquire) != 0 && semaphore.has_waiters()) {",
         tests=["//model:mpsc"]),
    dict(id="mpsc.harvest_received_load_acquire", file="sync/mpsc/bounded_capacity.h",
         what="a harvest loads the receiver's count Acquire, not SeqCst (a queued sender's "
              "harvest misses the receive)",
         find="const std::uint64_t received = received_.load(std::memory_order_seq_cst);",
         replace="const std::uint64_t received = received_.load(std::memory_order_acquire);",
         tests=["//model:mpsc"]),
    dict(id="mpsc.wait_started_release", file="sync/mpsc/bounded_capacity.h",
         what="a queued sender counts itself in with a Release RMW, not SeqCst",
         find="waiters_.fetch_add(1, std::memory_order_seq_cst);",
         replace="waiters_.fetch_add(1, std::memory_order_release);",
         tests=["//model:mpsc"]),
    dict(id="mpsc.receiver_skips_waiters", file="sync/mpsc/bounded_capacity.h",
         what="the receiver never harvests for queued senders",
         find="""    if (waiters_.load(std::memory_order_seq_cst) != 0 && semaphore.has_waiters()) {
      (void)harvest();
    }""",
         replace="",
         tests=["//model:mpsc"]),
    dict(id="mpsc.queued_wait_no_harvest", file="sync/mpsc/bounded.h",
         what="a capacity wait counts itself in once queued but does not harvest after",
         find="""        capacity.wait_started();
        (void)capacity.harvest();""",
         replace="""        capacity.wait_started();""",
         tests=["//model:mpsc"]),
    dict(id="mpsc.try_path_no_harvest", file="sync/mpsc/bounded_capacity.h",
         what="try_send / try_reserve say Full without harvesting the receiver's count",
         find="const Harvest found = harvest();",
         replace="const Harvest found{};",
         tests=["//model:mpsc"]),
    dict(id="mpsc.try_path_full_when_nothing_new", file="sync/mpsc/bounded_capacity.h",
         what="the try path says Full once a harvest after a failed try finds nothing new, "
              "missing another sender's harvest released after that try's load",
         find="if ((found.word >> BatchSemaphore::PERMIT_SHIFT) + found.fresh < n) {",
         replace="if (found.fresh == 0) {",
         tests=["//model:mpsc"]),
    dict(id="mpsc.try_path_retries_once_outside_lock", file="sync/mpsc/bounded_capacity.h",
         what="the try path harvests and retries once without the lock (step 1): the retry "
              "may read a take that followed a receive the harvest's load missed",
         find="""      if ((found.word >> BatchSemaphore::PERMIT_SHIFT) + found.fresh < n) {
        return Err(TryAcquireError::NoPermits);
      }""",
         replace="""      return semaphore.try_acquire(n + 0 * found.fresh);""",
         tests=["//model:mpsc"]),
    dict(id="mpsc.harvest_word_load_relaxed", file="sync/detail/batch_semaphore.h",
         what="the harvest's load of the permit word is relaxed: the try path's later load "
              "of the receiver's count may miss a receive whose take that load read",
         find="const std::size_t added = count(permits_.load(std::memory_order_acquire));",
         replace="const std::size_t added = count(permits_.load(std::memory_order_relaxed));",
         tests=["//model:mpsc"]),
    dict(id="mpsc.receiver_flush_skipped", file="sync/mpsc/bounded_capacity.h",
         what="the receiver looks for the end of a closed channel without harvesting first",
         find="""    (void)harvest();
    flushed_.set(received);""",
         replace="""    flushed_.set(received);""",
         tests=["//model:mpsc"]),
    dict(id="mpsc.capacity_ignores_received", file="sync/mpsc/bounded_capacity.h",
         what="capacity() and is_idle() leave out values received and not yet harvested",
         find="return permits + (received > harvested ? static_cast<std::size_t>(received - harvested) : 0);",
         replace="return permits + 0 * (received - harvested);",
         tests=["//model:mpsc"]),
    # --- sync/broadcast.h
    dict(id="broadcast.send_no_notify", file="sync/broadcast.h",
         what="send stores the value but never wakes the waiting receivers",
         find="""    receivers = rem;
    notify_rx(tail);""",
         replace="""    receivers = rem;
    tail.unlock();""",
         tests=["//model:broadcast"]),
    dict(id="broadcast.close_no_notify", file="sync/broadcast.h",
         what="the last Sender closes the channel without waking the receivers",
         find="""    set(closed_, true);
    notify_rx(tail);""",
         replace="""    set(closed_, true);
    tail.unlock();""",
         tests=["//model:broadcast"]),
    dict(id="broadcast.take_waker_relaxed", file="sync/broadcast.h",
         what="a notifier clears a waiter's queued flag relaxed (the owner skips the lock)",
         find="w->queued.store(false, std::memory_order_release);",
         replace="w->queued.store(false, std::memory_order_relaxed);",
         tests=["//model:broadcast"]),
    dict(id="broadcast.cancel_unlink_skipped", file="sync/broadcast.h",
         what="a dropped recv() future stays linked in the wait list",
         find="""        (closed_list ? closed_waiters_ : waiters_).remove(&waiter);
        waiter.queued.store(false, std::memory_order_relaxed);""",
         replace="""        (void)closed_list;
        waiter.queued.store(false, std::memory_order_relaxed);""",
         tests=["//model:broadcast"]),
    dict(id="broadcast.sender_count_relaxed", file="sync/broadcast.h",
         what="a Sender's drop decrements the sender count relaxed",
         find="if (shared->num_tx.fetch_sub(1, std::memory_order_acq_rel) == 1) shared->close_channel();",
         replace="if (shared->num_tx.fetch_sub(1, std::memory_order_relaxed) == 1) shared->close_channel();",
         tests=["//model:broadcast"]),
    dict(id="broadcast.share_not_released", file="sync/broadcast.h",
         what="a receiver's read does not release its share of the slot",
         find="""      const std::size_t rem = get(slot.rem) - 1;
      set(slot.rem, rem);""",
         replace="""      const std::size_t rem = get(slot.rem);""",
         tests=["//model:broadcast"]),
    # sync/broadcast.h, the seqlock slot (a trivially copyable T)
    # --- sync/detail/seq_value.h (broadcast's slots and watch's by-copy value)
    dict(id="seq_value.stamp_store_relaxed", file="sync/detail/seq_value.h",
         what="the writer's stamp of a complete value is relaxed (a reader may copy the "
              "words before it)",
         find="stamp_.store(stamp, std::memory_order_release);",
         replace="stamp_.store(stamp, std::memory_order_relaxed);",
         tests=["//model:broadcast", "//model:watch"]),
    dict(id="seq_value.writer_fence_dropped", file="sync/detail/seq_value.h",
         what="no Release fence between the odd stamp and the words (a copy of new words "
              "may still see the old stamp)",
         find="""    stamp_.store(stamp + 1, std::memory_order_relaxed);
    platform::fence(std::memory_order_release);""",
         replace="""    stamp_.store(stamp + 1, std::memory_order_relaxed);""",
         tests=["//model:broadcast", "//model:watch"]),
    dict(id="seq_value.odd_stamp_skipped", file="sync/detail/seq_value.h",
         what="the writer does not mark the value odd before writing the words",
         find="""    stamp_.store(stamp + 1, std::memory_order_relaxed);
    platform::fence(std::memory_order_release);""",
         replace="""    platform::fence(std::memory_order_release);""",
         tests=["//model:broadcast", "//model:watch"]),
    dict(id="seq_value.stamp_load_relaxed", file="sync/detail/seq_value.h",
         what="a reader's first load of the stamp is relaxed",
         find="const std::uint64_t before = stamp_.load(std::memory_order_acquire);",
         replace="const std::uint64_t before = stamp_.load(std::memory_order_relaxed);",
         tests=["//model:broadcast", "//model:watch"]),
    dict(id="seq_value.reader_fence_dropped", file="sync/detail/seq_value.h",
         what="no Acquire fence between a reader's copy and its second stamp load",
         find="""    const T copy = get_words();
    platform::fence(std::memory_order_acquire);""",
         replace="""    const T copy = get_words();""",
         tests=["//model:broadcast", "//model:watch"]),
    dict(id="seq_value.recheck_skipped", file="sync/detail/seq_value.h",
         what="a reader keeps its copy without checking the stamp again",
         find="if (stamp_.load(std::memory_order_relaxed) != before) return std::nullopt;",
         replace="",
         tests=["//model:broadcast", "//model:watch"]),
    dict(id="seq_value.odd_stamp_accepted", file="sync/detail/seq_value.h",
         what="load() takes a copy made while a write was under way (an odd stamp)",
         find="if (any ? !complete(before) : before != want) return std::nullopt;",
         replace="if (!any && before != want) return std::nullopt;",
         tests=["//model:watch"]),
    dict(id="broadcast.seq_cursor_not_published", file="sync/broadcast.h",
         what="a receive does not move the receiver's cursor (len() keeps counting what "
              "it read)",
         find="if (next_ != before) cursor_->next.store(next_, std::memory_order_relaxed);",
         replace="(void)before;",
         tests=["//model:broadcast"]),
    # --- sync/watch.h
    dict(id="watch.send_no_notify", file="sync/watch.h",
         what="send_if_modified stores a new version but never wakes the receivers",
         find="""    if (!s.store(std::forward<F>(modify))) return false;
    s.notify_rx.notify_enqueued();""",
         replace="""    if (!s.store(std::forward<F>(modify))) return false;""",
         tests=["//model:watch"]),
    dict(id="watch.replace_no_notify", file="sync/watch.h",
         what="send() / send_replace() of a by-copy value stores it but wakes nobody",
         find="""      T old = s.replace(value);
      s.notify_rx.notify_enqueued();""",
         replace="""      T old = s.replace(value);""",
         tests=["//model:watch"]),
    dict(id="watch.writing_bit_ignored", file="sync/watch.h",
         what="a by-copy writer takes the WRITING bit even while another holds it: two "
              "writers store at once (lost updates, torn stamps)",
         find="""    while ((s & WRITING) == 0) {
      if (state.compare_exchange_strong(s, s + bump + WRITING, std::memory_order_seq_cst,""",
         replace="""    for (;;) {
      if (state.compare_exchange_strong(s, (s | WRITING) + bump, std::memory_order_seq_cst,""",
         tests=["//model:watch"]),
    dict(id="watch.begin_write_acq_rel", file="sync/watch.h",
         what="the CAS that takes the WRITING bit (and bumps a send's version) is AcqRel, not "
              "SeqCst: the Dekker pair with a receiver's check after it enqueues breaks",
         find="if (state.compare_exchange_strong(s, s + bump + WRITING, std::memory_order_seq_cst,",
         replace="if (state.compare_exchange_strong(s, s + bump + WRITING, std::memory_order_acq_rel,",
         tests=["//model:watch"]),
    dict(id="watch.begin_write_release", file="sync/watch.h",
         what="the CAS that takes the WRITING bit is Release only: the last writer's stores "
              "need not be visible to the next",
         find="if (state.compare_exchange_strong(s, s + bump + WRITING, std::memory_order_seq_cst,",
         replace="if (state.compare_exchange_strong(s, s + bump + WRITING, std::memory_order_release,",
         tests=["//model:watch"]),
    dict(id="watch.end_write_relaxed", file="sync/watch.h",
         what="a writer gives the WRITING bit back with a relaxed store",
         find="state.store(s, std::memory_order_release);",
         replace="state.store(s, std::memory_order_relaxed);",
         tests=["//model:watch"]),
    dict(id="watch.send_keeps_writing_bit", file="sync/watch.h",
         what="send() never gives the WRITING bit back",
         find="""    slot.current.store(slot.current.writer_stamp() + 2, snap);
    end_write(s + STEP);""",
         replace="""    slot.current.store(slot.current.writer_stamp() + 2, snap);""",
         tests=["//model:watch"]),
    dict(id="watch.borrow_behind_send", file="sync/watch.h",
         what="a borrow returns the value before a send whose version it has seen (it does not "
              "wait for the value on its way)",
         find="} else if (newer(version_of(s), snap->version)) {",
         replace="} else if (false) {",
         tests=["//model:watch"]),
    dict(id="watch.bump_before_copy_store", file="sync/watch.h",
         what="send_modify bumps the version before the copied value is stored: a receiver "
              "that saw the version borrows the old value",
         find="""      slot.current.store(stamp, snap);
      state.fetch_add(STEP - WRITING, std::memory_order_seq_cst);""",
         replace="""      state.fetch_add(STEP - WRITING, std::memory_order_seq_cst);
      slot.current.store(stamp, snap);""",
         tests=["//model:watch"]),
    dict(id="watch.changed_by_equality", file="sync/watch.h",
         what="changed() compares versions for equality: a receiver whose copy (stored by "
              "send_modify) is ahead of the state word's bump sees a change that is not there",
         find="if (newer(current, version)) {",
         replace="if (current != version) {",
         tests=["//model:watch"]),
    dict(id="watch.silent_store_dropped", file="sync/watch.h",
         what="a modify that returns false after changing a by-copy value loses the change "
              "(Tokio keeps it, unannounced)",
         find="""    if (!modified) {
      silently();
      return false;
    }""",
         replace="""    if (!modified) {
      return false;
    }""",
         tests=["//model:watch"]),
    dict(id="watch.changed_no_recheck_after_enqueue", file="sync/watch.h",
         what="changed() does not check the version again after the poll that enqueues it: a "
              "send that looked at the shard just before the enqueue wakes nobody",
         find="""      if (notified_->poll(cx).is_pending()) {
        if (auto done = shared.maybe_changed(version, std::memory_order_seq_cst)) {
          notified_.reset();
          return std::move(*done);
        }
        return pending;
      }""",
         replace="""      if (notified_->poll(cx).is_pending()) {
        return pending;
      }""",
         tests=["//model:watch"]),
    dict(id="watch.recheck_acquire", file="sync/watch.h",
         what="the check after enqueueing is an Acquire load, not SeqCst: the Dekker pair with "
              "the send's SeqCst bump and shard load breaks",
         find="shared.maybe_changed(version, std::memory_order_seq_cst)",
         replace="shared.maybe_changed(version, std::memory_order_acquire)",
         tests=["//model:watch"]),
    dict(id="watch.send_wakes_every_shard_never", file="sync/watch.h",
         what="a send skips a shard whose receiver is enqueued (the check is inverted)",
         find="if (inner_[i].has_enqueued()) inner_[i].notify_waiters();",
         replace="if (!inner_[i].has_enqueued()) inner_[i].notify_waiters();",
         tests=["//model:watch"]),
    dict(id="watch.close_no_notify", file="sync/watch.h",
         what="the last Sender sets CLOSED but never wakes the receivers",
         find="""      s->state.fetch_or(detail::Shared<T>::CLOSED, std::memory_order_release);
      s->notify_rx.notify_waiters();""",
         replace="""      s->state.fetch_or(detail::Shared<T>::CLOSED, std::memory_order_release);""",
         tests=["//model:watch"]),
    dict(id="watch.version_relaxed", file="sync/watch.h",
         what="the version bump is relaxed",
         find="state.fetch_add(STEP, std::memory_order_seq_cst);",
         replace="state.fetch_add(STEP, std::memory_order_relaxed);",
         tests=["//model:watch"]),
    dict(id="watch.version_release", file="sync/watch.h",
         what="the version bump is Release, not SeqCst: it still publishes the value, but the "
              "Dekker pair with a receiver's check after enqueueing breaks (a lost wake)",
         find="state.fetch_add(STEP, std::memory_order_seq_cst);",
         replace="state.fetch_add(STEP, std::memory_order_release);",
         tests=["//model:watch"]),
    dict(id="watch.value_lock_spin_cas_relaxed", file="sync/platform/rwlock.h",
         what="the value lock's slow path takes a lock it found free with a relaxed CAS: a "
              "reader that met the writer does not acquire what it wrote",
         find="""    while ((s & busy) == 0) {
      if (state_.compare_exchange_strong(s, s + take, std::memory_order_acquire,
                                         std::memory_order_relaxed)) {""",
         replace="""    while ((s & busy) == 0) {
      if (state_.compare_exchange_strong(s, s + take, std::memory_order_relaxed,
                                         std::memory_order_relaxed)) {""",
         tests=["//model:watch"]),
    dict(id="watch.last_receiver_no_notify", file="sync/watch.h",
         what="the last Receiver's drop does not complete Sender::closed()",
         find="if (s->ref_count_rx.fetch_sub(1, std::memory_order_relaxed) == 1) s->notify_tx.notify_waiters();",
         replace="s->ref_count_rx.fetch_sub(1, std::memory_order_relaxed);",
         tests=["//model:watch"]),
    dict(id="watch.shard_beyond_width", file="sync/watch.h",
         what="a BigNotify narrower than notify_width hands out shards its notify_waiters() never reaches",
         find="return next_.fetch_add(1, std::memory_order_relaxed) % width_;",
         replace="return next_.fetch_add(1, std::memory_order_relaxed) % notify_width;",
         tests=["//model:watch"]),
    dict(id="watch.reader_unlock_no_notify", file="sync/platform/rwlock.h",
         what="the last reader leaving the value lock never wakes a waiting writer",
         find="    if ((prev & ~PARKED) == READER && (prev & PARKED) != 0) wake();\n",
         replace="    (void)prev;\n",
         tests=["//model:watch"]),
    # --- sync/set_once.h
    dict(id="set_once.set_relaxed", file="sync/set_once.h",
         what="set() publishes value_set_ with a relaxed store",
         find="value_set_.store(true, std::memory_order_release);",
         replace="value_set_.store(true, std::memory_order_relaxed);",
         tests=["//model:set_once"]),
    dict(id="set_once.set_no_notify", file="sync/set_once.h",
         what="set() stores the value but never completes the waiting wait() futures",
         find="""    notify_.notify_waiters();
    return Ok();""",
         replace="""    return Ok();""",
         tests=["//model:set_once"]),
    dict(id="set_once.wait_no_recheck", file="sync/set_once.h",
         what="wait() does not check again under the lock after requesting the notification",
         find="""        if (once_->value_set_.load(std::memory_order_relaxed)) {
          notified_.reset();""",
         replace="""        if (false) {
          notified_.reset();""",
         tests=["//model:set_once"]),
    # --- sync/mutex.h
    dict(id="mutex.unlock_skipped", file="sync/mutex.h",
         what="a guard's destructor never gives the permit back (the lock is never released)",
         find="    if (semaphore != nullptr) std::exchange(semaphore, nullptr)->release_saturating(1);",
         replace="    semaphore = nullptr;",
         tests=["//model:mutex"]),
    dict(id="mutex.guard_unlock_skipped", file="sync/mutex.h",
         what="a MutexGuard's destructor forgets its mutex without unlocking it",
         find="    if (mutex_ != nullptr) std::exchange(mutex_, nullptr)->semaphore_.release_saturating(1);",
         replace="    mutex_ = nullptr;",
         tests=["//model:mutex"]),
    dict(id="mutex.guard_move_keeps_source", file="sync/mutex.h",
         what="moving a MutexGuard leaves the source holding the lock too: it is unlocked twice",
         find="  MutexGuard(MutexGuard&& other) noexcept : mutex_(std::exchange(other.mutex_, nullptr)) {}",
         replace="  MutexGuard(MutexGuard&& other) noexcept : mutex_(other.mutex_) {}",
         tests=["//model:mutex"]),
    dict(id="mutex.try_lock_ignores_failure", file="sync/mutex.h",
         what="try_lock hands out a guard even when the lock is held",
         find="    if (semaphore_.try_acquire(1).is_err()) return Err(TryLockError{});",
         replace="    (void)semaphore_.try_acquire(1);",
         tests=["//model:mutex"]),
    dict(id="mutex.permit_returned_twice", file="sync/mutex.h",
         what="moving a guard's permit leaves the source owning it too: the lock is released twice",
         find="  MutexPermit(MutexPermit&& other) noexcept : semaphore(std::exchange(other.semaphore, nullptr)) {}",
         replace="  MutexPermit(MutexPermit&& other) noexcept : semaphore(other.semaphore) {}",
         tests=["//model:mutex"]),
    # --- sync/rwlock.h
    dict(id="rwlock.try_downgrade_map_refused_downgrades", file="sync/rwlock.h",
         what="try_downgrade_map gives the write permits back before it knows f's answer: a refused guard is only a read lock",
         find="""    const V* part = std::forward<F>(f)(static_cast<const T&>(*g));
    if (part == nullptr) return Err(std::move(g));
    g.permits_.keep_one();
    return RwLockReadGuard<V>(std::move(g.permits_), part);""",
         replace="""    const V* part = std::forward<F>(f)(static_cast<const T&>(*g));
    g.permits_.keep_one();
    if (part == nullptr) return Err(std::move(g));
    return RwLockReadGuard<V>(std::move(g.permits_), part);""",
         tests=["//model:rwlock"]),
    # --- sync/barrier.h
    dict(id="barrier.leader_no_notify", file="sync/barrier.h",
         what="the leader completes its generation but never wakes the waiters",
         find="      if (leader) barrier_->notify_.notify_waiters();\n",
         replace="",
         tests=["//model:barrier"]),
    dict(id="barrier.notified_after_unlock", file="sync/barrier.h",
         what="a waiter requests its notification after releasing the lock (lost wakeup window)",
         find="""        if (!leader) notified_.emplace(barrier_->notify_.notified());
      }""",
         replace="""      }
      if (!leader) notified_.emplace(barrier_->notify_.notified());""",
         tests=["//model:barrier"]),
    dict(id="barrier.generation_not_rechecked", file="sync/barrier.h",
         what="a woken waiter completes without checking that its own generation ended",
         find="        if (barrier_->generation(guard) != generation_) {",
         replace="        if (true) {",
         tests=["//model:barrier"]),
    dict(id="barrier.arrivals_not_reset", file="sync/barrier.h",
         what="the leader does not reset the arrival count for the next generation",
         find="""          if (++s.arrived == barrier_->n_) {
            s.arrived = 0;""",
         replace="""          if (++s.arrived == barrier_->n_) {""",
         tests=["//model:barrier"]),
    # --- sync/once_cell.h
    dict(id="once_cell.set_no_close", file="sync/once_cell.h",
         what="storing the value does not close the semaphore: the waiters are never released",
         find="""    semaphore_->close();
    permit.forget();""",
         replace="""    permit.forget();""",
         tests=["//model:once_cell"]),
    dict(id="once_cell.value_set_relaxed", file="sync/once_cell.h",
         what="set_value publishes value_set_ with a relaxed store",
         find="    value_set_.store(true, std::memory_order_release);",
         replace="    value_set_.store(true, std::memory_order_relaxed);",
         tests=["//model:once_cell"]),
    dict(id="once_cell.failed_init_keeps_permit", file="sync/once_cell.h",
         what="a failed get_or_try_init initializer never gives the permit back",
         find="          permit.reset();",
         replace="          permit->forget();",
         tests=["//model:once_cell"]),
    # --- sync/runtime/ (task_state.h: the state word's transitions; task_header.h; scheduler.h)
    dict(id="scheduler.list_takes_no_ref", file="sync/runtime/task_state.h",
         what="a task joining the task list at its first pending poll gives the list no reference",
         find="      if (join_list) next += REF_ONE;\n", replace="      (void)join_list;\n",
         tests=["//model:task_executor", "//model:task_pool"]),
    dict(id="scheduler.complete_frees_shared", file="sync/runtime/scheduler.h",
         what="complete() frees the task while a JoinHandle or Waker still holds it",
         find="""  if (before.ref_count() == 1) {
    dealloc();""",
         replace="""  if (before.ref_count() <= 2) {
    dealloc();""",
         tests=["//model:task_pool", "//model:task_executor"]),
    dict(id="scheduler.drain_skips_cancel", file="sync/runtime/task_header.h",
         what="shutdown's drain drops a queued task that never ran without cancelling it",
         find="""  void release_queued() {
    cancel();
""",
         replace="""  void release_queued() {
""",
         tests=["//model:task_pool", "//model:task_executor"]),
    dict(id="scheduler.listed_task_no_scheduler_ref", file="sync/runtime/scheduler.h",
         what="a task joining the task list takes no reference to the scheduler (a late wake reaches a freed one)",
         find="""  void register_task(TaskHeader* task) {
    acquire();
""",
         replace="""  void register_task(TaskHeader* task) {
""",
         tests=["//model:task_executor", "//model:task_pool"]),
    dict(id="task.join_handle_drop_keeps_ref", file="sync/runtime/task_state.h",
         what="dropping a JoinHandle before completion clears JOIN_INTEREST but keeps its reference (leak)",
         find="if (word_.compare_exchange_strong(current, (current & ~JOIN_INTEREST) - REF_ONE,",
         replace="if (word_.compare_exchange_strong(current, (current & ~JOIN_INTEREST),",
         tests=["//model:task_executor", "//model:task_pool"]),
    dict(id="scheduler.worker_wake_keeps_ref", file="sync/runtime/task_state.h",
         what="a wake by value of a running task on its worker sets NOTIFIED but keeps the Waker's reference (leak)",
         find="running ? (current | NOTIFIED) - REF_ONE : current | NOTIFIED;",
         replace="running ? (current | NOTIFIED) : current | NOTIFIED;",
         tests=["//model:task_executor", "//model:task_pool"]),
    dict(id="scheduler.worker_wake_drops_queue_ref", file="sync/runtime/task_state.h",
         what="a wake by value of an idle task on its worker drops the reference it hands to the queue",
         find="running ? (current | NOTIFIED) - REF_ONE : current | NOTIFIED;",
         replace="running ? (current | NOTIFIED) - REF_ONE : (current | NOTIFIED) - REF_ONE;",
         tests=["//model:task_pool"]),
    # ===== Tokio 1.49 .. 1.53.1 (issue 18): each kill was checked by hand =====
    # --- sync/oneshot.h (Tokio #7886)
    dict(id="oneshot.close_keeps_rx_waker", file="sync/oneshot.h",
         what="a destroyed or closed Receiver keeps its waker until the Sender goes too (#7886)",
         find="    if ((prev & RX_TASK_SET) != 0 && (prev & VALUE_SENT) == 0) drop_waker(rx_task_, RX_TASK_SET);\n",
         replace="",
         tests=["//model:oneshot"]),
    dict(id="oneshot.close_drops_rx_waker_after_send", file="sync/oneshot.h",
         what="close() drops the receiver's waker even when the Sender already set VALUE_SENT and may be waking it",
         find="if ((prev & RX_TASK_SET) != 0 && (prev & VALUE_SENT) == 0) drop_waker(",
         replace="if ((prev & RX_TASK_SET) != 0) drop_waker(",
         tests=["//model:oneshot"]),
    dict(id="oneshot.send_keeps_tx_waker", file="sync/oneshot.h",
         what="a Sender that sent or was destroyed keeps its closed() waker until the Receiver goes",
         find="      if ((state & TX_TASK_SET) != 0) drop_waker(tx_task_, TX_TASK_SET);\n",
         replace="",
         tests=["//model:oneshot"]),
    dict(id="oneshot.send_releases_before_dropping_tx_waker", file="sync/oneshot.h",
         what="the completing CAS releases the Sender's hold though it still has its closed() waker to drop",
         find="state | VALUE_SENT | ((state & (RX_TASK_SET | TX_TASK_SET)) == 0 ? TX_RELEASED : 0);",
         replace="state | VALUE_SENT | ((state & RX_TASK_SET) == 0 ? TX_RELEASED : 0);",
         tests=["//model:oneshot"]),
    # --- sync/notify.h (Tokio #7996)
    dict(id="notify.fast_path_takes_permit_after_notify_waiters", file="sync/notify.h",
         what="a first poll after notify_waiters() takes the permit of a later notify_one() (#7996)",
         find="""      if (Notify::get_calls(word) != calls_) {
        stage_ = Stage::done;
        continue;
      }
""",
         replace="",
         tests=["//model:notify"]),
    dict(id="notify.fast_path_count_load_relaxed", file="sync/notify.h",
         what="the first poll completes through the notify_waiters() count without acquiring it",
         find="std::uintptr_t word = notify.state_.load(std::memory_order_acquire);\n      if (Notify::get_calls",
         replace="std::uintptr_t word = notify.state_.load(std::memory_order_relaxed);\n      if (Notify::get_calls",
         tests=["//model:notify"]),
    # --- sync/detail/batch_semaphore.h (Tokio #8021, #8119)
    dict(id="batch_semaphore.forget_clears_closed", file="sync/detail/batch_semaphore.h",
         what="forget_permits rebuilds the word from the count alone: a closed semaphore reopens (#8021)",
         find="const std::size_t next = (curr & FLAGS) | ((count - removed) << PERMIT_SHIFT);",
         replace="const std::size_t next = (count - removed) << PERMIT_SHIFT;",
         tests=["//model:semaphore_batch"]),
    dict(id="batch_semaphore.idle_try_acquire_failure_relaxed", file="sync/detail/batch_semaphore.h",
         what="a try_acquire whose idle guess fails reports NoPermits / Closed without acquiring (#8119)",
         find="""if (permits_.compare_exchange_strong(curr, idle_ - wanted, std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {""",
         replace="""if (permits_.compare_exchange_strong(curr, idle_ - wanted, std::memory_order_acq_rel,
                                           std::memory_order_relaxed)) {""",
         tests=["//model:semaphore"]),
    dict(id="batch_semaphore.available_permits_relaxed", file="sync/detail/batch_semaphore.h",
         what="available_permits() is a relaxed load (#8119 documents it as Acquire)",
         find="return permits_.load(std::memory_order_acquire) >> PERMIT_SHIFT;",
         replace="return permits_.load(std::memory_order_relaxed) >> PERMIT_SHIFT;",
         tests=["//model:semaphore"]),
    dict(id="batch_semaphore.is_closed_relaxed", file="sync/detail/batch_semaphore.h",
         what="is_closed() is a relaxed load (#8119 documents it as Acquire)",
         find="return (permits_.load(std::memory_order_acquire) & CLOSED) != 0;",
         replace="return (permits_.load(std::memory_order_relaxed) & CLOSED) != 0;",
         tests=["//model:semaphore"]),
    # --- sync/time/ (timer_driver.h, timeout.h) and mpsc send_timeout
    dict(id="time.fire_relaxed", file="sync/time/timer_driver.h",
         what="the fire marks the entry fired with a relaxed store: a poll that sees it lock-free "
              "is not ordered after what the firing thread did",
         find="entry->fired_.store(true, std::memory_order_release);",
         replace="entry->fired_.store(true, std::memory_order_relaxed);",
         tests=["//model:time"]),
    dict(id="time.cancel_skips_unlink", file="sync/time/timer_driver.h",
         what="a dropped pending entry stays in the driver's heap",
         find="if (!fired_.load(std::memory_order_acquire)) (void)driver_->remove(*this, old);",
         replace="(void)fired_.load(std::memory_order_acquire);",
         tests=["//model:time"]),
    dict(id="time.repoll_ignores_fired", file="sync/time/timer_driver.h",
         what="a re-poll under the lock swaps its waker into an entry that already fired (lost wakeup)",
         find="if (index_.get() == not_queued) return ready;",
         replace="",
         tests=["//model:time"]),
    dict(id="time.timeout_elapsed_beats_ready", file="sync/time/timeout.h",
         what="timeout discards an output that is ready at the deadline and reports Elapsed",
         find="if (out.is_ready()) {",
         replace="if (out.is_ready() && sleep_->poll(cx).is_pending()) {",
         tests=["//model:time"]),
    dict(id="mpsc.send_timeout_drops_permit", file="sync/mpsc/bounded.h",
         what="send_timeout and blocking_send_until report Ok but drop the permit and the value",
         find="std::move(reserved.value().value()).send(std::move(value));",
         replace="",
         tests=["//model:time", "//model:mpsc"]),
    dict(id="time.block_on_park_skips_fire", file="sync/time/timer_driver.h",
         what="block_on's park wakes at the timer deadline but never fires the timer",
         find="(void)driver->fire_due();",
         replace="",
         tests=["//model:time"]),
    # --- timed paths of the primitives (sync/deadline.h, the recv futures a timeout
    # cancels) and the executors' timer parking
    dict(id="deadline.ready_dropped_at_deadline", file="sync/deadline.h",
         what="a timed blocking operation whose future completed as the time ran out "
              "reports Elapsed and drops the output (a received value lost)",
         find="if (poll.is_pending()) return Err(Elapsed{});",
         replace="if (poll.is_pending() || platform::clock::now() >= deadline) return Err(Elapsed{});",
         tests=["//model:mpsc", "//model:oneshot", "//model:broadcast"]),
    dict(id="mpsc.register_skipped_while_waiting", file="sync/mpsc/chan.h",
         what="a recv that finds the receiver already announced as waiting (left so by a "
              "timed-out recv) keeps the old waker instead of registering its own",
         find="    chan_->rx_waker_.register_by_ref(waker);\n",
         replace="    if (chan_->rx_waiting_.load(std::memory_order_relaxed)) return;\n"
                 "    chan_->rx_waker_.register_by_ref(waker);\n",
         tests=["//model:mpsc"]),
    dict(id="oneshot.repoll_keeps_old_waker", file="sync/oneshot.h",
         what="a receive polled again with another waker (after a timed-out receive) keeps "
              "the waker already registered",
         find="rx_task_.with([&](const std::optional<Waker>& w) { return w->will_wake(cx.waker()); });",
         replace="rx_task_.with([&](const std::optional<Waker>& w) { return w.has_value(); });",
         tests=["//model:oneshot"]),
    dict(id="local_executor.park_ignores_timer", file="sync/runtime/local_executor.h",
         what="an idle LocalExecutor parks without the next timer deadline",
         find="if (detail::TaskHeader* task = scheduler_->wait_for_work(0, deadline)) task->run();",
         replace="(void)deadline; if (detail::TaskHeader* task = scheduler_->wait_for_work(0, Instant::max())) task->run();",
         tests=["//model:time"]),
    dict(id="scheduler.idle_worker_no_fence", file="sync/runtime/scheduler.h",
         what="a worker about to park sets its idle bit and re-checks the queue without the SeqCst fence: a push that does not see the bit is missed by the re-check too",
         find="""    idle_.fetch_or(bit, std::memory_order_relaxed);
    platform::fence(std::memory_order_seq_cst);
    TaskHeader* task = queue_.pop();""",
         replace="""    idle_.fetch_or(bit, std::memory_order_relaxed);
    TaskHeader* task = queue_.pop();""",
         tests=["//model:task_pool"]),
    dict(id="scheduler.remote_push_no_fence", file="sync/runtime/scheduler.h",
         what="a push on the global queue reads the idle workers without the SeqCst fence",
         find="""    queue_.push(task);
    platform::fence(std::memory_order_seq_cst);
    std::uintptr_t idle = idle_.load(std::memory_order_relaxed);""",
         replace="""    queue_.push(task);
    std::uintptr_t idle = idle_.load(std::memory_order_relaxed);""",
         tests=["//model:task_pool"]),
    dict(id="scheduler.park_without_recheck", file="sync/runtime/scheduler.h",
         what="a worker parks right after setting its idle bit, without looking at the queue again",
         find="""    platform::fence(std::memory_order_seq_cst);
    TaskHeader* task = queue_.pop();""",
         replace="""    platform::fence(std::memory_order_seq_cst);
    TaskHeader* task = nullptr;""",
         tests=["//model:task_pool"]),
    dict(id="scheduler.lifo_displaced_task_lost", file="sync/runtime/scheduler.h",
         what="a wake into a full LIFO slot drops the task it displaces instead of queueing it",
         find="""      if (task == nullptr) return;
    }
    schedule_remote(task);""",
         replace="""      return;
    }
    schedule_remote(task);""",
         tests=["//model:task_pool"]),
    dict(id="scheduler.worker_parks_with_lifo_task", file="sync/runtime/scheduler.h",
         what="a worker that finds the global queue empty parks without looking at its own "
              "LIFO slot (no other worker takes it)",
         find="""        task = queue_.pop();
        if (task == nullptr) task = take_lifo(index);""",
         replace="""        task = queue_.pop();""",
         tests=["//model:task_pool"]),
    dict(id="scheduler.drain_skips_lifo", file="sync/runtime/scheduler.h",
         what="shutdown's drain leaves the tasks in the LIFO slots (never cancelled, their "
              "queue reference leaked)",
         find="""      if (TaskHeader* task = take_lifo(i)) task->release_queued();""",
         replace="""      (void)i;""",
         tests=["//model:task_pool"]),
    dict(id="scheduler.worker_park_ignores_timer", file="sync/runtime/scheduler.h",
         what="an idle ThreadPool worker parks without the next timer deadline",
         find="task = wait_for_work(index, timer_->next_deadline().value_or(Instant::max()));",
         replace="task = wait_for_work(index, Instant::max());",
         tests=["//model:time"]),
    dict(id="time.reset_keeps_fired", file="sync/time/timer_driver.h",
         what="Sleep::reset after the fire keeps the fired registration: the sleep stays "
              "ready instead of waiting for the new deadline",
         find="waker.wake();\n    return;\n  }\n  std::exchange(driver_, nullptr)->release();",
         replace="waker.wake();\n    return;\n  }",
         tests=["//model:time"]),
]
