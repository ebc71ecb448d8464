// LineClient: the raw newline-delimited JSON client the protocol tests use.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "tests/support/daemon.h"
#include "tests/support/posix_io.h"
#include "wire/unix_socket.h"

namespace litepool::testing {

LineClient::LineClient(const std::string& socket_path) {
  std::string error;
  fd_ = wire::ConnectUnixSocket(socket_path, &error);
  if (fd_ < 0) ADD_FAILURE() << error;
}

LineClient::LineClient(LineClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), buffer_(std::move(other.buffer_)) {}

LineClient::~LineClient() { Close(); }

void LineClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool LineClient::Send(std::string_view line) {
  std::string bytes(line);
  bytes.push_back('\n');
  return SendRaw(bytes);
}

bool LineClient::SendRaw(std::string_view bytes) {
  return fd_ >= 0 && internal::WriteAll(fd_, bytes);
}

std::optional<std::string> LineClient::ReadLine(milliseconds timeout) {
  if (fd_ < 0) return std::nullopt;
  std::string line;
  if (internal::ReadLine(fd_, &buffer_, timeout, &line) != internal::ReadStatus::kLine) {
    return std::nullopt;
  }
  return line;
}

nlohmann::json LineClient::Call(const nlohmann::json& request, milliseconds timeout) {
  if (!Send(request.dump())) {
    ADD_FAILURE() << "cannot send " << request.dump();
    return nullptr;
  }
  std::optional<std::string> line = ReadLine(timeout);
  if (!line) {
    ADD_FAILURE() << "no reply within " << timeout.count() << " ms to " << request.dump();
    return nullptr;
  }
  nlohmann::json reply = nlohmann::json::parse(*line, nullptr, false);
  if (reply.is_discarded()) {
    ADD_FAILURE() << "reply is not JSON: " << *line;
    return nullptr;
  }
  return reply;
}

bool LineClient::Closed(milliseconds timeout) {
  if (fd_ < 0) return true;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd_, POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return false;
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;  // EOF or reset
  }
}

}  // namespace litepool::testing
