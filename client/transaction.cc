// Transaction: BEGIN on a lease, and ROLLBACK unless Commit() succeeded.
#include "litepool/transaction.h"

#include <utility>

#include "client/connection.h"
#include "litepool/client.h"
#include "wire/error_code.h"

namespace litepool::client {
namespace {

const char* BeginSql(TransactionKind kind) {
  switch (kind) {
    case TransactionKind::kImmediate:
      return "BEGIN IMMEDIATE";
    case TransactionKind::kExclusive:
      return "BEGIN EXCLUSIVE";
    case TransactionKind::kDeferred:
      break;
  }
  return "BEGIN";
}

// After these the daemon has rolled back already: the lease or the whole
// connection is gone, so there is no transaction left to finish.
bool TransactionGone(const Error& error) {
  if (error.code == kIoError) return true;
  std::optional<Code> code = wire::CodeFromName(error.code);
  return code == Code::kLeaseExpired || code == Code::kUnknownLease;
}

Error NotActive(const char* what) {
  // What SQLite answers for a COMMIT or ROLLBACK outside a transaction.
  return Error{wire::CodeName(Code::kSqlError),
               std::string("cannot ") + what + ": this Transaction is not active", 1};
}

}  // namespace

Result<Transaction> Transaction::Begin(Lease& lease, TransactionKind kind) {
  if (!lease.valid()) {
    return Error{wire::CodeName(Code::kUnknownLease),
                 "this Lease holds no lease (released, moved from, or its Client is gone)", 0};
  }
  Transaction tx(lease.conn_, lease.id_);
  Status begun = tx.Run(BeginSql(kind));
  if (!begun.ok()) return begun.error();  // nothing opened: no ROLLBACK later
  tx.active_ = true;
  return tx;
}

Result<Transaction> Lease::Begin(TransactionKind kind) { return Transaction::Begin(*this, kind); }

Transaction::Transaction(Transaction&& other) noexcept
    : conn_(std::move(other.conn_)),
      lease_id_(std::move(other.lease_id_)),
      active_(std::exchange(other.active_, false)) {}

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this != &other) {
    if (active_) (void)Rollback();
    conn_ = std::move(other.conn_);
    lease_id_ = std::move(other.lease_id_);
    active_ = std::exchange(other.active_, false);
  }
  return *this;
}

// Waits for the daemon's reply, like ~Lease: when the destructor returns, the
// transaction's locks are gone. Errors cannot be reported from here, and all
// of them mean the transaction is over anyway.
Transaction::~Transaction() {
  if (active_) (void)Rollback();
}

Status Transaction::Commit() {
  if (!active_) return NotActive("commit");
  Status committed = Run("COMMIT");
  if (committed.ok() || TransactionGone(committed.error())) active_ = false;
  return committed;
}

Status Transaction::Rollback() {
  if (!active_) return NotActive("roll back");
  active_ = false;
  return Run("ROLLBACK");
}

Status Transaction::Run(const char* sql) {
  std::shared_ptr<internal::Connection> conn = conn_.lock();
  if (!conn) {
    // The Client is gone, and with its connection the lease and the
    // transaction: the daemon has rolled back.
    return Error{std::string(kIoError), "the Client of this transaction's lease is gone", 0};
  }
  Result<nlohmann::json> reply =
      conn->Request({{"op", "exec"}, {"lease", lease_id_}, {"sql", sql}});
  if (!reply.ok()) return reply.error();
  return {};
}

}  // namespace litepool::client
