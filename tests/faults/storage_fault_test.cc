// Faults injected under SQLite (tests/faults/fault_vfs.cc): for each kind,
// the client's code and SQLite's, the log line, the metric, the handle
// replaced where it may be bad, recovery once the fault is lifted, and every
// acknowledged write still there, also after a restart.
#include <string>
#include <vector>

#include "tests/faults/fault_fixture.h"

namespace litepool::testing {
namespace {

using faults::FaultOp;
using nlohmann::json;

constexpr int kFull = 13;           // SQLITE_FULL
constexpr int kIoErrWrite = 778;    // SQLITE_IOERR_WRITE
constexpr int kIoErrFsync = 1034;   // SQLITE_IOERR_FSYNC
constexpr int kIoErrRead = 266;     // SQLITE_IOERR_READ
constexpr int kIoErrShmMap = 5386;  // SQLITE_IOERR_SHMMAP

class StorageFaultTest : public FaultTest {
 protected:
  void StartDaemon(const json& overrides = json::object()) {
    ASSERT_TRUE(daemon_.Start(overrides));
    ASSERT_TRUE(IsOk(Exec("CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v TEXT)")));
  }
  // Inserts key k; remembers it when the daemon acknowledged it.
  json Insert(int k) {
    json reply = Call({{"op", "query"},
                       {"db", "main"},
                       {"sql", "INSERT INTO t VALUES (?, 'v')"},
                       {"params", {k}}});
    if (IsOk(reply)) acked_.push_back(k);
    return reply;
  }
  // Every acknowledged key is there, and nothing else.
  void ExpectExactlyAcked() {
    json rows = Call({{"op", "query"}, {"db", "main"}, {"sql", "SELECT k FROM t ORDER BY k"}});
    ASSERT_TRUE(IsOk(rows)) << rows.dump();
    std::vector<int> got;
    for (const auto& row : rows["rows"]) got.push_back(row[0].get<int>());
    EXPECT_EQ(got, acked_);
  }
  double Faults(const std::string& kind) {
    return Metric("litepool_storage_faults_total", {{"db", "main"}, {"kind", kind}}).value_or(-1);
  }
  double ClosedForError(const std::string& mode) {
    return Metric("litepool_handles_closed_total",
                  {{"db", "main"}, {"mode", mode}, {"reason", "error"}})
        .value_or(-1);
  }

