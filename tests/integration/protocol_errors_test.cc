// Error codes of docs/protocol.md, each provoked end to end, and the rule that a bad
// request never closes the connection.
#include <chrono>
#include <string>

#include "tests/integration/protocol_fixture.h"

namespace litepool::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Sends `line` and expects one error reply with `code`, then a working ping
// on the same connection.
void ExpectErrorThenPing(LineClient& client, const std::string& line, const std::string& code) {
  ASSERT_TRUE(client.Send(line));
  std::optional<std::string> reply_line = client.ReadLine();
  ASSERT_TRUE(reply_line.has_value()) << "no reply to: " << line;
  json reply = json::parse(*reply_line, nullptr, false);
  ASSERT_FALSE(reply.is_discarded()) << *reply_line;
  EXPECT_TRUE(IsError(reply, code)) << "request: " << line;
  json pong = client.Call({{"op", "ping"}, {"id", "after"}});
  EXPECT_TRUE(IsOk(pong)) << "after: " << line;
  EXPECT_EQ(pong["id"], "after");
}

TEST_F(ProtocolTest, BadRequests) {
  LineClient client = Connect();
  for (const std::string& line : {
           std::string("this is not json"),
           std::string("{\"op\": \"ping\""),     // truncated
           std::string("[1, 2, 3]"),             // not an object
           std::string("\"ping\""),              // not an object
           std::string("42"),                    // not an object
           std::string("{}"),                    // no op
           std::string(R"({"id": 1})"),          // no op
           std::string(R"({"op": 5})"),          // op not a string
           std::string(R"({"op": "acquire"})"),  // no db
           std::string(R"({"op": "acquire", "db": 1})"),
           std::string(R"({"op": "acquire", "db": "main", "mode": "sideways"})"),
           std::string(R"({"op": "acquire", "db": "main", "wait_ms": "soon"})"),
           std::string(R"({"op": "query", "db": "main"})"),            // no sql
           std::string(R"({"op": "query", "db": "main", "sql": 5})"),  // sql not a string
           std::string(R"({"op": "query", "sql": "SELECT 1"})"),       // no lease nor db
           std::string(R"({"op": "query", "db": "main", "sql": "SELECT ?", "params": 5})"),
           std::string(R"({"op": "exec", "db": "main", "sql": ["SELECT 1"]})"),
           std::string(R"({"op": "release"})"),  // no lease
           std::string(R"({"op": "release", "lease": 12})"),
       }) {
    SCOPED_TRACE(line);
    ExpectErrorThenPing(client, line, "bad_request");
  }
}

TEST_F(ProtocolTest, BadRequestKeepsTheId) {
  LineClient client = Connect();
  json reply = client.Call({{"op", "query"}, {"db", "main"}, {"sql", 5}, {"id", "q1"}});
  EXPECT_TRUE(IsError(reply, "bad_request"));
  EXPECT_EQ(reply["id"], "q1");
}

TEST_F(ProtocolTest, UnknownOp) {
  LineClient client = Connect();
  ExpectErrorThenPing(client, R"({"op": "frobnicate"})", "unknown_op");
  ExpectErrorThenPing(client, R"({"op": "PING"})", "unknown_op");
}

TEST_F(ProtocolTest, UnknownDatabase) {
  LineClient client = Connect();
  ExpectErrorThenPing(client, R"({"op": "acquire", "db": "nope"})", "unknown_database");
  ExpectErrorThenPing(client, R"({"op": "query", "db": "nope", "sql": "SELECT 1"})",
                      "unknown_database");
  ExpectErrorThenPing(client, R"({"op": "exec", "db": "nope", "sql": "SELECT 1"})",
                      "unknown_database");
}

