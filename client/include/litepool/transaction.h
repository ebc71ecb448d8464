// A transaction on a held lease that rolls back unless committed: the
// client-side guard for BEGIN ... COMMIT. Included by litepool/client.h.
//
//   auto tx = lease.Begin();
//   if (!tx.ok()) return Fail(tx.error());
//   if (auto r = lease.Query("INSERT INTO t VALUES (?)", {1}); !r.ok()) return Fail(r.error());
//   if (auto s = tx->Commit(); !s.ok()) return Fail(s.error());
//   // Any early return above rolls back when `tx` goes out of scope.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "litepool/client_result.h"

namespace litepool::client {

class Lease;
namespace internal {
class Connection;
}  // namespace internal

// How BEGIN takes its locks (SQLite's BEGIN DEFERRED / IMMEDIATE /
// EXCLUSIVE). kImmediate takes the write lock at once, so a later write in
// the transaction cannot fail with "busy" when another process writes too.
enum class TransactionKind { kDeferred, kImmediate, kExclusive };

// An open transaction on one lease, from Lease::Begin (or Transaction::Begin)
// until Commit(), Rollback() or destruction. Move-only.
//
// The destructor of an active Transaction sends ROLLBACK and waits for the
// reply, ignoring any error (a dead connection or a revoked lease has rolled
// back already); it never throws. A Commit() that fails (a deferred foreign
// key violated, "busy") leaves the transaction open, so the destructor (or
// Rollback()) still rolls it back.
//
// Does not own the lease: it keeps the lease's id and a weak reference to
// its Client's connection, so moving the Lease or the Client is fine.
// Releasing the lease first makes the later ROLLBACK a harmless
// "unknown_lease"; destroying the Client first closes the connection (the
// daemon rolls back) and leaves nothing to send. Thread-safety: that of its
// Client (none). Statements inside the transaction go through the Lease.
class Transaction {
 public:
  // Sends BEGIN on `lease`; an invalid lease gives "unknown_lease", an
  // already open transaction "sql_error".
  static Result<Transaction> Begin(Lease& lease, TransactionKind kind = TransactionKind::kDeferred);

  Transaction() = default;  // not active
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&& other) noexcept;  // rolls back what *this had
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // True until Commit() succeeds or Rollback() is called; false when moved
  // from or default-constructed.
  bool active() const { return active_; }

  // Sends COMMIT. On success the Transaction is no longer active. On failure
  // it stays active (SQLite keeps the transaction open), except on an
  // io_error or lease_expired, after which there is nothing left to commit
  // or roll back. Not active: "sql_error", as SQLite says for a COMMIT
  // outside a transaction, and nothing is sent.
  Status Commit();

  // Sends ROLLBACK; the Transaction is no longer active, whatever the reply.
  Status Rollback();

 private:
  Transaction(std::weak_ptr<internal::Connection> conn, std::string lease_id)
      : conn_(std::move(conn)), lease_id_(std::move(lease_id)) {}

  // Sends `sql` through the lease with `exec`.
  Status Run(const char* sql);

  std::weak_ptr<internal::Connection> conn_;  // the Client's connection
  std::string lease_id_;
  bool active_ = false;
};

}  // namespace litepool::client
