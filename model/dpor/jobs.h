// weft/model/dpor/jobs.h: one exploration split over N processes (the runner's --jobs=N).
//
// The tree (Options::splitter): the first process explores as with one job; between
// executions, when a job is free, it forks a process for the shallowest alternative still
// to explore in the upper half of its path (the fork copies the path with its backtrack,
// done and sleep sets), and skips that alternative. A process forks in turn below its own
// root. A race that adds a backtrack point at or above a process's root is sent up to the
// process that owns the node, which leaves a node only after every process rooted there
// ended: the union of the processes' explorations is a run of the one-job algorithm
// (README: "--jobs").
//
// Sampling (Options::chooser): N processes from the start, sample i in process i % N.
//
// Free jobs are tokens in a pipe (as make's jobserver): a process holds one while it
// runs, gives it back while it waits for the processes below it. A failure anywhere stops
// every process (a word in shared memory; for sampling, those past the failing execution);
// the first process returns it.
//
//   dpor::Jobs jobs(n, hooks);
//   jobs.attach(options);
//   dpor::Result result = jobs.finish(dpor::Engine::explore(main, options));
#pragma once

#include "model/dpor/engine.h"

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <sys/types.h>
#include <tuple>
#include <vector>

namespace weft::dpor {

class Jobs final : public Splitter {
 public:
  // What the caller counts per execution beside the engine (the harness: kept and
  // discarded executions, reached points), moved from the workers to the first process.
  struct Hooks {
    std::function<void()> worker_started;     // in a new process: its counts start from zero
    std::function<std::string()> take_share;  // counts since the last take
    std::function<void(const std::string&)> add_share;  // another process's, added here
    std::function<void()> waiting;  // about every second while this process waits
    // Sampling: the number of the execution run last. A failure stops only the executions
    // numbered after it, and the lowest-numbered failure is reported: one job's. Null: a
    // failure stops everything.
    std::function<std::uint64_t()> rank;
  };

  // jobs <= 1: a pass-through, everything runs in this process.
  Jobs(unsigned jobs, Hooks hooks);
  ~Jobs() override;
  Jobs(const Jobs&) = delete;
  Jobs& operator=(const Jobs&) = delete;

  unsigned jobs() const { return jobs_; }
  // Splits the tree search of `options`: sets its splitter, counts its executions.
  void attach(Options& options);
  // Sampling: forks the other jobs() - 1 processes now and returns this one's index.
  unsigned fork_samplers();
  // After Engine::explore returned `own` here. A worker sends its result (and those of
  // the processes below it) to its parent and exits; the first process returns the run's:
  // executions summed, the failure some process found.
  Result finish(Result own);

  bool poll(Explorer& explorer) override;
  Handoff split(std::size_t node) override;
  void forward(std::size_t node, std::uint32_t initials, unsigned thread) override;
  bool settle(Explorer& explorer, std::size_t node) override;

 private:
  struct Child {
    pid_t pid;
    int fd;            // its messages
    std::size_t root;  // the node it took
  };
  struct Shared;

  // Forks a process rooted at `root`: 0 in it, 1 in this one, -1 if it failed.
  int fork_child(std::size_t root);
  bool take_token(bool wait);
  void give_token();
  // Reads the children's messages for up to `timeout_ms`; `explorer` takes their points
  // (null once the search is over). True if something came.
  bool receive(Explorer* explorer, int timeout_ms);
  void handle(std::size_t index, Explorer* explorer);
  void send_share(bool now);
  std::uint64_t rank() const;
  bool stopping() const;          // a failure ranked before this process's work was found
  void stop(std::uint64_t rank);  // a failure of that rank: work ranked after it stops
  void merge(Result& into, std::uint64_t& into_rank, const Result& from, std::uint64_t from_rank);

  unsigned jobs_;
  Hooks hooks_;
  Shared* shared_ = nullptr;
  int tokens_[2] = {-1, -1};
  int parent_fd_ = -1;  // a worker's messages to its parent; -1 in the first process
  std::vector<Child> children_;
  Result gathered_;                            // the ended children's results
  std::uint64_t gathered_rank_ = 0;            // of its failure
  std::uint64_t completed_ = 0, blocked_ = 0;  // this process's executions (on_complete, go_on)
  std::uint64_t base_completed_ = 0, base_blocked_ = 0;  // at the fork: the parent's
  std::set<std::tuple<std::size_t, std::uint32_t, unsigned>> forwarded_;
  std::uint64_t last_share_ns_ = 0;
  std::uint64_t polls_ = 0;
};

}  // namespace weft::dpor
