// The litepool C++ client: a connection to litepoold over its Unix socket,
// leases on pooled SQLite handles and the queries run through them (SPEC §4).
//
//   auto client = litepool::client::Client::Connect(DefaultSocketPath());
//   if (!client.ok()) return Fail(client.error());
//   AcquireOptions options;
//   options.tag = "import";
//   auto lease = client->Acquire("main", options);
//   if (!lease.ok()) return Fail(lease.error());
//   auto rows = lease->Query("SELECT name FROM users WHERE id = ?", {42});
//   // The lease is released when `lease` goes out of scope.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "litepool/client_result.h"
#include "litepool/client_value.h"

namespace litepool::client {

// $LITEPOOL_SOCKET when set and not empty, else "./litepool.sock" (where
// litepoold listens when run without a configuration).
std::string DefaultSocketPath();

enum class Mode { kWrite, kRead };

// "write" or "read", as on the wire.
const char* ModeName(Mode mode);

struct AcquireOptions {
  Mode mode = Mode::kWrite;
  // How long to queue for a handle; unset: the database's acquire_timeout_ms.
  // The daemon lowers a larger value to its configured one.
  std::optional<int64_t> wait_ms;
  // How long the lease may be held before the daemon revokes it; unset: the
  // database's lease_timeout_ms. Lowered the same way.
  std::optional<int64_t> lease_ms;
  // Free text (≤ 128 bytes) shown in the daemon's logs and `leases`.
  std::string tag;
};

// The reply to a `query`.
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<Row> rows;
  int64_t changes = 0;
  int64_t last_insert_rowid = 0;
};

// The reply to `hello`.
struct HelloInfo {
  std::string server;
  std::string version;
  int protocol = 0;
  std::vector<std::string> databases;
};

class Client;
namespace internal {
class Connection;
}  // namespace internal

// The right to use one pooled handle, taken by Client::Acquire. Move-only.
// Destroying a Lease that still holds its handle sends `release` and waits
// for the reply (so the handle is back in the pool when the destructor
// returns, also during stack unwinding); call Release() to see the outcome.
//
// A Lease uses its Client's connection, so the Client must outlive the Lease
// (moving the Client is fine), and it shares the Client's thread-safety: none.
class Lease {
 public:
  Lease() = default;  // holds nothing
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;  // releases what *this held
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  // False for a default-constructed, moved-from or released Lease.
  bool valid() const { return conn_ != nullptr; }
  const std::string& id() const { return id_; }
  const std::string& db() const { return db_; }
  Mode mode() const { return mode_; }
  // The lease time the daemon granted (after lowering the asked one).
  int64_t lease_ms() const { return lease_ms_; }

  // Runs one statement with its parameters.
  Result<QueryResult> Query(const std::string& sql, const Params& params = {});
  // Runs one or more statements without parameters; returns the rows changed
  // by all of them.
  Result<int64_t> Exec(const std::string& sql);
  // Gives the handle back; returns whether an open transaction was rolled
  // back. The Lease is invalid afterwards whatever the outcome (a failed
  // release means the lease was already gone, or the connection is; either
  // way the daemon reclaims the handle). On an invalid Lease: "unknown_lease".
  Result<bool> Release();

 private:
  friend class Client;
  Lease(internal::Connection* conn, std::string id, std::string db, Mode mode, int64_t lease_ms);

  internal::Connection* conn_ = nullptr;  // not owned; null when invalid
  std::string id_;
  std::string db_;
  Mode mode_ = Mode::kWrite;
  int64_t lease_ms_ = 0;
};

// One connection to litepoold. Owns the socket; closing it (destroying the
// Client) makes the daemon release every lease still held on it. Move-only.
//
// Not thread-safe: one request is in flight at a time, and a Client and its
// Leases must be used by one thread at a time. Use one Client per thread.
// Calls block until the daemon answers (an acquire may wait up to wait_ms).
class Client {
 public:
  // Connects to the daemon's socket; "io_error" if that fails.
  static Result<Client> Connect(const std::string& socket_path);

  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client();

  Result<HelloInfo> Hello();
  Status Ping();

  // Takes a lease on a handle of `db`, queueing while all are leased.
  Result<Lease> Acquire(const std::string& db, const AcquireOptions& options = {});

  // One statement on a one-shot lease: acquired, used and released by the
  // daemon within this one request.
  Result<QueryResult> Query(const std::string& db, const std::string& sql,
                            const Params& params = {}, Mode mode = Mode::kWrite);
  // Statements without parameters on a one-shot write lease; rows changed.
  Result<int64_t> Exec(const std::string& db, const std::string& sql);

  // Admin replies as sent by the daemon (the whole reply object).
  Result<nlohmann::json> Stats();
  Result<nlohmann::json> Leases();

  // Sends `request` as it is and returns the daemon's reply as it is, also
  // when that reply is {"ok": false, ...}; fails only with "io_error".
  Result<nlohmann::json> Call(const nlohmann::json& request);

 private:
  explicit Client(std::unique_ptr<internal::Connection> conn);

  // Heap-allocated so that a Lease's pointer survives moves of the Client.
  std::unique_ptr<internal::Connection> conn_;
};

}  // namespace litepool::client
