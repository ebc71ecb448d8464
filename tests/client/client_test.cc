// The C++ client library against the real daemon: typed values, lease
// lifetime (scope exit, exceptions, moves) and errors as values.
#include "litepool/client.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>

#include "litepool/version.h"
#include "tests/support/daemon.h"

namespace litepool::client {

// Readable Values in gtest failure messages.
void PrintTo(const Value& value, std::ostream* os) {
  *os << ValueTypeName(value.type()) << " " << value.ToString();
}

namespace {

using litepool::testing::DaemonProcess;

// GCC 12 warns (-Wmissing-field-initializers) on designated initializers
// that leave fields out, so options are built here instead.
AcquireOptions Options(Mode mode, std::optional<int64_t> wait_ms = std::nullopt,
                       std::string tag = "") {
  AcquireOptions options;
  options.mode = mode;
  options.wait_ms = wait_ms;
  options.tag = std::move(tag);
  return options;
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(daemon_.Start()); }

  Client Connect() {
    Result<Client> client = Client::Connect(daemon_.socket_path());
    EXPECT_TRUE(client.ok()) << client.error();
    return std::move(client).value();
  }

  // True if another connection can take the only writer within 500 ms.
  bool WriterIsFree() {
    Client other = Connect();
    Result<Lease> lease = other.Acquire("main", Options(Mode::kWrite, 500));
    return lease.ok();
  }

  DaemonProcess daemon_;
};

TEST_F(ClientTest, HelloAndPing) {
  Client client = Connect();
  Result<HelloInfo> hello = client.Hello();
  ASSERT_TRUE(hello.ok()) << hello.error();
  EXPECT_FALSE(hello->server.empty());
  EXPECT_EQ(hello->version, kVersion);
  EXPECT_EQ(hello->protocol, 1);
  EXPECT_EQ(hello->databases, std::vector<std::string>{"main"});
  Status ping = client.Ping();
  EXPECT_TRUE(ping.ok()) << ping.error();
}

TEST_F(ClientTest, EveryValueKindRoundTrips) {
  Client client = Connect();
  Blob all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.bytes.push_back(static_cast<uint8_t>(i));
  const std::vector<Value> values = {
      Value(),
      Value(int64_t{0}),
      Value(std::numeric_limits<int64_t>::min()),
      Value(std::numeric_limits<int64_t>::max()),
      Value(0.1),
      Value(2.0),
      Value(-0.0),
      Value(1e300),
      Value(5e-324),
      Value(""),
      Value("h\xC3\xA9llo \xF0\x9D\x84\x9E\n\"quoted\""),
      Value(all_bytes),
      Value(Blob{}),
  };
  Result<Lease> lease = client.Acquire("main");
  ASSERT_TRUE(lease.ok()) << lease.error();
  ASSERT_TRUE(lease->Exec("CREATE TABLE v(i INTEGER PRIMARY KEY, x)").ok());
  for (size_t i = 0; i < values.size(); ++i) {
    SCOPED_TRACE(values[i].ToString());
    Result<QueryResult> echo = lease->Query("SELECT ?, typeof(?1)", {values[i]});
    ASSERT_TRUE(echo.ok()) << echo.error();
    ASSERT_EQ(echo->rows.size(), 1u);
    EXPECT_EQ(echo->rows[0][0], values[i]);
    EXPECT_EQ(echo->rows[0][1], Value(ValueTypeName(values[i].type())));

    Result<QueryResult> insert =
        lease->Query("INSERT INTO v(i, x) VALUES (?, ?)", {static_cast<int64_t>(i), values[i]});
    ASSERT_TRUE(insert.ok()) << insert.error();
    EXPECT_EQ(insert->changes, 1);
    EXPECT_EQ(insert->last_insert_rowid, static_cast<int64_t>(i));
  }
  Result<QueryResult> stored = lease->Query("SELECT x, typeof(x) FROM v ORDER BY i");
  ASSERT_TRUE(stored.ok()) << stored.error();
  ASSERT_EQ(stored->columns, (std::vector<std::string>{"x", "typeof(x)"}));
  ASSERT_EQ(stored->rows.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const Value& got = stored->rows[i][0];
    EXPECT_EQ(got, values[i]) << values[i].ToString() << " came back as " << got.ToString();
    EXPECT_EQ(stored->rows[i][1].text(), ValueTypeName(values[i].type()));
    if (values[i].type() == ValueType::kReal && got.type() == ValueType::kReal) {
      EXPECT_EQ(std::bit_cast<uint64_t>(got.real()), std::bit_cast<uint64_t>(values[i].real()))
          << values[i].ToString();
    }
  }
}

TEST_F(ClientTest, NamedParams) {
  Client client = Connect();
  Result<QueryResult> result =
      client.Query("main", "SELECT :a + @b, $c", Params::Named({{"a", 1}, {"b", 2}, {"c", "x"}}));
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->rows, (std::vector<Row>{{Value(3), Value("x")}}));

