// The checkpointer's rules: when to checkpoint, in which mode, and who to
// name when a snapshot stops it.
#include "pool/checkpointer.h"

#include <pthread.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "log/log.h"
#include "pool/open_connection.h"
#include "pool/pool.h"
#include "pool/wal_report.h"

namespace litepool {
namespace {

// How long a restart or truncate may wait for the writer lock, and then for
// readers to leave the WAL while it holds that lock. It is what a commit may
// wait for a checkpoint at most, beside the copy of the few frames written
// since the passive checkpoint before it (docs/configuration.md,
// "Checkpoints").
constexpr int kTruncateWaitMs = 20;
// After a checkpoint stopped by a snapshot a lease or backup holds, the next
// try waits this long: that snapshot rarely ends within a commit or two.
constexpr Millis kRetryAfterBlocked{1000};
// Stopped short with no snapshot anyone holds: it raced commits (or a
// statement still running); try again soon, or a fast writer fills the WAL.
constexpr Millis kRetryAfterRace{20};
// A WAL holding this many times checkpoint_frames after a complete passive
// checkpoint is not being restarted by the writer: restart it.
constexpr int64_t kRestartAfter = 2;

int SqliteMode(CheckpointMode mode) {
  switch (mode) {
    case CheckpointMode::kPassive:
      return SQLITE_CHECKPOINT_PASSIVE;
    case CheckpointMode::kRestart:
      return SQLITE_CHECKPOINT_RESTART;
    case CheckpointMode::kTruncate:
      return SQLITE_CHECKPOINT_TRUNCATE;
  }
  return SQLITE_CHECKPOINT_PASSIVE;
}

CheckpointResult Classify(int rc, int log_frames, int checkpointed) {
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) return CheckpointResult::kError;
  // A reader's snapshot is the only thing that stops the copy short of the
  // WAL's end; a truncate that copied everything may still have found the
  // writer or readers in the way.
  if (log_frames >= 0 && checkpointed < log_frames) return CheckpointResult::kPartial;
  return rc == SQLITE_OK ? CheckpointResult::kDone : CheckpointResult::kBusy;
}

}  // namespace

// One database as the checkpointer sees it.
struct Checkpointer::Entry {
  std::shared_ptr<WalState> wal;
  WalEvents* events = nullptr;
  sqlite3* conn = nullptr;     // opened on the first pass
  uint64_t generation = 0;     // of the pool when `conn` was opened
  bool disabled = false;       // not in WAL mode
  bool open_failed = false;    // the last open failed (logged once); retried each pass
  int64_t wake_frames = 0;     // the threshold given to wal->SetWake
  TimePoint retry_at;          // no checkpoint before (after a blocked one)
  TimePoint truncated_after;   // the last commit a truncate already followed
  bool blocked_named = false;  // a blocked stretch with no lease was logged
  TimePoint blocked_since;     // TimePoint() when the last checkpoint finished
  std::set<LeaseId> named;     // leases already logged as holding a snapshot

  ~Entry() { sqlite3_close_v2(conn); }
};

Checkpointer::Checkpointer(PoolSet* pools, LeaseTable* leases, const TimeSource* clock,
                           EventsFor events, Millis interval)
    : pools_(pools),
      leases_(leases),
      clock_(clock),
      events_(std::move(events)),
      interval_(interval) {}

Checkpointer::~Checkpointer() { Stop(); }

void Checkpointer::Start() {
  thread_ = std::thread([this] { Loop(); });
  pthread_setname_np(thread_.native_handle(), "litepool-ckpt");
}

void Checkpointer::Stop() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
  for (auto& [wal, entry] : entries_) wal->SetWake(0, nullptr);
  entries_.clear();
}

void Checkpointer::Wake() {
  {
    MutexLock lock(&mu_);
    woken_ = true;
  }
  cv_.Signal();
}

void Checkpointer::Loop() {
  // A first pass at once: it gives each database its wake-up threshold.
  RunOnce(clock_->Now());
  for (;;) {
    {
      MutexLock lock(&mu_);
      auto deadline = std::chrono::steady_clock::now() + interval_;
      while (!stop_ && !woken_ && cv_.WaitUntil(&mu_, deadline)) continue;  // false: timed out
      if (stop_) return;
      woken_ = false;
    }
    RunOnce(clock_->Now());
  }
}

