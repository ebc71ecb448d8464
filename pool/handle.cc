// Statement execution on one connection, with its cache and sandbox.
#include "pool/handle.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <thread>

namespace litepool {
namespace {

constexpr size_t kStatementCacheSize = 64;
// VM instructions between checks for interruption and statement timeout:
// point queries finish well before the first check.
constexpr int kProgressOps = 1000;
// Waits between lock attempts while busy_timeout runs, as SQLite's own busy
// handler spaces them: short at first, then 100 ms apart.
constexpr int kBusyDelaysMs[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};

// PRAGMAs that take an argument only to name what they report on; they read,
// never set, so clients may always use them.
constexpr const char* kReadingPragmas[] = {
    "table_info",      "table_xinfo",      "table_list",        "index_info",      "index_xinfo",
    "index_list",      "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check",
    "function_list",   "pragma_list",      "module_list",       "collation_list",  "database_list",
    "compile_options", "data_version",
};

bool IsReadingPragma(const char* name) {
  for (const char* p : kReadingPragmas) {
    if (sqlite3_stricmp(p, name) == 0) return true;
  }
  return false;
}

// True if `rest` holds nothing but white space, semicolons and comments.
bool OnlyTrivia(const char* rest) {
  while (*rest) {
    if (std::isspace(static_cast<unsigned char>(*rest)) || *rest == ';') {
      ++rest;
    } else if (rest[0] == '-' && rest[1] == '-') {
      while (*rest && *rest != '\n') ++rest;
    } else if (rest[0] == '/' && rest[1] == '*') {
      const char* end = std::strstr(rest + 2, "*/");
      if (!end) return true;  // an unterminated comment runs to the end
      rest = end + 2;
    } else {
      return false;
    }
  }
  return true;
}

Status BindValue(sqlite3_stmt* stmt, int index, const Value& value) {
  int rc = SQLITE_OK;
  switch (value.index()) {
    case 0:
      rc = sqlite3_bind_null(stmt, index);
      break;
    case 1:
      rc = sqlite3_bind_int64(stmt, index, std::get<int64_t>(value));
      break;
    case 2:
      rc = sqlite3_bind_double(stmt, index, std::get<double>(value));
      break;
    case 3: {
      const auto& s = std::get<std::string>(value);
      rc = sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8);
      break;
    }
    case 4: {
      const auto& b = std::get<Blob>(value).bytes;
      rc = sqlite3_bind_blob64(stmt, index, b.data(), b.size(), SQLITE_STATIC);
      break;
    }
  }
  if (rc != SQLITE_OK)
    return Status(Code::kBadRequest, "cannot bind parameter " + std::to_string(index));
  return Status();
}

}  // namespace

// Resets and unbinds a statement when its use ends, however it ends, and
// clears the statement deadline.
class Handle::StatementScope {
 public:
  StatementScope(Handle* h, sqlite3_stmt* stmt) : h_(h), stmt_(stmt) {}
  ~StatementScope() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    h_->statement_deadline_ = TimePoint::max();
  }

 private:
  Handle* h_;
  sqlite3_stmt* stmt_;
};

Handle::Handle(sqlite3* db, Mode mode, uint64_t id, std::shared_ptr<const SandboxPolicy> sandbox,
               TimePoint opened_at, TimePoint expires_at)
    : db_(db),
      mode_(mode),
      id_(id),
      sandbox_(std::move(sandbox)),
      opened_at_(opened_at),
      expires_at_(expires_at),
      last_used_(opened_at),
      leased_at_(opened_at),
      statement_deadline_(TimePoint::max()) {
  sqlite3_set_authorizer(db_, &Handle::Authorize, this);
  sqlite3_progress_handler(db_, kProgressOps, &Handle::Progress, this);
  sqlite3_busy_handler(db_, &Handle::Busy, this);
}

Handle::~Handle() {
  for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.first.stmt);
  cache_.clear();
  sqlite3_close_v2(db_);
}