TEST_F(ProtocolTest, SqlErrorCarriesSqliteCode) {
  LineClient client = Connect();
  json reply = client.Call({{"op", "query"}, {"db", "main"}, {"sql", "SELEC 1"}});
  ASSERT_TRUE(IsError(reply, "sql_error"));
  ASSERT_TRUE(reply["error"]["sqlite_code"].is_number_integer()) << reply.dump();
  EXPECT_EQ(reply["error"]["sqlite_code"], 1);  // SQLITE_ERROR
  EXPECT_FALSE(reply.contains("sqlite_code")) << "sqlite_code belongs inside error";

  reply = client.Call({{"op", "query"}, {"db", "main"}, {"sql", "SELECT * FROM missing_table"}});
  EXPECT_TRUE(IsError(reply, "sql_error"));

  // An extended code, not only the primary one.
  ExecOk("CREATE TABLE u(x UNIQUE); INSERT INTO u VALUES (1);");
  reply = client.Call({{"op", "exec"}, {"db", "main"}, {"sql", "INSERT INTO u VALUES (1)"}});
  ASSERT_TRUE(IsError(reply, "sql_error"));
  EXPECT_EQ(reply["error"]["sqlite_code"], 2067);  // SQLITE_CONSTRAINT_UNIQUE
  EXPECT_TRUE(IsOk(client.Call({{"op", "ping"}})));
}

TEST_F(ProtocolTest, SqlErrorKeepsTheLease) {
  LineClient client = Connect();
  std::string lease = Acquire(client);
  json reply = client.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELEC 1"}});
  EXPECT_TRUE(IsError(reply, "sql_error"));
  reply = client.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT 1"}});
  EXPECT_TRUE(IsOk(reply));
}

