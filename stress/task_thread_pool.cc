// Stress test of the executors on real threads: 100,000 tasks on ThreadPool(2) pass
// tokens along chains through AtomicWakers (each task waits for a token at its station,
// then hands one to the next station and wakes it); none may be lost, every task must
// complete, every future and output be destroyed exactly once. A second scenario shuts
// the pool down while tokens are in flight: every task completes or is cancelled,
// completions form a prefix of each chain, and exactly one token survives per chain.
// A third drives a LocalExecutor while other threads wake its tasks. A fourth aborts a
// random half of 10,000 tasks blocked on a weft::Semaphore or a weft::Mutex (while
// permits are being released, so aborts race wakes and completions): every aborted task
// is cancelled or completed, every other one completes, no permit is lost or doubled,
// every future is destroyed once.
// Seeded and bounded: see stress/stress.h (WEFT_STRESS_SEED replays a run's spawn order;
// the seed is printed, flushed, at start).
#include "model/harness/scenario.h"
#include "stress/stress.h"
#include "sync/platform/platform.h"
#include "sync/task/atomic_waker.h"
#include "sync/runtime/local_executor.h"
#include "sync/task/task.h"
#include "sync/runtime/thread_pool.h"
#include "sync/mutex.h"
#include "sync/semaphore.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

namespace platform = weft::platform;
namespace stress = weft::stress;
using weft::Context;
using weft::JoinHandle;
using weft::Poll;
using weft::Task;

namespace {

const std::uint64_t seed_printed = stress::base_seed("task_thread_pool");

// Live futures (each TakeToken), to check every one is destroyed exactly once.
platform::atomic<long> live_futures{0};

struct Station {
  weft::AtomicWaker waker;
  platform::atomic<int> tokens{0};
  void give() {
    // Release: pairs with the Acquire CAS in TakeToken::poll.
    tokens.fetch_add(1, std::memory_order_release);
    waker.wake();
  }
};

// Ready once it took a token from its station (registering first, so a give() after
// the check wakes it).
class TakeToken {
 public:
  explicit TakeToken(Station& station) : station_(&station) {
    live_futures.fetch_add(1, std::memory_order_relaxed);
  }
  TakeToken(const TakeToken&) = delete;
  ~TakeToken() { live_futures.fetch_sub(1, std::memory_order_relaxed); }
  Poll<void> poll(Context& cx) {
    station_->waker.register_by_ref(cx.waker());
    int available = station_->tokens.load(std::memory_order_relaxed);
    while (available > 0) {
      // Acquire: pairs with the Release fetch_add in Station::give.
      if (station_->tokens.compare_exchange_strong(
              available, available - 1, std::memory_order_acquire, std::memory_order_relaxed)) {
        return weft::ready;
      }
    }
    return weft::pending;
  }

