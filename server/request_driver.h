// Runs each request of a connection to its reply: the one place that knows
// the order of a request's steps (docs/architecture.md, "The path of a
// request"). A request starts on the connection's own thread and goes as
// far as it can without blocking; what could block continues on a worker;
// an acquire with no handle free waits in its pool's queue and is answered
// by whoever frees one. The session, the fuzzer and the benchmark all run
// requests through it. No sockets, no Asio.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "pool/task_runner.h"
#include "server/dispatcher.h"
#include "server/outcome.h"

namespace litepool::server {

class RequestDriver;

// One connection's side of the driver, made by RequestDriver::Connect.
// `finished` and `granted` are called on whichever thread a result settles
// (a worker, or the thread that freed a handle) and must carry it to the
// connection's own thread; they are never called for a request Start()
// answered itself. Shared with the tasks and waiters that still refer to
// it, which hold it weakly or briefly.
class DriverConnection {
 public:
  using Deliver = std::function<void(Settled)>;
  const ClientContext& client() const { return client_; }

 private:
  friend class RequestDriver;
  DriverConnection(const ClientContext& client, Deliver finished, Deliver granted);

  const ClientContext client_;
  const Deliver finished_;  // what a hand-over to a worker came to
  const Deliver granted_;   // what became of a queued acquire
  // Given to the Dispatcher with every request, copied only when an
  // acquire queues; made once per connection, not per request.
  Completion complete_;
};

// Thread-safe; Start() from a connection's thread, one request of a
// connection at a time.
class RequestDriver {
 public:
  RequestDriver(Dispatcher* dispatcher, TaskRunner* workers);

  std::shared_ptr<DriverConnection> Connect(const ClientContext& client,
                                            DriverConnection::Deliver finished,
                                            DriverConnection::Deliver granted);
  // The connection has closed: its leases go back (docs/protocol.md,
  // "Cancelling"). Its queued acquire, if any, is withdrawn by dropping
  // its ticket.
  void Disconnect(const DriverConnection& connection);

  // Runs `line` on the calling thread as far as it goes without blocking.
  // Returns what it came to, or nothing: it continues on a worker, and its
  // result comes through the connection's `finished`.
  std::optional<Settled> Start(const std::shared_ptr<DriverConnection>& connection,
                               std::string_view line);

 private:
  // Runs `rest` on a worker; what it comes to goes to `deliver`, one of
  // the connection's own.
  void ToWorker(std::shared_ptr<DriverConnection> connection, Continuation rest,
                const DriverConnection::Deliver* deliver);

  Dispatcher* const dispatcher_;
  TaskRunner* const workers_;
};

}  // namespace litepool::server
