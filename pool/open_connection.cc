// Opening a connection with the database's VFS and locking.
#include "pool/open_connection.h"

#include <sqlite3.h>

namespace litepool {

const char* VfsFor(config::FileLock lock) {
  // unix-excl takes one exclusive lock on the file for the process the
  // first time a read-write connection locks it, keeps it until the last
  // connection closes, and keeps the WAL index in heap memory shared by
  // the process's connections instead of a -shm file: a transaction costs
  // no system call (bench/RESULTS.md, "Owning the file").
  return lock == config::FileLock::kExclusive ? "unix-excl" : nullptr;
}

int OpenConnection(const std::string& path, config::FileLock lock, Access access, int extra_flags,
                   sqlite3** out) {
  bool exclusive = lock == config::FileLock::kExclusive;
  int flags = extra_flags;
  if (access == Access::kRead && !exclusive) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE | (access == Access::kCreate ? SQLITE_OPEN_CREATE : 0);
  }
  int rc = sqlite3_open_v2(path.c_str(), out, flags, VfsFor(lock));
  if (rc == SQLITE_OK && access == Access::kRead && exclusive) {
    // SQLite itself refuses every write from here on (SQLITE_READONLY, as
    // on a connection opened read-only); clients may not set this PRAGMA
    // unless an operator lists it in client_pragmas.
    rc = sqlite3_exec(*out, "PRAGMA query_only=1", nullptr, nullptr, nullptr);
  }
  return rc;
}

}  // namespace litepool
