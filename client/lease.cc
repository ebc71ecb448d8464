// Lease: requests made through a held lease, and its deterministic release.
#include <utility>

#include "client/connection.h"
#include "client/reply.h"
#include "client/value_json.h"
#include "litepool/client.h"
#include "wire/error_code.h"

namespace litepool::client {

using nlohmann::json;

namespace {

Error NotHeld() {
  return Error{wire::CodeName(Code::kUnknownLease),
               "this Lease holds no lease (released, moved from, or its Client is gone)", 0};
}

}  // namespace

Lease::Lease(std::weak_ptr<internal::Connection> conn, std::string id, std::string db, Mode mode,
             int64_t lease_ms)
    : conn_(std::move(conn)),
      id_(std::move(id)),
      db_(std::move(db)),
      mode_(mode),
      lease_ms_(lease_ms) {}

Lease::Lease(Lease&& other) noexcept
    : conn_(std::exchange(other.conn_, {})),
      id_(std::move(other.id_)),
      db_(std::move(other.db_)),
      mode_(other.mode_),
      lease_ms_(other.lease_ms_) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    (void)Release();
    conn_ = std::exchange(other.conn_, {});
    id_ = std::move(other.id_);
    db_ = std::move(other.db_);
    mode_ = other.mode_;
    lease_ms_ = other.lease_ms_;
  }
  return *this;
}

// Release waits for the daemon's answer on purpose: when the destructor
// returns, the handle is back in the pool and another client can take it.
// The outcome cannot be reported from here; call Release() to see it.
Lease::~Lease() { (void)Release(); }

Result<QueryResult> Lease::Query(const std::string& sql, const Params& params,
                                 const QueryOptions& options) {
  std::shared_ptr<internal::Connection> conn = conn_.lock();
  if (!conn) return NotHeld();
  json request = {{"op", "query"}, {"lease", id_}, {"sql", sql}};
  if (options.decltypes) request["decltypes"] = true;
  if (!params.empty()) {
    Result<json> encoded = internal::ParamsToJson(params);
    if (!encoded.ok()) return encoded.error();
    request["params"] = std::move(encoded).value();
  }
  Result<json> reply = conn->Request(std::move(request));
  if (!reply.ok()) return reply.error();
  return internal::ParseQueryResult(*reply);
}

Result<int64_t> Lease::Exec(const std::string& sql) {
  Result<ExecResult> result = ExecWithResult(sql);
  if (!result.ok()) return result.error();
  return result->changes;
}

Result<ExecResult> Lease::ExecWithResult(const std::string& sql) {
  std::shared_ptr<internal::Connection> conn = conn_.lock();
  if (!conn) return NotHeld();
  Result<json> reply = conn->Request({{"op", "exec"}, {"lease", id_}, {"sql", sql}});
  if (!reply.ok()) return reply.error();
  return internal::ParseExecResult(*reply);
}

Result<bool> Lease::Release() {
  std::shared_ptr<internal::Connection> conn = std::exchange(conn_, {}).lock();
  if (!conn) return NotHeld();
  Result<json> reply = conn->Request({{"op", "release"}, {"lease", id_}});
  if (!reply.ok()) return reply.error();
  auto rolled_back = reply->find("rolled_back");
  return rolled_back != reply->end() && rolled_back->is_boolean() && rolled_back->get<bool>();
}

}  // namespace litepool::client
