// What the daemon knows about one database's write-ahead log between
// checkpoints: frames appended (reported by SQLite's WAL hook after every
// commit of a write handle), frames already copied back, the last commit's
// time, and a snapshot held by a running backup. The write handles feed it;
// the checkpointer reads it to decide and wakes on it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/mutex.h"
#include "config/config.h"
#include "pool/clock.h"

struct sqlite3;

namespace litepool {

struct WalCounts {
  int64_t frames = 0;      // frames in the WAL (SQLite's mxFrame)
  int64_t backfilled = 0;  // of those, copied into the database file
  int64_t pending() const { return frames > backfilled ? frames - backfilled : 0; }
  TimePoint last_commit;   // TimePoint() before the first commit
  TimePoint backup_since;  // TimePoint::max() when no backup runs
};

// Thread-safe: OnCommit runs on whichever worker commits; the checkpointer
// thread calls the rest. One small mutex, never held while SQLite runs (the
// hook runs after SQLite has released the write lock) and never around
// another lock; the waker is called with it released.
class WalState {
 public:
  WalState(std::string db, std::string path, bool read_only, config::FileLock file_lock,
           const TimeSource* clock);
  WalState(const WalState&) = delete;
  WalState& operator=(const WalState&) = delete;

  // Installs the hook on a write handle. It also turns SQLite's automatic
  // checkpoint off: that one runs inside the commit that crosses the
  // threshold (docs/architecture.md, "Checkpoints").
  void Attach(sqlite3* db);

  // The checkpointer's side: how many pending frames wake it, and how.
  void SetWake(int64_t threshold_frames, std::function<void()> wake);
  // Records what a checkpoint reported (sqlite3_wal_checkpoint_v2's pnLog
  // and pnCkpt; -1 when it did not run).
  void Checkpointed(int64_t log_frames, int64_t checkpointed_frames);
  // False when a backup of this database already runs.
  bool TryStartBackup(TimePoint since);
  void BackupEnded();
  WalCounts counts() const;

  const std::string& db() const { return db_; }
  const std::string& path() const { return path_; }
  // A read_only database: the daemon never checkpoints it.
  bool read_only() const { return read_only_; }
  // How every connection to the file is opened (pool/open_connection.h):
  // the checkpointer and backups open theirs the same way as the pool.
  config::FileLock file_lock() const { return file_lock_; }

 private:
  static int OnCommit(void* self, sqlite3* db, const char* schema, int frames);

  // Constant after construction.
  const std::string db_;
  const std::string path_;
  const bool read_only_;
  const config::FileLock file_lock_;
  const TimeSource* const clock_;

  mutable Mutex mu_;
  WalCounts counts_ GUARDED_BY(mu_);
  int64_t wake_threshold_ GUARDED_BY(mu_) = 0;  // 0: never wake
  bool wake_sent_ GUARDED_BY(mu_) = false;      // one wake per checkpoint
  std::function<void()> wake_ GUARDED_BY(mu_);
};

}  // namespace litepool
