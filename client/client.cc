// Client: connecting, and the requests that are not made through a lease.
#include "litepool/client.h"

#include <cstdlib>
#include <utility>

#include "client/connection.h"
#include "client/reply.h"
#include "client/value_json.h"
#include "wire/error_code.h"

namespace litepool::client {

using nlohmann::json;

std::string DefaultSocketPath() {
  const char* env = std::getenv("LITEPOOL_SOCKET");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string("./litepool.sock");
}

const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kRead:
      return "read";
    case Mode::kAuto:
      return "auto";
    case Mode::kWrite:
      break;
  }
  return "write";
}

Result<Client> Client::Connect(const std::string& socket_path) {
  auto conn = internal::Connection::Open(socket_path);
  if (!conn.ok()) return conn.error();
  return Client(std::move(conn).value());
}

Client::Client(std::shared_ptr<internal::Connection> conn) : conn_(std::move(conn)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;
Client::~Client() = default;

Result<HelloInfo> Client::Hello() {
  Result<json> reply = conn_->Request({{"op", "hello"}});
  if (!reply.ok()) return reply.error();
  return internal::ParseHello(*reply);
}

Status Client::Ping() {
  Result<json> reply = conn_->Request({{"op", "ping"}});
  if (!reply.ok()) return reply.error();
  return {};
}

Result<Lease> Client::Acquire(const std::string& db, const AcquireOptions& options) {
  // The daemon would answer the same code (docs/protocol.md, "Mode auto"):
  // a lease keeps one handle, so there is no statement to choose it by.
  if (options.mode == Mode::kAuto) {
    return Error{wire::CodeName(Code::kBadRequest),
                 "mode: auto is for one-shots (Client::Query, Client::Exec); acquire takes "
                 "write or read",
                 0};
  }
  json request = {{"op", "acquire"}, {"db", db}, {"mode", ModeName(options.mode)}};
  if (options.wait_ms) request["wait_ms"] = *options.wait_ms;
  if (options.lease_ms) request["lease_ms"] = *options.lease_ms;
  if (!options.tag.empty()) request["tag"] = options.tag;
  Result<json> reply = conn_->Request(std::move(request));
  if (!reply.ok()) return reply.error();
  auto lease = reply->find("lease");
  if (lease == reply->end() || !lease->is_string()) {
    return Error{std::string(kIoError), "malformed reply: acquire without a \"lease\" string", 0};
  }
  auto lease_ms = reply->find("lease_ms");
  return Lease(
      conn_, lease->get<std::string>(), db, options.mode,
      lease_ms != reply->end() && lease_ms->is_number_integer() ? lease_ms->get<int64_t>() : 0);
}

Result<QueryResult> Client::Query(const std::string& db, const std::string& sql,
                                  const Params& params, Mode mode, const QueryOptions& options) {
  json request = {{"op", "query"}, {"db", db}, {"mode", ModeName(mode)}, {"sql", sql}};
  if (options.decltypes) request["decltypes"] = true;
  if (!params.empty()) {
    Result<json> encoded = internal::ParamsToJson(params);
    if (!encoded.ok()) return encoded.error();
    request["params"] = std::move(encoded).value();
  }
  Result<json> reply = conn_->Request(std::move(request));
  if (!reply.ok()) return reply.error();
  return internal::ParseQueryResult(*reply);
}

Result<int64_t> Client::Exec(const std::string& db, const std::string& sql, Mode mode) {
  Result<ExecResult> result = ExecWithResult(db, sql, mode);
  if (!result.ok()) return result.error();
  return result->changes;
}

Result<ExecResult> Client::ExecWithResult(const std::string& db, const std::string& sql,
                                          Mode mode) {
  Result<json> reply =
      conn_->Request({{"op", "exec"}, {"db", db}, {"mode", ModeName(mode)}, {"sql", sql}});
  if (!reply.ok()) return reply.error();
  return internal::ParseExecResult(*reply);
}

Result<json> Client::Stats() { return conn_->Request({{"op", "stats"}}); }

Result<json> Client::Leases() { return conn_->Request({{"op", "leases"}}); }

Result<json> Client::Backup(const std::string& db, const std::string& file) {
  return conn_->Request({{"op", "backup"}, {"db", db}, {"file", file}});
}

Result<json> Client::Call(const json& request) { return conn_->RoundTrip(request); }

}  // namespace litepool::client
