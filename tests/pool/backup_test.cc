// Online backup (docs/operations.md, "Backups and restore"): where a copy
// may land, a consistent and complete copy while a writer keeps going, and
// no file left behind by a cancelled or failed one.
#include "pool/backup.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "tests/pool/pool_test_util.h"

namespace litepool::testing {
namespace {

using std::chrono::milliseconds;

class BackupTargetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backups_ = dir_.File("backups");
    ASSERT_EQ(::mkdir(backups_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(dir_.File("outside").c_str(), 0755), 0);
  }
  Code Resolve(const std::string& file, std::string* out = nullptr) {
    std::string target;
    Status st = ResolveBackupTarget(backups_, file, &target);
    if (out) *out = target;
    return st.code();
  }

  TempDir dir_;
  std::string backups_;
};

TEST_F(BackupTargetTest, NamesInsideTheDirectoryAreTaken) {
  std::string target;
  EXPECT_EQ(Resolve("main.db", &target), Code::kOk);
  EXPECT_EQ(target, std::filesystem::canonical(backups_).string() + "/main.db");
  EXPECT_EQ(Resolve(backups_ + "/nightly.db", &target), Code::kOk);
  ASSERT_EQ(::mkdir((backups_ + "/daily").c_str(), 0755), 0);
  EXPECT_EQ(Resolve("daily/main.db"), Code::kOk);
  EXPECT_EQ(Resolve("./main.db"), Code::kOk);
}

TEST_F(BackupTargetTest, AnythingOutsideIsRefused) {
  EXPECT_EQ(Resolve("../outside/x.db"), Code::kForbidden);
  EXPECT_EQ(Resolve("daily/../../outside/x.db"), Code::kForbidden);
  EXPECT_EQ(Resolve(dir_.File("outside/x.db")), Code::kForbidden);
  EXPECT_EQ(Resolve("/etc/x.db"), Code::kForbidden);
  EXPECT_EQ(Resolve("missing/x.db"), Code::kForbidden);
  // A symlink inside that leads out, as a directory or as the file itself.
  ASSERT_EQ(::symlink(dir_.File("outside").c_str(), (backups_ + "/escape").c_str()), 0);
  EXPECT_EQ(Resolve("escape/x.db"), Code::kForbidden);
  ASSERT_EQ(::symlink(dir_.File("outside/y.db").c_str(), (backups_ + "/link.db").c_str()), 0);
  EXPECT_EQ(Resolve("link.db"), Code::kForbidden);
  EXPECT_EQ(Resolve("escape"), Code::kForbidden);
  EXPECT_EQ(Resolve(""), Code::kBadRequest);
  EXPECT_EQ(Resolve("dir/"), Code::kBadRequest);
  std::string none;
  EXPECT_EQ(ResolveBackupTarget("", "x.db", &none).code(), Code::kForbidden);
}

class RunBackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = MakeDatabase(dir_, "main");
    pool_ = std::make_shared<Pool>(db_, RealTime(), &events_);
    ASSERT_TRUE(pool_->Start().ok());
    ASSERT_EQ(::mkdir(dir_.File("backups").c_str(), 0755), 0);
    auto writer = Take();
    StatementOutcome out;
    ASSERT_TRUE(writer
                    ->Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB);"
                           "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c "
                           "WHERE i < 6000) INSERT INTO t SELECT i, randomblob(2000) FROM c",
                           milliseconds(0), &out)
                    .ok());
    pool_->Return(std::move(writer));
  }
  std::unique_ptr<Handle> Take() {
    Pool::Acquired got =
        testing::AcquireFor(*pool_, Mode::kWrite, [](std::unique_ptr<Handle> h) { return h; });
    EXPECT_EQ(got.kind, Pool::Acquired::kGranted);
    return std::move(got.handle);
  }
  int Leftovers() const {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_.File("backups"))) {
      n += e.path().filename().string().find(".tmp-") != std::string::npos;
    }
    return n;
  }

  TempDir dir_;
  config::Database db_;
  CountingEvents events_;
  NullWalEvents wal_events_;
  std::shared_ptr<Pool> pool_;
};

// Reads one integer from `path` (opened read-only).
int64_t ReadInt(const std::string& path, const char* sql, std::string* text = nullptr) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    v = sqlite3_column_int64(stmt, 0);
    if (text) *text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return v;
}

TEST_F(RunBackupTest, CopyUnderWritesIsConsistentAndHoldsEverythingBeforeIt) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> acked{6000};
  std::thread writer([&] {
    auto h = Take();
    for (int64_t id = 6001; !stop; ++id) {
      StatementOutcome out;
      Params p;
      p.positional = {Value(id)};
      CopySink sink;
      if (!h->Query("INSERT INTO t VALUES (?, randomblob(2000))", p, milliseconds(0), &sink, &out)
               .ok()) {
        break;
      }
      acked = id;
    }
    pool_->Return(std::move(h));
  });
  while (acked < 6200) std::this_thread::yield();
  int64_t before = acked;
  std::string target;
  ASSERT_TRUE(ResolveBackupTarget(dir_.File("backups"), "copy.db", &target).ok());
  BackupOutcome outcome;
  Status st = RunBackup(
      pool_->wal().get(), target, [] { return false; }, &wal_events_, &outcome);
  int64_t after = acked;
  stop = true;
  writer.join();
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_GT(after, before) << "the writer kept going during the copy";
  std::string check;
  ReadInt(target, "PRAGMA integrity_check", &check);
  EXPECT_EQ(check, "ok");
  int64_t count = ReadInt(target, "SELECT count(*) FROM t");
  int64_t max_id = ReadInt(target, "SELECT max(id) FROM t");
  EXPECT_GE(max_id, before);
  EXPECT_EQ(count, max_id) << "one snapshot: no row missing below the newest";
  EXPECT_GT(outcome.bytes, 6000 * 2000);
  EXPECT_EQ(Leftovers(), 0);
}

TEST_F(RunBackupTest, ACancelledCopyLeavesNoFile) {
  std::string target;
  ASSERT_TRUE(ResolveBackupTarget(dir_.File("backups"), "copy.db", &target).ok());
  int asked = 0;
  BackupOutcome outcome;
  Status st = RunBackup(
      pool_->wal().get(), target, [&] { return ++asked > 1; }, &wal_events_, &outcome);
  EXPECT_EQ(st.code(), Code::kShuttingDown);
  EXPECT_GT(asked, 1);
  EXPECT_FALSE(std::filesystem::exists(target));
  EXPECT_EQ(Leftovers(), 0);
  // The database is free for the next one.
  EXPECT_TRUE(RunBackup(
                  pool_->wal().get(), target, [] { return false; }, &wal_events_, &outcome)
                  .ok());
  EXPECT_TRUE(std::filesystem::exists(target));
}

}  // namespace
}  // namespace litepool::testing
