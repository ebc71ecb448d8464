// The pool of one database: a write side and a read side, each with its idle
// handles (reused LIFO), its count of leased handles and its FIFO queue of
// waiters. A handle released while someone waits goes straight to the first
// waiter, so a newcomer can never barge ahead of the queue.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "config/config.h"
#include "pool/clock.h"
#include "pool/database_file.h"
#include "pool/fault_report.h"
#include "pool/handle.h"
#include "pool/handle_factory.h"
#include "pool/pool_events.h"
#include "pool/task_runner.h"

namespace litepool {

struct SideSnapshot {
  int open = 0;  // always idle + leased
  int idle = 0;
  int leased = 0;
  int max = 0;
  int waiters = 0;
};

struct PoolSnapshot {
  std::string db;
  SideSnapshot sides[kModeCount];
  int64_t cache_bytes = 0;
  bool up = false;
  std::string down_cause;  // why it is down, when it is
};

// The limits a request reads to lease a handle and to bound its statement
// and its wait: read without the pool's lock (Pool::lease_limits).
struct LeaseLimits {
  Millis acquire_timeout{0};
  Millis lease_timeout{0};
  Millis leak_warn{0};          // 0: off
  Millis statement_timeout{0};  // 0: none
  int max_leases_per_client = 0;
  bool has_readers = false;
};

// Idle handles the reaper has taken out of the pool, to be closed by a
// worker, and how many handles to open to get back to min_idle.
struct ReapedHandles {
  std::vector<std::pair<std::unique_ptr<Handle>, CloseReason>> to_close;
  int to_open[kModeCount] = {0, 0};
  bool restart = false;  // the database is down and due for another try: Start()
};

// Thread-safe. Every method may be called from any thread; those marked slow
// may open or close SQLite handles and belong on a worker thread, never on
// the I/O thread or the reaper. No lock is held while SQLite runs.
class Pool : public std::enable_shared_from_this<Pool> {
 public:
  // Receives a handle granted to a queued waiter, on the thread that freed
  // it. Returns the handle back if its client has gone (the pool then offers
  // it to the next waiter), or nullptr once it has taken it. Called with a
  // null handle when the pool shuts down with the waiter still queued.
  using Grant = std::function<std::unique_ptr<Handle>(std::unique_ptr<Handle>)>;

  struct Acquired {
    // kMustOpen: only with may_open false; nothing was taken or queued.
    enum Kind { kGranted, kQueued, kFailed, kMustOpen } kind = kFailed;
    std::unique_ptr<Handle> handle;  // kGranted
    uint64_t waiter = 0;             // kQueued: for CancelWaiter
    Status status;                   // kFailed
  };

  // `workers` run the returns that need SQLite work (Release); without
  // them (tests) such a return runs on the caller's thread.
  Pool(const config::Database& db, const TimeSource* clock, PoolEvents* events,
       TaskRunner* workers = nullptr);
  ~Pool();

  // Opens the database: claims its file (creating it if configured),
  // recovers it after a crash, sets its journal mode and opens min_idle
  // handles. On failure the pool is down: acquires answer
  // database_unavailable with the cause, and the reaper calls Start()
  // again with backoff (1 s doubling to 60 s) until it comes up. Slow.
  Status Start();
  // Takes over the files `other` claimed, for a pool that replaces it on
  // the same path (a reload that changed its settings): the daemon's lock
  // on the file is its, not the old pool's, to keep.
  void AdoptFiles(const Pool& other);

  // Takes an idle handle, opens a new one (slow) or queues a waiter, for a
  // client running as `uid` (forbidden unless the database's allowed_uids
  // name it, root always passes; checked under the same lock, so that a
  // request takes the pool's lock once to acquire).
  // The waiter's Grant is built by `make_grant` only if the acquire queues
  // (it runs under the pool's lock and must not call into the pool). With
  // may_open false, an acquire that would open a handle answers kMustOpen
  // instead, so the I/O thread never blocks.
  Acquired Acquire(Mode mode, uint32_t uid, const std::function<Grant()>& make_grant, bool may_open)
      EXCLUDES(mu_);

  // Removes a queued waiter. False if it was already granted (its Grant has
  // run or is running). `why` is counted as the acquire's result.
  bool CancelWaiter(Mode mode, uint64_t waiter, AcquireResult why);