  // A braced list of pairs is named too; a braced list of values positional.
  result = client.Query("main", "SELECT :id * 2", {{"id", 21}});
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->rows, (std::vector<Row>{{Value(42)}}));
  result = client.Query("main", "SELECT ? || ?", {"id", "x"});
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_EQ(result->rows, (std::vector<Row>{{Value("idx")}}));
}

TEST_F(ClientTest, OneShotQueryAndExec) {
  Client client = Connect();
  Result<int64_t> changes =
      client.Exec("main", "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2), (3);");
  ASSERT_TRUE(changes.ok()) << changes.error();
  EXPECT_EQ(*changes, 3);
  Result<QueryResult> rows =
      client.Query("main", "SELECT sum(x) AS s FROM t WHERE x > ?", {1}, Mode::kRead);
  ASSERT_TRUE(rows.ok()) << rows.error();
  EXPECT_EQ(rows->columns, std::vector<std::string>{"s"});
  EXPECT_EQ(rows->rows, (std::vector<Row>{{Value(5)}}));
  EXPECT_TRUE(WriterIsFree());
}

// Mode auto (docs/protocol.md, "Mode auto"): a one-shot that starts on a
// read handle and moves to the writer when its statement writes.
TEST_F(ClientTest, AutoModeOneShotsReadAndWrite) {
  Client client = Connect();
  ASSERT_TRUE(client.Exec("main", "CREATE TABLE t(id INTEGER PRIMARY KEY, v)", Mode::kAuto).ok());
  Result<QueryResult> insert =
      client.Query("main", "INSERT INTO t(v) VALUES (?) RETURNING id", {"a"}, Mode::kAuto);
  ASSERT_TRUE(insert.ok()) << insert.error();
  EXPECT_EQ(insert->rows, (std::vector<Row>{{Value(1)}}));
  EXPECT_EQ(insert->changes, 1);
  EXPECT_EQ(insert->last_insert_rowid, 1);

  // It really wrote: another connection reads the row back.
  Client other = Connect();
  Result<QueryResult> read = other.Query("main", "SELECT v FROM t", {}, Mode::kAuto);
  ASSERT_TRUE(read.ok()) << read.error();
  EXPECT_EQ(read->rows, (std::vector<Row>{{Value("a")}}));

  // A read in auto runs beside a held writer: it never needed it.
  Result<Lease> writer = other.Acquire("main");
  ASSERT_TRUE(writer.ok()) << writer.error();
  Result<QueryResult> beside = client.Query("main", "SELECT count(*) FROM t", {}, Mode::kAuto);
  ASSERT_TRUE(beside.ok()) << beside.error();
  EXPECT_EQ(beside->rows, (std::vector<Row>{{Value(1)}}));
}

