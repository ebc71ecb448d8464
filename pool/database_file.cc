// Claiming a database file and noticing when it is removed or replaced.
#include "pool/database_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace litepool {
DatabaseFile::DatabaseFile(std::string path, int fd, dev_t dev, ino_t ino)
    : path_(std::move(path)), fd_(fd), dev_(dev), ino_(ino) {}

DatabaseFile::~DatabaseFile() { ::close(fd_); }  // releases the lock

Status DatabaseFile::Claim(const std::string& path, bool create, std::shared_ptr<DatabaseFile>* out,
                           bool* created) {
  *created = false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT && create) {
    // An empty file is an empty SQLite database; SQLite would create it
    // with the same mode.
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_CREAT | O_EXCL, 0644);
    *created = fd >= 0;
  }
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) {
      return Status(Code::kDatabaseUnavailable,
                    path +
                        " does not exist (create_if_missing is false, so a lost file is not "
                        "silently replaced by an empty database)");
    }
    return Status(Code::kStorageError, "cannot open " + path + ErrnoSuffix(err));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Status(Code::kDatabaseUnavailable,
                    path +
                        " is in use by another litepoold (it holds the daemon's lock on the "
                        "file); one daemon per database file");
    }
    return Status(Code::kStorageError, "cannot lock " + path + ErrnoSuffix(err));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status(Code::kStorageError, "cannot stat " + path + ErrnoSuffix(err));
  }
  out->reset(new DatabaseFile(path, fd, st.st_dev, st.st_ino));
  return Status();
}

bool DatabaseFile::LockedByOther(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // drops the shared lock if it was taken
  return locked;
}

Status DatabaseFile::Check() const {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) {
      return Status(Code::kFileGone, "the database file " + path_ +
                                         " was removed while open; writes are refused, so that "
                                         "none is acknowledged into a file that is gone");
    }
    return Status(Code::kStorageError, "cannot stat " + path_ + ErrnoSuffix(err));
  }
  if (st.st_dev != dev_ || st.st_ino != ino_) {
    return Status(Code::kFileGone, "the database file " + path_ +
                                       " was replaced by another file while open; writes are "
                                       "refused until the daemon reopens it");
  }
  return Status();
}

}  // namespace litepool
