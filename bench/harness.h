// weft/bench/harness.h: the C++ benchmark binary's registry of (workload, impl) entries.
//
// Every workload is a function `uint64_t fn(uint64_t n)` that does about n operations,
// checks its own result (BENCH_CHECK: a checksum or a count; a wrong answer aborts, so a
// fast wrong answer never passes as a fast right one) and returns the number of
// operations it did. main.cc times each call and prints
//   RESULT <workload> <impl> <ops> <seconds>
// the line format the Rust peers print too (bench/tokio/src/main.rs); bench/run reads
// both. Workload names and the meaning of n are shared with the Rust peers: see
// bench/README.md for the list.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace bench {

using WorkloadFn = uint64_t (*)(uint64_t n);

struct Entry {
  const char* workload;
  const char* impl;
  WorkloadFn fn;
};

inline std::vector<Entry>& registry() {
  static std::vector<Entry> entries;
  return entries;
}

struct Register {
  Register(const char* workload, const char* impl, WorkloadFn fn) {
    registry().push_back(Entry{workload, impl, fn});
  }
};

// Bounded channels in every mpsc workload hold this many messages.
inline constexpr std::size_t kCapacity = 1024;

// broadcast_1to4: every receiver gets every value. The sender looks every kBroadcastPace
// sends at how far it is ahead of the slowest receiver and yields while that is more than
// kBroadcastAhead values (half the capacity, so nothing is ever overwritten unread);
// receivers report their count every kBroadcastPace values (BroadcastProgress in
// bench/weft_broadcast.cc, its twin in bench/tokio).
inline constexpr int kBroadcastReceivers = 4;
inline constexpr uint64_t kBroadcastPace = 64;
inline constexpr uint64_t kBroadcastAhead = kCapacity / 2;

// The contended RwLock workloads (rwlock_blocking_4, rwlock_contended_4): operation i of
// each thread or task is a write when i % kWriteEvery == kWriteEvery - 1, else a read; so
// each of them writes per / kWriteEvery times.
inline constexpr uint64_t kWriteEvery = 16;
inline constexpr bool is_write(uint64_t i) { return i % kWriteEvery == kWriteEvery - 1; }

// 0 + 1 + ... + (n - 1): the checksum of a stream of the values 0..n-1.
inline constexpr uint64_t sum_to(uint64_t n) { return n == 0 ? 0 : n * (n - 1) / 2; }

[[noreturn]] inline void check_failed(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: benchmark result check failed: %s\n", file, line, cond);
  std::abort();
}

}  // namespace bench

#define BENCH_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::bench::check_failed(#cond, __FILE__, __LINE__))

#define BENCH_CONCAT2(a, b) a##b
#define BENCH_CONCAT(a, b) BENCH_CONCAT2(a, b)

// BENCH_WORKLOAD("mutex_uncontended", "std_mutex", fn): registers fn at static init.
#define BENCH_WORKLOAD(workload, impl, fn) \
  static ::bench::Register BENCH_CONCAT(bench_register_, __LINE__)(workload, impl, fn)

namespace bench {

// One contender of the blocking mixed workloads: `per` operations, write() on the writes,
// read() (which returns the value it read under the lock) on the others; the value only
// grows.
template <class Read, class Write>
void mixed_ops(uint64_t per, Read read, Write write) {
  uint64_t last = 0;
  for (uint64_t i = 0; i < per; ++i) {
    if (is_write(i)) {
      write();
    } else {
      const uint64_t v = read();
      BENCH_CHECK(v >= last);
      last = v;
    }
  }
}

// Runs body() on `count` OS threads at once and joins them.
template <class Body>
void run_threads(int count, Body body) {
  std::vector<std::thread> threads;
  for (int t = 0; t < count; ++t) threads.emplace_back(body);
  for (auto& t : threads) t.join();
}

}  // namespace bench
