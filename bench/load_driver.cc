// The raw driver: epoll loops over non-blocking Unix sockets, one request in
// flight per connection, latencies timed per reply.
#include "bench/load_driver.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "bench/load_process.h"
#include "wire/unix_socket.h"

namespace litepool::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;

constexpr int kMaxEvents = 256;
constexpr size_t kReadChunk = 64 * 1024;
constexpr auto kDrainTimeout = std::chrono::seconds(5);

uint64_t Nanos(TimePoint from, TimePoint to) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count());
}

double ProcessCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

struct Conn {
  Conn(int fd, Script script) : fd(fd), script(std::move(script)) {}
  int fd;
  Script script;
  std::string out;
  std::string in;
  TimePoint sent;
  TimePoint cycle_start;
  bool in_flight = false;
  bool dead = false;
};

// What the threads share. The window is fixed before they start.
struct Shared {
  const LoadOptions* options;
  TimePoint window_start;
  TimePoint window_end;
  std::atomic<uint64_t> cycles_total{0};  // all cycles, for max_cycles
  std::atomic<bool> stop{false};
  std::mutex mu;  // guards the results below
  LoadResult* result;
};

bool SendAll(Conn* c) {
  size_t off = 0;
  while (off < c->out.size()) {
    ssize_t n = ::send(c->fd, c->out.data() + off, c->out.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{c->fd, POLLOUT, 0};
      if (::poll(&p, 1, 1000) <= 0) return false;
      continue;
    }
    return false;
  }
  return true;
}

class Worker {
 public:
  Worker(Shared* shared, std::vector<std::unique_ptr<Conn>> conns)
      : shared_(shared), conns_(std::move(conns)) {}

  void Run() {
    const LoadOptions& o = *shared_->options;
    int ep = ::epoll_create1(EPOLL_CLOEXEC);
    for (size_t i = 0; i < conns_.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      ::epoll_ctl(ep, EPOLL_CTL_ADD, conns_[i]->fd, &ev);
    }
    TimePoint now = SteadyClock::now();
    for (auto& c : conns_) {
      c->cycle_start = now;
      Send(c.get(), now);
    }
    std::vector<char> chunk(kReadChunk);
    epoll_event events[kMaxEvents];
    bool sending = true;
    TimePoint drain_deadline{};
    while (true) {
      now = SteadyClock::now();
      if (sending && (shared_->stop.load(std::memory_order_relaxed) ||
                      (o.max_cycles == 0 && now >= shared_->window_end))) {
        sending = false;
        drain_deadline = now + kDrainTimeout;
      }
      if (!sending && (in_flight_ == 0 || now >= drain_deadline)) break;
      int n = ::epoll_wait(ep, events, kMaxEvents, 5);
      for (int i = 0; i < n; ++i) {
        Conn* c = conns_[events[i].data.u64].get();
        if (c->dead) continue;
        ssize_t got = ::recv(c->fd, chunk.data(), chunk.size(), 0);
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (got <= 0) {
          Kill(c, ep, got == 0 ? "the server closed the connection" : std::strerror(errno));
          continue;
        }
        c->in.append(chunk.data(), static_cast<size_t>(got));
        size_t start = 0;
        while (true) {
          size_t nl = c->in.find('\n', start);
          if (nl == std::string::npos) break;
          std::string_view line(c->in.data() + start, nl - start);
          start = nl + 1;
          OnReply(c, line, sending);
        }
        c->in.erase(0, start);
      }
    }
    ::close(ep);
    std::lock_guard<std::mutex> lock(shared_->mu);
    LoadResult& r = *shared_->result;
    r.requests += requests_;
    r.cycles += cycles_;
    r.errors += errors_;
    if (r.first_error.empty()) r.first_error = first_error_;
    r.request_ns.Merge(request_ns_);
    r.cycle_ns.Merge(cycle_ns_);
  }

 private:
  void Send(Conn* c, TimePoint now) {
    c->out.clear();
    c->script.NextRequest(&c->out);
    c->sent = now;
    if (!SendAll(c)) {
      c->dead = true;
      NoteError(std::string("send: ") + std::strerror(errno));
      return;
    }
    c->in_flight = true;
    ++in_flight_;
  }

  void Kill(Conn* c, int ep, const std::string& why) {
    ::epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
    c->dead = true;
    if (c->in_flight) {
      c->in_flight = false;
      --in_flight_;
    }
    NoteError(why);
  }

