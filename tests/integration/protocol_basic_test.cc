// Wire protocol end to end (docs/protocol.md): hello, ping, ids, acquire, query,
// exec, release, one-shot requests and pipelining.
#include <sys/stat.h>

#include <string>

#include "litepool/version.h"
#include "tests/integration/protocol_fixture.h"

namespace litepool::testing {
namespace {

TEST_F(ProtocolTest, Hello) {
  LineClient client = Connect();
  json reply = client.Call({{"op", "hello"}});
  ASSERT_TRUE(IsOk(reply));
  ASSERT_TRUE(reply["server"].is_string());
  EXPECT_FALSE(reply["server"].get<std::string>().empty());
  EXPECT_EQ(reply["version"], kVersion);
  EXPECT_EQ(reply["protocol"], 1);
  EXPECT_EQ(reply["databases"], json::array({"main"}));
}

TEST_F(ProtocolTest, Ping) {
  LineClient client = Connect();
  json reply = client.Call({{"op", "ping"}});
  EXPECT_TRUE(IsOk(reply));
  EXPECT_FALSE(reply.contains("error"));
}

TEST_F(ProtocolTest, IdIsEchoedWhateverItsType) {
  LineClient client = Connect();
  for (const json& id : {json(7), json(-1.5), json("abc"), json{{"a", json::array({1, 2})}},
                         json::array({1, "x"}), json(nullptr), json(true)}) {
    json reply = client.Call({{"op", "ping"}, {"id", id}});
    EXPECT_TRUE(IsOk(reply));
    // A null id may come back as null or be left out; anything else must
    // come back as sent.
    ASSERT_TRUE(reply.contains("id") || id.is_null()) << reply.dump();
    EXPECT_EQ(reply.value("id", json()), id);
  }
  // Error replies echo it too.
  json reply = client.Call({{"op", "frobnicate"}, {"id", "err-1"}});
  EXPECT_TRUE(IsError(reply, "unknown_op"));
  EXPECT_EQ(reply["id"], "err-1");
  reply = client.Call({{"op", "acquire"}, {"db", "nope"}, {"id", 99}});
  EXPECT_TRUE(IsError(reply, "unknown_database"));
  EXPECT_EQ(reply["id"], 99);
}

TEST_F(ProtocolTest, AcquireWriteAndRead) {
  LineClient client = Connect();
  json write = client.Call({{"op", "acquire"}, {"db", "main"}, {"mode", "write"}});
  ASSERT_TRUE(IsOk(write));
  ASSERT_TRUE(write["lease"].is_string());
  EXPECT_FALSE(write["lease"].get<std::string>().empty());
  EXPECT_EQ(write["db"], "main");
  EXPECT_EQ(write["mode"], "write");
  EXPECT_EQ(write["lease_ms"], 30000);  // lease_timeout_ms default

  json read =
      client.Call({{"op", "acquire"}, {"db", "main"}, {"mode", "read"}, {"lease_ms", 1500}});
  ASSERT_TRUE(IsOk(read));
  EXPECT_EQ(read["mode"], "read");
  EXPECT_EQ(read["lease_ms"], 1500);
  EXPECT_NE(read["lease"], write["lease"]);
}

TEST_F(ProtocolTest, AcquireDefaultsToWrite) {
  LineClient client = Connect();
  json reply = client.Call({{"op", "acquire"}, {"db", "main"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["mode"], "write");
  // Only one writer: a second write acquire queues and times out.
  json second =
      client.Call({{"op", "acquire"}, {"db", "main"}, {"mode", "write"}, {"wait_ms", 50}});
  EXPECT_TRUE(IsError(second, "acquire_timeout"));
}

TEST_F(ProtocolTest, LeaseMsAboveConfiguredIsLowered) {
  LineClient client = Connect();
  json reply = client.Call(
      {{"op", "acquire"}, {"db", "main"}, {"lease_ms", int64_t{1} << 40}, {"tag", "big"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["lease_ms"], 30000);
}

TEST_F(ProtocolTest, QueryWithPositionalParams) {
  LineClient client = Connect();
  std::string lease = Acquire(client);
  ASSERT_FALSE(lease.empty());
  json reply = client.Call({{"op", "exec"},
                            {"lease", lease},
                            {"sql", "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT)"}});
  ASSERT_TRUE(IsOk(reply));

  reply = client.Call({{"op", "query"},
                       {"lease", lease},
                       {"sql", "INSERT INTO t(id, name) VALUES (?, ?)"},
                       {"params", {7, "seven"}}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["changes"], 1);
  EXPECT_EQ(reply["last_insert_rowid"], 7);
  EXPECT_EQ(reply["columns"], json::array());
  EXPECT_EQ(reply["rows"], json::array());

  reply = client.Call({{"op", "query"},
                       {"lease", lease},
                       {"sql", "INSERT INTO t(name) VALUES (?2 || ?1)"},
                       {"params", {"b", "a"}}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["last_insert_rowid"], 8);

  reply = client.Call({{"op", "query"},
                       {"lease", lease},
                       {"sql", "SELECT id, name AS n FROM t WHERE id >= ? ORDER BY id"},
                       {"params", {7}}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["columns"], json::array({"id", "n"}));
  EXPECT_EQ(reply["rows"], json::parse(R"([[7, "seven"], [8, "ab"]])"));
  EXPECT_EQ(reply["changes"], 0);
}

TEST_F(ProtocolTest, QueryWithNamedParamsOfEveryPrefix) {
  LineClient client = Connect();
  std::string lease = Acquire(client);
  ASSERT_FALSE(lease.empty());
  for (const std::string sql :
       {"SELECT :id + 1, :name", "SELECT @id + 1, @name", "SELECT $id + 1, $name"}) {
    json reply = client.Call(
        {{"op", "query"}, {"lease", lease}, {"sql", sql}, {"params", {{"id", 41}, {"name", "x"}}}});
    ASSERT_TRUE(IsOk(reply)) << sql;
    EXPECT_EQ(reply["rows"], json::parse(R"([[42, "x"]])")) << sql;
  }
}

TEST_F(ProtocolTest, QueryWithoutParamsAndEmptyParams) {
  LineClient client = Connect();
  std::string lease = Acquire(client);
  json reply = client.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT 1 AS one"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["columns"], json::array({"one"}));
  EXPECT_EQ(reply["rows"], json::parse("[[1]]"));
  reply = client.Call(
      {{"op", "query"}, {"lease", lease}, {"sql", "SELECT 2"}, {"params", json::array()}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse("[[2]]"));
  reply = client.Call(
      {{"op", "query"}, {"lease", lease}, {"sql", "SELECT 3"}, {"params", json::object()}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse("[[3]]"));
}

TEST_F(ProtocolTest, ExecRunsSeveralStatementsAndSumsChanges) {
  LineClient client = Connect();
  std::string lease = Acquire(client);
  json reply = client.Call({{"op", "exec"},
                            {"lease", lease},
                            {"sql",
                             "CREATE TABLE t(x);"
                             "INSERT INTO t VALUES (1), (2);"
                             "INSERT INTO t VALUES (3);"
                             "UPDATE t SET x = x + 1;"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["changes"], 6);
  reply = client.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT sum(x) FROM t"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse("[[9]]"));
}

TEST_F(ProtocolTest, ReleaseReportsRollback) {
  ExecOk("CREATE TABLE t(x)");
  LineClient client = Connect();
  std::string lease = Acquire(client);
  ASSERT_TRUE(
      IsOk(client.Call({{"op", "exec"}, {"lease", lease}, {"sql", "INSERT INTO t VALUES (1)"}})));
  json reply = client.Call({{"op", "release"}, {"lease", lease}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rolled_back"], false);

  lease = Acquire(client);
  ASSERT_TRUE(IsOk(client.Call(
      {{"op", "exec"}, {"lease", lease}, {"sql", "BEGIN; INSERT INTO t VALUES (2);"}})));
  reply = client.Call({{"op", "release"}, {"lease", lease}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rolled_back"], true);

  // The committed row stayed, the rolled-back one is gone, and the handle
  // came back in autocommit mode (BEGIN works again).
  lease = Acquire(client);
  reply = client.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT x FROM t ORDER BY x"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse("[[1]]"));
  EXPECT_TRUE(IsOk(client.Call({{"op", "exec"}, {"lease", lease}, {"sql", "BEGIN; COMMIT;"}})));
}

TEST_F(ProtocolTest, OneShotRequestsWithDb) {
  LineClient client = Connect();
  json reply = client.Call({{"op", "exec"},
                            {"db", "main"},
                            {"sql", "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2);"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["changes"], 2);

  reply = client.Call(
      {{"op", "query"}, {"db", "main"}, {"sql", "INSERT INTO t VALUES (?)"}, {"params", {3}}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["changes"], 1);
  EXPECT_EQ(reply["last_insert_rowid"], 3);

  reply = client.Call({{"op", "query"},
                       {"db", "main"},
                       {"mode", "read"},
                       {"sql", "SELECT count(*) AS n FROM t WHERE x > :min"},
                       {"params", {{"min", 1}}}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["columns"], json::array({"n"}));
  EXPECT_EQ(reply["rows"], json::parse("[[2]]"));

  // One-shot leases are released at once: the only writer is free.
  std::string lease = Acquire(client, "write", {{"wait_ms", 500}});
  EXPECT_FALSE(lease.empty());
}

TEST_F(ProtocolTest, PipelinedRequestsAnswerInOrder) {
  ExecOk("CREATE TABLE t(x)");
  LineClient client = Connect();
  std::string batch;
  for (int i = 0; i < 50; ++i) {
    json request;
    switch (i % 3) {
      case 0:
        request = {{"op", "ping"}};
        break;
      case 1:
        request = {{"op", "query"}, {"db", "main"}, {"sql", "SELECT ?"}, {"params", {i}}};
        break;
      default:
        request = {{"op", "exec"}, {"db", "main"}, {"sql", "INSERT INTO t VALUES (1)"}};
        break;
    }
    request["id"] = i;
    batch += request.dump() + "\n";
  }
  ASSERT_TRUE(client.SendRaw(batch));
  for (int i = 0; i < 50; ++i) {
    std::optional<std::string> line = client.ReadLine();
    ASSERT_TRUE(line.has_value()) << "reply " << i << " missing";
    json reply = json::parse(*line);
    EXPECT_EQ(reply["id"], i);
    EXPECT_TRUE(IsOk(reply));
    if (i % 3 == 1) {
      EXPECT_EQ(reply["rows"], json::array({json::array({i})}));
    }
  }
  EXPECT_FALSE(client.ReadLine(std::chrono::milliseconds(50)).has_value());
}

TEST_F(ProtocolTest, RequestSplitAcrossWrites) {
  LineClient client = Connect();
  std::string line = json{{"op", "ping"}, {"id", "split"}}.dump() + "\n";
  ASSERT_TRUE(client.SendRaw(line.substr(0, 5)));
  EXPECT_FALSE(client.ReadLine(std::chrono::milliseconds(50)).has_value());
  ASSERT_TRUE(client.SendRaw(line.substr(5)));
  std::optional<std::string> reply = client.ReadLine();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(json::parse(*reply)["id"], "split");
}

TEST_F(ProtocolTest, LeasesAndStatsAnswerTheOwner) {
  LineClient client = Connect();
  std::string lease = Acquire(client, "write", {{"tag", "protocol-test"}});
  ASSERT_TRUE(
      IsOk(client.Call({{"op", "exec"}, {"lease", lease}, {"sql", "BEGIN; CREATE TABLE t(x);"}})));

  json reply = client.Call({{"op", "leases"}});
  ASSERT_TRUE(IsOk(reply));
  ASSERT_TRUE(reply["leases"].is_array()) << reply.dump();
  ASSERT_EQ(reply["leases"].size(), 1u) << reply.dump();
  const json& entry = reply["leases"][0];
  EXPECT_EQ(entry["db"], "main");
  EXPECT_EQ(entry["mode"], "write");
  EXPECT_EQ(entry["pid"], ::getpid());
  EXPECT_EQ(entry["uid"], ::getuid());
  EXPECT_EQ(entry["tag"], "protocol-test");
  EXPECT_TRUE(entry["age_ms"].is_number_integer()) << entry.dump();
  EXPECT_EQ(entry["in_transaction"], true);
  ASSERT_TRUE(entry["last_sql"].is_string()) << entry.dump();
  EXPECT_NE(entry["last_sql"].get<std::string>().find("CREATE TABLE t"), std::string::npos);

  reply = client.Call({{"op", "stats"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_TRUE(reply.contains("pools")) << reply.dump();
  EXPECT_TRUE(reply.contains("reaper")) << reply.dump();
  EXPECT_TRUE(reply.contains("clients")) << reply.dump();
  EXPECT_NE(reply["pools"].dump().find("main"), std::string::npos) << reply.dump();
}

TEST_F(ProtocolTest, SigtermExitsZeroAndRemovesSocket) {
  LineClient client = Connect();
  ASSERT_TRUE(IsOk(client.Call({{"op", "ping"}})));
  client.Close();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
  struct stat st;
  EXPECT_NE(::stat(daemon_.socket_path().c_str(), &st), 0) << "socket file left behind";
}

}  // namespace
}  // namespace litepool::testing
