// Stress test of oneshot on real threads: many channels per run, a sender thread and a
// receiver thread that picks a random way to end each channel (blocking_recv, poll, close
// then try_recv, drop). Every value must be received or handed back, and destroyed once.
// Seeded: WEFT_STRESS_SEED=N replays a run; the seed is printed at start.
#include "model/harness/scenario.h"
#include "sync/oneshot.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <vector>

namespace platform = weft::platform;
namespace oneshot = weft::oneshot;

namespace {

std::uint64_t base_seed() {
  static const std::uint64_t seed = [] {
    const char* env = std::getenv("WEFT_STRESS_SEED");
    const std::uint64_t s =
        env != nullptr ? std::strtoull(env, nullptr, 10)
                       : static_cast<std::uint64_t>(
                             std::chrono::steady_clock::now().time_since_epoch().count());
    std::printf("stress/oneshot: WEFT_STRESS_SEED=%llu\n", static_cast<unsigned long long>(s));
    return s;
  }();
  return seed;
}
const std::uint64_t seed_printed = base_seed();

struct Rng {
  std::uint64_t state;
  std::uint32_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<std::uint32_t>(state >> 33);
  }
};

platform::atomic<std::uint64_t> run_counter{0};

struct Counted {
  platform::atomic<long>* live;
  long value;
  Counted(platform::atomic<long>* l, long v) : live(l), value(v) {
    live->fetch_add(1, std::memory_order_relaxed);
  }
  Counted(Counted&& o) noexcept : live(o.live), value(o.value) {
    live->fetch_add(1, std::memory_order_relaxed);
  }
  Counted(const Counted&) = delete;
  ~Counted() { live->fetch_sub(1, std::memory_order_relaxed); }
};

constexpr int channels_per_run = 1024;

struct many_channels {
  static constexpr int threads = 2;
  platform::atomic<long> live{0};
  platform::atomic<long> delivered{0};
  platform::atomic<long> refused{0};
  platform::atomic<long> received{0};
  std::vector<std::optional<oneshot::Sender<Counted>>> tx;
  std::vector<std::optional<oneshot::Receiver<Counted>>> rx;
  std::uint64_t seed = 0;

  void setup() {
    seed = base_seed() + run_counter.fetch_add(1, std::memory_order_relaxed);
    tx.resize(channels_per_run);
    rx.resize(channels_per_run);
    for (int i = 0; i < channels_per_run; ++i) {
      auto [s, r] = oneshot::channel<Counted>();
      tx[i].emplace(std::move(s));
      rx[i].emplace(std::move(r));
    }
  }
  void thread(int index) {
    Rng rng{seed * 2 + static_cast<std::uint64_t>(index)};
    if (index == 0) {
      for (int i = 0; i < channels_per_run; ++i) {
        switch (rng.next() % 4) {
          case 0:
            break;  // drop the sender unsent: the receiver sees RecvError / Closed
          default: {
            auto r = std::move(*tx[i]).send(Counted(&live, i));
            if (r.is_ok()) {
              delivered.fetch_add(1, std::memory_order_relaxed);
            } else {
              WEFT_INVARIANT(r.error().value == i);  // the same value came back
              refused.fetch_add(1, std::memory_order_relaxed);
            }
            break;
          }
        }
        tx[i].reset();  // an unsent sender completes the receiver with RecvError
      }
    } else {
      for (int i = 0; i < channels_per_run; ++i) {
        auto& r = *rx[i];
        switch (rng.next() % 5) {
          case 0: {
            auto got = std::move(r).blocking_recv();
            if (got.is_ok()) {
              WEFT_INVARIANT(got->value == i);
              received.fetch_add(1, std::memory_order_relaxed);
            }
            break;
          }
          case 1: {
            r.close();
            auto got = r.try_recv();
            if (got.is_ok()) received.fetch_add(1, std::memory_order_relaxed);
            else WEFT_INVARIANT(got.error() == oneshot::TryRecvError::Closed);
            break;
          }
          case 2: {
            for (;;) {
              auto got = r.try_recv();
              if (got.is_ok()) {
                received.fetch_add(1, std::memory_order_relaxed);
                break;
              }
              if (got.error() == oneshot::TryRecvError::Closed) break;
              platform::yield_now();
            }
            break;
          }
          case 3: {
            auto got = weft::block_on(r);
            if (got.is_ok()) received.fetch_add(1, std::memory_order_relaxed);
            break;
          }
          default:
            break;  // just drop it
        }
        rx[i].reset();
      }
    }
  }
  void check() {
    WEFT_INVARIANT(live.load(std::memory_order_relaxed) == 0);
    WEFT_INVARIANT(received.load(std::memory_order_relaxed) <=
                   delivered.load(std::memory_order_relaxed));
  }
};
WEFT_MODEL_SCENARIO(many_channels, weft::model::random(1));

// The sender waits in closed() on one thread while the receiver drops on another.
struct closed_wakes_sender {
  static constexpr int threads = 2;
  std::vector<std::optional<oneshot::Sender<int>>> tx;
  std::vector<std::optional<oneshot::Receiver<int>>> rx;
  void setup() {
    tx.resize(channels_per_run);
    rx.resize(channels_per_run);
    for (int i = 0; i < channels_per_run; ++i) {
      auto [s, r] = oneshot::channel<int>();
      tx[i].emplace(std::move(s));
      rx[i].emplace(std::move(r));
    }
  }
  void thread(int index) {
    for (int i = 0; i < channels_per_run; ++i) {
      if (index == 0) {
        weft::block_on(tx[i]->closed());
        WEFT_INVARIANT(tx[i]->is_closed());
        WEFT_INVARIANT(std::move(*tx[i]).send(i).is_err());
      } else if (i % 2 == 0) {
        rx[i]->close();
      } else {
        rx[i].reset();
      }
    }
  }
};
WEFT_MODEL_SCENARIO(closed_wakes_sender, weft::model::random(1));

}  // namespace