  // Takes back a leased handle: rolls back, closes it if it is not clean or
  // past its lifetime, else hands it to the first waiter or the idle list.
  // Returns whether a transaction was rolled back. Slow.
  bool Return(std::unique_ptr<Handle> handle);
  // Return() when it needs no SQLite work: no transaction to roll back and
  // nothing to close. Otherwise returns false and leaves *handle for
  // Return() on a worker. Fast: one acquisition of the pool's lock.
  bool ReturnQuickly(std::unique_ptr<Handle>* handle);
  // Return() from a thread that must not block: at once when it can, else
  // on a worker. What a PooledHandle does when it goes. Fast.
  void Release(std::unique_ptr<Handle> handle);

  // For the reaper: takes idle handles past max_lifetime or idle_timeout out
  // of the pool (keeping min_idle) and counts handles to open; notices a
  // database file removed or replaced (one stat) and takes the database
  // down; says when a down database is due for a retry. Fast.
  void Reap(TimePoint now, ReapedHandles* out);
  // Closes a handle the reaper took (slow), and opens one to refill min_idle.
  void CloseReaped(std::unique_ptr<Handle> handle, CloseReason reason);
  void OpenIdle(Mode mode);

  // Stops granting: queued waiters get a null handle, idle handles are
  // closed with reason `reason`, returned ones are closed from now on. Slow.
  void Shutdown(CloseReason reason);

  PoolSnapshot Snapshot() const;
  config::PoolLimits limits() const;
  // What a request needs of limits(), without the lock or a copy of the
  // configuration: a reload stores each value on its own, so a request
  // racing it may see some limits old and some new, each one valid, as if
  // it had come a moment earlier or later. Fast.
  LeaseLimits lease_limits() const;
  // Applies a reloaded configuration of this database: sizes and time limits
  // take effect at once. Returns idle handles above a lowered maximum, for
  // the caller to close (reason reload) on a worker; leased ones above it
  // are closed when they come back. Then call ServeWaiters (slow) so that a
  // raised maximum serves the queue.
  std::vector<std::unique_ptr<Handle>> Reconfigure(const config::Database& db);
  void ServeWaiters();
  const std::string& name() const { return name_; }
  // The events are called with no pool lock held (pool/pool_events.h); the
  // pool's own calls go through here so that the analysis rejects one made
  // under mu_.
  PoolEvents* events() const EXCLUDES(mu_) { return events_; }
  // Counts and logs `st` if it is a storage fault (FaultReport); returns
  // whether it was one. `what` says what failed. Calls PoolEvents.
  bool ReportFault(const Status& st, const char* what) EXCLUDES(mu_) {
    return faults_.Report(st, what);
  }
  // The WAL bookkeeping of this database (the checkpointer's and backup's).
  const std::shared_ptr<WalState>& wal() const { return factory_.wal(); }
  // Whether the database is open and serving, and which opening of it this
  // is: a connection kept beside the pool's (the checkpointer's) reopens
  // when the generation changes, so it follows a file replaced under it.
  bool up(uint64_t* generation) const EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    *generation = generation_;
    return up_;
  }

 private:
  struct Waiter {
    uint64_t id;
    Grant grant;
    TimePoint since;
  };
  struct Side {
    Mode mode;
    int max = 0;
    std::vector<std::unique_ptr<Handle>> idle;  // back = most recently used
    int leased = 0;
    int opening = 0;
    std::deque<Waiter> waiters;
    int total() const { return static_cast<int>(idle.size()) + leased + opening; }
  };

