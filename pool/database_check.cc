// Opening a configured database file the way the daemon would, read-only.
#include "pool/database_check.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pool/database_file.h"
#include "pool/handle_factory.h"

namespace litepool {
namespace {

std::string Dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Status Unavailable(const std::string& what) { return Status(Code::kDatabaseUnavailable, what); }

}  // namespace

DatabaseCheck CheckDatabaseFile(const config::Database& db) {
  DatabaseCheck out;
  struct stat st;
  if (::stat(db.path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT && db.create_if_missing) {
      out.note = "does not exist yet; will be created (create_if_missing)";
      if (::access(Dir(db.path).c_str(), W_OK) != 0) {
        out.status = Unavailable("cannot be created: directory " + Dir(db.path) +
                                 " is not writable (" + std::strerror(errno) + ")");
      }
      return out;
    }
    out.status = Unavailable(err == ENOENT ? db.path +
                                                 " does not exist (set create_if_missing "
                                                 "to create it)"
                                           : "cannot stat " + db.path + ": " + std::strerror(err));
    return out;
  }
  if (!S_ISREG(st.st_mode)) {
    out.status = Unavailable(db.path + " is not a regular file");
    return out;
  }
  sqlite3* handle = nullptr;
  int rc = sqlite3_open_v2(db.path.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr);
  out.status = rc == SQLITE_OK ? ReadSchema(handle, db.path) : OpenError(handle, rc, db.path);
  sqlite3_close_v2(handle);
  bool locked = (out.status.sqlite_code() & 0xff) == SQLITE_BUSY;
  if (locked && !db.read_only && DatabaseFile::LockedByOther(db.path)) {
    // A daemon serving it under file_lock "exclusive" holds SQLite's lock
    // too, so it cannot be read from here (docs/operations.md, "One owner
    // per file"); that daemon has checked it.
    out.status = Status();
    out.note = "in use by a running litepoold";
    return out;
  }
  if (!out.status.ok() || db.read_only) return out;
  if (::access(db.path.c_str(), W_OK) != 0) {
    out.status = Unavailable(db.path + " is not writable (" + std::strerror(errno) + ")");
  } else if (::access(Dir(db.path).c_str(), W_OK) != 0) {
    out.status = Unavailable("directory " + Dir(db.path) +
                             " is not writable; SQLite writes its -wal, -shm and journal files "
                             "there (" +
                             std::strerror(errno) + ")");
  } else if (DatabaseFile::LockedByOther(db.path)) {
    out.note = "in use by a running litepoold";
  }
  return out;
}

}  // namespace litepool