int Handle::Authorize(void* self, int action, const char* a, const char* b, const char* db,
                      const char* trigger) {
  auto* h = static_cast<Handle*>(self);
  switch (action) {
    case SQLITE_INSERT:
      // Only the statement's own insert sets last_insert_rowid; a trigger's
      // does not.
      if (trigger == nullptr) h->preparing_insert_ = true;
      return SQLITE_OK;
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_VTABLE:
      // `CREATE TABLE temp.x` is reported as a plain create in schema "temp".
      if (db != nullptr && sqlite3_stricmp(db, "temp") == 0) h->preparing_dirty_ = true;
      return SQLITE_OK;
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
      return SQLITE_DENY;
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
      // COMMIT counts as read-only to SQLite, yet it may write and sync.
      h->preparing_control_ = true;
      return SQLITE_OK;
    case SQLITE_FUNCTION:
      // Already disabled by the db config; denied here too so the answer
      // is `forbidden`, not a generic SQL error.
      return b != nullptr && sqlite3_stricmp(b, "load_extension") == 0 ? SQLITE_DENY : SQLITE_OK;
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
      h->preparing_dirty_ = true;
      return SQLITE_OK;
    case SQLITE_PRAGMA: {
      // Some argument-less PRAGMAs act (wal_checkpoint): never quick.
      h->preparing_control_ = true;
      if (b == nullptr || IsReadingPragma(a)) return SQLITE_OK;
      const auto& allowed = h->sandbox_->client_pragmas;
      bool listed = std::any_of(allowed.begin(), allowed.end(), [a](const std::string& p) {
        return sqlite3_stricmp(p.c_str(), a) == 0;
      });
      if (!listed) return SQLITE_DENY;
      h->preparing_dirty_ = true;  // the setting must not outlive the lease
      return SQLITE_OK;
    }
    default:
      return SQLITE_OK;
  }
}

int Handle::Progress(void* self) {
  auto* h = static_cast<Handle*>(self);
  if (h->interrupt_.load(std::memory_order_relaxed) != InterruptReason::kNone) return 1;
  if (h->quick_ == nullptr && h->statement_deadline_ == TimePoint::max()) return 0;
  TimePoint now = Clock::now();
  if (h->quick_ != nullptr && now >= h->quick_->deadline) {
    h->quick_->gave_up = true;
    return 1;
  }
  if (now >= h->statement_deadline_) {
    InterruptReason none = InterruptReason::kNone;
    h->interrupt_.compare_exchange_strong(none, InterruptReason::kStatementTimeout);
    return 1;
  }
  return 0;
}

int Handle::Busy(void* self, int attempts) {
  auto* h = static_cast<Handle*>(self);
  if (h->quick_ != nullptr) {  // waiting would block the I/O thread
    h->quick_->gave_up = true;
    return 0;
  }
  constexpr int kDelays = sizeof(kBusyDelaysMs) / sizeof(kBusyDelaysMs[0]);
  int64_t waited = 0;
  for (int i = 0; i < attempts; ++i) waited += kBusyDelaysMs[std::min(i, kDelays - 1)];
  int64_t delay = kBusyDelaysMs[std::min(attempts, kDelays - 1)];
  int64_t left = h->busy_timeout_.count() - waited;
  if (left <= 0) return 0;
  std::this_thread::sleep_for(Millis(std::min(delay, left)));
  return 1;
}

void Handle::Interrupt(InterruptReason reason) {
  interrupt_.store(reason, std::memory_order_relaxed);
  sqlite3_interrupt(db_);
}

void Handle::BeginStatement(Millis timeout) {
  // A timeout-interrupt of the previous statement must not leak into this
  // one; a revocation stays until the lease is gone.
  InterruptReason timeout_reason = InterruptReason::kStatementTimeout;
  interrupt_.compare_exchange_strong(timeout_reason, InterruptReason::kNone);
  statement_deadline_ = timeout.count() > 0 ? Clock::now() + timeout : TimePoint::max();
}

std::string Handle::SystemError() const {
  int err = sqlite3_system_errno(db_);
  if (err == 0) return "";
  return ErrnoSuffix(err);
}