  // Counts the end of a lease and refreshes the handle's cache size,
  // measured before the lock is taken (no lock while SQLite runs).
  void AccountReturn(Handle* handle, TimePoint now) EXCLUDES(mu_);
  // Gives a leased-counted handle to the first waiter, or makes it idle.
  void Offer(std::unique_ptr<Handle> handle) EXCLUDES(mu_);
  // Offer() under a lock the caller already holds: makes it idle and
  // returns null, or takes the first waiter into *w and returns the handle
  // for the caller to grant outside the lock (GrantTo).
  std::unique_ptr<Handle> OfferLocked(std::unique_ptr<Handle> handle, Waiter* w) REQUIRES(mu_);
  // Grants `handle` to `w` (no lock held); a handle its client no longer
  // wants is offered again.
  void GrantTo(Waiter w, std::unique_ptr<Handle> handle) EXCLUDES(mu_);
  // The database's own allowed_uids, when it has them; root always passes.
  bool AllowsUidLocked(uint32_t uid) const REQUIRES(mu_);
  // The pool-wide cache sum follows `handle`'s cache size, measured by the
  // caller before it took the lock (sqlite3_db_status: no lock while SQLite runs).
  void RecordCacheBytesLocked(Handle* handle, int64_t cache) REQUIRES(mu_);
  // After a close: opens a handle for the first waiter if there is room.
  void Refill(Mode mode) EXCLUDES(mu_);
  void Close(std::unique_ptr<Handle> handle, CloseReason reason) EXCLUDES(mu_);
  Status OpenCounted(Mode mode, std::unique_ptr<Handle>* out) EXCLUDES(mu_);
  // Claims the file and prepares it; the first half of Start().
  Status OpenFile();
  // Marks the database down (idle handles into *idle, to close) or up.
  // Return whether that changed or the cause did, for the caller to log
  // outside the lock.
  bool MarkDownLocked(const Status& cause, TimePoint now,
                      std::vector<std::unique_ptr<Handle>>* idle) REQUIRES(mu_);
  bool MarkUpLocked() REQUIRES(mu_);
  void LogDown(const Status& cause) EXCLUDES(mu_);
  // Closes every idle handle and retires the leased ones (closed when they
  // come back): after a write handle met the file read-only. SQLite keeps
  // the descriptor of a closed connection for reuse while other
  // connections hold locks on the file, so a writer opened while the file
  // was not writable would otherwise haunt the next one, even once the
  // permissions are back. Slow.
  void Recycle() EXCLUDES(mu_);
  // Takes the database down if `file` was removed or replaced (one stat);
  // idle handles go to *idle, to close. Returns whether it was.
  bool TookDownIfMoved(const std::shared_ptr<DatabaseFile>& file, TimePoint now,
                       std::vector<std::unique_ptr<Handle>>* idle) EXCLUDES(mu_);
  // Moves every idle handle into *out, counted as leased until closed.
  void TakeIdleLocked(std::vector<std::unique_ptr<Handle>>* out) REQUIRES(mu_);
  // The file claimed last, or null (read_only databases claim none).
  std::shared_ptr<DatabaseFile> CurrentFile() const EXCLUDES(mu_);
  // Whether `h` belongs to the database as it is open now.
  bool CurrentLocked(const Handle& h) const REQUIRES(mu_) {
    return up_ && h.generation() == generation_;
  }
  Side& side(Mode mode) REQUIRES(mu_) { return sides_[static_cast<size_t>(mode)]; }

  // Constant after construction.
  const std::string name_;
  const std::string path_;
  const bool read_only_;
  const bool create_if_missing_;
  const TimeSource* const clock_;
  PoolEvents* const events_;
  TaskRunner* const workers_;
  HandleFactory factory_;
  FaultReport faults_;

  // lease_limits(), stored by the constructor and Reconfigure().
  struct AtomicLeaseLimits {
    std::atomic<int64_t> acquire_timeout_ms{0};
    std::atomic<int64_t> lease_timeout_ms{0};
    std::atomic<int64_t> leak_warn_ms{0};
    std::atomic<int64_t> statement_timeout_ms{0};
    std::atomic<int> max_leases_per_client{0};
    std::atomic<int> max_readers{0};
    void Store(const config::PoolLimits& limits);
  };
  AtomicLeaseLimits lease_limits_;

  // State below is protected by mu_.
  mutable Mutex mu_;
  Side sides_[kModeCount] GUARDED_BY(mu_);
  config::PoolLimits limits_ GUARDED_BY(mu_);
  std::optional<std::vector<uint32_t>> allowed_uids_ GUARDED_BY(mu_);
  uint64_t next_waiter_ GUARDED_BY(mu_) = 1;
  bool shut_down_ GUARDED_BY(mu_) = false;
  CloseReason shutdown_reason_ GUARDED_BY(mu_) = CloseReason::kShutdown;
  // Up or down (docs/operations.md, "Storage faults").
  bool up_ GUARDED_BY(mu_) = false;
  bool ever_down_ GUARDED_BY(mu_) = false;
  Status down_cause_ GUARDED_BY(mu_);
  TimePoint next_retry_ GUARDED_BY(mu_);
  Millis retry_delay_ GUARDED_BY(mu_){0};
  bool restarting_ GUARDED_BY(mu_) = false;
  uint64_t generation_ GUARDED_BY(mu_) = 0;  // bumped whenever the database goes down
  // Every file claimed, kept open for the pool's life (DatabaseFile).
  std::vector<std::shared_ptr<DatabaseFile>> files_ GUARDED_BY(mu_);
  int64_t cache_bytes_ GUARDED_BY(mu_) = 0;  // sum over the handles' recorded cache sizes
};

}  // namespace litepool
