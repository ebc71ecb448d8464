// Frame accounting of one database's WAL.
#include "pool/wal_state.h"

#include <sqlite3.h>

#include <utility>

namespace litepool {

WalState::WalState(std::string db, std::string path, bool read_only, config::FileLock file_lock,
                   const TimeSource* clock)
    : db_(std::move(db)),
      path_(std::move(path)),
      read_only_(read_only),
      file_lock_(file_lock),
      clock_(clock) {
  counts_.backup_since = TimePoint::max();
}

void WalState::Attach(sqlite3* db) {
  sqlite3_wal_autocheckpoint(db, 0);
  // Replaces the autocheckpoint hook, which is itself a WAL hook.
  sqlite3_wal_hook(db, &WalState::OnCommit, this);
}

int WalState::OnCommit(void* self, sqlite3*, const char*, int frames) {
  auto* s = static_cast<WalState*>(self);
  TimePoint now = s->clock_->Now();
  std::function<void()> wake;
  {
    MutexLock lock(&s->mu_);
    WalCounts& c = s->counts_;
    // Fewer frames than before: the writer restarted the WAL from its
    // start (everything had been copied back), so nothing is backfilled.
    if (frames < c.frames) c.backfilled = 0;
    c.frames = frames;
    c.last_commit = now;
    if (s->wake_threshold_ > 0 && !s->wake_sent_ && c.pending() >= s->wake_threshold_) {
      s->wake_sent_ = true;
      wake = s->wake_;
    }
  }
  if (wake) wake();
  return SQLITE_OK;
}

void WalState::SetWake(int64_t threshold_frames, std::function<void()> wake) {
  MutexLock lock(&mu_);
  wake_threshold_ = threshold_frames;
  wake_ = std::move(wake);
}

void WalState::Checkpointed(int64_t log_frames, int64_t checkpointed_frames) {
  MutexLock lock(&mu_);
  wake_sent_ = false;
  if (log_frames < 0) return;
  counts_.frames = log_frames;
  counts_.backfilled = checkpointed_frames;
}

bool WalState::TryStartBackup(TimePoint since) {
  MutexLock lock(&mu_);
  if (counts_.backup_since != TimePoint::max()) return false;
  counts_.backup_since = since;
  return true;
}

void WalState::BackupEnded() {
  MutexLock lock(&mu_);
  counts_.backup_since = TimePoint::max();
}

WalCounts WalState::counts() const {
  MutexLock lock(&mu_);
  return counts_;
}

}  // namespace litepool