Status Handle::Error(int rc) {
  int extended = sqlite3_extended_errcode(db_);
  std::string message = sqlite3_errmsg(db_);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status(Code::kBusy, message, extended);
    case SQLITE_INTERRUPT:
      if (interrupt_.load() == InterruptReason::kLeaseRevoked) {
        return Status(Code::kLeaseExpired, "lease revoked: lease timeout", extended);
      }
      return Status(Code::kStatementTimeout, "statement interrupted by statement_timeout_ms",
                    extended);
    case SQLITE_AUTH:
      return Status(Code::kForbidden, "not allowed here: " + message, extended);
    case SQLITE_ERROR:
      // A function the authorizer denied fails with a plain SQLITE_ERROR.
      if (message.rfind("not authorized", 0) == 0) {
        return Status(Code::kForbidden, "not allowed here: " + message, extended);
      }
      return Status(Code::kSqlError, message, extended);
    // Storage faults (docs/protocol.md, "Storage faults"). A full disk
    // leaves the connection sound: once there is room it writes again.
    case SQLITE_FULL:
      return Status(Code::kDiskFull, "the disk is full: " + message + SystemError(), extended);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      broken_ = true;
      return Status(Code::kStorageError, "I/O error: " + message + SystemError(), extended);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      broken_ = true;
      return Status(Code::kCorrupt, "the database file is corrupt: " + message, extended);
    case SQLITE_READONLY:
      return ReadOnlyError(extended, message);
    default:
      return Status(Code::kSqlError, message, extended);
  }
}

Status Handle::ReadOnlyError(int extended, const std::string& message) {
  switch (extended) {
    case SQLITE_READONLY_DBMOVED:
      broken_ = true;
      return Status(Code::kFileGone,
                    "the database file was removed or replaced while open: " + message, extended);
    case SQLITE_READONLY_ROLLBACK:
    case SQLITE_READONLY_RECOVERY:
      // A read-only connection cannot roll back what a crashed writer left.
      broken_ = true;
      needs_recovery_ = true;
      return Status(Code::kBusy,
                    "a crashed writer left the file to recover; the daemon is recovering it, "
                    "retry: " +
                        message,
                    extended);
    case SQLITE_READONLY_CANTLOCK:
    case SQLITE_READONLY_CANTINIT:
    case SQLITE_READONLY_DIRECTORY:
      broken_ = true;
      return Status(Code::kStorageError, "cannot write beside the database: " + message, extended);
  }
  if (expect_writable_) {
    // A write handle opened while the file was not writable stays read-only
    // until it is closed (SQLite may even reuse such a descriptor for a
    // connection opened later): close it, so the next one sees the file as
    // it is.
    broken_ = true;
    return Status(Code::kStorageError,
                  "the database file or its -wal/-shm is not writable (permissions or a "
                  "read-only mount): " +
                      message,
                  extended);
  }
  return Status(Code::kReadOnly, message, extended);
}

Status Handle::Prepare(std::string_view sql, Cached* out) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.second);
    *out = it->second.first;
    return Status();
  }
  preparing_dirty_ = false;
  preparing_control_ = false;
  preparing_insert_ = false;
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
  if (rc != SQLITE_OK) return Error(rc);
  if (stmt == nullptr) return Status(Code::kBadRequest, "sql holds no statement");
  std::string rest(tail, sql.data() + sql.size() - tail);
  if (!OnlyTrivia(rest.c_str())) {
    sqlite3_finalize(stmt);
    return Status(Code::kBadRequest, "query takes one statement; use exec for several");
  }
  if (cache_.size() >= kStatementCacheSize) {
    auto victim = cache_.find(std::string_view(lru_.back()));
    sqlite3_finalize(victim->second.first.stmt);
    cache_.erase(victim);
    lru_.pop_back();
  }
  lru_.emplace_front(sql);
  // Quick runs must neither write (a commit may sync), nor leave state
  // behind, nor end a transaction.
  bool writes = sqlite3_stmt_readonly(stmt) == 0;
  bool quick_ok = !writes && !preparing_dirty_ && !preparing_control_;
  Cached entry{stmt, preparing_dirty_, quick_ok, writes, preparing_insert_, preparing_control_};
  cache_.emplace(std::string_view(lru_.front()), std::make_pair(entry, lru_.begin()));
  *out = entry;
  return Status();
}

