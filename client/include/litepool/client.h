// The litepool C++ client: a connection to litepoold over its Unix socket,
// leases on pooled SQLite handles and the queries run through them (docs/protocol.md).
//
//   auto client = litepool::client::Client::Connect(DefaultSocketPath());
//   if (!client.ok()) return Fail(client.error());
//   AcquireOptions options;
//   options.tag = "import";
//   auto lease = client->Acquire("main", options);
//   if (!lease.ok()) return Fail(lease.error());
//   auto rows = lease->Query("SELECT name FROM users WHERE id = ?", {42});
//   // The lease is released when `lease` goes out of scope.
//
// Reconnecting: a Client never reconnects on its own. Leases (and their open
// transactions) die with the connection that took them, so a silent
// reconnect would hide a lost transaction and let later statements run
// outside it. After an io_error (the daemon restarted, the socket closed)
// every call on that Client fails with io_error; drop it, and its Leases,
// and make a new Client with Connect() when the application decides to
// retry; then redo the whole unit of work, transaction included.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "litepool/client_result.h"
#include "litepool/client_value.h"
#include "litepool/transaction.h"

namespace litepool::client {

// $LITEPOOL_SOCKET when set and not empty, else "./litepool.sock" (where
// litepoold listens when run without a configuration).
std::string DefaultSocketPath();

// kAuto is for one-shots only (Client::Query, Client::Exec; docs/protocol.md,
// "Mode auto"): a query starts on a read handle and moves to the writer if
// SQLite says its statement writes; an exec runs on the writer. Acquire
// refuses it, as the daemon would, since a lease's handle is chosen once.
enum class Mode { kWrite, kRead, kAuto };

// "write", "read" or "auto", as on the wire.
const char* ModeName(Mode mode);

struct AcquireOptions {
  Mode mode = Mode::kWrite;  // kWrite or kRead; kAuto is refused
  // How long to queue for a handle; unset: the database's acquire_timeout_ms.
  // The daemon lowers a larger value to its configured one.
  std::optional<int64_t> wait_ms;
  // How long the lease may be held before the daemon revokes it; unset: the
  // database's lease_timeout_ms. Lowered the same way.
  std::optional<int64_t> lease_ms;
  // Free text (≤ 128 bytes) shown in the daemon's logs and `leases`.
  std::string tag;
};

// What a `query` asks for beyond its rows.
struct QueryOptions {
  // Also return each column's declared type (QueryResult::decltypes).
  bool decltypes = false;
};

// The reply to a `query`.
struct QueryResult {
  std::vector<std::string> columns;
  // Only when QueryOptions::decltypes was set (else empty): one entry per
  // column, the type it was declared with ("INTEGER", "VARCHAR(20)") as
  // written in its CREATE TABLE, or nullopt for an expression.
  std::vector<std::optional<std::string>> decltypes;
  std::vector<Row> rows;
  int64_t changes = 0;
  // The rowid the statement inserted; 0 when it inserted none (never a rowid
  // another lease left on the shared handle).
  int64_t last_insert_rowid = 0;
};

// The reply to an `exec`.
struct ExecResult {
  int64_t changes = 0;  // rows changed by all the statements
  // The rowid of the last row its statements inserted; 0 when they inserted
  // none.
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
// A Lease uses its Client's connection without owning it: moving the Client
// is fine, and destroying the Client first closes the connection, which
// makes the daemon release the lease; the Lease is then invalid and its
// calls answer "unknown_lease". It shares the Client's thread-safety: none.
class Lease {
 public:
  Lease() = default;  // holds nothing
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;  // releases what *this held
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease();

  // False for a default-constructed, moved-from or released Lease, and
  // once its Client is destroyed.
  bool valid() const { return !conn_.expired(); }
  const std::string& id() const { return id_; }
  const std::string& db() const { return db_; }
  Mode mode() const { return mode_; }
  // The lease time the daemon granted (after lowering the asked one).
  int64_t lease_ms() const { return lease_ms_; }

  // Runs one statement with its parameters.
  Result<QueryResult> Query(const std::string& sql, const Params& params = {},
                            const QueryOptions& options = {});
  // Runs one or more statements without parameters; returns the rows changed
  // by all of them. Short for ExecWithResult(sql)->changes.
  Result<int64_t> Exec(const std::string& sql);
  // Exec, with the last inserted rowid besides the rows changed.
  Result<ExecResult> ExecWithResult(const std::string& sql);
  // Opens a transaction (BEGIN) that rolls back unless committed; see
  // Transaction. The Lease may be moved while the Transaction is active.
  Result<Transaction> Begin(TransactionKind kind = TransactionKind::kDeferred);
  // Gives the handle back; returns whether an open transaction was rolled
  // back. The Lease is invalid afterwards whatever the outcome (a failed
  // release means the lease was already gone, or the connection is; either
  // way the daemon reclaims the handle). On an invalid Lease: "unknown_lease".
  Result<bool> Release();

 private:
  friend class Client;
  friend class Transaction;
  Lease(std::weak_ptr<internal::Connection> conn, std::string id, std::string db, Mode mode,
        int64_t lease_ms);

  // The Client's connection; empty once released, expired once the Client
  // is gone.
  std::weak_ptr<internal::Connection> conn_;
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
//
// Never reconnects (see the top of this file): once a call fails with
// io_error the Client stays broken; Connect() a new one.
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
  // options.mode kAuto answers bad_request without sending anything.
  Result<Lease> Acquire(const std::string& db, const AcquireOptions& options = {});

  // One statement on a one-shot lease: acquired, used and released by the
  // daemon within this one request. Mode::kAuto picks the handle from the
  // statement (see Mode).
  Result<QueryResult> Query(const std::string& db, const std::string& sql,
                            const Params& params = {}, Mode mode = Mode::kWrite,
                            const QueryOptions& options = {});
  // Statements without parameters on a one-shot lease (write by default;
  // kAuto runs on the writer too); rows changed. Short for
  // ExecWithResult(db, sql, mode)->changes.
  Result<int64_t> Exec(const std::string& db, const std::string& sql, Mode mode = Mode::kWrite);
  // Exec, with the last inserted rowid besides the rows changed.
  Result<ExecResult> ExecWithResult(const std::string& db, const std::string& sql,
                                    Mode mode = Mode::kWrite);

  // Admin replies as sent by the daemon (the whole reply object).
  Result<nlohmann::json> Stats();
  Result<nlohmann::json> Leases();
  // An online backup of `db` into `file` inside the daemon's backup_dir
  // (docs/protocol.md, "backup"); answers when the copy has landed.
  Result<nlohmann::json> Backup(const std::string& db, const std::string& file);

  // Sends `request` as it is and returns the daemon's reply as it is, also
  // when that reply is {"ok": false, ...}; fails only with "io_error".
  Result<nlohmann::json> Call(const nlohmann::json& request);

 private:
  explicit Client(std::shared_ptr<internal::Connection> conn);

  // Owned by the Client alone; shared only so that Leases and Transactions
  // can hold weak references that survive moves of the Client and notice
  // its destruction.
  std::shared_ptr<internal::Connection> conn_;
};

}  // namespace litepool::client
