// echo_server: the physical limit of a line-protocol daemon on a Unix
// socket. One thread, epoll; for each newline-terminated line "<N> ..." it
// answers a line of exactly N bytes (newline included); any other line is
// echoed back. It parses nothing else and touches no database, so a daemon
// cannot answer faster than this with the same syscalls per request.
// Usage: echo_server --socket PATH
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

constexpr size_t kMaxReply = 1 << 20;

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

struct Conn {
  std::string in;
  std::string out;
  bool want_write = false;
};

// A reply line of `n` bytes: a JSON-looking body padded with 'x'.
void AppendReply(std::string* out, size_t n) {
  static const std::string kPad(kMaxReply, 'x');
  if (n < 2) n = 2;
  if (n > kMaxReply) n = kMaxReply;
  out->append(kPad.data(), n - 1);
  out->push_back('\n');
}

void Answer(Conn* c) {
  size_t start = 0;
  while (true) {
    size_t nl = c->in.find('\n', start);
    if (nl == std::string::npos) break;
    const char* line = c->in.data() + start;
    size_t len = nl - start;
    size_t n = 0, i = 0;
    while (i < len && line[i] >= '0' && line[i] <= '9') n = n * 10 + (line[i++] - '0');
    if (i > 0 && i < len && line[i] == ' ') {
      AppendReply(&c->out, n);
    } else {
      c->out.append(line, len + 1);
    }
    start = nl + 1;
  }
  c->in.erase(0, start);
}

// Writes what it can; false if the peer is gone.
bool Flush(int fd, Conn* c) {
  while (!c->out.empty()) {
    ssize_t n = ::send(fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c->out.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--socket") == 0) path = argv[i + 1];
  }
  if (path.empty()) {
    std::fprintf(stderr, "usage: echo_server --socket PATH\n");
    return 2;
  }
  ::signal(SIGTERM, OnSignal);
  ::signal(SIGINT, OnSignal);
  ::signal(SIGPIPE, SIG_IGN);

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    std::fprintf(stderr, "echo_server: socket path too long\n");
    return 2;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ::unlink(path.c_str());
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listener, SOMAXCONN) != 0) {
    std::perror("echo_server: listen");
    return 1;
  }
  int ep = ::epoll_create1(EPOLL_CLOEXEC);
  epoll_event lev{};
  lev.events = EPOLLIN;
  lev.data.fd = listener;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, listener, &lev);

  std::unordered_map<int, Conn> conns;
  std::vector<char> chunk(64 * 1024);
  epoll_event events[256];
  auto close_conn = [&](int fd) {
    ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    conns.erase(fd);
  };
  while (!g_stop) {
    int n = ::epoll_wait(ep, events, 256, 200);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        while (true) {
          int c = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          epoll_event ev{};
          ev.events = EPOLLIN;
          ev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
          conns[c];
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      Conn& c = it->second;
      if (events[i].events & EPOLLIN) {
        ssize_t got = ::recv(fd, chunk.data(), chunk.size(), 0);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
          close_conn(fd);
          continue;
        }
        if (got > 0) {
          c.in.append(chunk.data(), static_cast<size_t>(got));
          Answer(&c);
        }
      }
      if (!Flush(fd, &c)) {
        close_conn(fd);
        continue;
      }
      bool want_write = !c.out.empty();
      if (want_write != c.want_write) {
        c.want_write = want_write;
        epoll_event ev{};
        ev.events = want_write ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
        ev.data.fd = fd;
        ::epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
      }
    }
  }
  for (auto& [fd, c] : conns) ::close(fd);
  ::close(listener);
  ::unlink(path.c_str());
  return 0;
}
