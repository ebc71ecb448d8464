// The database file a pool serves, held open for two promises: one daemon
// per file (an exclusive flock(2) on the file itself, which SQLite's own
// fcntl locks neither see nor release), and no write acknowledged into a
// file that is gone (the path must still name the inode that was opened).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "base/status.h"

namespace litepool {

// Immutable once claimed; Check() may run on any thread at once. Closing
// the descriptor would drop the process's fcntl locks on the file, SQLite's
// included (POSIX), so an owner keeps it until no SQLite connection to the
// file is left: the pool keeps every file it claimed for its lifetime.
class DatabaseFile {
 public:
  ~DatabaseFile();
  DatabaseFile(const DatabaseFile&) = delete;
  DatabaseFile& operator=(const DatabaseFile&) = delete;

  // Opens `path` (creating it empty when `create`, telling *created) and
  // takes the daemon's lock on it: database_unavailable if another
  // litepoold holds it, file_gone if it does not exist.
  static Status Claim(const std::string& path, bool create, std::shared_ptr<DatabaseFile>* out,
                      bool* created);
  // Whether another process holds the lock now (for --check-config).
  static bool LockedByOther(const std::string& path);

  // file_gone if the path was removed or now names another file; one
  // stat(2).
  Status Check() const;

 private:
  DatabaseFile(std::string path, int fd, dev_t dev, ino_t ino);

  const std::string path_;
  const int fd_;
  const dev_t dev_;
  const ino_t ino_;
};

}  // namespace litepool
