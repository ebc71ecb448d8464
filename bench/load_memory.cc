// Idle connections and the soak.
#include "bench/load_memory.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "wire/unix_socket.h"

namespace litepool::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Waits until the daemon holds `fds` descriptors or more (`at_least`) or at
// most (!at_least), then lets it settle; returns the last sample.
ProcSample WaitForFds(pid_t pid, int fds, bool at_least) {
  auto deadline = SteadyClock::now() + std::chrono::seconds(20);
  ProcSample s = SampleProcess(pid);
  while (SteadyClock::now() < deadline && (at_least ? s.fds < fds : s.fds > fds)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    s = SampleProcess(pid);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  return SampleProcess(pid);
}

}  // namespace

IdleResult MeasureIdleConnections(const std::string& socket, pid_t pid, int n) {
  IdleResult r;
  r.requested = n;
  r.client_fd_limit = RaiseFdLimit();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  r.before = SampleProcess(pid);
  std::vector<int> fds;
  fds.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    std::string error;
    int fd = wire::ConnectUnixSocket(socket, &error);
    if (fd < 0) {
      r.error = "connection " + std::to_string(i + 1) + ": " + error;
      break;
    }
    fds.push_back(fd);
  }
  r.connected = static_cast<int>(fds.size());
  r.connected_sample = WaitForFds(pid, r.before.fds + r.connected, true);

  // One ping each: every session has read and written once, as an idle
  // client of a real application has.
  const char kPing[] = "{\"op\":\"ping\"}\n";
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  int pending = 0;
  for (size_t i = 0; i < fds.size(); ++i) {
    if (::send(fds[i], kPing, sizeof(kPing) - 1, MSG_NOSIGNAL) != sizeof(kPing) - 1) continue;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
    ++pending;
  }
  int answered = 0, closed = 0;
  std::string first_reply;
  auto deadline = SteadyClock::now() + std::chrono::seconds(30);
  epoll_event events[256];
  char buf[4096];
  while (pending > 0 && SteadyClock::now() < deadline) {
    int k = ::epoll_wait(ep, events, 256, 100);
    for (int i = 0; i < k; ++i) {
      int fd = fds[events[i].data.u64];
      ssize_t got = ::recv(fd, buf, sizeof(buf), 0);
      if (got < 0 && errno == EAGAIN) continue;
      ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
      --pending;
      if (got > 0) {
        ++answered;
        if (first_reply.empty()) first_reply.assign(buf, static_cast<size_t>(got));
      } else {
        ++closed;
      }
    }
  }
  ::close(ep);
  if (answered < r.connected && r.error.empty()) {
    r.error = std::to_string(answered) + " of " + std::to_string(r.connected) +
              " pings answered (" + std::to_string(closed) + " closed by the daemon)";
  }
  r.after_ping = WaitForFds(pid, r.before.fds + r.connected, true);
  for (int fd : fds) ::close(fd);
  r.after_close = WaitForFds(pid, r.before.fds, false);
  return r;
}

SoakResult RunSoak(const std::string& socket, pid_t pid, int64_t rows, uint64_t cycles,
                   uint64_t every, int connections,
                   const std::function<void(const SoakSample&)>& report) {
  SoakResult r;
  std::mutex mu;
  auto start = SteadyClock::now();
  auto take = [&](uint64_t done) {
    SoakSample s;
    s.cycles = done;
    s.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    s.proc = SampleProcess(pid);
    std::lock_guard<std::mutex> lock(mu);
    r.samples.push_back(s);
    if (report) report(s);
  };
  take(0);
  LoadOptions o;
  o.socket = socket;
  o.scenario = Scenario::kLease1;
  o.connections = connections;
  o.threads = 1;
  o.max_cycles = cycles;
  o.progress_every = every;
  o.progress = take;
  o.rows = rows;
  o.seed = 4242;
  r.load = RunLoad(o);
  r.error = r.load.setup_error;
  if (r.error.empty() && r.load.errors > 0) r.error = "errors: " + r.load.first_error;
  return r;
}

}  // namespace litepool::bench