// The daemon refuses auto on acquire; the client refuses it first, without
// a round trip, with the code the daemon would have sent.
TEST_F(ClientTest, AcquireInAutoModeIsRefusedBeforeSending) {
  Client client = Connect();
  Result<Lease> lease = client.Acquire("main", Options(Mode::kAuto));
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.error().code, "bad_request");
  EXPECT_NE(lease.error().message.find("one-shot"), std::string::npos) << lease.error();
  EXPECT_TRUE(client.Ping().ok());
  Result<nlohmann::json> leases = client.Leases();
  ASSERT_TRUE(leases.ok()) << leases.error();
  EXPECT_TRUE((*leases)["leases"].empty()) << leases->dump();
  // What the daemon answers when it is sent anyway: the same code.
  Result<nlohmann::json> raw = client.Call({{"op", "acquire"}, {"db", "main"}, {"mode", "auto"}});
  ASSERT_TRUE(raw.ok()) << raw.error();
  EXPECT_EQ((*raw)["error"]["code"], "bad_request") << raw->dump();
  EXPECT_STREQ(ModeName(Mode::kAuto), "auto");
}

TEST_F(ClientTest, DeclTypesWhenAsked) {
  Client client = Connect();
  ASSERT_TRUE(client.Exec("main", "CREATE TABLE d(a INTEGER, b DATETIME, c, e VARCHAR(20))").ok());
  QueryOptions with_types;
  with_types.decltypes = true;
  Result<QueryResult> one_shot =
      client.Query("main", "SELECT a, b, c, e, 1 AS x FROM d", {}, Mode::kRead, with_types);
  ASSERT_TRUE(one_shot.ok()) << one_shot.error();
  const std::vector<std::optional<std::string>> expected = {"INTEGER", "DATETIME", std::nullopt,
                                                            "VARCHAR(20)", std::nullopt};
  EXPECT_EQ(one_shot->decltypes, expected);

  Result<Lease> lease = client.Acquire("main", Options(Mode::kRead));
  ASSERT_TRUE(lease.ok()) << lease.error();
  Result<QueryResult> leased = lease->Query("SELECT a, b, c, e, ? AS x FROM d", {1}, with_types);
  ASSERT_TRUE(leased.ok()) << leased.error();
  EXPECT_EQ(leased->decltypes, expected);

  // Not asked: none.
  Result<QueryResult> plain = lease->Query("SELECT a, b FROM d");
  ASSERT_TRUE(plain.ok()) << plain.error();
  EXPECT_TRUE(plain->decltypes.empty());
}

TEST_F(ClientTest, ExecReportsLastInsertRowid) {
  Client client = Connect();
  Result<ExecResult> one_shot = client.ExecWithResult(
      "main", "CREATE TABLE t(id INTEGER PRIMARY KEY, v); INSERT INTO t VALUES (7, 'a')");
  ASSERT_TRUE(one_shot.ok()) << one_shot.error();
  EXPECT_EQ(one_shot->changes, 1);
  EXPECT_EQ(one_shot->last_insert_rowid, 7);

  Result<Lease> lease = client.Acquire("main");
  ASSERT_TRUE(lease.ok()) << lease.error();
  Result<ExecResult> leased =
      lease->ExecWithResult("INSERT INTO t(v) VALUES ('b'); INSERT INTO t(v) VALUES ('c')");
  ASSERT_TRUE(leased.ok()) << leased.error();
  EXPECT_EQ(leased->changes, 2);
  EXPECT_EQ(leased->last_insert_rowid, 9);  // the last of its inserts

  // An exec that inserts nothing answers 0, not the handle's last rowid.
  Result<ExecResult> update = lease->ExecWithResult("UPDATE t SET v = 'z' WHERE id = 7");
  ASSERT_TRUE(update.ok()) << update.error();
  EXPECT_EQ(update->changes, 1);
  EXPECT_EQ(update->last_insert_rowid, 0);
  Result<int64_t> changes = lease->Exec("DELETE FROM t WHERE id > 7");
  ASSERT_TRUE(changes.ok()) << changes.error();
  EXPECT_EQ(*changes, 2);
  ASSERT_TRUE(lease->Release().ok());

  // In auto, an exec runs on the writer.
  Result<ExecResult> auto_exec =
      client.ExecWithResult("main", "INSERT INTO t(v) VALUES ('d')", Mode::kAuto);
  ASSERT_TRUE(auto_exec.ok()) << auto_exec.error();
  EXPECT_EQ(auto_exec->changes, 1);
  EXPECT_EQ(auto_exec->last_insert_rowid, 8);
}

