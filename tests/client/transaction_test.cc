// Transaction (litepool/transaction.h) against the real daemon: commit,
// rollback on scope exit, moves, misuse, and a connection that dies.
#include "litepool/transaction.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "litepool/client.h"
#include "tests/support/daemon.h"

namespace litepool::client {
namespace {

using litepool::testing::DaemonProcess;

class ClientTransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(daemon_.Start());
    Client setup = Connect();
    ASSERT_TRUE(setup.Exec("main", "CREATE TABLE t(x)").ok());
  }

  Client Connect() {
    Result<Client> client = Client::Connect(daemon_.socket_path());
    EXPECT_TRUE(client.ok()) << client.error();
    return std::move(client).value();
  }

  Lease Acquire(Client& client) {
    Result<Lease> lease = client.Acquire("main");
    EXPECT_TRUE(lease.ok()) << lease.error();
    return lease.ok() ? std::move(lease).value() : Lease();
  }

  // The row count of t, seen from a connection of its own.
  int64_t Count() {
    Client other = Connect();
    Result<QueryResult> count = other.Query("main", "SELECT count(*) FROM t", {}, Mode::kRead);
    EXPECT_TRUE(count.ok()) << count.error();
    return count.ok() ? count->rows[0][0].integer() : -1;
  }

  DaemonProcess daemon_;
};

TEST_F(ClientTransactionTest, CommitKeepsTheWrites) {
  Client client = Connect();
  Lease lease = Acquire(client);
  Result<Transaction> tx = lease.Begin();
  ASSERT_TRUE(tx.ok()) << tx.error();
  EXPECT_TRUE(tx->active());
  ASSERT_TRUE(lease.Query("INSERT INTO t VALUES (?), (?)", {1, 2}).ok());
  Status committed = tx->Commit();
  ASSERT_TRUE(committed.ok()) << committed.error();
  EXPECT_FALSE(tx->active());
  EXPECT_EQ(Count(), 2);
  // The lease is back in autocommit mode: nothing to roll back on release.
  Result<bool> rolled_back = lease.Release();
  ASSERT_TRUE(rolled_back.ok()) << rolled_back.error();
  EXPECT_FALSE(*rolled_back);
}

TEST_F(ClientTransactionTest, ScopeExitRollsBack) {
  Client client = Connect();
  Lease lease = Acquire(client);
  {
    Result<Transaction> tx = Transaction::Begin(lease, TransactionKind::kImmediate);
    ASSERT_TRUE(tx.ok()) << tx.error();
    ASSERT_TRUE(lease.Exec("INSERT INTO t VALUES (1)").ok());
  }
  // Rolled back by the destructor, on the lease, which is still held.
  Result<QueryResult> inside = lease.Query("SELECT count(*) FROM t");
  ASSERT_TRUE(inside.ok()) << inside.error();
  EXPECT_EQ(inside->rows[0][0], Value(0));
  Result<bool> rolled_back = lease.Release();
  ASSERT_TRUE(rolled_back.ok());
  EXPECT_FALSE(*rolled_back) << "the destructor left the transaction open";
}

TEST_F(ClientTransactionTest, ExplicitRollbackAndMisuse) {
  Client client = Connect();
  Lease lease = Acquire(client);
  Result<Transaction> tx = lease.Begin(TransactionKind::kExclusive);
  ASSERT_TRUE(tx.ok()) << tx.error();
  // A second BEGIN on the same lease is SQLite's error, reported as is.
  Result<Transaction> nested = lease.Begin();
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.error().code, "sql_error");
  EXPECT_TRUE(tx->active());

  ASSERT_TRUE(lease.Exec("INSERT INTO t VALUES (1)").ok());
  EXPECT_TRUE(tx->Rollback().ok());
  EXPECT_FALSE(tx->active());
  EXPECT_EQ(Count(), 0);
  // Not active: nothing is sent, the error says so.
  Status again = tx->Commit();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "sql_error");
  EXPECT_FALSE(tx->Rollback().ok());
  EXPECT_FALSE(Transaction().active());

  Lease none;
  Result<Transaction> invalid = none.Begin();
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code, "unknown_lease");
}

TEST_F(ClientTransactionTest, MovesTransferTheTransaction) {
  Client client = Connect();
  Lease lease = Acquire(client);
  Result<Transaction> begun = lease.Begin();
  ASSERT_TRUE(begun.ok());
  Transaction first = std::move(begun).value();
  Transaction second = std::move(first);
  EXPECT_FALSE(first.active());
  EXPECT_TRUE(second.active());

  // Moving the Lease (and the Client) keeps the transaction usable.
  Lease moved_lease = std::move(lease);
  Client moved_client = std::move(client);
  ASSERT_TRUE(moved_lease.Exec("INSERT INTO t VALUES (1)").ok());
  ASSERT_TRUE(second.Commit().ok());
  EXPECT_EQ(Count(), 1);

  // Assigning over an active Transaction rolls it back first.
  Result<Transaction> t2 = moved_lease.Begin();
  ASSERT_TRUE(t2.ok());
  Transaction held = std::move(t2).value();
  ASSERT_TRUE(moved_lease.Exec("INSERT INTO t VALUES (2)").ok());
  held = Transaction();
  EXPECT_FALSE(held.active());
  EXPECT_EQ(Count(), 1);
  Result<Transaction> t3 = moved_lease.Begin();
  EXPECT_TRUE(t3.ok()) << "the assignment did not roll back: " << t3.error();
}

TEST_F(ClientTransactionTest, LeaseReleasedFirstIsHarmless) {
  Client client = Connect();
  Lease lease = Acquire(client);
  Result<Transaction> tx = lease.Begin();
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(lease.Exec("INSERT INTO t VALUES (1)").ok());
  Result<bool> rolled_back = lease.Release();
  ASSERT_TRUE(rolled_back.ok());
  EXPECT_TRUE(*rolled_back);
  // The daemon rolled back; the guard's ROLLBACK meets an unknown lease.
  Status commit = tx->Commit();
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.error().code, "unknown_lease");
  EXPECT_FALSE(tx->active());
  EXPECT_EQ(Count(), 0);
  EXPECT_TRUE(client.Ping().ok());
}

TEST_F(ClientTransactionTest, DeadConnectionEndsTheTransaction) {
  Client client = Connect();
  Lease lease = Acquire(client);
  Result<Transaction> tx = lease.Begin();
  ASSERT_TRUE(tx.ok());
  daemon_.Kill();
  Status commit = tx->Commit();
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.error().code, kIoError);
  EXPECT_FALSE(tx->active());
  // The destructors of tx, lease and client run against a dead connection.
}

}  // namespace
}  // namespace litepool::client