Status Handle::Bind(sqlite3_stmt* stmt, const Params& params) {
  int count = sqlite3_bind_parameter_count(stmt);
  if (!params.named) {
    if (static_cast<int>(params.positional.size()) != count) {
      return Status(Code::kBadRequest, "statement takes " + std::to_string(count) +
                                           " parameters, got " +
                                           std::to_string(params.positional.size()));
    }
    for (int i = 0; i < count; ++i) {
      Status st = BindValue(stmt, i + 1, params.positional[i]);
      if (!st.ok()) return st;
    }
    return Status();
  }
  // One name may stand for several parameters (":a, @a, $a" are three to
  // SQLite); every given name must be used at least once.
  std::vector<bool> used(params.by_name.size(), false);
  for (int i = 1; i <= count; ++i) {
    const char* name = sqlite3_bind_parameter_name(stmt, i);
    if (name == nullptr) return Status(Code::kBadRequest, "statement has positional parameters");
    std::string_view bare(name + 1);
    auto it = std::find_if(params.by_name.begin(), params.by_name.end(),
                           [bare](const auto& kv) { return kv.first == bare; });
    if (it == params.by_name.end()) {
      return Status(Code::kBadRequest, "no value for parameter " + std::string(name));
    }
    Status st = BindValue(stmt, i, it->second);
    if (!st.ok()) return st;
    used[it - params.by_name.begin()] = true;
  }
  if (std::find(used.begin(), used.end(), false) != used.end()) {
    return Status(Code::kBadRequest, "params name a parameter the statement does not have");
  }
  return Status();
}

Status Handle::Step(sqlite3_stmt* stmt, RowSink* sink) {
  int ncol = sqlite3_column_count(stmt);
  // Member buffers, so a query allocates nothing here once warm.
  std::vector<std::string_view>& names = column_names_;
  names.resize(ncol);
  for (int i = 0; i < ncol; ++i) {
    const char* n = sqlite3_column_name(stmt, i);
    names[i] = n ? n : "";
  }
  sink->Columns(names);
  if (sink->WantsDeclTypes()) {
    decltypes_.resize(ncol);
    for (int i = 0; i < ncol; ++i) decltypes_[i] = sqlite3_column_decltype(stmt, i);
    sink->DeclTypes(decltypes_);
  }
  std::vector<ValueView>& cells = cells_;
  cells.resize(ncol);
  for (;;) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return Status();
    if (rc != SQLITE_ROW) return Error(rc);
    for (int i = 0; i < ncol; ++i) {
      ValueView& v = cells[i];
      switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_INTEGER:
          v.type = ValueType::kInteger;
          v.integer = sqlite3_column_int64(stmt, i);
          break;
        case SQLITE_FLOAT:
          v.type = ValueType::kReal;
          v.real = sqlite3_column_double(stmt, i);
          break;
        case SQLITE_TEXT: {
          v.type = ValueType::kText;
          auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
          v.bytes = std::string_view(p ? p : "", sqlite3_column_bytes(stmt, i));
          break;
        }
        case SQLITE_BLOB: {
          v.type = ValueType::kBlob;
          auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, i));
          v.bytes = std::string_view(p ? p : "", sqlite3_column_bytes(stmt, i));
          break;
        }
        default:
          v.type = ValueType::kNull;
      }
    }
    Status st = sink->Row(cells);
    if (!st.ok()) return st;
  }
}

template <typename StepFn>
Status Handle::RunCounted(sqlite3_stmt* stmt, bool writes, bool inserts, StatementOutcome* outcome,
                          StepFn step) {
  // SQLite keeps the connection's last insert, which on a pooled handle may
  // be another lease's: report a rowid only if this statement inserted it
  // (it changed, or an insert changed rows and happened to reuse it).
  int64_t rowid_before = sqlite3_last_insert_rowid(db_);
  int64_t changes_before = sqlite3_total_changes64(db_);
  Status st = step(stmt);
  if (!st.ok()) return st;
  int64_t changed = sqlite3_total_changes64(db_) - changes_before;
  int64_t rowid = sqlite3_last_insert_rowid(db_);
  outcome->changes += changed;
  if (writes && (rowid != rowid_before || (inserts && changed > 0))) {
    outcome->last_insert_rowid = rowid;
  }
  return Status();
}

