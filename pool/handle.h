// One open sqlite3 connection owned by the daemon: statement execution with
// its prepared-statement cache, the sandbox that keeps clients away from the
// file system, and the clean-return check.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "pool/clock.h"
#include "pool/database_file.h"
#include "pool/pool_events.h"
#include "pool/value.h"

struct sqlite3;
struct sqlite3_stmt;

namespace litepool {

// Receives a query's result as it is stepped, so no copy of the rows is
// built. A sink may stop the query by returning a non-ok Status (e.g.
// result_too_large); that status becomes the query's.
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void Columns(const std::vector<std::string_view>& names) = 0;
  // Only when WantsDeclTypes(): each column's declared type, nullptr for an
  // expression (a column's affinity is what drivers map dates and booleans by).
  virtual bool WantsDeclTypes() const { return false; }
  virtual void DeclTypes(const std::vector<const char*>& types) {}
  virtual Status Row(const std::vector<ValueView>& cells) = 0;
};

struct StatementOutcome {
  int64_t changes = 0;
  // The rowid of the row this statement inserted, 0 when it inserted none:
  // never a value left on the shared handle by an earlier lease.
  int64_t last_insert_rowid = 0;
  // Set instead of running, with WriteOnRead::kRedirect: the statement
  // would write and this is a read handle.
  bool needs_writer = false;
};

// What Query() does with a statement that would write on a read handle:
// fail with read_only when it steps (a read lease), or report needs_writer
// before running anything (a one-shot in mode auto, which then moves to
// the writer).
enum class WriteOnRead { kFail, kRedirect };

// What the sandbox lets clients do beyond plain SQL.
struct SandboxPolicy {
  std::vector<std::string> client_pragmas;  // PRAGMA names clients may set
};

// A run of one statement on a thread that must never block (the I/O thread).
// The statement qualifies only if it cannot write, commit, change session
// state or wait for a lock, and it must finish before `deadline`; otherwise
// it stops, leaves no trace, and `gave_up` tells the caller to run it again
// on a worker.
struct QuickRun {
  TimePoint deadline;
  bool gave_up = false;
};

// Why a running statement was interrupted; decides the error code.
enum class InterruptReason { kNone = 0, kStatementTimeout, kLeaseRevoked };

// Owns the sqlite3* and its cached statements. Used by one thread at a time
// (whoever holds the lease, or the pool while it is idle); only Interrupt()
// may be called concurrently, from any thread.
class Handle {
 public:
  Handle(sqlite3* db, Mode mode, uint64_t id, std::shared_ptr<const SandboxPolicy> sandbox,
         TimePoint opened_at, TimePoint expires_at);
  ~Handle();
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  // Runs one statement with parameters, streaming rows to `sink`. A
  // statement_timeout of zero means none. With `quick`, a statement that
  // does not qualify or overruns sets quick->gave_up instead: then the
  // status and whatever reached `sink` mean nothing.
  Status Query(std::string_view sql, const Params& params, Millis statement_timeout, RowSink* sink,
               StatementOutcome* outcome, QuickRun* quick = nullptr,
               WriteOnRead on_write = WriteOnRead::kFail);
  // Runs several statements without parameters; outcome->changes sums the
  // rows they changed, last_insert_rowid is the last insert's.
  Status Exec(std::string_view sql, Millis statement_timeout, StatementOutcome* outcome);

  // Stops the running statement (if any) with `reason`. Thread-safe.
  void Interrupt(InterruptReason reason);

  // Rolls back an open transaction; returns whether one was open.
  bool Rollback();
  bool InTransaction() const;
  // A transaction that has read (or written): it pins a WAL snapshot, which
  // no checkpoint can get past until it ends. A bare BEGIN does not.
  bool HoldsSnapshot() const;
  // Autocommit and no session state (temp objects, changed PRAGMAs) left by
  // a client: only then may the handle serve another lease.
  bool Clean() const { return !dirty_ && !InTransaction(); }
  // A statement met a storage fault that may stay with the connection (an
  // I/O error, corruption, a file it cannot write or that moved): the pool
  // closes it (reason error) and opens a fresh one instead of reusing it.
  bool broken() const { return broken_; }
  // It met a hot journal it could not roll back (a read handle after a
  // writer crashed): a write connection must recover the file.
  bool needs_recovery() const { return needs_recovery_; }

