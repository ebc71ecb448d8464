// The SQL sandbox of docs/protocol.md end to end: no ATTACH/DETACH, no file system,
// no schema tricks, PRAGMA assignments only when listed in client_pragmas,
// and a handle left with session state (a listed PRAGMA, a temporary
// object) closed with reason `reset` instead of reused.
#include <sys/stat.h>

#include <string>

#include "tests/integration/protocol_fixture.h"

namespace litepool::testing {
namespace {

json Query(const std::string& lease, const std::string& sql) {
  return {{"op", "query"}, {"lease", lease}, {"sql", sql}};
}

json Exec(const std::string& lease, const std::string& sql) {
  return {{"op", "exec"}, {"lease", lease}, {"sql", sql}};
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// `main` has no client_pragmas; `tuned` lets clients set user_version.
class SandboxTest : public ProtocolTest {
 protected:
  json Overrides() override {
    return {{"databases",
             {{"tuned",
               {{"path", daemon_.dir() + "/tuned.db"},
                {"create_if_missing", true},
                {"client_pragmas", json::array({"user_version"})}}}}}};
  }

  void SetUp() override {
    ProtocolTest::SetUp();
    ExecOk("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT); INSERT INTO t(b) VALUES ('x')");
  }

  double ResetCount(const std::string& db, const std::string& mode = "write") {
    return Metric("litepool_handles_closed_total",
                  {{"db", db}, {"mode", mode}, {"reason", "reset"}})
        .value_or(-1);
  }
};

TEST_F(SandboxTest, AttachAndDetachAreForbidden) {
  LineClient client = Connect();
  std::string lease = Acquire(client);
  const std::string other = daemon_.dir() + "/other.db";
  for (const std::string& sql : {
           "ATTACH DATABASE '" + other + "' AS other",
           "ATTACH '" + other + "' AS other",
           "attach database 'file:" + other + "?mode=rwc' as other",
           std::string("ATTACH ':memory:' AS mem"),
           std::string("DETACH DATABASE main"),
           std::string("DETACH other"),
       }) {
    SCOPED_TRACE(sql);
    EXPECT_TRUE(IsError(client.Call(Exec(lease, sql)), "forbidden"));
    EXPECT_TRUE(IsError(client.Call(Query(lease, sql)), "forbidden"));
  }
  EXPECT_FALSE(FileExists(other)) << "ATTACH created a file";
  // VACUUM INTO writes a new file wherever it is told: also the file system.
  json vacuum = client.Call(Exec(lease, "VACUUM INTO '" + other + "'"));
  EXPECT_NE(vacuum.value("ok", true), true) << vacuum.dump();
  EXPECT_FALSE(FileExists(other)) << "VACUUM INTO wrote " << other;
  // The lease is unharmed.
  EXPECT_TRUE(IsOk(client.Call(Query(lease, "SELECT count(*) FROM t"))));
  EXPECT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));
  // Nor through one-shot requests of either mode.
  for (const std::string mode : {"write", "read"}) {
    json reply = client.Call(
        {{"op", "exec"}, {"db", "main"}, {"mode", mode}, {"sql", "ATTACH '" + other + "' AS o"}});
    EXPECT_TRUE(IsError(reply, "forbidden")) << mode;
  }
  EXPECT_FALSE(FileExists(other)) << "ATTACH created a file";
  client.Close();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
}

TEST_F(SandboxTest, ListedPragmaIsAllowedAndItsHandleIsResetOnRelease) {
  LineClient client = Connect();
  // Not listed for main.
  std::string lease = Acquire(client);
  EXPECT_TRUE(IsError(client.Call(Exec(lease, "PRAGMA user_version=5")), "forbidden"));
  EXPECT_TRUE(IsError(client.Call(Query(lease, "PRAGMA user_version = 5")), "forbidden"));
  ASSERT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));
  EXPECT_EQ(ResetCount("main"), 0) << "a refused PRAGMA changed nothing";

  // Listed for tuned.
  json reply = client.Call({{"op", "acquire"}, {"db", "tuned"}});
  ASSERT_TRUE(IsOk(reply));
  lease = reply["lease"].get<std::string>();
  double before = ResetCount("tuned");
  ASSERT_TRUE(IsOk(client.Call(Exec(lease, "PRAGMA user_version=5"))));
  reply = client.Call(Query(lease, "PRAGMA user_version"));
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse("[[5]]"));
  // Other PRAGMAs stay refused on tuned.
  EXPECT_TRUE(IsError(client.Call(Exec(lease, "PRAGMA cache_size=10")), "forbidden"));
  ASSERT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));
  EXPECT_EQ(ResetCount("tuned"), before + 1) << "the handle that set a PRAGMA was reused";

  // The same through the query path (a cached prepared statement), twice:
  // each lease that sets it is reset.
  for (int i = 0; i < 2; ++i) {
    reply = client.Call({{"op", "acquire"}, {"db", "tuned"}});
    ASSERT_TRUE(IsOk(reply));
    lease = reply["lease"].get<std::string>();
    ASSERT_TRUE(IsOk(client.Call(Query(lease, "PRAGMA user_version = 6"))));
    ASSERT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));
    EXPECT_EQ(ResetCount("tuned"), before + 2 + i);
  }
  // A lease that only reads it keeps its handle; user_version lives in the
  // file, so the new handle sees it.
  reply = client.Call({{"op", "query"}, {"db", "tuned"}, {"sql", "PRAGMA user_version"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse("[[6]]"));
  EXPECT_EQ(ResetCount("tuned"), before + 3);
  client.Close();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
}

TEST_F(SandboxTest, TempObjectsResetTheHandleAndDoNotLeakToTheNextLease) {
  LineClient client = Connect();
  struct Case {
    const char* name;
    const char* object;  // the temp object it makes (names differ so that
                         // one leak does not break the cases after it)
    const char* create;
    bool through_exec;
  };
  const Case cases[] = {
      {"CREATE TEMP TABLE via exec", "t1", "CREATE TEMP TABLE t1(x); INSERT INTO t1 VALUES (1)",
       true},
      {"CREATE TEMP TABLE via query", "t2", "CREATE TEMP TABLE t2(x)", false},
      {"CREATE TEMPORARY VIEW", "v3", "CREATE TEMPORARY VIEW v3 AS SELECT 1 AS x", true},
      {"CREATE TEMP TRIGGER", "tr4",
       "CREATE TEMP TABLE t4(x); CREATE TEMP TRIGGER tr4 AFTER INSERT ON t "
       "BEGIN INSERT INTO t4 VALUES (new.a); END",
       true},
      // Schema-qualified instead of the TEMP keyword: the same session state.
      {"CREATE TABLE temp.x", "t5", "CREATE TABLE temp.t5(x)", false},
      {"CREATE VIEW temp.x", "v6", "CREATE VIEW temp.v6 AS SELECT 1 AS x", true},
  };
  double resets = ResetCount("main");
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string find =
        std::string("SELECT count(*) FROM temp.sqlite_master WHERE name = '") + c.object + "'";
    std::string lease = Acquire(client);
    json reply = client.Call(c.through_exec ? Exec(lease, c.create) : Query(lease, c.create));
    ASSERT_TRUE(IsOk(reply)) << reply.dump();
    reply = client.Call(Query(lease, find));
    ASSERT_TRUE(IsOk(reply));
    EXPECT_EQ(reply["rows"], json::parse("[[1]]"));
    ASSERT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));
    double now = ResetCount("main");
    EXPECT_EQ(now, resets + 1) << "a handle with temp objects was reused";
    resets = now;

    // The next lease starts clean.
    lease = Acquire(client);
    reply = client.Call(Query(lease, find));
    ASSERT_TRUE(IsOk(reply));
    EXPECT_EQ(reply["rows"], json::parse("[[0]]")) << "temp objects leaked to the next lease";
    EXPECT_TRUE(
        IsError(client.Call(Query(lease, std::string("SELECT * FROM ") + c.object)), "sql_error"));
    ASSERT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));
    now = ResetCount("main");
    EXPECT_EQ(now, resets) << "a clean handle was closed";
    resets = now;
  }
  client.Close();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
}

