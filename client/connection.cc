// Socket I/O and reply framing for the client: connect, write a line, read a
// line, and check that the reply is a protocol reply to this request.
#include "client/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "client/reply.h"
#include "wire/error_code.h"
#include "wire/unix_socket.h"

namespace litepool::client::internal {
namespace {

Error IoError(std::string message) { return Error{std::string(kIoError), std::move(message), 0}; }

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

Result<std::unique_ptr<Connection>> Connection::Open(const std::string& socket_path) {
  std::string error;
  int fd = wire::ConnectUnixSocket(socket_path, &error);
  if (fd < 0) return IoError(std::move(error));
  return std::unique_ptr<Connection>(new Connection(fd));
}

Connection::~Connection() { ::close(fd_); }

Error Connection::Broken(std::string message) {
  if (!broken_) {
    broken_ = true;
    broken_reason_ = message;
  }
  return IoError(std::move(message));
}

Status Connection::WriteLine(const nlohmann::json& request) {
  std::string line;
  try {
    line = request.dump();
  } catch (const nlohmann::json::exception& e) {
    // Text that is not UTF-8 cannot travel as JSON. Nothing was written, so
    // the connection stays usable.
    return Error{wire::CodeName(Code::kBadRequest),
                 std::string("cannot encode request: ") + e.what(), 0};
  }
  line.push_back('\n');
  std::string_view rest = line;
  while (!rest.empty()) {
    // MSG_NOSIGNAL: a daemon that went away is an io_error, not a SIGPIPE.
    ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Broken(Errno("send"));
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<std::string> Connection::ReadLine() {
  size_t scanned = 0;  // bytes of buffer_ already known to hold no newline
  while (true) {
    size_t newline = buffer_.find('\n', scanned);
    if (newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      return line;
    }
    scanned = buffer_.size();
    char chunk[64 * 1024];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Broken(Errno("recv"));
    }
    if (n == 0) return Broken("the daemon closed the connection");
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

Result<nlohmann::json> Connection::RoundTrip(const nlohmann::json& request) {
  if (broken_) return IoError("connection unusable after an earlier failure: " + broken_reason_);
  Status sent = WriteLine(request);
  if (!sent.ok()) return sent.error();
  Result<std::string> line = ReadLine();
  if (!line.ok()) return line.error();
  nlohmann::json reply = nlohmann::json::parse(*line, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded() || !reply.is_object()) {
    return Broken("reply is not a JSON object: " + line->substr(0, 200));
  }
  return reply;
}

Result<nlohmann::json> Connection::Request(nlohmann::json request) {
  const int64_t id = next_id_++;
  request["id"] = id;
  Result<nlohmann::json> reply = RoundTrip(request);
  if (!reply.ok()) return reply;
  // An id that does not match means replies and requests are out of step;
  // nothing later on this stream can be trusted.
  auto found = reply->find("id");
  if (found == reply->end() || !found->is_number_integer() || found->get<int64_t>() != id) {
    return Broken("reply id does not match request id " + std::to_string(id));
  }
  Error error;
  switch (ClassifyReply(*reply, &error)) {
    case ReplyKind::kOk:
      return reply;
    case ReplyKind::kError:
      return error;
    case ReplyKind::kMalformed:
      break;
  }
  return Broken(error.message);
}

}  // namespace litepool::client::internal