Status Handle::Query(std::string_view sql, const Params& params, Millis statement_timeout,
                     RowSink* sink, StatementOutcome* outcome, QuickRun* quick,
                     WriteOnRead on_write) {
  // Preparing may wait for a lock too (to read the schema).
  quick_ = quick;
  struct QuickEnd {
    Handle* h;
    ~QuickEnd() { h->quick_ = nullptr; }
  } quick_end{this};
  Cached cached;
  Status st = Prepare(sql, &cached);
  if (st.ok() && cached.writes && mode_ == Mode::kRead && on_write == WriteOnRead::kRedirect) {
    outcome->needs_writer = true;  // nothing ran: the writer runs it
    return Status();
  }
  if (quick != nullptr && (quick->gave_up || (st.ok() && !cached.quick_ok))) {
    quick->gave_up = true;
    return Status();
  }
  if (!st.ok()) return st;
  st = CheckFile(cached.writes || cached.control);
  if (!st.ok()) return st;
  StatementScope scope(this, cached.stmt);
  st = Bind(cached.stmt, params);
  if (!st.ok()) return st;
  BeginStatement(statement_timeout);
  *outcome = StatementOutcome{};
  st = RunCounted(cached.stmt, cached.writes, cached.inserts, outcome,
                  [this, sink](sqlite3_stmt* stmt) { return Step(stmt, sink); });
  if (quick != nullptr && quick->gave_up) return Status();
  if (cached.makes_dirty) dirty_ = true;
  return st;
}

Status Handle::CheckFile(bool writes) {
  if (!writes || file_ == nullptr) return Status();
  Status st = file_->Check();
  if (!st.ok()) broken_ = true;
  return st;
}

Status Handle::ExecOne(sqlite3_stmt* stmt) {
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
  }
  return rc == SQLITE_DONE ? Status() : Error(rc);
}

Status Handle::Exec(std::string_view sql, Millis statement_timeout, StatementOutcome* outcome) {
  *outcome = StatementOutcome{};
  const char* p = sql.data();
  const char* end = sql.data() + sql.size();
  while (p < end) {
    preparing_dirty_ = false;
    preparing_insert_ = false;
    preparing_control_ = false;
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v2(db_, p, static_cast<int>(end - p), &stmt, &tail);
    if (rc != SQLITE_OK) return Error(rc);
    if (stmt == nullptr) break;  // only trivia left
    if (preparing_dirty_) dirty_ = true;
    Status check = CheckFile(sqlite3_stmt_readonly(stmt) == 0 || preparing_control_);
    if (!check.ok()) {
      sqlite3_finalize(stmt);
      return check;
    }
    // Read handles are opened read-only: SQLite itself refuses a write
    // (SQLITE_READONLY → read_only), while reading PRAGMAs still work.
    BeginStatement(statement_timeout);
    Status st = RunCounted(stmt, sqlite3_stmt_readonly(stmt) == 0, preparing_insert_, outcome,
                           [this](sqlite3_stmt* s) { return ExecOne(s); });
    statement_deadline_ = TimePoint::max();
    sqlite3_finalize(stmt);
    if (!st.ok()) return st;
    p = tail;
  }
  return Status();
}

bool Handle::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

bool Handle::HoldsSnapshot() const { return sqlite3_txn_state(db_, "main") != SQLITE_TXN_NONE; }

bool Handle::Rollback() {
  // Called between leases: an interruption meant for the last lease must
  // neither stop this rollback nor the next lease's first statement.
  interrupt_.store(InterruptReason::kNone, std::memory_order_relaxed);
  if (!InTransaction()) return false;
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  return true;
}

int64_t Handle::CacheBytes() const {
  int current = 0, high = 0;
  sqlite3_db_status(db_, SQLITE_DBSTATUS_CACHE_USED, &current, &high, 0);
  return current;
}

}  // namespace litepool