 private:
  Station* station_;
};

// Links that handed their token on, over the whole run (progress, for the shutdown test).
platform::atomic<long> links_done{0};

Task<long> link(Station& in, Station& out, long id) {
  co_await TakeToken(in);
  out.give();
  links_done.fetch_add(1, std::memory_order_relaxed);
  co_return id;
}

// chains x length tasks; station (c, k) feeds task (c, k), which feeds station (c, k+1).
struct Chains {
  int chains;
  int length;
  std::unique_ptr<Station[]> stations;
  Chains(int c, int l) : chains(c), length(l), stations(new Station[c * (l + 1)]) {}
  Station& at(int c, int k) { return stations[c * (length + 1) + k]; }
  int tokens(int c, int k) { return at(c, k).tokens.load(std::memory_order_acquire); }
};

// Spawns every link in a seeded random order; returns handles indexed by c * length + k.
std::vector<JoinHandle<long>> spawn_all(weft::ThreadPool& pool, Chains& net, stress::Rng& rng) {
  const int total = net.chains * net.length;
  std::vector<int> order(total);
  for (int i = 0; i < total; ++i) order[i] = i;
  for (int i = total - 1; i > 0; --i) std::swap(order[i], order[rng.next() % (i + 1)]);
  std::vector<JoinHandle<long>> handles(total);
  for (int i : order) {
    const int c = i / net.length;
    const int k = i % net.length;
    handles[i] = pool.spawn(link(net.at(c, k), net.at(c, k + 1), i));
  }
  return handles;
}

constexpr int tasks_total = 100'000;

// 100,000 tasks in 100 chains of 1,000 on ThreadPool(2): every token arrives. The first
// run of the scenario has all 100,000 tasks; the later runs (the runner repeats it,
// 200 times by default) have 2,000 each, so a run of the binary stays in seconds.
platform::atomic<int> hundred_thousand_runs{0};
struct hundred_thousand_tokens {
  static constexpr int threads = 1;
  std::uint64_t seed = stress::run_seed<hundred_thousand_tokens>("hundred_thousand_tokens");
  void thread(int) {
    stress::Rng rng{seed, 0};
    const bool first = hundred_thousand_runs.fetch_add(1, std::memory_order_relaxed) == 0;
    Chains net(first ? 100 : 10, first ? tasks_total / 100 : 200);
    const long total = static_cast<long>(net.chains) * net.length;
    {
      weft::ThreadPool pool(2);
      std::vector<JoinHandle<long>> handles = spawn_all(pool, net, rng);
      for (int c = 0; c < net.chains; ++c) net.at(c, 0).give();
      long sum = 0;
      for (auto& h : handles) {
        auto outcome = h.blocking_join();
        WEFT_INVARIANT(outcome.is_ok());
        sum += *outcome;
      }
      WEFT_INVARIANT(sum == total * (total - 1) / 2);
    }
    for (int c = 0; c < net.chains; ++c) {
      for (int k = 0; k < net.length; ++k) WEFT_INVARIANT(net.tokens(c, k) == 0);
      WEFT_INVARIANT(net.tokens(c, net.length) == 1);
    }
    WEFT_INVARIANT(live_futures.load(std::memory_order_relaxed) == 0);
  }
};
WEFT_MODEL_SCENARIO(hundred_thousand_tokens, weft::model::random(1));

// Shutdown with tokens in flight: each task completes or is cancelled, exactly once.
platform::atomic<long> shutdown_completed{0};
struct shutdown_with_tokens_in_flight {
  static constexpr int threads = 1;
  std::uint64_t seed =
      stress::run_seed<shutdown_with_tokens_in_flight>("shutdown_with_tokens_in_flight");
  void thread(int) {
    stress::Rng rng{seed, 0};
    Chains net(16, 250);
    std::vector<JoinHandle<long>> handles;
    {
      weft::ThreadPool pool(2);
      handles = spawn_all(pool, net, rng);
      const long start = links_done.load(std::memory_order_relaxed);
      const long progress = rng.next() % (net.chains * net.length);
      for (int c = 0; c < net.chains; ++c) net.at(c, 0).give();
      // Shut down after a random amount of progress, with tokens in flight.
      while (links_done.load(std::memory_order_relaxed) - start < progress) {
        platform::spin_hint();
      }
    }  // the destructor shuts the pool down
    WEFT_INVARIANT(live_futures.load(std::memory_order_relaxed) == 0);
    for (int c = 0; c < net.chains; ++c) {
      int completed = 0;
      bool cancelled_seen = false;
      for (int k = 0; k < net.length; ++k) {
        auto outcome = handles[c * net.length + k].blocking_join();
        if (outcome.is_ok()) {
          WEFT_INVARIANT(!cancelled_seen);  // completions are a prefix of the chain
          WEFT_INVARIANT(*outcome == c * net.length + k);
          ++completed;
        } else {
          WEFT_INVARIANT(outcome.error() == weft::JoinError::cancelled);
          cancelled_seen = true;
        }
      }
      // The chain's one token sits where its first unfinished task would have taken it.
      for (int k = 0; k <= net.length; ++k) {
        WEFT_INVARIANT(net.tokens(c, k) == (k == completed ? 1 : 0));
      }
      shutdown_completed.fetch_add(completed, std::memory_order_relaxed);
    }
  }
};
WEFT_MODEL_SCENARIO(shutdown_with_tokens_in_flight, weft::model::random(1));

// A LocalExecutor driven by this thread while two other threads give the tokens.
struct local_executor_woken_from_threads {
  static constexpr int threads = 1;
  void thread(int) {
    constexpr int count = 1000;
    auto stations = std::make_unique<Station[]>(count);
    auto sink = std::make_unique<Station[]>(count);
    weft::LocalExecutor ex;
    std::vector<JoinHandle<long>> handles;
    for (int i = 0; i < count; ++i) handles.push_back(ex.spawn(link(stations[i], sink[i], i)));
    ex.run_until_idle();
    platform::thread a([&] {
      for (int i = 0; i < count; i += 2) stations[i].give();
    });
    platform::thread b([&] {
      for (int i = 1; i < count; i += 2) stations[i].give();
    });
    auto all = [&]() -> Task<long> {
      long sum = 0;
      for (auto& h : handles) sum += *co_await h;
      co_return sum;
    };
    WEFT_INVARIANT(ex.run_until(all()) == static_cast<long>(count) * (count - 1) / 2);
    a.join();
    b.join();
    for (int i = 0; i < count; ++i)
      WEFT_INVARIANT(sink[i].tokens.load(std::memory_order_acquire) == 1);
  }
};
WEFT_MODEL_SCENARIO(local_executor_woken_from_threads, weft::model::random(1));

// Counts live futures of the abort scenario (the task bodies' frames).
platform::atomic<long> live_bodies{0};
struct LiveBody {
  LiveBody() { live_bodies.fetch_add(1, std::memory_order_relaxed); }
  LiveBody(const LiveBody&) = delete;
  ~LiveBody() { live_bodies.fetch_sub(1, std::memory_order_relaxed); }
};

Task<int> wait_permit(weft::Semaphore& sem) {
  LiveBody live;
  auto permit = co_await sem.acquire();
  WEFT_INVARIANT(permit.is_ok());
  permit.value().forget();  // consumed: available_permits() counts what is left
  co_return 1;
}

Task<int> wait_lock(weft::Mutex<long>& mutex) {
  LiveBody live;
  auto guard = co_await mutex.lock();
  ++*guard;
  co_return 2;
}

// 10,000 tasks, half on a semaphore with no permits, half on a mutex the main thread
// holds; a random half of each group aborted while another thread hands out permits.
// First run 10,000 tasks, later runs 1,000 (the runner repeats the scenario).
platform::atomic<int> abort_runs{0};
struct abort_random_half_of_blocked_tasks {
  static constexpr int threads = 1;
  std::uint64_t seed =
      stress::run_seed<abort_random_half_of_blocked_tasks>("abort_random_half_of_blocked_tasks");
  void thread(int) {
    stress::Rng rng{seed, 0};
    const int total = abort_runs.fetch_add(1, std::memory_order_relaxed) == 0 ? 10'000 : 1'000;
    weft::Semaphore sem(0);
    weft::Mutex<long> mutex(0);
    std::vector<JoinHandle<int>> handles(total);
    std::vector<char> aborted(total, 0);
    int sem_tasks = 0, sem_survivors = 0, lock_survivors = 0;
    {
      weft::ThreadPool pool(2);
      auto held = mutex.blocking_lock();
      for (int i = 0; i < total; ++i) {
        handles[i] = (i % 2 == 0) ? pool.spawn(wait_permit(sem)) : pool.spawn(wait_lock(mutex));
        aborted[i] = static_cast<char>(rng.next() % 2);
        if (i % 2 == 0) {
          ++sem_tasks;
          if (!aborted[i]) ++sem_survivors;
        } else if (!aborted[i]) {
          ++lock_survivors;
        }
      }
      // Permits for half the semaphore waiters arrive while the aborts happen: an aborted
      // task may still win a permit (its poll completed first), or give it back unused.
      const int racing = sem_survivors / 2;
      platform::thread giver([&] {
        for (int k = 0; k < racing; ++k) sem.add_permits(1);
      });
      for (int i = 0; i < total; ++i) {
        if (!aborted[i]) continue;
        if (i % 4 == 0) {
          handles[i].abort();
        } else {
          handles[i].abort_handle().abort();
        }
      }
      giver.join();
      // Every aborted semaphore task ends (cancelled, or completed holding a permit).
      int aborted_completed = 0;
      for (int i = 0; i < total; i += 2) {
        if (!aborted[i]) continue;
        auto outcome = handles[i].blocking_join();
        if (outcome.is_ok()) {
          ++aborted_completed;
        } else {
          WEFT_INVARIANT(weft::is_cancelled(outcome.error()));
        }
      }
      // Enough permits for every surviving waiter, counting those aborted tasks took.
      sem.add_permits(static_cast<std::size_t>(sem_survivors + aborted_completed - racing));
      { auto release = std::move(held); }  // the mutex waiters go one by one
      long lock_completed = 0;
      for (int i = 0; i < total; ++i) {
        if (i % 2 == 0 && aborted[i]) continue;  // joined above
        auto outcome = handles[i].blocking_join();
        if (aborted[i]) {
          if (outcome.is_ok()) {
            ++lock_completed;
          } else {
            WEFT_INVARIANT(weft::is_cancelled(outcome.error()));
          }
        } else {
          WEFT_INVARIANT(outcome.is_ok() && *outcome == (i % 2 == 0 ? 1 : 2));
          if (i % 2 == 1) ++lock_completed;
        }
      }
      WEFT_INVARIANT(sem.available_permits() == 0);  // each permit consumed exactly once
      WEFT_INVARIANT(*mutex.blocking_lock() == lock_completed);
      WEFT_INVARIANT(lock_completed >= lock_survivors);
      (void)sem_tasks;
    }
    WEFT_INVARIANT(live_bodies.load(std::memory_order_relaxed) == 0);
  }
};
WEFT_MODEL_SCENARIO(abort_random_half_of_blocked_tasks, weft::model::random(1));

}  // namespace