TEST_F(SandboxTest, ReadingPragmasWork) {
  LineClient client = Connect();
  for (const std::string mode : {"write", "read"}) {
    SCOPED_TRACE(mode);
    std::string lease = Acquire(client, mode);
    json reply = client.Call(Query(lease, "PRAGMA table_info(t)"));
    ASSERT_TRUE(IsOk(reply));
    ASSERT_EQ(reply["rows"].size(), 2u) << reply.dump();
    EXPECT_EQ(reply["rows"][0][1], "a");
    EXPECT_EQ(reply["rows"][1][1], "b");
    reply = client.Call(Query(lease, "PRAGMA main.table_info('t')"));
    EXPECT_TRUE(IsOk(reply));
    reply = client.Call(Query(lease, "SELECT name FROM pragma_table_info('t') ORDER BY cid"));
    ASSERT_TRUE(IsOk(reply));
    EXPECT_EQ(reply["rows"], json::parse(R"([["a"], ["b"]])"));
    for (const char* sql : {"PRAGMA user_version", "PRAGMA index_list(t)", "PRAGMA integrity_check",
                            "PRAGMA quick_check", "PRAGMA writable_schema"}) {
      EXPECT_TRUE(IsOk(client.Call(Query(lease, sql)))) << sql;
    }
    ASSERT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));
  }
  EXPECT_EQ(ResetCount("main"), 0) << "reading a PRAGMA is not session state";
  EXPECT_EQ(ResetCount("main", "read"), 0);
  client.Close();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
}

