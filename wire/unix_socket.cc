// Connecting to a Unix socket path.
#include "wire/unix_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace litepool::wire {
namespace {

int Fail(int err, std::string message, std::string* error) {
  if (error != nullptr) *error = std::move(message);
  errno = err;
  return -1;
}

}  // namespace

int ConnectUnixSocket(std::string_view path, std::string* error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // The path and its terminating NUL must fit: a longer one would be cut
  // and name another file.
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return Fail(path.empty() ? EINVAL : ENAMETOOLONG,
                "socket path empty or longer than " + std::to_string(sizeof(addr.sun_path) - 1) +
                    " bytes: " + std::string(path),
                error);
  }
  std::memcpy(addr.sun_path, path.data(), path.size());

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    return Fail(err, std::string("socket: ") + std::strerror(err), error);
  }
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) {
    int err = errno;
    ::close(fd);
    return Fail(err, "connect " + std::string(path) + ": " + std::strerror(err), error);
  }
  return fd;
}

}  // namespace litepool::wire