  std::vector<int> acked_;
};

TEST_F(StorageFaultTest, DiskFullIsNamedLoggedCountedAndLosesNothing) {
  StartDaemon();
  for (int k = 1; k <= 3; ++k) ASSERT_TRUE(IsOk(Insert(k)));
  faults_.Arm(FaultOp::kWrite, kFull, "main.db");
  for (int k = 4; k <= 23; ++k) {
    json reply = Insert(k);
    ASSERT_EQ(Code(reply), "disk_full") << reply.dump();
    EXPECT_EQ(reply["error"]["sqlite_code"], kFull);
  }
  EXPECT_GE(faults_.hits(), 20);
  // Twenty faults: counted each, logged once (the next line would say how
  // many were left out).
  EXPECT_EQ(Faults("disk_full"), 20);
  ASSERT_TRUE(daemon_.WaitForLog("\"event\":\"storage_fault\""));
  std::string log = daemon_.LogText();
  size_t first = log.find("\"event\":\"storage_fault\"");
  EXPECT_NE(log.find("\"kind\":\"disk_full\"", first), std::string::npos) << log;
  EXPECT_EQ(log.find("\"event\":\"storage_fault\"", first + 1), std::string::npos)
      << "the fault was logged more than once within 10 s:\n"
      << log;
  // A full disk leaves the handle sound: it is kept.
  EXPECT_EQ(ClosedForError("write"), 0);
  faults_.Disarm();
  for (int k = 24; k <= 26; ++k) ASSERT_TRUE(IsOk(Insert(k)));
  ExpectExactlyAcked();
  ASSERT_EQ(daemon_.Stop(), 0);
  StartDaemon();
  ExpectExactlyAcked();
}

TEST_F(StorageFaultTest, WriteIoErrorReplacesTheWriter) {
  StartDaemon();
  ASSERT_TRUE(IsOk(Insert(1)));
  double opened =
      Metric("litepool_handles_opened_total", {{"db", "main"}, {"mode", "write"}}).value_or(-1);
  faults_.Arm(FaultOp::kWrite, kIoErrWrite, "main.db", 1);
  json reply = Insert(2);
  EXPECT_EQ(Code(reply), "storage_error") << reply.dump();
  EXPECT_EQ(reply["error"]["sqlite_code"], kIoErrWrite);
  EXPECT_TRUE(daemon_.WaitForLog("\"kind\":\"storage_error\""));
  EXPECT_EQ(Faults("storage_error"), 1);
  EXPECT_TRUE(Eventually([&] { return ClosedForError("write") == 1; }))
      << "the writer that met the I/O error was not closed";
  // The next write gets a fresh handle and succeeds.
  ASSERT_TRUE(IsOk(Insert(3)));
  EXPECT_EQ(Metric("litepool_handles_opened_total", {{"db", "main"}, {"mode", "write"}}),
            opened + 1);
  ExpectExactlyAcked();
  ASSERT_EQ(daemon_.Stop(), 0);
  StartDaemon();
  ExpectExactlyAcked();
}

TEST_F(StorageFaultTest, FsyncErrorFailsTheCommitAndNothingIsAcknowledgedWrongly) {
  StartDaemon({{"databases",
                {{"main", {{"pragmas", {{"journal_mode", "wal"}, {"synchronous", "full"}}}}}}}});
  ASSERT_TRUE(IsOk(Insert(1)));
  faults_.Arm(FaultOp::kSync, kIoErrFsync, "main.db", 1);
  json reply = Insert(2);
  EXPECT_EQ(Code(reply), "storage_error") << reply.dump();
  EXPECT_EQ(reply["error"]["sqlite_code"], kIoErrFsync);
  EXPECT_GE(faults_.hits(), 1);
  ASSERT_TRUE(IsOk(Insert(3)));
  ExpectExactlyAcked();
  ASSERT_EQ(daemon_.Stop(), 0);
  StartDaemon();
  ExpectExactlyAcked();
}

TEST_F(StorageFaultTest, ReadErrorOnAFreshReadHandle) {
  StartDaemon({{"defaults", {{"min_idle", 0}}}});
  ASSERT_TRUE(IsOk(Insert(1)));
  // No read handle is open yet: the first read of the new one fails.
  faults_.Arm(FaultOp::kRead, kIoErrRead, "main.db");
  json reply =
      Call({{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", "SELECT count(*) FROM t"}});
  EXPECT_EQ(Code(reply), "storage_error") << reply.dump();
  EXPECT_NE(reply["error"]["message"].get<std::string>().find("I/O error"), std::string::npos);
  EXPECT_GE(faults_.hits(), 1);
  EXPECT_GE(Faults("storage_error"), 1);
  faults_.Disarm();
  reply =
      Call({{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", "SELECT count(*) FROM t"}});
  ASSERT_TRUE(IsOk(reply)) << reply.dump();
  EXPECT_EQ(reply["rows"][0][0], 1);
}

TEST_F(StorageFaultTest, SharedMemoryMapErrorThenRecovery) {
  StartDaemon({{"defaults", {{"min_idle", 0}}}});
  ASSERT_TRUE(IsOk(Insert(1)));
  faults_.Arm(FaultOp::kShmMap, kIoErrShmMap, "main.db");
  json reply =
      Call({{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", "SELECT count(*) FROM t"}});
  EXPECT_EQ(Code(reply), "storage_error") << reply.dump();
  EXPECT_GE(faults_.hits(), 1);
  faults_.Disarm();
  ASSERT_TRUE(
      IsOk(Call({{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", "SELECT 1 FROM t"}})));
  ASSERT_TRUE(IsOk(Insert(2)));
  ExpectExactlyAcked();
}

}  // namespace
}  // namespace litepool::testing
