// Socket helpers for the test support library: write, read a line.
#include "tests/support/posix_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace litepool::testing::internal {

bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

ReadStatus ReadLine(int fd, std::string* buffer, std::chrono::milliseconds timeout,
                    std::string* line) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t scanned = 0;
  while (true) {
    size_t newline = buffer->find('\n', scanned);
    if (newline != std::string::npos) {
      *line = buffer->substr(0, newline);
      buffer->erase(0, newline + 1);
      return ReadStatus::kLine;
    }
    scanned = buffer->size();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return ReadStatus::kTimeout;
    pollfd pfd{fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return ready == 0 ? ReadStatus::kTimeout : ReadStatus::kEof;
    char chunk[64 * 1024];
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ReadStatus::kEof;
    buffer->append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace litepool::testing::internal