TEST_F(ProtocolTest, WriteThroughReadLeaseIsReadOnly) {
  ExecOk("CREATE TABLE t(x)");
  LineClient client = Connect();
  std::string lease = Acquire(client, "read");
  ASSERT_FALSE(lease.empty());
  json reply =
      client.Call({{"op", "query"}, {"lease", lease}, {"sql", "INSERT INTO t VALUES (1)"}});
  EXPECT_TRUE(IsError(reply, "read_only"));
  reply = client.Call({{"op", "exec"}, {"lease", lease}, {"sql", "DELETE FROM t"}});
  EXPECT_TRUE(IsError(reply, "read_only"));
  // The read lease still reads.
  reply = client.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT count(*) FROM t"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse("[[0]]"));
  // A one-shot read query refuses writes the same way.
  reply = client.Call(
      {{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", "INSERT INTO t VALUES (1)"}});
  EXPECT_TRUE(IsError(reply, "read_only"));
}

TEST_F(ProtocolTest, AcquireTimeout) {
  LineClient holder = Connect();
  ASSERT_FALSE(Acquire(holder).empty());
  LineClient waiter = Connect();
  auto start = steady_clock::now();
  json reply = waiter.Call({{"op", "acquire"}, {"db", "main"}, {"wait_ms", 200}});
  auto waited = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  EXPECT_TRUE(IsError(reply, "acquire_timeout"));
  EXPECT_GE(waited.count(), 180);
  EXPECT_LT(waited.count(), 2000);
  EXPECT_TRUE(IsOk(waiter.Call({{"op", "ping"}})));
  // Readers are a separate pool: a read lease is granted meanwhile.
  EXPECT_FALSE(Acquire(waiter, "read", {{"wait_ms", 200}}).empty());
}

TEST_F(ProtocolTest, Forbidden) {
  LineClient client = Connect();
  std::string attach = "ATTACH DATABASE '" + daemon_.dir() + "/other.db' AS other";
  ExpectErrorThenPing(client, json{{"op", "exec"}, {"db", "main"}, {"sql", attach}}.dump(),
                      "forbidden");
  ExpectErrorThenPing(
      client, json{{"op", "exec"}, {"db", "main"}, {"sql", "PRAGMA journal_mode = delete"}}.dump(),
      "forbidden");
  // Reading a PRAGMA is fine.
  json reply = client.Call({{"op", "query"}, {"db", "main"}, {"sql", "PRAGMA journal_mode"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse(R"([["wal"]])"));
}

class SmallRequestTest : public ProtocolTest {
 protected:
  json Overrides() override { return {{"max_request_bytes", 4096}}; }
};

TEST_F(SmallRequestTest, RequestTooLargeSkipsTheRestOfTheLine) {
  LineClient client = Connect();
  json big = {{"op", "ping"}, {"id", 1}, {"padding", std::string(20000, 'x')}};
  ASSERT_TRUE(client.Send(big.dump()));
  std::optional<std::string> line = client.ReadLine();
  ASSERT_TRUE(line.has_value());
  EXPECT_TRUE(IsError(json::parse(*line), "request_too_large")) << *line;
  // Exactly one reply for the long line; the next request is answered next.
  json pong = client.Call({{"op", "ping"}, {"id", "after"}});
  EXPECT_TRUE(IsOk(pong));
  EXPECT_EQ(pong["id"], "after");

  // Also when the long line arrives in pieces, followed by a request in the
  // same write as its end.
  std::string piece(3000, ' ');
  ASSERT_TRUE(client.SendRaw("{\"op\":\"ping\"," + piece));
  ASSERT_TRUE(client.SendRaw(piece));
  ASSERT_TRUE(client.SendRaw(piece + "}\n{\"op\":\"ping\",\"id\":\"next\"}\n"));
  line = client.ReadLine();
  ASSERT_TRUE(line.has_value());
  EXPECT_TRUE(IsError(json::parse(*line), "request_too_large")) << *line;
  line = client.ReadLine();
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(json::parse(*line)["id"], "next");

  // A request just under the limit is fine.
  json fits = {{"op", "ping"}, {"padding", std::string(3500, 'y')}};
  EXPECT_TRUE(IsOk(client.Call(fits)));
}

class NoWaitersTest : public ProtocolTest {
 protected:
  json Overrides() override { return {{"defaults", {{"max_waiters", 0}}}}; }
};

TEST_F(NoWaitersTest, PoolExhaustedAnswersAtOnce) {
  LineClient holder = Connect();
  ASSERT_FALSE(Acquire(holder).empty());
  LineClient other = Connect();
  auto start = steady_clock::now();
  json reply = other.Call({{"op", "acquire"}, {"db", "main"}, {"wait_ms", 3000}});
  auto waited = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  EXPECT_TRUE(IsError(reply, "pool_exhausted"));
  EXPECT_LT(waited.count(), 1000);
  EXPECT_TRUE(IsOk(other.Call({{"op", "ping"}})));
}

class OneLeasePerClientTest : public ProtocolTest {
 protected:
  json Overrides() override { return {{"defaults", {{"max_leases_per_client", 1}}}}; }
};

TEST_F(OneLeasePerClientTest, TooManyLeases) {
  LineClient client = Connect();
  std::string lease = Acquire(client);
  ASSERT_FALSE(lease.empty());
  // A reader is free (max_readers 4), so only the per-client limit refuses.
  json reply = client.Call({{"op", "acquire"}, {"db", "main"}, {"mode", "read"}});
  EXPECT_TRUE(IsError(reply, "too_many_leases"));
  // Another connection is not affected.
  LineClient other = Connect();
  EXPECT_FALSE(Acquire(other, "read").empty());
  // After a release the client may acquire again.
  ASSERT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));
  EXPECT_FALSE(Acquire(client, "read").empty());
}

// A one-shot holds its handle only while its own request runs: a
// connection at max_leases_per_client still runs one-shots, read and
// write, and its lease is still its own afterwards.
TEST_F(OneLeasePerClientTest, OneShotsAreNotCountedAsLeases) {
  LineClient client = Connect();
  std::string lease = Acquire(client, "read");
  ASSERT_FALSE(lease.empty());
  json read = client.Call({{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", "SELECT 7"}});
  ASSERT_TRUE(IsOk(read)) << read.dump();
  EXPECT_EQ(read["rows"][0][0], 7);
  json write =
      client.Call({{"op", "exec"}, {"db", "main"}, {"sql", "CREATE TABLE IF NOT EXISTS t(x)"}});
  EXPECT_TRUE(IsOk(write)) << write.dump();
  EXPECT_TRUE(IsError(client.Call({{"op", "acquire"}, {"db", "main"}, {"mode", "read"}}),
                      "too_many_leases"));
  EXPECT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));
}

}  // namespace
}  // namespace litepool::testing