TEST_F(ClientTest, LeaseReleasedAtScopeExit) {
  Client client = Connect();
  {
    Result<Lease> lease = client.Acquire("main", Options(Mode::kWrite, std::nullopt, "scope"));
    ASSERT_TRUE(lease.ok()) << lease.error();
    EXPECT_TRUE(lease->valid());
    EXPECT_EQ(lease->db(), "main");
    EXPECT_EQ(lease->mode(), Mode::kWrite);
    EXPECT_EQ(lease->lease_ms(), 30000);
    EXPECT_FALSE(WriterIsFree());
  }
  EXPECT_TRUE(WriterIsFree());
  EXPECT_TRUE(client.Ping().ok());
}

TEST_F(ClientTest, LeaseReleasedWhenAnExceptionUnwinds) {
  Client client = Connect();
  ASSERT_TRUE(client.Exec("main", "CREATE TABLE t(x)").ok());
  try {
    Result<Lease> lease = client.Acquire("main");
    ASSERT_TRUE(lease.ok()) << lease.error();
    ASSERT_TRUE(lease->Exec("BEGIN; INSERT INTO t VALUES (1);").ok());
    throw std::runtime_error("application failure");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(WriterIsFree());
  Result<QueryResult> count = client.Query("main", "SELECT count(*) FROM t");
  ASSERT_TRUE(count.ok()) << count.error();
  EXPECT_EQ(count->rows[0][0], Value(0)) << "the open transaction was not rolled back";
}

TEST_F(ClientTest, ReleaseReportsRollbackAndInvalidates) {
  Client client = Connect();
  Result<Lease> lease = client.Acquire("main");
  ASSERT_TRUE(lease.ok());
  Result<bool> plain = lease->Release();
  ASSERT_TRUE(plain.ok()) << plain.error();
  EXPECT_FALSE(*plain);
  EXPECT_FALSE(lease->valid());
  Result<QueryResult> after = lease->Query("SELECT 1");
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, "unknown_lease");
  EXPECT_EQ(lease->Release().error().code, "unknown_lease");

  lease = client.Acquire("main");
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(lease->Exec("BEGIN").ok());
  Result<bool> rolled_back = lease->Release();
  ASSERT_TRUE(rolled_back.ok()) << rolled_back.error();
  EXPECT_TRUE(*rolled_back);
}

TEST_F(ClientTest, MovesTransferTheLease) {
  Client client = Connect();
  Result<Lease> acquired = client.Acquire("main");
  ASSERT_TRUE(acquired.ok());
  Lease first = std::move(acquired).value();
  Lease second = std::move(first);
  EXPECT_FALSE(first.valid());
  ASSERT_TRUE(second.valid());
  EXPECT_TRUE(second.Query("SELECT 1").ok());

  // Moving the Client keeps its leases usable.
  Client moved = std::move(client);
  EXPECT_TRUE(second.Query("SELECT 1").ok());

  // Assigning over a held lease releases the old one first.
  Result<Lease> read = moved.Acquire("main", Options(Mode::kRead));
  ASSERT_TRUE(read.ok());
  second = std::move(read).value();
  EXPECT_EQ(second.mode(), Mode::kRead);
  EXPECT_TRUE(WriterIsFree());
}

