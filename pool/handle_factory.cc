// Opening and configuring SQLite connections.
#include "pool/handle_factory.h"

#include <sqlite3.h>

#include <cstring>
#include <random>

#include "pool/open_connection.h"

namespace litepool {
namespace {

constexpr double kMaxJitter = 0.025;

double UnitRandom() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

Status RunPragma(sqlite3* db, const std::string& name, const std::string& value,
                 const std::string& path) {
  // Names and values were restricted to [A-Za-z0-9_.-] by the config
  // validator, so splicing them is safe.
  std::string sql = "PRAGMA " + name + "=" + value;
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status();
  Status st(Code::kInternal, "pragma " + name + ": " + (err ? err : "failed"),
            sqlite3_extended_errcode(db));
  sqlite3_free(err);
  switch (rc & 0xff) {
    case SQLITE_ERROR:
    case SQLITE_MISUSE:
      return st;  // the PRAGMA itself
    default:
      return OpenError(db, rc, path);  // the file under it
  }
}

}  // namespace

// With the system's reason where there is one: "unable to open database
// file" alone does not tell a missing file from a full fd table.
Status OpenError(sqlite3* db, int rc, const std::string& path) {
  std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  int err = db ? sqlite3_system_errno(db) : 0;
  if (err != 0) why += ErrnoSuffix(err);
  int extended = db ? sqlite3_extended_errcode(db) : rc;
  std::string message = "cannot open " + path + ": " + why;
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return Status(Code::kDiskFull, message, extended);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status(Code::kCorrupt, message, extended);
    default:
      return Status(Code::kStorageError, message, extended);
  }
}

Status ReadSchema(sqlite3* db, const std::string& path) {
  int rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
  return rc == SQLITE_OK ? Status() : OpenError(db, rc, path);
}

HandleFactory::HandleFactory(const config::Database& db, const TimeSource* clock)
    : db_(db),
      clock_(clock),
      sandbox_(std::make_shared<SandboxPolicy>(SandboxPolicy{db.limits.client_pragmas})),
      wal_(std::make_shared<WalState>(db.name, db.path, db.read_only, db.file_lock, clock)) {}

HandleFactory::~HandleFactory() {
  MutexLock lock(&mu_);
  sqlite3_close_v2(anchor_);
}

Millis HandleFactory::JitteredLifetime(Millis max_lifetime, double unit_random) {
  auto jitter = static_cast<Millis::rep>(static_cast<double>(max_lifetime.count()) * kMaxJitter *
                                         unit_random);
  return max_lifetime - Millis(jitter);
}

Status HandleFactory::OpenRaw(Mode mode, bool create, sqlite3** out) {
  bool writes = mode == Mode::kWrite && !db_.read_only;
  Access access = !writes ? Access::kRead : create ? Access::kCreate : Access::kWrite;
  sqlite3* db = nullptr;
  int rc = OpenConnection(db_.path, db_.file_lock, access,
                          SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, &db);
  if (rc != SQLITE_OK) {
    Status st = OpenError(db, rc, db_.path);
    sqlite3_close_v2(db);
    return st;
  }
  // Under "exclusive" a read handle is opened read-write too (query_only):
  // the same check applies, since the file must be writable for the lock.
  bool opened_read_write = writes || db_.file_lock == config::FileLock::kExclusive;
  if (opened_read_write && sqlite3_db_readonly(db, "main") == 1) {
    // SQLite opens a file it may not write read-only, silently; such a
    // write handle would refuse every write until it is closed.
    sqlite3_close_v2(db);
    return Status(
        Code::kStorageError,
        "cannot open " + db_.path + " for writing: not writable (permissions or a read-only mount)",
        SQLITE_READONLY);
  }
  *out = db;
  return Status();
}

Status HandleFactory::Recover() {
  if (db_.read_only) return Status();  // nothing here may write the file
  return Prepare();
}

Status HandleFactory::Prepare() {
  // The pool claimed (and if allowed created) the file first.
  sqlite3* db = nullptr;
  Status st = OpenRaw(db_.read_only ? Mode::kRead : Mode::kWrite, db_.create_if_missing, &db);
  if (st.ok()) st = ReadSchema(db, db_.path);
  for (const auto& [name, value] : db_.pragmas) {
    if (!st.ok() || db_.read_only) break;
    if (name == "journal_mode") st = RunPragma(db, name, value, db_.path);
  }
  if (st.ok() && db_.file_lock == config::FileLock::kExclusive) {
    // Having read the schema, it holds the process's lock on the file; kept
    // open, it goes on holding it (and the WAL index) while the pool has no
    // handle open. The previous anchor (an earlier start, a replaced file)
    // goes once the new one holds.
    MutexLock lock(&mu_);
    std::swap(db, anchor_);
  }
  sqlite3_close_v2(db);
  return st;
}

void HandleFactory::SetFile(std::shared_ptr<const DatabaseFile> file, uint64_t generation) {
  MutexLock lock(&mu_);
  file_ = std::move(file);
  generation_ = generation;
}

Status HandleFactory::Open(Mode mode, std::unique_ptr<Handle>* out) {
  sqlite3* db = nullptr;
  Status st = OpenRaw(mode, /*create=*/false, &db);
  if (!st.ok()) return st;
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(db_.limits.busy_timeout_ms));
  // The sandbox: no extensions, no ATTACH, defensive mode (docs/architecture.md, "Sandbox").
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  if (mode == Mode::kRead && db_.mmap_size > 0) {
    // Point reads copy nothing into the page cache: measured in
    // bench/RESULTS.md, "Owning the file". Before the configured PRAGMAs,
    // so that an mmap_size among them still has the last word.
    st = RunPragma(db, "mmap_size", std::to_string(db_.mmap_size), db_.path);
    if (!st.ok()) {
      sqlite3_close_v2(db);
      return st;
    }
  }
  for (const auto& [name, value] : db_.pragmas) {
    if (name == "journal_mode") continue;  // a property of the file: set in Prepare()
    st = RunPragma(db, name, value, db_.path);
    if (!st.ok()) {
      sqlite3_close_v2(db);
      return st;
    }
  }
  // Checkpoints belong to the daemon's checkpointer, not to the commit
  // that happens to cross SQLite's threshold (docs/architecture.md).
  if (mode == Mode::kWrite && !db_.read_only) wal_->Attach(db);
  TimePoint now = clock_->Now();
  Millis lifetime = JitteredLifetime(Millis(db_.limits.max_lifetime_ms), UnitRandom());
  *out = std::make_unique<Handle>(db, mode, next_id_.fetch_add(1), sandbox_, now, now + lifetime);
  {
    MutexLock lock(&mu_);
    (*out)->SetFile(mode == Mode::kWrite ? file_ : nullptr, generation_);
  }
  // The handle's own busy handler replaces SQLite's from here on.
  (*out)->SetBusyTimeout(Millis(db_.limits.busy_timeout_ms));
  (*out)->SetExpectWritable(mode == Mode::kWrite && !db_.read_only);
  return Status();
}

}  // namespace litepool
