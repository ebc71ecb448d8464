// Socket file handling and the accept loop.
#include "server/listener.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "log/log.h"
#include "server/reply.h"
#include "wire/unix_socket.h"

namespace litepool::server {
namespace asio = boost::asio;

namespace {

// Pause after EMFILE/ENFILE: accepting again at once would spin.
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

// True if a daemon answers on the socket file at `path`.
bool SomeoneListens(const std::string& path) {
  int fd = wire::ConnectUnixSocket(path);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

}  // namespace

Listener::Listener(asio::io_context& io, ListenerOptions options, NextContext next_context,
                   Admission admit, OnAccept on_accept)
    : options_(std::move(options)),
      next_context_(std::move(next_context)),
      admit_(std::move(admit)),
      on_accept_(std::move(on_accept)),
      acceptor_(io),
      pause_timer_(io) {}

Listener::~Listener() {
  Close();
  if (lock_fd_ >= 0) ::close(lock_fd_);
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

Status Listener::Open() {
  // The lock, not the socket file, decides who owns the path: two daemons
  // started together would otherwise both find no live socket.
  std::string lock_path = options_.path + ".lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) {
    return Status(Code::kInternal, "cannot open " + lock_path + ": " + std::strerror(errno));
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Status(Code::kInternal, "another daemon holds " + lock_path);
  }
  struct stat st {};
  if (::lstat(options_.path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status(Code::kInternal,
                    options_.path + " exists and is not a socket; not replacing it");
    }
    if (SomeoneListens(options_.path)) {
      return Status(Code::kInternal, "another daemon is listening on " + options_.path);
    }
    ::unlink(options_.path.c_str());  // left by a daemon that died
    log::Info("stale_socket_removed").Str("socket", options_.path);
  }
  boost::system::error_code ec;
  asio::local::stream_protocol::endpoint endpoint(options_.path);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (ec) return Status(Code::kInternal, "cannot bind " + options_.path + ": " + ec.message());
  open_ = true;
  if (::chmod(options_.path.c_str(), options_.mode) != 0) {
    return Status(Code::kInternal, "cannot chmod " + options_.path + ": " + std::strerror(errno));
  }
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status(Code::kInternal, "cannot listen on " + options_.path + ": " + ec.message());
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  Accept();
  return Status();
}

void Listener::Close() {
  if (!open_) return;
  open_ = false;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  pause_timer_.cancel();
  ::unlink(options_.path.c_str());
}

void Listener::LogAcceptFailure(const boost::system::error_code& ec) {
  // Once per 10 s at most: a full fd table fails every accept.
  auto now = std::chrono::steady_clock::now();
  if (now - last_failure_log_ < std::chrono::seconds(10)) {
    ++failures_unlogged_;
    return;
  }
  last_failure_log_ = now;
  auto event = log::Warn("accept_failed");
  event.Str("error", ec.message());
  if (failures_unlogged_ > 0) event.Int("suppressed", failures_unlogged_);
  failures_unlogged_ = 0;
}

bool Listener::RefuseWithReserve() {
  if (reserve_fd_ < 0) return false;
  ::close(reserve_fd_);
  reserve_fd_ = -1;
  int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  bool refused = fd >= 0;
  if (refused) {
    std::string line = ErrorReply(
        "", Status(Code::kTooManyClients,
                   "the daemon is out of file descriptors (RLIMIT_NOFILE); try again later"));
    (void)!::send(fd, line.data(), line.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  return refused;
}

void Listener::Accept() {
  acceptor_.async_accept(next_context_(), [this](const boost::system::error_code& ec,
                                                 Socket socket) {
    if (!open_) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      LogAcceptFailure(ec);
      bool out_of_fds = ec == asio::error::no_descriptors || ec.value() == ENFILE;
      if (out_of_fds && RefuseWithReserve()) {
        Accept();  // the next one may find a descriptor again
        return;
      }
      pause_timer_.expires_after(kAcceptPause);
      pause_timer_.async_wait([this](const boost::system::error_code& e) {
        if (!e && open_) Accept();
      });
      return;
    }
    wire::PeerCredentials peer = wire::ReadPeerCredentials(socket.native_handle());
    Status admitted = Status();
    bool root = peer.uid == 0;
    const auto& allowed = options_.allowed_uids;
    if (!root && !allowed.empty() &&
        std::find(allowed.begin(), allowed.end(), peer.uid) == allowed.end()) {
      admitted = Status(Code::kForbidden, "uid " + std::to_string(peer.uid) + " is not allowed");
    } else {
      admitted = admit_(peer);
    }
    if (admitted.ok()) {
      on_accept_(std::move(socket), peer);
    } else {
      Refuse(std::move(socket), peer, admitted);
    }
    Accept();
  });
}

void Listener::Refuse(Socket socket, const wire::PeerCredentials& peer, const Status& why) {
  log::Warn("client_refused").Int("pid", peer.pid).Int("uid", peer.uid).Code("reason", why.code());
  // One best-effort line so the client learns why; never block on it.
  std::string line = ErrorReply("", why);
  boost::system::error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(line), ignored);
  socket.shutdown(Socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace litepool::server