TEST_F(ClientTest, ErrorsAreValues) {
  Client client = Connect();
  Result<QueryResult> syntax = client.Query("main", "SELEC 1");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().code, "sql_error");
  EXPECT_EQ(syntax.error().sqlite_code, 1);
  EXPECT_FALSE(syntax.error().message.empty());

  Result<Lease> unknown_db = client.Acquire("nope");
  ASSERT_FALSE(unknown_db.ok());
  EXPECT_EQ(unknown_db.error().code, "unknown_database");

  Result<Lease> held = client.Acquire("main");
  ASSERT_TRUE(held.ok());
  Client other = Connect();
  Result<Lease> timeout = other.Acquire("main", Options(Mode::kWrite, 100));
  ASSERT_FALSE(timeout.ok());
  EXPECT_EQ(timeout.error().code, "acquire_timeout");

  Result<Lease> reader = other.Acquire("main", Options(Mode::kRead));
  ASSERT_TRUE(reader.ok()) << reader.error();
  ASSERT_TRUE(held->Exec("CREATE TABLE t(x)").ok());
  Result<int64_t> write = reader->Exec("INSERT INTO t VALUES (1)");
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().code, "read_only");

  // Each failure left the connection usable.
  EXPECT_TRUE(client.Ping().ok());
  EXPECT_TRUE(other.Ping().ok());
}

TEST_F(ClientTest, ValuesJsonCannotCarryAreRefusedBeforeSending) {
  Client client = Connect();
  Result<QueryResult> nan =
      client.Query("main", "SELECT ?", {std::numeric_limits<double>::quiet_NaN()});
  ASSERT_FALSE(nan.ok());
  EXPECT_EQ(nan.error().code, "bad_request");
  Result<QueryResult> not_utf8 = client.Query("main", "SELECT ?", {std::string("\xFF\xFE")});
  ASSERT_FALSE(not_utf8.ok());
  EXPECT_EQ(not_utf8.error().code, "bad_request");
  EXPECT_TRUE(client.Ping().ok());
}

TEST_F(ClientTest, RawCallReturnsErrorReplies) {
  Client client = Connect();
  Result<nlohmann::json> reply = client.Call({{"op", "frobnicate"}, {"id", 5}});
  ASSERT_TRUE(reply.ok()) << reply.error();
  EXPECT_EQ((*reply)["ok"], false);
  EXPECT_EQ((*reply)["error"]["code"], "unknown_op");
  EXPECT_EQ((*reply)["id"], 5);
}

TEST_F(ClientTest, StatsAndLeases) {
  Client client = Connect();
  Result<Lease> lease = client.Acquire("main", Options(Mode::kWrite, std::nullopt, "stats-test"));
  ASSERT_TRUE(lease.ok());
  Result<nlohmann::json> stats = client.Stats();
  ASSERT_TRUE(stats.ok()) << stats.error();
  EXPECT_TRUE(stats->contains("pools"));
  Result<nlohmann::json> leases = client.Leases();
  ASSERT_TRUE(leases.ok()) << leases.error();
  ASSERT_TRUE((*leases)["leases"].is_array());
  ASSERT_EQ((*leases)["leases"].size(), 1u);
  EXPECT_EQ((*leases)["leases"][0]["tag"], "stats-test");
}

TEST_F(ClientTest, TransportFailuresAreIoErrors) {
  Result<Client> absent = Client::Connect(daemon_.dir() + "/absent.sock");
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().code, kIoError);

  Client client = Connect();
  Result<Lease> lease = client.Acquire("main");
  ASSERT_TRUE(lease.ok());
  daemon_.Kill();
  Status ping = client.Ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.error().code, kIoError);
  Result<QueryResult> query = lease->Query("SELECT 1");
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.error().code, kIoError);
  // The lease's destructor runs against a dead connection without harm.
}

