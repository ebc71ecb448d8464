// A request's steps, in order.
#include "server/request_driver.h"

#include <utility>

namespace litepool::server {
namespace {

// A worker's step never hands over again (it may block); should one, its
// continuation runs here too.
Settled Finish(Dispatcher* dispatcher, const ClientContext& client, Outcome outcome,
               const Completion& complete) {
  while (auto* handover = std::get_if<Handover>(&outcome)) {
    outcome = dispatcher->Continue(client, std::move(handover->rest), complete);
  }
  if (auto* answer = std::get_if<Answer>(&outcome)) return std::move(*answer);
  return std::move(std::get<Queued>(outcome));
}

}  // namespace

DriverConnection::DriverConnection(const ClientContext& client, Deliver finished, Deliver granted)
    : client_(client), finished_(std::move(finished)), granted_(std::move(granted)) {}

RequestDriver::RequestDriver(Dispatcher* dispatcher, TaskRunner* workers)
    : dispatcher_(dispatcher), workers_(workers) {}

std::shared_ptr<DriverConnection> RequestDriver::Connect(const ClientContext& client,
                                                         DriverConnection::Deliver finished,
                                                         DriverConnection::Deliver granted) {
  std::shared_ptr<DriverConnection> connection(
      new DriverConnection(client, std::move(finished), std::move(granted)));
  // A grant holds the connection weakly: a waiter outliving its connection
  // finds it gone, and a ticket in what it produced withdraws itself.
  connection->complete_ = [this,
                           weak = std::weak_ptr<DriverConnection>(connection)](Outcome outcome) {
    auto conn = weak.lock();
    if (!conn) return;
    if (auto* handover = std::get_if<Handover>(&outcome)) {
      const DriverConnection::Deliver* to = &conn->granted_;
      ToWorker(std::move(conn), std::move(handover->rest), to);
      return;
    }
    if (auto* answer = std::get_if<Answer>(&outcome)) {
      conn->granted_(std::move(*answer));
    } else {
      conn->granted_(std::move(std::get<Queued>(outcome)));
    }
  };
  dispatcher_->ClientJoined(client);
  return connection;
}

void RequestDriver::Disconnect(const DriverConnection& connection) {
  dispatcher_->ClientGone(connection.client_);
}

std::optional<Settled> RequestDriver::Start(const std::shared_ptr<DriverConnection>& connection,
                                            std::string_view line) {
  Outcome outcome =
      dispatcher_->Run(connection->client_, line, Place::kIoThread, connection->complete_);
  if (auto* handover = std::get_if<Handover>(&outcome)) {
    ToWorker(connection, std::move(handover->rest), &connection->finished_);
    return std::nullopt;
  }
  if (auto* answer = std::get_if<Answer>(&outcome)) return Settled(std::move(*answer));
  return Settled(std::move(std::get<Queued>(outcome)));
}

void RequestDriver::ToWorker(std::shared_ptr<DriverConnection> connection, Continuation rest,
                             const DriverConnection::Deliver* deliver) {
  // std::function needs a copyable task.
  auto task = std::make_shared<Continuation>(std::move(rest));
  workers_->Post([this, connection = std::move(connection), task, deliver] {
    (*deliver)(Finish(dispatcher_, connection->client_, Outcome(Handover{std::move(*task)}),
                      connection->complete_));
  });
}

}  // namespace litepool::server
