// Stress test of oneshot on real threads: many channels per run, a sender thread and a
// receiver thread that picks a random way to end each channel (blocking_recv, poll, close
// then try_recv, drop). Every value must be received or handed back, and destroyed once.
// Seeded and bounded: see stress/stress.h (WEFT_STRESS_SEED, WEFT_STRESS_SOAK).
#include "model/harness/scenario.h"
#include "stress/stress.h"
#include "sync/oneshot.h"
#include "sync/platform/platform.h"
#include "sync/task/block_on.h"
#include "testing/counted.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace platform = weft::platform;
namespace stress = weft::stress;
namespace oneshot = weft::oneshot;

namespace {

const std::uint64_t seed_printed = stress::base_seed("oneshot");

using Counted = weft::testing::MoveOnlyCounted;

constexpr int channels_per_run = 1024;

struct many_channels {
  static constexpr int threads = 2;
  platform::atomic<long> live{0};
  platform::atomic<long> delivered{0};
  platform::atomic<long> refused{0};
  platform::atomic<long> received{0};
  std::vector<std::optional<oneshot::Sender<Counted>>> tx;
  std::vector<std::optional<oneshot::Receiver<Counted>>> rx;
  // Per channel: the send succeeded (sender thread); the value was received, and the
  // receiver waited for the outcome instead of dropping (receiver thread). Read by check().
  std::vector<char> sent, got, waited;
  std::uint64_t seed = 0;

  void setup() {
    seed = stress::run_seed<many_channels>("many_channels");
    tx.resize(channels_per_run);
    rx.resize(channels_per_run);
    sent.assign(channels_per_run, 0);
    got.assign(channels_per_run, 0);
    waited.assign(channels_per_run, 0);
    for (int i = 0; i < channels_per_run; ++i) {
      auto [s, r] = oneshot::channel<Counted>();
      tx[i].emplace(std::move(s));
      rx[i].emplace(std::move(r));
    }
  }
  void thread(int index) {
    stress::Rng rng{seed, index};
    if (index == 0) {
      for (int i = 0; i < channels_per_run; ++i) {
        if (rng.one_in(8)) platform::yield_now();
        switch (rng.below(4)) {
          case 0: break;  // drop the sender unsent: the receiver sees RecvError / Closed
          default: {
            auto r = std::move(*tx[i]).send(Counted(&live, i));
            if (r.is_ok()) {
              sent[i] = 1;
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
        const auto take = [&](const Counted& c) {
          WEFT_INVARIANT(c.value == i);
          got[i] = 1;
          received.fetch_add(1, std::memory_order_relaxed);
        };
        const std::uint32_t mode = rng.below(5);
        waited[i] = mode < 4;
        switch (mode) {
          case 0: {
            auto v = std::move(r).blocking_recv();
            if (v.is_ok()) take(*v);
            break;
          }
          case 1: {
            r.close();  // a send completed before this is still received below
            auto v = r.try_recv();
            if (v.is_ok())
              take(*v);
            else
              WEFT_INVARIANT(v.error() == oneshot::TryRecvError::Closed);
            break;
          }
          case 2: {
            for (;;) {
              auto v = r.try_recv();
              if (v.is_ok()) {
                take(*v);
                break;
              }
              if (v.error() == oneshot::TryRecvError::Closed) break;
              platform::yield_now();
            }
            break;
          }
          case 3: {
            auto v = weft::block_on(r);
            if (v.is_ok()) take(*v);
            break;
          }
          default: break;  // just drop it
        }
        rx[i].reset();
      }
    }
  }
  void check() {
    WEFT_INVARIANT(live.load(std::memory_order_relaxed) == 0);
    WEFT_INVARIANT(received.load(std::memory_order_relaxed) <=
                   delivered.load(std::memory_order_relaxed));
    // Exactly once: a receiver that waited for the outcome got the value iff it was sent.
    for (int i = 0; i < channels_per_run; ++i) {
      if (waited[i])
        WEFT_INVARIANT(got[i] == sent[i]);
      else
        WEFT_INVARIANT(got[i] == 0);
    }
  }
};
WEFT_MODEL_SCENARIO(many_channels, weft::model::random(1));

// The sender waits in closed() on one thread while the receiver drops on another.
struct closed_wakes_sender {
  static constexpr int threads = 2;
  std::vector<std::optional<oneshot::Sender<int>>> tx;
  std::vector<std::optional<oneshot::Receiver<int>>> rx;
  std::uint64_t seed = stress::run_seed<closed_wakes_sender>("closed_wakes_sender");
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
    stress::Rng rng{seed, index};
    for (int i = 0; i < channels_per_run; ++i) {
      if (index == 0) {
        weft::block_on(tx[i]->closed());
        WEFT_INVARIANT(tx[i]->is_closed());
        WEFT_INVARIANT(std::move(*tx[i]).send(i).is_err());
      } else if (rng.jitter(1), rng.one_in(2)) {
        rx[i]->close();
      } else {
        rx[i].reset();
      }
    }
  }
};
WEFT_MODEL_SCENARIO(closed_wakes_sender, weft::model::random(1));

}  // namespace
