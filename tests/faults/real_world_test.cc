// Storage broken the way operators break it, under the real litepoold: a
// full tmpfs, permissions taken away, the file removed or replaced, a
// corrupt file beside a healthy one (at start and on reload), a crash that
// leaves a hot journal, two daemons on one file, a sqlite3 process beside
// the daemon under each file_lock. Each: the client's code,
// the log line, the metric, the other databases undisturbed, and the
// recovery once the cause is fixed.
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "tests/faults/fault_fixture.h"

namespace litepool::testing {
namespace {

using nlohmann::json;

// Writes a valid database at `path` with table t holding `rows` rows.
void MakeDatabase(const std::string& path, int rows, const std::string& journal = "wal") {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  std::string sql = "PRAGMA journal_mode=" + journal +
                    "; CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v TEXT);"
                    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < " +
                    std::to_string(rows) + ") INSERT OR IGNORE INTO t SELECT x, 'v' FROM c;";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class RealWorldTest : public FaultTest {
 protected:
  json Query(const std::string& db, const std::string& sql, const std::string& mode = "write") {
    return Call({{"op", "query"}, {"db", db}, {"mode", mode}, {"sql", sql}});
  }
  json Insert(const std::string& db, int k) {
    return Call(
        {{"op", "query"}, {"db", db}, {"sql", "INSERT INTO t VALUES (?, 'v')"}, {"params", {k}}});
  }
  int Count(const std::string& db) {
    json r = Query(db, "SELECT count(*) FROM t", "read");
    return IsOk(r) ? r["rows"][0][0].get<int>() : -1;
  }
  double Up(const std::string& db) {
    return Metric("litepool_database_up", {{"db", db}}).value_or(-1);
  }
  std::string Path(const std::string& name) { return daemon_.dir() + "/" + name; }
  // The sqlite3 command-line shell reading `file` (stdout and stderr
  // together), the way a stray process beside the daemon would.
  std::string Sqlite3Cli(const std::string& file, const std::string& sql) {
    ProcessResult r = RunProcess({"/usr/bin/sqlite3", file, sql});
    return r.out + r.err;
  }
};

TEST_F(RealWorldTest, FullTmpfsIsDiskFullAndWritesResumeWhenFreed) {
  std::string mnt = Path("small");
  ::mkdir(mnt.c_str(), 0755);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << std::strerror(errno);
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};
  ASSERT_TRUE(daemon_.Start(
      {{"databases", {{"small", {{"path", mnt + "/small.db"}, {"create_if_missing", true}}}}}}));
  ASSERT_TRUE(IsOk(Call({{"op", "exec"},
                         {"db", "small"},
                         {"sql", "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)"}})));
  WriteFile(mnt + "/filler", std::string(700 << 10, 'x'));
  json reply;
  int acked = 0;
  for (int k = 1; k < 2000; ++k) {
    reply = Call({{"op", "query"},
                  {"db", "small"},
                  {"sql", "INSERT INTO t VALUES (?, zeroblob(4000))"},
                  {"params", {k}}});
    if (!IsOk(reply)) break;
    ++acked;
  }
  ASSERT_EQ(Code(reply), "disk_full") << reply.dump();
  EXPECT_EQ(reply["error"]["sqlite_code"], 13);
  EXPECT_TRUE(daemon_.WaitForLog("\"kind\":\"disk_full\""));
  EXPECT_GE(
      Metric("litepool_storage_faults_total", {{"db", "small"}, {"kind", "disk_full"}}).value_or(0),
      1);
  // The other database does not notice.
  EXPECT_TRUE(IsOk(Query("main", "SELECT 1")));
  ::unlink((mnt + "/filler").c_str());
  EXPECT_TRUE(IsOk(
      Call({{"op", "query"}, {"db", "small"}, {"sql", "INSERT INTO t VALUES (100000, 'after')"}})));
  json count = Call({{"op", "query"}, {"db", "small"}, {"sql", "SELECT count(*) FROM t"}});
  EXPECT_EQ(count["rows"][0][0], acked + 1);
}

TEST_F(RealWorldTest, UnwritableFileThenPermissionsRestored) {
  // As an unprivileged uid: root writes whatever the mode says.
  ::chown(daemon_.dir().c_str(), 65534, 65534);
  std::string db = Path("main.db");
  MakeDatabase(db, 3);
  ::chown(db.c_str(), 65534, 65534);
  ::chown((db + "-wal").c_str(), 65534, 65534);
  ::chown((db + "-shm").c_str(), 65534, 65534);
  ::chmod(db.c_str(), 0444);
  daemon_.SetPrefix({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  ASSERT_TRUE(daemon_.Start(
      {{"reaper_interval_ms", 50}, {"defaults", {{"min_idle", 0}, {"idle_timeout_ms", 100}}}}));
  // Not writable at start: down, with the reason, until fixed.
  json reply = Insert("main", 10);
  EXPECT_EQ(Code(reply), "database_unavailable") << reply.dump();
  EXPECT_NE(reply["error"]["message"].get<std::string>().find("not writable"), std::string::npos);
  ::chmod(db.c_str(), 0644);
  ASSERT_TRUE(Eventually([&] { return IsOk(Insert("main", 10)); }, milliseconds(5000)));
  EXPECT_EQ(Count("main"), 4);
  EXPECT_TRUE(daemon_.WaitForLog("\"event\":\"database_up\""));
  // Taken away while the daemon runs, the permissions do not stop it here:
  // SQLite reuses the writable descriptor of a closed connection while
  // another of the process (the checkpointer's) holds the file, so writes
  // go on until every connection has closed.
}

TEST_F(RealWorldTest, RemovedFileRefusesWritesAndIsNeverSilentlyRecreated) {
  std::string db = Path("main.db");
  MakeDatabase(db, 3);
  ASSERT_TRUE(daemon_.Start(
      {{"reaper_interval_ms", 50}, {"databases", {{"main", {{"create_if_missing", false}}}}}}));
  ASSERT_TRUE(IsOk(Insert("main", 4)));
  ::rename(db.c_str(), Path("saved.db").c_str());
  json reply = Insert("main", 5);
  EXPECT_EQ(Code(reply), "file_gone") << reply.dump();
  EXPECT_TRUE(daemon_.WaitForLog("\"kind\":\"file_gone\""));
  EXPECT_TRUE(daemon_.WaitForLog("\"event\":\"database_down\""));
  EXPECT_TRUE(Eventually([&] { return Up("main") == 0; }));
  reply = Query("main", "SELECT count(*) FROM t");
  EXPECT_EQ(Code(reply), "database_unavailable") << reply.dump();
  // A restart does not serve an empty database in its place.
  ASSERT_EQ(daemon_.Stop(), 0);
  ASSERT_TRUE(daemon_.Start(
      {{"reaper_interval_ms", 50}, {"databases", {{"main", {{"create_if_missing", false}}}}}}));
  EXPECT_EQ(Code(Query("main", "SELECT 1")), "database_unavailable");
  EXPECT_NE(::access(db.c_str(), F_OK), 0) << "the daemon created an empty database";
  // Put back, it comes up by itself, with every acknowledged write.
  ::rename(Path("saved.db").c_str(), db.c_str());
  ASSERT_TRUE(Eventually([&] { return Count("main") == 4; }, milliseconds(5000)));
  EXPECT_TRUE(daemon_.WaitForLog("\"event\":\"database_up\""));
  EXPECT_EQ(Up("main"), 1);
}

TEST_F(RealWorldTest, ReplacedFileIsReopenedNotMixed) {
  std::string db = Path("main.db");
  MakeDatabase(db, 3);
  MakeDatabase(Path("other.db"), 7);
  ASSERT_TRUE(
      daemon_.Start({{"reaper_interval_ms", 50}, {"defaults", {{"checkpoint_frames", 5}}}}));
  EXPECT_EQ(Count("main"), 3);
  ASSERT_EQ(::rename(Path("other.db").c_str(), db.c_str()), 0);  // mv over it
  json reply = Insert("main", 100);
  EXPECT_EQ(Code(reply), "file_gone") << reply.dump();
  // Reopened on the new file: every handle sees it, writes land in it.
  ASSERT_TRUE(Eventually([&] { return Count("main") == 7; }, milliseconds(5000)));
  EXPECT_TRUE(daemon_.WaitForLog("\"event\":\"database_up\""));
  ASSERT_TRUE(Eventually([&] { return IsOk(Insert("main", 100)); }, milliseconds(5000)));
  EXPECT_EQ(Count("main"), 8);
  // The checkpointer follows the new file too: its WAL is copied back.
  auto done = [&] {
    return Metric("litepool_checkpoints_total",
                  {{"db", "main"}, {"mode", "passive"}, {"result", "done"}})
        .value_or(0);
  };
  double before = done();
  for (int k = 101; k < 140; ++k) ASSERT_TRUE(IsOk(Insert("main", k)));
  EXPECT_TRUE(Eventually([&] { return done() > before; }, milliseconds(5000)));
  EXPECT_TRUE(Eventually(
      [&] {
        return Metric("litepool_wal_frames_pending", {{"db", "main"}}).value_or(-1) < 5;
      },
      milliseconds(5000)));
  // Every acknowledged row is in the file at the path, not in the old one.
  ASSERT_EQ(daemon_.Stop(), 0);
  sqlite3* check = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &check), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(check, "SELECT count(*) FROM t", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 8 + 39);
  sqlite3_finalize(stmt);
  sqlite3_close(check);
}

TEST_F(RealWorldTest, CorruptDatabaseAtStartStopsOnlyItself) {
  std::string bad = Path("bad.db");
  WriteFile(bad, std::string(8192, 'x'));
  json overrides = {
      {"reaper_interval_ms", 50},
      {"defaults", {{"checkpoint_frames", 5}}},
      {"databases", {{"bad", {{"path", bad}, {"pragmas", {{"journal_mode", "wal"}}}}}}}};
  ASSERT_TRUE(daemon_.Start(overrides));
  EXPECT_TRUE(IsOk(Query("main", "SELECT 1")));
  json reply = Query("bad", "SELECT 1");
  EXPECT_EQ(Code(reply), "database_unavailable") << reply.dump();
  EXPECT_NE(reply["error"]["message"].get<std::string>().find("not a database"), std::string::npos);
  EXPECT_EQ(Up("bad"), 0);
  EXPECT_EQ(Up("main"), 1);
  EXPECT_TRUE(daemon_.WaitForLog("\"event\":\"database_down\""));
  // --check-config names it.
  std::string check = daemon_.dir() + "/check.out";
  std::string cmd = std::string(LITEPOOLD_PATH) + " --check-config " + daemon_.config_path() +
                    " --open-databases > " + check + " 2>&1";
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 2);
  std::ifstream in(check);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(out.find("database bad: cannot open"), std::string::npos) << out;
  EXPECT_NE(out.find("database main: in use by a running litepoold"), std::string::npos) << out;
  // Fixed, it comes up by itself.
  MakeDatabase(Path("good.db"), 2);
  ASSERT_EQ(::rename(Path("good.db").c_str(), bad.c_str()), 0);
  EXPECT_TRUE(Eventually([&] { return Count("bad") == 2; }, milliseconds(8000)));
  EXPECT_EQ(Up("bad"), 1);
  // Its checkpoints run too, now that it is up (the WAL must not grow).
  for (int k = 10; k < 40; ++k) ASSERT_TRUE(IsOk(Insert("bad", k)));
  EXPECT_TRUE(Eventually(
      [&] {
        return Metric("litepool_checkpoints_total",
                      {{"db", "bad"}, {"mode", "passive"}, {"result", "done"}})
                   .value_or(0) > 0;
      },
      milliseconds(5000)));
}

TEST_F(RealWorldTest, ReloadOntoACorruptFileKeepsTheOldPool) {
  ASSERT_TRUE(daemon_.Start());
  ASSERT_TRUE(IsOk(Call(
      {{"op", "exec"}, {"db", "main"}, {"sql", "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)"}})));
  ASSERT_TRUE(IsOk(Insert("main", 1)));
  std::string bad = Path("bad.db");
  WriteFile(bad, std::string(8192, 'x'));
  json config = daemon_.Config({{"databases", {{"main", {{"path", bad}}}}}});
  std::ofstream(daemon_.config_path()) << config.dump(2);
  daemon_.Signal(SIGHUP);
  ASSERT_TRUE(daemon_.WaitForLog("\"event\":\"config_reload_failed\""));
  EXPECT_NE(daemon_.LogText().find("kept the old configuration"), std::string::npos);
  EXPECT_EQ(Count("main"), 1);
  EXPECT_TRUE(IsOk(Insert("main", 2)));
  EXPECT_EQ(Metric("litepool_config_reloads_total", {{"result", "error"}}), 1);
}

TEST_F(RealWorldTest, HotJournalAfterSigkillDoesNotBreakReaders) {
  json overrides = {{"databases", {{"main", {{"pragmas", {{"journal_mode", "delete"}}}}}}}};
  ASSERT_TRUE(daemon_.Start(overrides));
  ASSERT_TRUE(IsOk(Call(
      {{"op", "exec"}, {"db", "main"}, {"sql", "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)"}})));
  ASSERT_TRUE(IsOk(Insert("main", 1)));
  for (int round = 0; round < 3; ++round) {
    LineClient writer = Connect();
    json lease = writer.Call({{"op", "acquire"}, {"db", "main"}});
    ASSERT_TRUE(IsOk(lease));
    ASSERT_TRUE(IsOk(writer.Call(
        {{"op", "exec"},
         {"lease", lease["lease"]},
         {"sql", "BEGIN; INSERT INTO t SELECT k + 1000, v FROM t; UPDATE t SET v = 'x'"}})));
    ASSERT_EQ(::access(Path("main.db-journal").c_str(), F_OK), 0) << "no journal to leave hot";
    daemon_.Kill();
    ASSERT_TRUE(daemon_.Start(overrides));
    // A read-only workload works at once: the journal was rolled back at start.
    for (int i = 0; i < 5; ++i) EXPECT_EQ(Count("main"), 1) << "round " << round;
  }
}

TEST_F(RealWorldTest, SecondDaemonOnTheSameFileIsRefusedThatDatabase) {
  ASSERT_TRUE(daemon_.Start());
  ASSERT_TRUE(IsOk(Call(
      {{"op", "exec"}, {"db", "main"}, {"sql", "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)"}})));
  DaemonProcess second;
  ASSERT_TRUE(second.Start(
      {{"reaper_interval_ms", 50},
       {"databases",
        {{"main", {{"path", Path("main.db")}}},
         {"own", {{"path", second.dir() + "/own.db"}, {"create_if_missing", true}}}}}}));
  LineClient client(second.socket_path());
  json reply = client.Call({{"op", "query"}, {"db", "main"}, {"sql", "SELECT 1"}});
  EXPECT_EQ(Code(reply), "database_unavailable") << reply.dump();
  EXPECT_NE(reply["error"]["message"].get<std::string>().find("another litepoold"),
            std::string::npos);
  EXPECT_TRUE(IsOk(client.Call({{"op", "query"}, {"db", "own"}, {"sql", "SELECT 1"}})));
  // When the first stops, the second takes the file over by itself.
  ASSERT_EQ(daemon_.Stop(), 0);
  EXPECT_TRUE(Eventually(
      [&] {
        return IsOk(
            LineClient(second.socket_path())
                .Call({{"op", "query"}, {"db", "main"}, {"sql", "SELECT count(*) FROM t"}}));
      },
      milliseconds(5000)));
}

// file_lock "exclusive" (the default): no other process reads the file
// while the daemon runs, whatever its handles are doing; a stop releases
// the file and a restart takes it back. docs/operations.md, "One owner per
// file".
TEST_F(RealWorldTest, ExclusiveFileLockKeepsTheSqlite3ShellOutUntilTheDaemonStops) {
  if (::access("/usr/bin/sqlite3", X_OK) != 0) GTEST_SKIP() << "no sqlite3 shell";
  for (std::string journal : {"wal", "delete"}) {
    SCOPED_TRACE(journal);
    json overrides = {{"databases", {{"main", {{"pragmas", {{"journal_mode", journal}}}}}}}};
    ASSERT_TRUE(daemon_.Start(overrides));
    ASSERT_TRUE(
        IsOk(Call({{"op", "exec"},
                   {"db", "main"},
                   {"sql", "CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v TEXT)"}})));
    ASSERT_TRUE(IsOk(Insert("main", 1)));
    // A read handle is open and has read: it must not loosen the lock (a
    // connection opened read-only would, by POSIX lock replacement).
    int rows = 1;
    ASSERT_EQ(Count("main"), rows);
    std::string out = Sqlite3Cli(Path("main.db"), "SELECT count(*) FROM t");
    EXPECT_NE(out.find("database is locked"), std::string::npos) << out;
    // Writes, checkpoints and a truncate go on beside the refused shell.
    for (int k = 10; k < 20; ++k) ASSERT_TRUE(IsOk(Insert("main", k)));
    rows += 10;
    EXPECT_EQ(Count("main"), rows);
    out = Sqlite3Cli(Path("main.db"), "SELECT max(k) FROM t");
    EXPECT_NE(out.find("database is locked"), std::string::npos) << out;
    // Stopped, the daemon no longer owns the file: the shell reads it all.
    ASSERT_EQ(daemon_.Stop(), 0);
    EXPECT_EQ(Sqlite3Cli(Path("main.db"), "SELECT count(*) FROM t"), std::to_string(rows) + "\n");
    // Restarted, it owns it again.
    ASSERT_TRUE(daemon_.Start(overrides));
    EXPECT_EQ(Count("main"), rows);
    out = Sqlite3Cli(Path("main.db"), "SELECT count(*) FROM t");
    EXPECT_NE(out.find("database is locked"), std::string::npos) << out;
    ASSERT_EQ(daemon_.Stop(), 0);
    ASSERT_EQ(Sqlite3Cli(Path("main.db"), "DROP TABLE t"), "");
  }
}

// file_lock "shared": today's behaviour, for tools that read beside the
// daemon; and a read_only database, which is always shared.
TEST_F(RealWorldTest, SharedFileLockLetsTheSqlite3ShellRead) {
  if (::access("/usr/bin/sqlite3", X_OK) != 0) GTEST_SKIP() << "no sqlite3 shell";
  MakeDatabase(Path("audit.db"), 4);
  ASSERT_TRUE(daemon_.Start({{"databases",
                              {{"main", {{"file_lock", "shared"}}},
                               {"audit", {{"path", Path("audit.db")}, {"read_only", true}}}}}}));
  ASSERT_TRUE(IsOk(Call(
      {{"op", "exec"}, {"db", "main"}, {"sql", "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)"}})));
  for (int k = 1; k <= 3; ++k) ASSERT_TRUE(IsOk(Insert("main", k)));
  EXPECT_EQ(Count("main"), 3);
  EXPECT_EQ(Sqlite3Cli(Path("main.db"), "SELECT count(*) FROM t"), "3\n");
  // The read_only database serves reads while another process writes it.
  EXPECT_EQ(Count("audit"), 4);
  EXPECT_EQ(Sqlite3Cli(Path("audit.db"), "INSERT INTO t VALUES (5, 'v'); SELECT count(*) FROM t"),
            "5\n");
  EXPECT_EQ(Count("audit"), 5);
  json write = Query("audit", "INSERT INTO t VALUES (6, 'v')");
  EXPECT_EQ(Code(write), "read_only") << write.dump();
}

// Under "exclusive" a read lease is still read-only (PRAGMA query_only on a
// read-write connection), and a backup copies the file.
TEST_F(RealWorldTest, ExclusiveReadLeasesStayReadOnly) {
  ASSERT_TRUE(daemon_.Start());
  ASSERT_TRUE(IsOk(Call(
      {{"op", "exec"}, {"db", "main"}, {"sql", "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT)"}})));
  json write = Query("main", "INSERT INTO t VALUES (1, 'v')", "read");
  EXPECT_EQ(Code(write), "read_only") << write.dump();
  EXPECT_EQ(Count("main"), 0);
}

}  // namespace
}  // namespace litepool::testing
