// The one way the daemon opens a SQLite connection to a database it serves,
// so that every connection to one file — pool handles, the checkpointer's,
// a backup's source, recovery — uses the same VFS and the same locks
// (docs/configuration.md, "file_lock").
#pragma once

#include <string>

#include "config/config.h"

struct sqlite3;

namespace litepool {

enum class Access {
  kRead,    // reads only
  kWrite,   // reads and writes an existing file
  kCreate,  // kWrite, creating the file if it is missing
};

// sqlite3_open_v2 with the flags and VFS that `lock` calls for, plus
// `extra_flags` (SQLITE_OPEN_NOMUTEX and the like). Returns SQLite's result
// code; *out is set even on failure (for the message) and the caller closes
// it. Slow: it touches the disk.
//
// Under kExclusive every connection is opened read-write on unix-excl, and
// a kRead one is made read-only with PRAGMA query_only: SQLite passes the
// locks of a connection opened read-only straight to fcntl(2) even on
// unix-excl, and a process's read lock replaces its own write lock on the
// same bytes (POSIX), so a single read-only connection would let other
// processes back in (and, in a rollback-journal database, drop the lock
// altogether when its transaction ends).
int OpenConnection(const std::string& path, config::FileLock lock, Access access, int extra_flags,
                   sqlite3** out);

// The VFS name a connection to a database under `lock` is opened with
// (nullptr: SQLite's default).
const char* VfsFor(config::FileLock lock);

}  // namespace litepool
