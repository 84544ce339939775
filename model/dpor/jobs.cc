// One exploration split over processes: forks, the jobserver pipe, the messages up the
// tree of processes (see jobs.h; the proof is in README.md, "--jobs").
#include "model/dpor/jobs.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace weft::dpor {

struct Jobs::Shared {
  // The rank of the first failure found (Hooks::rank): work ranked after it stops.
  // std::atomic, not platform::atomic: a word the checker's own processes share (mmap),
  // outside any explored program. Relaxed everywhere: only a stop hint (a failure's
  // details come through the worker's pipe).
  std::atomic<std::uint64_t> stop_at{~std::uint64_t{0}};
};

namespace {

// Messages from a worker to its parent: a type byte, a 4-byte length, the payload.
constexpr char point_message = 'B';   // a backtrack point above the worker's root
constexpr char share_message = 'S';   // Hooks::take_share, about every second
constexpr char result_message = 'R';  // the worker's Result and last share; it ends

void write_all(int fd, const char* data, std::size_t size) {
  while (size != 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(3);  // the parent is gone: nobody wants this process's work
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

bool read_all(int fd, char* data, std::size_t size) {
  while (size != 0) {
    const ssize_t n = ::read(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

class Writer {
 public:
  void u64(std::uint64_t v) { out_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void text(const std::string& s) {
    u64(s.size());
    out_ += s;
  }
  void send(int fd, char type) {
    std::string frame(1, type);
    const auto size = static_cast<std::uint32_t>(out_.size());
    frame.append(reinterpret_cast<const char*>(&size), sizeof size);
    frame += out_;
    write_all(fd, frame.data(), frame.size());
  }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(const std::string& in) : in_(in) {}
  std::uint64_t u64() {
    std::uint64_t v = 0;
    if (at_ + sizeof v <= in_.size()) std::memcpy(&v, in_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  std::string text() {
    const std::uint64_t size = u64();
    std::string s = at_ <= in_.size() ? in_.substr(at_, size) : std::string();
    at_ += size;
    return s;
  }

 private:
  const std::string& in_;
  std::size_t at_ = 0;
};

bool read_message(int fd, char& type, std::string& payload) {
  std::uint32_t size = 0;
  if (!read_all(fd, &type, 1) || !read_all(fd, reinterpret_cast<char*>(&size), sizeof size)) {
    return false;
  }
  payload.resize(size);
  return read_all(fd, payload.data(), size);
}

void write_result(Writer& w, const Result& r, std::uint64_t rank) {
  w.u64(rank);
  w.u64(r.executions);
  w.u64(r.blocked);
  w.u64((r.stopped ? 1 : 0) | (r.exhausted ? 2 : 0));
  w.u64(static_cast<std::uint64_t>(r.failure));
  w.text(r.message);
  w.text(r.trace);
  w.text(r.replay);
}

Result read_result(Reader& in, std::uint64_t& rank) {
  Result r;
  rank = in.u64();
  r.executions = in.u64();
  r.blocked = in.u64();
  const std::uint64_t flags = in.u64();
  r.stopped = (flags & 1) != 0;
  r.exhausted = (flags & 2) != 0;
  r.failure = static_cast<Failure>(in.u64());
  r.message = in.text();
  r.trace = in.text();
  r.replay = in.text();
  return r;
}

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace

Jobs::Jobs(unsigned jobs, Hooks hooks) : jobs_(jobs == 0 ? 1 : jobs), hooks_(std::move(hooks)) {
  gathered_.exhausted = true;
  if (jobs_ <= 1) return;
  void* shared =
      mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED || pipe(tokens_) != 0) {
    std::fprintf(stderr, "weft dpor: --jobs: %s; running one job\n", std::strerror(errno));
    if (shared != MAP_FAILED) munmap(shared, sizeof(Shared));
    jobs_ = 1;
    return;
  }
  shared_ = new (shared) Shared;
  fcntl(tokens_[0], F_SETFL, O_NONBLOCK);
  for (unsigned i = 1; i < jobs_; ++i) give_token();
}

Jobs::~Jobs() {
  for (int fd : tokens_) {
    if (fd >= 0) close(fd);
  }
  if (shared_ != nullptr) munmap(shared_, sizeof(Shared));
}

void Jobs::attach(Options& options) {
  if (jobs_ <= 1) return;
  options.splitter = this;
  // Counted to know, in a new process, how many of the engine's executions were its
  // parent's (Result counts from the start of Engine::explore).
  options.on_complete = [this, next = std::move(options.on_complete)] {
    ++completed_;
    return !next || next();
  };
  options.go_on = [this, next = std::move(options.go_on)] {
    ++blocked_;
    return !next || next();
  };
}

unsigned Jobs::fork_samplers() {
  for (unsigned index = 1; index < jobs_; ++index) {
    if (take_token(false) && fork_child(0) == 0) return index;
  }
  return 0;
}

int Jobs::fork_child(std::size_t root) {
  std::fflush(nullptr);  // else the child prints the parent's buffered output again
  int fds[2];
  const pid_t parent = getpid();
  const pid_t pid = pipe(fds) == 0 ? fork() : -1;
  if (pid < 0) {
    std::fprintf(stderr, "weft dpor: --jobs: %s\n", std::strerror(errno));
    give_token();
    return -1;
  }
  if (pid != 0) {
    close(fds[1]);
    children_.push_back(Child{pid, fds[0], root});
    return 1;
  }
  close(fds[0]);
  // Dies with its parent (a killed test leaves no worker behind).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(1);
  for (const Child& c : children_) close(c.fd);
  children_.clear();
  if (parent_fd_ >= 0) close(parent_fd_);
  parent_fd_ = fds[1];
  gathered_ = Result{};
  gathered_.exhausted = true;
  gathered_rank_ = 0;
  base_completed_ = completed_;
  base_blocked_ = blocked_;
  forwarded_.clear();
  last_share_ns_ = now_ns();
  if (hooks_.worker_started) hooks_.worker_started();
  return 0;
}

bool Jobs::take_token(bool wait) {
  for (;;) {
    char token = 0;
    const ssize_t n = ::read(tokens_[0], &token, 1);
    if (n == 1) return true;
    if (n < 0 && errno == EINTR) continue;
    if (!wait) return false;
    // A worker that died took its token (and its workers' tokens) with it: once the search
    // stops (a death stops it), go on without one rather than wait for ever.
    if (stopping()) return true;
    pollfd p{tokens_[0], POLLIN, 0};
    ::poll(&p, 1, 100);
  }
}

void Jobs::give_token() { write_all(tokens_[1], "+", 1); }

Handoff Jobs::split(std::size_t node) {
  if (stopping() || !take_token(false)) return Handoff::keep;
  const int forked = fork_child(node);
  return forked == 0 ? Handoff::taken : forked > 0 ? Handoff::given : Handoff::keep;
}

void Jobs::forward(std::size_t node, std::uint32_t initials, unsigned thread) {
  // A race above the root is found again in most executions below it: sent once.
  if (!forwarded_.insert({node, initials, thread}).second) return;
  Writer w;
  w.u64(node);
  w.u64(initials);
  w.u64(thread);
  w.send(parent_fd_, point_message);
}

bool Jobs::poll(Explorer& explorer) {
  // Every 16th execution: the messages wait in the pipe meanwhile (settle() reads them all
  // before a node is left), and the system calls cost.
  if ((++polls_ & 15) == 0) {
    if (!children_.empty()) receive(&explorer, 0);
    send_share(false);
  }
  return !stopping();
}

std::uint64_t Jobs::rank() const { return hooks_.rank ? hooks_.rank() : 0; }

bool Jobs::stopping() const { return rank() >= shared_->stop_at.load(std::memory_order_relaxed); }

void Jobs::stop(std::uint64_t rank) {
  std::uint64_t at = shared_->stop_at.load(std::memory_order_relaxed);
  while (rank < at &&
         !shared_->stop_at.compare_exchange_weak(at, rank, std::memory_order_relaxed)) {
  }
}

bool Jobs::settle(Explorer& explorer, std::size_t node) {
  const auto below = [&] {
    return std::any_of(children_.begin(), children_.end(),
                       [&](const Child& c) { return c.root >= node; });
  };
  if (!below()) return false;
  give_token();  // waiting: another process may run meanwhile
  while (below()) {
    receive(&explorer, 1000);
    send_share(false);
    if (hooks_.waiting) hooks_.waiting();
  }
  take_token(true);
  return true;
}

bool Jobs::receive(Explorer* explorer, int timeout_ms) {
  std::vector<pollfd> fds;
  for (const Child& c : children_) fds.push_back(pollfd{c.fd, POLLIN, 0});
  if (::poll(fds.data(), fds.size(), timeout_ms) <= 0) return false;
  // From the back: handle() may remove the child it reads.
  for (std::size_t i = fds.size(); i-- > 0;) {
    if (fds[i].revents != 0) handle(i, explorer);
  }
  return true;
}

void Jobs::handle(std::size_t index, Explorer* explorer) {
  Child& child = children_[index];
  char type = 0;
  std::string payload;
  const bool read = read_message(child.fd, type, payload);
  if (read && type == point_message) {
    Reader in(payload);
    const std::size_t node = in.u64();
    const auto initials = static_cast<std::uint32_t>(in.u64());
    const auto thread = static_cast<unsigned>(in.u64());
    // Once the search is over (a failure or the time limit stopped it) points are moot.
    if (explorer != nullptr) explorer->add_initial(node, initials, thread);
    return;
  }
  if (read && type == share_message) {
    Reader in(payload);
    if (hooks_.add_share) hooks_.add_share(in.text());
    return;
  }
  Result result;
  std::uint64_t rank = 0;
  if (read && type == result_message) {
    Reader in(payload);
    result = read_result(in, rank);
    const std::string share = in.text();
    if (hooks_.add_share) hooks_.add_share(share);
  }
  close(child.fd);
  int status = 0;
  waitpid(child.pid, &status, 0);
  if (!read || type != result_message) {  // it died without its result: its share is lost
    result.failure = Failure::usage;
    result.message = "a --jobs worker process died (" +
                     (WIFSIGNALED(status) ? std::string("signal ") + strsignal(WTERMSIG(status))
                                          : "exit status " + std::to_string(WEXITSTATUS(status))) +
                     "); rerun with --jobs=1";
    stop(0);
  }
  merge(gathered_, gathered_rank_, result, rank);
  children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(index));
}

void Jobs::send_share(bool now) {
  if (parent_fd_ < 0 || !hooks_.take_share) return;
  const std::uint64_t t = now_ns();
  if (!now && t - last_share_ns_ < 1'000'000'000) return;
  last_share_ns_ = t;
  Writer w;
  w.text(hooks_.take_share());
  w.send(parent_fd_, share_message);
}

void Jobs::merge(Result& into, std::uint64_t& into_rank, const Result& from,
                 std::uint64_t from_rank) {
  into.executions += from.executions;
  into.blocked += from.blocked;
  into.stopped = into.stopped || from.stopped;
  into.exhausted = into.exhausted && from.exhausted;
  // The failure ranked first: for sampling the one that one job reports.
  if (from.failure != Failure::none && (into.failure == Failure::none || from_rank < into_rank)) {
    into_rank = from_rank;
    into.failure = from.failure;
    into.message = from.message;
    into.trace = from.trace;
    into.replay = from.replay;
  }
}

Result Jobs::finish(Result own) {
  if (jobs_ <= 1) return own;
  Result total = std::move(own);
  total.executions -= base_completed_;
  total.blocked -= base_blocked_;
  std::uint64_t total_rank = rank();
  if (total.failure != Failure::none) stop(total_rank);
  give_token();  // done exploring: another process may run meanwhile
  while (!children_.empty()) {
    receive(nullptr, 1000);
    if (hooks_.waiting) hooks_.waiting();
  }
  merge(total, total_rank, gathered_, gathered_rank_);
  if (shared_->stop_at.load(std::memory_order_relaxed) != ~std::uint64_t{0}) {
    total.exhausted = false;
  }
  if (parent_fd_ < 0) return total;
  Writer w;
  write_result(w, total, total_rank);
  w.text(hooks_.take_share ? hooks_.take_share() : std::string());
  w.send(parent_fd_, result_message);
  std::fflush(nullptr);
  _exit(0);  // not exit(): the parent's static objects are the parent's to destroy
}

}  // namespace weft::dpor