  // How long a statement waits for a lock before it fails with busy.
  void SetBusyTimeout(Millis timeout) { busy_timeout_ = timeout; }
  // Whether the file should be writable through this handle: a write handle
  // of a database not configured read_only. Such a handle that finds the
  // file read-only is broken.
  void SetExpectWritable(bool writable) { expect_writable_ = writable; }
  // A write handle checks `file` before every statement that writes or
  // ends a transaction, and refuses with file_gone if the path no longer
  // names the file it opened. `generation` tells the pool whether the
  // handle belongs to the database as it is open now.
  void SetFile(std::shared_ptr<const DatabaseFile> file, uint64_t generation) {
    file_ = std::move(file);
    generation_ = generation;
  }
  uint64_t generation() const { return generation_; }

  // SQLITE_DBSTATUS_CACHE_USED of this connection.
  int64_t CacheBytes() const;

  Mode mode() const { return mode_; }
  uint64_t id() const { return id_; }
  TimePoint opened_at() const { return opened_at_; }
  TimePoint expires_at() const { return expires_at_; }
  TimePoint last_used() const { return last_used_; }
  void set_last_used(TimePoint t) { last_used_ = t; }
  TimePoint leased_at() const { return leased_at_; }
  void set_leased_at(TimePoint t) { leased_at_ = t; }
  // CacheBytes() as last read by the pool, which keeps the pool-wide sum.
  int64_t recorded_cache_bytes() const { return recorded_cache_bytes_; }
  void set_recorded_cache_bytes(int64_t n) { recorded_cache_bytes_ = n; }

 private:
  struct Cached {
    sqlite3_stmt* stmt;
    bool makes_dirty;
    bool quick_ok;  // may run as a QuickRun: see Prepare()
    bool writes;    // !sqlite3_stmt_readonly
    bool inserts;   // a top-level INSERT or REPLACE (not one in a trigger)
    bool control;   // transaction control or a PRAGMA
  };
  class StatementScope;

  // Finds or prepares `sql` (exactly one statement). On success *out stays
  // valid until the next Prepare.
  Status Prepare(std::string_view sql, Cached* out);
  Status Bind(sqlite3_stmt* stmt, const Params& params);
  Status Step(sqlite3_stmt* stmt, RowSink* sink);
  Status ExecOne(sqlite3_stmt* stmt);
  // Before a statement that may commit: file_gone if the file moved.
  Status CheckFile(bool writes);
  // Runs `stmt` through `step` and sets outcome->last_insert_rowid to the
  // rowid it inserted, if any.
  template <typename StepFn>
  Status RunCounted(sqlite3_stmt* stmt, bool writes, bool inserts, StatementOutcome* outcome,
                    StepFn step);
  // The Status of a failed SQLite call; marks the handle broken when the
  // fault may outlive the statement.
  Status Error(int rc);
  Status ReadOnlyError(int extended, const std::string& message);
  std::string SystemError() const;
  void BeginStatement(Millis timeout);

  static int Authorize(void* self, int action, const char* a, const char* b, const char* c,
                       const char* d);
  static int Progress(void* self);
  static int Busy(void* self, int attempts);

  // Constant after construction.
  sqlite3* const db_;
  const Mode mode_;
  const uint64_t id_;
  const std::shared_ptr<const SandboxPolicy> sandbox_;
  const TimePoint opened_at_;
  const TimePoint expires_at_;

  // Touched only by the thread using the handle.
  TimePoint last_used_;
  TimePoint leased_at_;
  bool dirty_ = false;
  bool broken_ = false;
  bool needs_recovery_ = false;
  int64_t recorded_cache_bytes_ = 0;
  bool preparing_dirty_ = false;    // set by the authorizer during a prepare
  bool preparing_control_ = false;  // likewise: transaction control or a PRAGMA
  bool preparing_insert_ = false;   // likewise: a top-level INSERT
  TimePoint statement_deadline_;    // TimePoint::max() when none
  QuickRun* quick_ = nullptr;       // set while a quick run is stepping
  Millis busy_timeout_{0};
  bool expect_writable_ = false;
  std::shared_ptr<const DatabaseFile> file_;  // write handles only
  uint64_t generation_ = 0;
  std::vector<std::string_view> column_names_;  // Step()'s, reused
  std::vector<ValueView> cells_;                // likewise
  std::vector<const char*> decltypes_;          // likewise
  std::list<std::string> lru_;                  // most recently used first
  std::unordered_map<std::string_view, std::pair<Cached, std::list<std::string>::iterator>> cache_;

  // Written by Interrupt() from other threads.
  std::atomic<InterruptReason> interrupt_{InterruptReason::kNone};
};

}  // namespace litepool