// Reading the journal mode changes nothing, so a read lease may do it as a
// write lease may (docs/protocol.md: read_only is for writes).
TEST_F(SandboxTest, ReadingTheJournalModeWorksOnEitherLease) {
  LineClient client = Connect();
  for (const std::string mode : {"write", "read"}) {
    SCOPED_TRACE(mode);
    std::string lease = Acquire(client, mode);
    json reply = client.Call(Query(lease, "PRAGMA journal_mode"));
    EXPECT_TRUE(IsOk(reply));
    EXPECT_EQ(reply["rows"], json::parse(R"([["wal"]])"));
    ASSERT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));
  }
  client.Close();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
}

TEST_F(SandboxTest, SchemaTricksAreRefused) {
  LineClient client = Connect();
  std::string lease = Acquire(client);
  // Setting PRAGMAs that would open the schema or the file to writes.
  for (const char* sql :
       {"PRAGMA writable_schema=1", "PRAGMA writable_schema = ON", "PRAGMA main.writable_schema=1",
        "PRAGMA trusted_schema=1", "PRAGMA journal_mode=delete", "PRAGMA main.journal_mode=off",
        "PRAGMA locking_mode=exclusive", "PRAGMA synchronous=off", "PRAGMA query_only=0",
        "PRAGMA cell_size_check=0", "PRAGMA mmap_size=268435456",
        "PRAGMA temp_store_directory='/tmp'"}) {
    EXPECT_TRUE(IsError(client.Call(Exec(lease, sql)), "forbidden")) << sql;
  }
  // Writing the schema table or raw pages is refused (defensive mode; the
  // sqlite_dbpage table may not even be compiled in): whatever the code,
  // never ok.
  for (const char* sql :
       {"UPDATE sqlite_master SET sql = 'CREATE TABLE t(a)' WHERE name = 't'",
        "DELETE FROM sqlite_schema", "INSERT INTO sqlite_master VALUES ('table','x','x',2,'')",
        "UPDATE sqlite_dbpage SET data = zeroblob(4096) WHERE pgno = 1",
        "INSERT INTO sqlite_dbpage(pgno, data) VALUES (1, zeroblob(4096))",
        "SELECT load_extension('/lib/x86_64-linux-gnu/libc.so.6')"}) {
    json reply = client.Call(Exec(lease, sql));
    EXPECT_NE(reply.value("ok", true), true) << sql << " -> " << reply.dump();
  }
  // The file is intact and the lease still works.
  json reply = client.Call(Query(lease, "PRAGMA integrity_check"));
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse(R"([["ok"]])"));
  reply = client.Call(Query(lease, "SELECT b FROM t"));
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse(R"([["x"]])"));
  ASSERT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));
  client.Close();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
}

}  // namespace
}  // namespace litepool::testing
