// The checkpointer (docs/architecture.md, "Checkpoints") on a real WAL
// database: passive checkpoints once frames pile up, a truncate when the
// writer is idle (stepped clock), a reader's snapshot reported as partial
// and the WAL truncated once it ends, commits never held up for long, and
// never two checkpoints at once.
#include "pool/checkpointer.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <thread>

#include "pool/lease_table.h"
#include "pool/pool_set.h"
#include "pool/wal_report.h"
#include "tests/pool/pool_test_util.h"

namespace litepool::testing {
namespace {

using std::chrono::milliseconds;

// Sanitizer builds run every step several times slower; the bounds scale.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kSlowdown = 4;
#else
constexpr int kSlowdown = 1;
#endif

// Counts checkpoints by mode and result. Thread-safe.
class CountingWalEvents final : public WalEvents {
 public:
  void CheckpointDone(CheckpointMode mode, CheckpointResult result, double) override {
    counts_[static_cast<size_t>(mode)][static_cast<size_t>(result)]++;
  }
  void BackupProgress(int64_t, int64_t) override {}
  void BackupDone(BackupResult, double, int64_t) override {}
  int count(CheckpointMode mode, CheckpointResult result) const {
    return counts_[static_cast<size_t>(mode)][static_cast<size_t>(result)].load();
  }

 private:
  std::array<std::array<std::atomic<int>, kCheckpointResultCount>, kCheckpointModeCount> counts_{};
};

class CheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config::PoolLimits limits;
    limits.checkpoint_frames = 50;
    limits.checkpoint_idle_ms = 1000;
    limits.wal_truncate_bytes = 1024 * 1024;
    db_ = MakeDatabase(dir_, "main", limits);
    pool_ = std::make_shared<Pool>(db_, &clock_, &events_);
    ASSERT_TRUE(pool_->Start().ok());
    pools_.Add(pool_);
    checkpointer_ = std::make_unique<Checkpointer>(
        &pools_, &leases_, &clock_, [this](const std::string&) { return &wal_events_; },
        milliseconds(10));
    auto writer = Take(Mode::kWrite);
    ASSERT_TRUE(RunExec(writer.get(), "CREATE TABLE t(x)").ok());
    pool_->Return(std::move(writer));
  }

  std::unique_ptr<Handle> Take(Mode mode) {
    Pool::Acquired got =
        testing::AcquireFor(*pool_, mode, [](std::unique_ptr<Handle> h) { return h; });
    EXPECT_EQ(got.kind, Pool::Acquired::kGranted);
    return std::move(got.handle);
  }

  static Status RunExec(Handle* h, const std::string& sql) {
    StatementOutcome outcome;
    return h->Exec(sql, milliseconds(0), &outcome);
  }

  // `n` one-row commits of about a page each.
  void Insert(int n) {
    auto writer = Take(Mode::kWrite);
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(RunExec(writer.get(), "INSERT INTO t VALUES (randomblob(3000))").ok());
    }
    pool_->Return(std::move(writer));
  }

  int64_t WalBytes() const { return FileBytes(db_.path + "-wal"); }

  TempDir dir_;
  config::Database db_;
  ManualTimeSource clock_;
  CountingEvents events_;
  CountingWalEvents wal_events_;
  PoolSet pools_;
  LeaseTable leases_{&clock_};
  std::shared_ptr<Pool> pool_;
  std::unique_ptr<Checkpointer> checkpointer_;
};

TEST_F(CheckpointerTest, WriteHandlesLeaveCheckpointsToTheDaemon) {
  // SQLite's own would have run at 1000 frames inside a commit; none runs.
  Insert(1200);
  EXPECT_GE(pool_->wal()->counts().pending(), 1200);
  EXPECT_GT(WalBytes(), 1200 * 4096);
}