int Checkpointer::RunOnce(TimePoint now) {
  auto pools = pools_->All();
  // Databases a reload removed: their connections go.
  for (auto it = entries_.begin(); it != entries_.end();) {
    bool live = std::any_of(pools.begin(), pools.end(),
                            [&](const auto& p) { return p->wal().get() == it->first; });
    if (live) {
      ++it;
    } else {
      it->first->SetWake(0, nullptr);
      it = entries_.erase(it);
    }
  }
  int ran = 0;
  for (const auto& pool : pools) {
    const std::shared_ptr<WalState>& wal = pool->wal();
    if (wal->read_only()) continue;
    auto& slot = entries_[wal.get()];
    if (!slot) {
      slot = std::make_unique<Entry>();
      slot->wal = wal;
      slot->events = events_(wal->db());
    }
    ran += Visit(*pool, *slot, now);
  }
  return ran;
}

bool Checkpointer::Open(Entry& entry) {
  if (entry.conn != nullptr) return true;
  const std::string& path = entry.wal->path();
  // The pool's VFS: under "exclusive" a connection on another VFS would
  // take its own fcntl locks beside the process's (pool/open_connection.h).
  int rc = OpenConnection(path, entry.wal->file_lock(), Access::kWrite, SQLITE_OPEN_NOMUTEX,
                          &entry.conn);
  std::string mode;
  if (rc == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(entry.conn, "PRAGMA journal_mode", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      mode = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
  }
  if (rc != SQLITE_OK || mode != "wal") {
    // Only WAL databases have frames to copy back; others are left alone. A
    // file that cannot be opened now is tried again on the next pass: its
    // pool may come up later, and then its WAL needs checkpoints.
    if (rc != SQLITE_OK && !entry.open_failed) {
      log::Warn("checkpointer_cannot_open")
          .Str("db", entry.wal->db())
          .Str("error", entry.conn ? sqlite3_errmsg(entry.conn) : sqlite3_errstr(rc));
    }
    entry.open_failed = rc != SQLITE_OK;
    sqlite3_close_v2(entry.conn);
    entry.conn = nullptr;
    entry.disabled = rc == SQLITE_OK;
    return false;
  }
  entry.open_failed = false;
  sqlite3_wal_autocheckpoint(entry.conn, 0);
  sqlite3_busy_timeout(entry.conn, kTruncateWaitMs);
  return true;
}

int Checkpointer::Visit(Pool& pool, Entry& entry, TimePoint now) {
  // Opened on the first pass, not the first checkpoint: its descriptors are
  // there from the start, like the pool's. A database that is down is left
  // alone; one reopened on another file gets a new connection.
  uint64_t generation = 0;
  if (!pool.up(&generation)) return 0;
  if (entry.conn != nullptr && entry.generation != generation) {
    sqlite3_close_v2(entry.conn);
    entry.conn = nullptr;
    entry.disabled = false;
  }
  if (entry.disabled || !Open(entry)) return 0;
  entry.generation = generation;
  config::PoolLimits limits = pool.limits();
  if (entry.wake_frames != limits.checkpoint_frames) {
    entry.wake_frames = limits.checkpoint_frames;
    entry.wal->SetWake(limits.checkpoint_frames, [this] { Wake(); });
  }
  if (now < entry.retry_at) return 0;
  WalCounts counts = entry.wal->counts();
  bool committed = counts.last_commit != TimePoint();
  bool idle = committed && now - counts.last_commit >= Millis(limits.checkpoint_idle_ms);
  int ran = 0;
  CheckpointResult result = CheckpointResult::kDone;
  if (counts.pending() >= limits.checkpoint_frames) {
    result = Run(entry, CheckpointMode::kPassive);
    ++ran;
    // A commit restarts the WAL from its beginning only if every frame was
    // copied back when its transaction started; under a steady writer the
    // passive checkpoint never quite catches up (it may also stop a frame
    // or two short, racing a commit), and the WAL would grow until the
    // writer pauses. With (nearly) everything copied, a restart or truncate
    // holds the writer lock only briefly. Truncate when the file has grown
    // past its limit (behind a snapshot, say), so the space goes back to
    // the disk.
    bool caught_up = result == CheckpointResult::kDone ||
                     (result == CheckpointResult::kPartial &&
                      entry.wal->counts().pending() < limits.checkpoint_frames);
    if (caught_up) {
      if (FileBytes(entry.wal->path() + "-wal") > limits.wal_truncate_bytes) {
        result = Run(entry, CheckpointMode::kTruncate);
        ++ran;
      } else if (entry.wal->counts().frames >= kRestartAfter * limits.checkpoint_frames) {
        result = Run(entry, CheckpointMode::kRestart);
        ++ran;
      }
    }
  } else if (idle && counts.last_commit != entry.truncated_after) {
    // The writer is idle: copy back without any lock first, then take the
    // writer lock only to copy the rest (nothing, usually) and truncate.
    if (counts.pending() > 0) {
      result = Run(entry, CheckpointMode::kPassive);
      ++ran;
    }
    if (result == CheckpointResult::kDone) {
      result = Run(entry, CheckpointMode::kTruncate);
      ++ran;
    }
    if (result == CheckpointResult::kDone) entry.truncated_after = counts.last_commit;
  }
  if (ran > 0) Settle(entry, result, limits, now);
  return ran;
}

void Checkpointer::Settle(Entry& entry, CheckpointResult result, const config::PoolLimits& limits,
                          TimePoint now) {
  if (result == CheckpointResult::kDone) {
    entry.named.clear();
    entry.blocked_named = false;
    entry.blocked_since = TimePoint();
    return;
  }
  // A checkpoint racing a commit may stop a frame or two short: that is
  // not a pinned snapshot. Pinned is when what it left is still a whole
  // checkpoint's worth; then the holder is named, and when it is known the
  // next try waits (another would stop at the same frame).
  if (entry.wal->counts().pending() < limits.checkpoint_frames) return;
  if (entry.blocked_since == TimePoint()) entry.blocked_since = now;
  bool held = NameHolder(entry, now, result == CheckpointResult::kPartial);
  entry.retry_at = now + (held ? kRetryAfterBlocked : kRetryAfterRace);
}

CheckpointResult Checkpointer::Run(Entry& entry, CheckpointMode mode) {
  int concurrent = in_flight_.fetch_add(1) + 1;
  auto start = Clock::now();
  int log_frames = -1, checkpointed = -1;
  int rc =
      sqlite3_wal_checkpoint_v2(entry.conn, "main", SqliteMode(mode), &log_frames, &checkpointed);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  in_flight_.fetch_sub(1);
  CheckpointResult result = Classify(rc, log_frames, checkpointed);
  if (result == CheckpointResult::kError) {
    log::Warn("checkpoint_failed")
        .Str("db", entry.wal->db())
        .Str("mode", CheckpointModeName(mode))
        .Str("error", sqlite3_errmsg(entry.conn));
  }
  entry.wal->Checkpointed(log_frames, checkpointed);
  entry.events->CheckpointDone(mode, result, seconds);
  MutexLock lock(&stats_mu_);
  ++stats_.checkpoints;
  stats_.max_concurrent = std::max(stats_.max_concurrent, concurrent);
  if (mode != CheckpointMode::kPassive) {
    stats_.longest_truncate_seconds = std::max(stats_.longest_truncate_seconds, seconds);
  }
  return result;
}

bool Checkpointer::NameHolder(Entry& entry, TimePoint now, bool log) {
  const std::string& db = entry.wal->db();
  const LeaseInfo* oldest = nullptr;
  std::vector<LeaseInfo> leases = leases_->List();
  for (const LeaseInfo& l : leases) {
    if (l.db != db || l.snapshot_age_ms < 0) continue;
    if (oldest == nullptr || l.snapshot_age_ms > oldest->snapshot_age_ms) oldest = &l;
  }
  WalCounts counts = entry.wal->counts();
  bool backup = counts.backup_since != TimePoint::max();
  if (!log) return oldest != nullptr || backup;
  int64_t wal_bytes = FileBytes(entry.wal->path() + "-wal");
  if (oldest != nullptr) {
    if (!entry.named.insert(oldest->id).second) return true;
    log::Warn("checkpoint_blocked")
        .Str("db", db)
        .Str("holder", "lease")
        .LeaseId("lease", oldest->id)
        .Int("pid", oldest->holder.pid)
        .Int("uid", oldest->holder.uid)
        .Str("tag", oldest->tag)
        .Str("last_sql", oldest->last_sql)
        .Int("snapshot_age_ms", oldest->snapshot_age_ms)
        .Int("age_ms", oldest->age_ms)
        .Int("wal_bytes", wal_bytes)
        .Int("frames_pending", counts.pending());
    return true;
  }
  // No lease holds a snapshot: a backup, or (once it has lasted a while,
  // so that races with commits stay quiet) a statement still running or
  // another process on the same file.
  if (entry.blocked_named || (!backup && now - entry.blocked_since < kRetryAfterBlocked)) {
    return backup;
  }
  entry.blocked_named = true;
  auto event = log::Warn("checkpoint_blocked");
  event.Str("db", db).Str("holder", backup ? "backup" : "unknown");
  if (backup) {
    event.Int("snapshot_age_ms",
              std::chrono::duration_cast<Millis>(now - counts.backup_since).count());
  }
  event.Int("wal_bytes", wal_bytes).Int("frames_pending", counts.pending());
  return backup;
}

CheckpointerStats Checkpointer::stats() const {
  MutexLock lock(&stats_mu_);
  return stats_;
}

}  // namespace litepool
