// Opening and configuring SQLite connections.
#include "pool/handle_factory.h"

#include <sqlite3.h>

#include <random>

namespace litepool {
namespace {

constexpr double kMaxJitter = 0.025;

double UnitRandom() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

Status RunPragma(sqlite3* db, const std::string& name, const std::string& value) {
  // Names and values were restricted to [A-Za-z0-9_.-] by the config
  // validator, so splicing them is safe.
  std::string sql = "PRAGMA " + name + "=" + value;
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    Status st(Code::kInternal, "pragma " + name + ": " + (err ? err : "failed"),
              sqlite3_extended_errcode(db));
    sqlite3_free(err);
    return st;
  }
  return Status();
}

}  // namespace

HandleFactory::HandleFactory(const config::Database& db, const TimeSource* clock)
    : db_(db),
      clock_(clock),
      sandbox_(std::make_shared<SandboxPolicy>(SandboxPolicy{db.limits.client_pragmas})),
      wal_(std::make_shared<WalState>(db.name, db.path, db.read_only, clock)) {}

Millis HandleFactory::JitteredLifetime(Millis max_lifetime, double unit_random) {
  auto jitter = static_cast<Millis::rep>(static_cast<double>(max_lifetime.count()) * kMaxJitter *
                                         unit_random);
  return max_lifetime - Millis(jitter);
}

Status HandleFactory::OpenRaw(Mode mode, bool create, sqlite3** out) {
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  if (mode == Mode::kRead || db_.read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(db_.path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status st(Code::kInternal,
              "cannot open " + db_.path + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)),
              rc);
    sqlite3_close_v2(db);
    return st;
  }
  *out = db;
  return Status();
}

Status HandleFactory::Prepare() {
  if (db_.read_only) return Status();
  sqlite3* db = nullptr;
  Status st = OpenRaw(Mode::kWrite, /*create=*/true, &db);
  if (!st.ok()) return st;
  for (const auto& [name, value] : db_.pragmas) {
    if (name == "journal_mode") st = RunPragma(db, name, value);
    if (!st.ok()) break;
  }
  sqlite3_close_v2(db);
  return st;
}

Status HandleFactory::Open(Mode mode, std::unique_ptr<Handle>* out) {
  sqlite3* db = nullptr;
  Status st = OpenRaw(mode, /*create=*/false, &db);
  if (!st.ok()) return st;
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(db_.limits.busy_timeout_ms));
  // The sandbox: no extensions, no ATTACH, defensive mode (SPEC §4).
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, nullptr);
  sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
  for (const auto& [name, value] : db_.pragmas) {
    if (name == "journal_mode") continue;  // a property of the file: set in Prepare()
    st = RunPragma(db, name, value);
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
  // The handle's own busy handler replaces SQLite's from here on.
  (*out)->SetBusyTimeout(Millis(db_.limits.busy_timeout_ms));
  return Status();
}

}  // namespace litepool