  void NoteError(const std::string& what) {
    ++errors_;
    if (first_error_.empty()) first_error_ = what;
  }

  void OnReply(Conn* c, std::string_view line, bool sending) {
    if (!c->in_flight) return;  // not ours (cannot happen with one in flight)
    TimePoint now = SteadyClock::now();
    c->in_flight = false;
    --in_flight_;
    bool cycle_done = false;
    std::string error;
    bool ok = c->script.OnReply(line, &cycle_done, &error);
    if (!ok) NoteError(error);
    const LoadOptions& o = *shared_->options;
    bool in_window =
        o.max_cycles > 0 || (c->sent >= shared_->window_start && now <= shared_->window_end);
    if (ok && in_window) {
      ++requests_;
      request_ns_.Record(Nanos(c->sent, now));
    }
    if (cycle_done) {
      if (o.max_cycles > 0 ||
          (c->cycle_start >= shared_->window_start && now <= shared_->window_end)) {
        ++cycles_;
        cycle_ns_.Record(Nanos(c->cycle_start, now));
      }
      if (o.max_cycles > 0) CountCycle();
    }
    if (cycle_done || !ok) c->cycle_start = now;
    // Past the end, a connection still finishes its cycle (releasing its
    // lease), so that no other connection is left queued behind it.
    if ((sending && !shared_->stop.load(std::memory_order_relaxed)) || c->script.mid_cycle()) {
      Send(c, now);
    }
  }

  void CountCycle() {
    const LoadOptions& o = *shared_->options;
    uint64_t total = shared_->cycles_total.fetch_add(1, std::memory_order_relaxed) + 1;
    if (o.progress && o.progress_every > 0 && total % o.progress_every == 0) o.progress(total);
    if (total >= o.max_cycles) shared_->stop.store(true, std::memory_order_relaxed);
  }

  Shared* shared_;
  std::vector<std::unique_ptr<Conn>> conns_;
  int in_flight_ = 0;
  uint64_t requests_ = 0;
  uint64_t cycles_ = 0;
  uint64_t errors_ = 0;
  std::string first_error_;
  LatencyHistogram request_ns_;
  LatencyHistogram cycle_ns_;
};

}  // namespace

LoadResult RunLoad(const LoadOptions& options) {
  if (options.driver == "lib") return RunLoadWithClientLibrary(options);
  LoadResult result;
  int threads = std::max(1, std::min(options.threads, options.connections));
  std::vector<std::vector<std::unique_ptr<Conn>>> shares(threads);
  for (int i = 0; i < options.connections; ++i) {
    int fd = wire::ConnectUnixSocket(options.socket, &result.setup_error);
    if (fd < 0) {
      for (auto& share : shares) {
        for (auto& c : share) ::close(c->fd);
      }
      return result;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    Script script(options.scenario, options.seed * 1000003 + i, options.rows, options.echo,
                  options.sizes);
    shares[i % threads].push_back(std::make_unique<Conn>(fd, std::move(script)));
  }

  Shared shared;
  shared.options = &options;
  shared.result = &result;
  TimePoint begin = SteadyClock::now();
  auto dur = [](double s) {
    return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
  };
  shared.window_start = begin + dur(options.warmup_seconds);
  shared.window_end = shared.window_start + dur(options.seconds);

  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> running;
  std::vector<int> fds;
  for (auto& share : shares) {
    for (auto& c : share) fds.push_back(c->fd);
    workers.push_back(std::make_unique<Worker>(&shared, std::move(share)));
  }
  for (auto& w : workers) running.emplace_back([&w] { w->Run(); });

  if (options.max_cycles == 0) {
    // Sample CPU time at the window's edges.
    std::this_thread::sleep_until(shared.window_start);
    double client0 = ProcessCpuSeconds();
    double server0 = options.server_pid > 0 ? SampleProcess(options.server_pid).cpu_seconds : 0;
    std::this_thread::sleep_until(shared.window_end);
    result.client_cpu_seconds = ProcessCpuSeconds() - client0;
    if (options.server_pid > 0) {
      result.server_cpu_seconds = SampleProcess(options.server_pid).cpu_seconds - server0;
    }
    result.seconds = options.seconds;
  }
  for (auto& t : running) t.join();
  if (options.max_cycles > 0) {
    result.seconds = std::chrono::duration<double>(SteadyClock::now() - begin).count();
  }
  for (int fd : fds) ::close(fd);
  return result;
}

}  // namespace litepool::bench
