// What the checkpointer and the backup report as they work: the closed sets
// of checkpoint modes, checkpoint results and backup results, and the
// interface the metrics module implements to count them (docs/operations.md,
// "WAL, checkpoints and backups"). Kept apart from PoolEvents: the pool
// itself never checkpoints or copies.
#pragma once

#include <cstddef>
#include <cstdint>

namespace litepool {

// Passive copies without taking a lock a writer needs; restart and truncate
// take the writer lock to make the next commit start the WAL from its
// beginning (truncate also cuts the file to 0 bytes).
enum class CheckpointMode { kPassive = 0, kRestart, kTruncate };
inline constexpr size_t kCheckpointModeCount = 3;
const char* CheckpointModeName(CheckpointMode mode);

// kDone: every frame of the WAL is in the database file. kPartial: a
// reader's snapshot kept some frames out (the pinned-snapshot case). kBusy:
// the checkpoint could not take the locks it needed in time (truncate:
// the writer lock, or readers still on the WAL); it backfilled what it could.
enum class CheckpointResult { kDone = 0, kPartial, kBusy, kError };
inline constexpr size_t kCheckpointResultCount = 4;
const char* CheckpointResultName(CheckpointResult result);

// kCancelled: the client went away or the daemon began to drain; the
// temporary file was removed.
enum class BackupResult { kOk = 0, kError, kCancelled };
inline constexpr size_t kBackupResultCount = 3;
const char* BackupResultName(BackupResult result);

// One per database. Called from the checkpointer thread and from workers
// (backups); implementations must be thread-safe and cheap.
class WalEvents {
 public:
  virtual ~WalEvents() = default;
  virtual void CheckpointDone(CheckpointMode mode, CheckpointResult result, double seconds) = 0;
  // A backup in progress: pages left to copy of `total` (both 0 when done).
  virtual void BackupProgress(int64_t remaining_pages, int64_t total_pages) = 0;
  virtual void BackupDone(BackupResult result, double seconds, int64_t bytes) = 0;
};

class NullWalEvents final : public WalEvents {
 public:
  void CheckpointDone(CheckpointMode, CheckpointResult, double) override {}
  void BackupProgress(int64_t, int64_t) override {}
  void BackupDone(BackupResult, double, int64_t) override {}
};

}  // namespace litepool
