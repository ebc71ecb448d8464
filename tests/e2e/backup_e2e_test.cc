// The `backup` request against the real daemon (docs/protocol.md, "backup";
// docs/operations.md, "Backups and restore"): a copy taken under write load
// is consistent and holds every write acknowledged before it; paths outside
// backup_dir are refused; a client that disconnects mid-backup leaves no
// partial file behind and the daemon carries on.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/integration/protocol_fixture.h"

namespace litepool::testing {
namespace {

// The first column of the first row of `sql` on the file at `path`, as text.
std::string QueryFile(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

class BackupTest : public ProtocolTest {
 protected:
  json Overrides() override {
    backups_ = daemon_.dir() + "/backups";
    ::mkdir(backups_.c_str(), 0755);
    ::mkdir((daemon_.dir() + "/outside").c_str(), 0755);
    return {{"backup_dir", backups_}};
  }

  // `rows` rows of 4 KB: a database of about rows * 4 KB.
  void Fill(int rows) {
    ExecOk("CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)");
    ExecOk("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < " +
           std::to_string(rows) + ") INSERT INTO t SELECT i, randomblob(4000) FROM c");
  }

  int Leftovers() const {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(backups_)) {
      n += e.path().filename().string().find(".tmp-") != std::string::npos;
    }
    return n;
  }

  std::string backups_;
};

TEST_F(BackupTest, CopyUnderWriteLoadIsConsistentAndComplete) {
  Fill(5000);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked{5000};
  std::thread writer([&] {
    LineClient client(daemon_.socket_path());
    for (int64_t id = 5001; !stop; ++id) {
      json reply = client.Call({{"op", "query"},
                                {"db", "main"},
                                {"sql", "INSERT INTO t VALUES (?, randomblob(4000))"},
                                {"params", {id}}});
      if (reply.value("ok", false) != true) break;
      acked = id;
    }
  });
  ASSERT_TRUE(Eventually([&] { return acked > 5100; }));
  int64_t before = acked;
  LineClient admin = Connect();
  json reply =
      admin.Call({{"op", "backup"}, {"db", "main"}, {"file", "main-copy.db"}}, milliseconds(60000));
  int64_t after = acked;
  stop = true;
  writer.join();
  ASSERT_TRUE(IsOk(reply)) << daemon_.LogText();
  std::string file = backups_ + "/main-copy.db";
  EXPECT_EQ(reply["file"], std::filesystem::canonical(file).string());
  EXPECT_GT(reply["bytes"].get<int64_t>(), 5000 * 4000);
  EXPECT_GT(after, before) << "writes went on during the backup";

  EXPECT_EQ(QueryFile(file, "PRAGMA integrity_check"), "ok");
  int64_t max_id = std::stoll(QueryFile(file, "SELECT max(id) FROM t"));
  EXPECT_GE(max_id, before) << "every insert acknowledged before the backup is in it";
  EXPECT_EQ(std::stoll(QueryFile(file, "SELECT count(*) FROM t")), max_id)
      << "one snapshot: no row missing below the newest";
  EXPECT_EQ(Leftovers(), 0);
  EXPECT_TRUE(daemon_.WaitForLog("\"event\":\"backup_done\""));
  EXPECT_EQ(Metric("litepool_backups_total", {{"db", "main"}, {"result", "ok"}}), 1.0);
  EXPECT_GT(Metric("litepool_backup_last_size_bytes", {{"db", "main"}}).value_or(0), 5000 * 4000);
  EXPECT_EQ(Metric("litepool_backup_remaining_pages", {{"db", "main"}}), 0.0);
}

TEST_F(BackupTest, PathsOutsideBackupDirAreRefused) {
  Fill(10);
  ASSERT_EQ(::symlink((daemon_.dir() + "/outside").c_str(), (backups_ + "/escape").c_str()), 0);
  LineClient admin = Connect();
  for (const std::string& file :
       {std::string("../outside/x.db"), daemon_.dir() + "/outside/x.db", std::string("escape/x.db"),
        std::string("/tmp/litepool-backup-x.db"), std::string("a/../../outside/x.db")}) {
    json reply = admin.Call({{"op", "backup"}, {"db", "main"}, {"file", file}});
    EXPECT_TRUE(IsError(reply, "forbidden")) << file;
  }
  EXPECT_TRUE(std::filesystem::is_empty(daemon_.dir() + "/outside"));
  EXPECT_FALSE(std::filesystem::exists("/tmp/litepool-backup-x.db"));
  EXPECT_TRUE(IsError(admin.Call({{"op", "backup"}, {"db", "nope"}, {"file", "x.db"}}),
                      "unknown_database"));
  EXPECT_TRUE(IsError(admin.Call({{"op", "backup"}, {"db", "main"}}), "bad_request"));
  EXPECT_TRUE(IsError(admin.Call({{"op", "backup"}, {"db", "main"}, {"file", 7}}), "bad_request"));
  EXPECT_TRUE(daemon_.WaitForLog("\"event\":\"backup_refused\""));
}

TEST_F(BackupTest, ClientDisconnectMidBackupLeavesNoPartialFile) {
  Fill(20000);  // about 80 MB: a copy of many steps
  std::string file = backups_ + "/gone.db";
  {
    LineClient admin = Connect();
    ASSERT_TRUE(admin.Send(json({{"op", "backup"}, {"db", "main"}, {"file", "gone.db"}}).dump()));
    ASSERT_TRUE(daemon_.WaitForLog("\"event\":\"backup_started\""));
    admin.Close();
  }
  ASSERT_TRUE(Eventually(
      [&] {
        std::string log = daemon_.LogText();
        return log.find("\"event\":\"backup_failed\"") != std::string::npos ||
               log.find("\"event\":\"backup_done\"") != std::string::npos;
      },
      milliseconds(60000)));
  std::string log = daemon_.LogText();
  bool cancelled = log.find("\"event\":\"backup_failed\"") != std::string::npos;
  std::printf("[ backup ] %s\n", cancelled ? "cancelled by the disconnect"
                                           : "finished before the disconnect was seen");
  if (cancelled) {
    EXPECT_NE(log.find("\"result\":\"cancelled\""), std::string::npos) << log;
    EXPECT_FALSE(std::filesystem::exists(file));
    EXPECT_EQ(Metric("litepool_backups_total", {{"db", "main"}, {"result", "cancelled"}}), 1.0);
  } else {
    // The copy beat the disconnect: then it is whole.
    EXPECT_EQ(QueryFile(file, "PRAGMA integrity_check"), "ok");
  }
  EXPECT_EQ(Leftovers(), 0);
  // The daemon carries on, and the next backup works.
  LineClient admin = Connect();
  EXPECT_TRUE(IsOk(admin.Call({{"op", "ping"}})));
  json reply =
      admin.Call({{"op", "backup"}, {"db", "main"}, {"file", "after.db"}}, milliseconds(60000));
  EXPECT_TRUE(IsOk(reply)) << reply.dump();
  EXPECT_EQ(QueryFile(backups_ + "/after.db", "SELECT count(*) FROM t"), "20000");
}

class NoBackupDirTest : public ProtocolTest {};

TEST_F(NoBackupDirTest, BackupIsRefusedWithoutBackupDir) {
  LineClient admin = Connect();
  EXPECT_TRUE(
      IsError(admin.Call({{"op", "backup"}, {"db", "main"}, {"file", "x.db"}}), "forbidden"));
}

}  // namespace
}  // namespace litepool::testing