// Destroying a Client first closes the connection: the daemon releases its
// leases (rolling back), and the Lease and Transaction objects left behind
// are invalid and safe to use and destroy.
TEST_F(ClientTest, LeaseOutlivingItsClientIsInvalid) {
  Lease lease;
  Transaction tx;
  {
    Client client = Connect();
    ASSERT_TRUE(client.Exec("main", "CREATE TABLE t(x)").ok());
    Result<Lease> acquired = client.Acquire("main");
    ASSERT_TRUE(acquired.ok()) << acquired.error();
    lease = std::move(acquired).value();
    Result<Transaction> begun = lease.Begin();
    ASSERT_TRUE(begun.ok()) << begun.error();
    tx = std::move(begun).value();
    ASSERT_TRUE(lease.Exec("INSERT INTO t VALUES (1)").ok());
  }
  EXPECT_FALSE(lease.valid());
  Result<QueryResult> query = lease.Query("SELECT 1");
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.error().code, "unknown_lease");
  Status commit = tx.Commit();
  ASSERT_FALSE(commit.ok());
  EXPECT_EQ(commit.error().code, kIoError);
  EXPECT_FALSE(tx.active());
  EXPECT_TRUE(WriterIsFree());
  Client other = Connect();
  Result<QueryResult> count = other.Query("main", "SELECT count(*) FROM t");
  ASSERT_TRUE(count.ok()) << count.error();
  EXPECT_EQ(count->rows[0][0], Value(0));
}

// The reconnect policy (litepool/client.h): a Client never reconnects; its
// leases die with the daemon that granted them, and a new Client works.
TEST_F(ClientTest, NoSilentReconnectAfterADaemonRestart) {
  ASSERT_TRUE(daemon_.Stop() == 0);
  ASSERT_TRUE(daemon_.Start({{"shutdown_grace_ms", 200}}));
  Client client = Connect();
  ASSERT_TRUE(client.Exec("main", "CREATE TABLE t(x)").ok());
  Result<Lease> lease = client.Acquire("main");
  ASSERT_TRUE(lease.ok()) << lease.error();
  ASSERT_TRUE(lease->Exec("BEGIN; INSERT INTO t VALUES (1);").ok());

  // Same dir, same socket path, same database file.
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
  ASSERT_TRUE(daemon_.Start({{"shutdown_grace_ms", 200}}));

  Status ping = client.Ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.error().code, kIoError);
  // Still broken: the old Client does not come back with the daemon.
  EXPECT_EQ(client.Ping().error().code, kIoError);
  Result<QueryResult> through_old_lease = lease->Query("SELECT 1");
  ASSERT_FALSE(through_old_lease.ok());
  EXPECT_EQ(through_old_lease.error().code, kIoError);

  Client fresh = Connect();
  EXPECT_TRUE(fresh.Ping().ok());
  Result<QueryResult> count = fresh.Query("main", "SELECT count(*) FROM t");
  ASSERT_TRUE(count.ok()) << count.error();
  EXPECT_EQ(count->rows[0][0], Value(0)) << "the lost transaction was committed";
}

TEST(DefaultSocketPathTest, FollowsTheEnvironment) {
  const char* saved = std::getenv("LITEPOOL_SOCKET");
  std::string saved_value = saved ? saved : "";
  ::setenv("LITEPOOL_SOCKET", "/run/x/litepool.sock", 1);
  EXPECT_EQ(DefaultSocketPath(), "/run/x/litepool.sock");
  ::setenv("LITEPOOL_SOCKET", "", 1);
  EXPECT_EQ(DefaultSocketPath(), "./litepool.sock");
  ::unsetenv("LITEPOOL_SOCKET");
  EXPECT_EQ(DefaultSocketPath(), "./litepool.sock");
  if (saved) ::setenv("LITEPOOL_SOCKET", saved_value.c_str(), 1);
}

}  // namespace
}  // namespace litepool::client
