// A connection without a socket: runs each request line through the
// RequestDriver, exactly as a session does, and waits for its reply. For
// the fuzzer, the benchmark and tests, which need the daemon's whole
// request path in one process and one call per request.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "server/request_driver.h"

namespace litepool::server {

// Used by one thread at a time; results that settle on workers or grants
// reach it through a mailbox guarded by its own lock.
class InProcessConnection {
 public:
  // A request that waits for a handle waits at most `max_wait` (and at most
  // its own wait_ms) before it answers acquire_timeout, as a session would.
  InProcessConnection(RequestDriver* driver, const ClientContext& client, Millis max_wait);
  // Closes the connection: its leases go back to their pools.
  ~InProcessConnection();
  InProcessConnection(const InProcessConnection&) = delete;
  InProcessConnection& operator=(const InProcessConnection&) = delete;

  // Runs `line` to its reply line.
  std::string Run(std::string_view line);

 private:
  class Mailbox;

  RequestDriver* const driver_;
  const Millis max_wait_;
  std::shared_ptr<Mailbox> mailbox_;
  std::shared_ptr<DriverConnection> connection_;
};

}  // namespace litepool::server
