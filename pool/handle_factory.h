// Opens the handles of one database: flags, configured PRAGMAs, busy timeout
// and the sandbox settings, so every handle starts in the same known state.
#pragma once

#include <atomic>
#include <memory>

#include "base/mutex.h"
#include "config/config.h"
#include "pool/clock.h"
#include "pool/database_file.h"
#include "pool/handle.h"
#include "pool/wal_state.h"

struct sqlite3;

namespace litepool {

// What an open (or the first read of a new connection) failing with `rc`
// means: disk_full, corrupt or storage_error, naming the file and errno.
Status OpenError(sqlite3* db, int rc, const std::string& path);
// Reads the schema: the first read rolls back a hot journal a crashed
// writer left (on a connection that may write), and finds a file that is
// not a database.
Status ReadSchema(sqlite3* db, const std::string& path);

// Thread-safe: Open() may run on several workers at once. The database
// configuration is copied at construction. Under file_lock "exclusive" it
// also owns the anchor: the connection Prepare() opened, kept idle so that
// the process's exclusive lock and the in-heap WAL index outlive the last
// pool handle (docs/configuration.md, "file_lock").
class HandleFactory {
 public:
  HandleFactory(const config::Database& db, const TimeSource* clock);
  // Closes the anchor while file_ still holds the daemon's descriptor:
  // closing that one last would drop SQLite's locks under it (POSIX).
  ~HandleFactory();

  // Opens a handle of `mode` (read handles are opened read-only). Slow: it
  // touches the disk; never call it with a lock held.
  Status Open(Mode mode, std::unique_ptr<Handle>* out);

  // Checks the (claimed) file is a database, recovers it after a crash (a
  // hot journal) and sets its persistent PRAGMAs (journal_mode). Called
  // when the pool starts. Slow.
  Status Prepare();
  // Handles opened from now on carry `generation` and, write handles, check
  // `file` before each write (Handle::SetFile).
  void SetFile(std::shared_ptr<const DatabaseFile> file, uint64_t generation);
  // Rolls back a hot journal that a read handle could not: opens a write
  // connection and reads the schema. Slow.
  Status Recover();

  // Lifetime with the random jitter of docs/configuration.md (up to 2.5 % shorter).
  static Millis JitteredLifetime(Millis max_lifetime, double unit_random);

  // The database's WAL bookkeeping, fed by every write handle opened here.
  const std::shared_ptr<WalState>& wal() const { return wal_; }

 private:
  Status OpenRaw(Mode mode, bool create, struct sqlite3** out);

  const config::Database db_;
  const TimeSource* const clock_;
  const std::shared_ptr<const SandboxPolicy> sandbox_;
  const std::shared_ptr<WalState> wal_;
  std::atomic<uint64_t> next_id_{1};
  Mutex mu_;
  std::shared_ptr<const DatabaseFile> file_ GUARDED_BY(mu_);
  uint64_t generation_ GUARDED_BY(mu_) = 0;
  // The last Prepare()'s connection under kExclusive (never leased, never
  // used after Prepare()); nullptr otherwise.
  sqlite3* anchor_ GUARDED_BY(mu_) = nullptr;
};

}  // namespace litepool