TEST_F(CheckpointerTest, PassiveOnceFramesPendThenTruncateWhenTheWriterIsIdle) {
  Insert(3);
  ASSERT_LT(pool_->wal()->counts().pending(), 50);
  EXPECT_EQ(checkpointer_->RunOnce(clock_.Now()), 0) << "below checkpoint_frames";
  Insert(60);
  EXPECT_GE(checkpointer_->RunOnce(clock_.Now()), 1);
  EXPECT_EQ(wal_events_.count(CheckpointMode::kPassive, CheckpointResult::kDone), 1);
  EXPECT_EQ(pool_->wal()->counts().pending(), 0);
  // Over 2 x checkpoint_frames in the WAL: restarted, so the next commit
  // writes from its start again.
  EXPECT_EQ(wal_events_.count(CheckpointMode::kRestart, CheckpointResult::kDone), 1);
  int64_t size = WalBytes();
  Insert(1);
  EXPECT_LT(pool_->wal()->counts().frames, 10);
  EXPECT_EQ(WalBytes(), size) << "a restart keeps the file";
  EXPECT_EQ(wal_events_.count(CheckpointMode::kTruncate, CheckpointResult::kDone), 0)
      << "the writer was not idle and the WAL is under wal_truncate_bytes";
  EXPECT_GT(WalBytes(), 0);

  clock_.Advance(milliseconds(999));
  EXPECT_EQ(checkpointer_->RunOnce(clock_.Now()), 0);
  clock_.Advance(milliseconds(1));
  EXPECT_GE(checkpointer_->RunOnce(clock_.Now()), 1);
  EXPECT_EQ(wal_events_.count(CheckpointMode::kTruncate, CheckpointResult::kDone), 1);
  EXPECT_EQ(WalBytes(), 0);
  // Nothing committed since: no second truncate.
  clock_.Advance(milliseconds(5000));
  EXPECT_EQ(checkpointer_->RunOnce(clock_.Now()), 0);
}

TEST_F(CheckpointerTest, ASnapshotMakesItPartialAndItsEndLetsTheWalShrink) {
  Insert(10);
  auto reader = Take(Mode::kRead);
  ASSERT_TRUE(RunExec(reader.get(), "BEGIN; SELECT count(*) FROM t").ok());
  ASSERT_TRUE(reader->HoldsSnapshot());
  Insert(100);
  checkpointer_->RunOnce(clock_.Now());
  EXPECT_EQ(wal_events_.count(CheckpointMode::kPassive, CheckpointResult::kPartial), 1);
  EXPECT_GE(pool_->wal()->counts().pending(), 100);
  // Blocked: no retry within a second.
  Insert(100);
  EXPECT_EQ(checkpointer_->RunOnce(clock_.Now()), 0);

  pool_->Return(std::move(reader));  // rolls back: the snapshot ends
  clock_.Advance(milliseconds(1000));
  Insert(60);
  EXPECT_GT(WalBytes(), db_.limits.wal_truncate_bytes);
  checkpointer_->RunOnce(clock_.Now());
  EXPECT_EQ(wal_events_.count(CheckpointMode::kPassive, CheckpointResult::kDone), 1);
  EXPECT_EQ(wal_events_.count(CheckpointMode::kTruncate, CheckpointResult::kDone), 1);
  EXPECT_EQ(WalBytes(), 0) << "a WAL past wal_truncate_bytes is truncated at once";
}

TEST_F(CheckpointerTest, CommitsAreNotHeldUpAndCheckpointsNeverOverlap) {
  // Bound on any one commit while checkpoints run beside it: the truncate's
  // 20 ms lock wait plus copying the frames written meanwhile, with slack
  // for a shared machine (and sanitizers).
  constexpr auto kCommitBound = milliseconds(250 * kSlowdown);
  checkpointer_->Start();
  auto writer = Take(Mode::kWrite);
  Clock::duration longest{0};
  auto end = Clock::now() + std::chrono::seconds(2);
  int commits = 0;
  while (Clock::now() < end) {
    auto start = Clock::now();
    ASSERT_TRUE(RunExec(writer.get(), "INSERT INTO t VALUES (randomblob(3000))").ok());
    longest = std::max(longest, Clock::now() - start);
    // Idle stretches now and then, so truncates run too.
    if (++commits % 500 == 0) clock_.Advance(milliseconds(1500));
  }
  pool_->Return(std::move(writer));
  checkpointer_->Stop();
  CheckpointerStats stats = checkpointer_->stats();
  EXPECT_GT(stats.checkpoints, 0u);
  EXPECT_EQ(stats.max_concurrent, 1);
  EXPECT_GE(wal_events_.count(CheckpointMode::kPassive, CheckpointResult::kDone), 1);
  EXPECT_LT(longest, kCommitBound) << "commits: " << commits;
  EXPECT_LT(stats.longest_truncate_seconds, 0.25 * kSlowdown);
}

}  // namespace
}  // namespace litepool::testing
