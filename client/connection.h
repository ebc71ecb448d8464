// One Unix-socket connection to litepoold, framed as newline-delimited JSON.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "litepool/client_result.h"

namespace litepool::client::internal {

// Owns the socket and the bytes read past the last reply line. Not
// thread-safe; one request is in flight at a time. After a transport failure
// the connection is "broken": the stream may be out of step (a reply half
// read, a request half written), so every later call fails with io_error
// instead of pairing a request with the wrong reply.
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const std::string& socket_path);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Adds an `id`, sends `request`, and returns the reply object when it says
  // "ok": true; its `error` as an Error otherwise.
  Result<nlohmann::json> Request(nlohmann::json request);

  // Sends `request` unchanged and returns whatever object comes back.
  Result<nlohmann::json> RoundTrip(const nlohmann::json& request);

 private:
  explicit Connection(int fd) : fd_(fd) {}

  Status WriteLine(const nlohmann::json& request);
  Result<std::string> ReadLine();
  Error Broken(std::string message);

  const int fd_;
  std::string buffer_;  // bytes received and not yet returned as a line
  bool broken_ = false;
  std::string broken_reason_;
  int64_t next_id_ = 1;
};

}  // namespace litepool::client::internal
