// The stepped copy and its atomic landing.
#include "pool/backup.h"

#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include "log/log.h"
#include "pool/open_connection.h"

namespace litepool {
namespace {

// Pages per sqlite3_backup_step: 4 MiB of 4 KiB pages, so a cancel (the
// client gone, a drain) is noticed within milliseconds.
constexpr int kPagesPerStep = 1024;
constexpr auto kProgressLogEvery = std::chrono::seconds(1);

Status Refuse(const std::string& why) { return Status(Code::kForbidden, why); }

Status Errno(const std::string& what) {
  return Status(Code::kInternal, what + ": " + std::strerror(errno));
}

bool RealPath(const std::string& path, std::string* out) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return false;
  *out = buf;
  return true;
}

bool Inside(const std::string& dir, const std::string& path) {
  if (dir == "/") return path.size() > 1 && path[0] == '/';
  return path.size() > dir.size() + 1 && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

Status SyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open " + path);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  errno = err;
  return rc == 0 ? Status() : Errno("cannot sync " + path);
}

// One copy in progress: owns the source and destination connections, the
// backup object and the temporary file, all used by the one worker that runs
// the backup. Its destructor closes them and removes the temporary file
// unless it was renamed into place.
class Copy {
 public:
  explicit Copy(std::string temp) : temp_(std::move(temp)) {}
  ~Copy() {
    if (backup_ != nullptr) sqlite3_backup_finish(backup_);
    sqlite3_close_v2(dest_);
    sqlite3_close_v2(src_);
    if (!landed_) {
      ::unlink(temp_.c_str());
      ::unlink((temp_ + "-journal").c_str());
    }
  }

  Status Open(const std::string& source, config::FileLock lock) {
    // Opened as the pool opens its read handles (pool/open_connection.h):
    // a plain read-only connection would loosen the daemon's exclusive lock.
    int rc = OpenConnection(source, lock, Access::kRead, SQLITE_OPEN_NOMUTEX, &src_);
    if (rc == SQLITE_OK) {
      // The snapshot: a read transaction opened now and held to the end,
      // so every step copies the same state and a writer's commit does not
      // restart the copy.
      rc = sqlite3_exec(src_, "BEGIN; SELECT count(*) FROM sqlite_schema", nullptr, nullptr,
                        nullptr);
    }
    if (rc != SQLITE_OK) return Sql(src_, "cannot read " + source);
    rc = sqlite3_open_v2(
        temp_.c_str(), &dest_,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE | SQLITE_OPEN_NOMUTEX,
        nullptr);
    // No journal and no syncs while copying: the file is thrown away on
    // any failure, and synced once, whole, before it is renamed.
    if (rc == SQLITE_OK) {
      rc = sqlite3_exec(dest_, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF", nullptr, nullptr,
                        nullptr);
    }
    if (rc != SQLITE_OK) return Sql(dest_, "cannot create " + temp_);
    backup_ = sqlite3_backup_init(dest_, "main", src_, "main");
    if (backup_ == nullptr) return Sql(dest_, "cannot start the backup");
    return Status();
  }

  // One step; *done once every page is copied.
  Status Step(bool* done) {
    int rc = sqlite3_backup_step(backup_, kPagesPerStep);
    *done = rc == SQLITE_DONE;
    if (rc == SQLITE_OK || rc == SQLITE_DONE) return Status();
    return Status(Code::kInternal, std::string("backup step: ") + sqlite3_errstr(rc), rc);
  }
  int64_t remaining() const { return sqlite3_backup_remaining(backup_); }
  int64_t total() const { return sqlite3_backup_pagecount(backup_); }

  // Ends the copy and closes the files, so the synced bytes are final.
  Status Finish() {
    int rc = sqlite3_backup_finish(backup_);
    backup_ = nullptr;
    if (rc != SQLITE_OK) return Sql(dest_, "cannot finish the backup");
    rc = sqlite3_close(dest_);
    if (rc != SQLITE_OK) return Status(Code::kInternal, "cannot close " + temp_, rc);
    dest_ = nullptr;
    return Status();
  }
  void Landed() { landed_ = true; }

 private:
  static Status Sql(sqlite3* db, const std::string& what) {
    return Status(Code::kInternal, what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"),
                  db ? sqlite3_extended_errcode(db) : SQLITE_NOMEM);
  }

  const std::string temp_;
  sqlite3* src_ = nullptr;
  sqlite3* dest_ = nullptr;
  sqlite3_backup* backup_ = nullptr;
  bool landed_ = false;
};

std::string TempName(const std::string& target) {
  static std::atomic<uint64_t> counter{0};
  size_t slash = target.rfind('/');
  return target.substr(0, slash + 1) + "." + target.substr(slash + 1) + ".tmp-" +
         std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

// Runs the copy through to the rename; `wal` is marked busy with it.
Status CopyAndLand(WalState* wal, const std::string& target, const std::function<bool()>& cancelled,
                   WalEvents* events, BackupOutcome* out) {
  std::string temp = TempName(target);
  Copy copy(temp);
  Status st = copy.Open(wal->path(), wal->file_lock());
  if (!st.ok()) return st;
  auto last_log = Clock::now();
  for (bool done = false; !done;) {
    if (cancelled()) return Status(Code::kShuttingDown, "the backup was cancelled");
    st = copy.Step(&done);
    if (!st.ok()) return st;
    events->BackupProgress(copy.remaining(), copy.total());
    if (!done && Clock::now() - last_log >= kProgressLogEvery) {
      last_log = Clock::now();
      log::Info("backup_progress")
          .Str("db", wal->db())
          .Str("file", target)
          .Int("remaining_pages", copy.remaining())
          .Int("total_pages", copy.total());
    }
  }
  out->pages = copy.total();
  st = copy.Finish();
  if (st.ok()) st = SyncPath(temp, O_RDONLY);
  if (!st.ok()) return st;
  if (::rename(temp.c_str(), target.c_str()) != 0) return Errno("cannot rename to " + target);
  copy.Landed();
  std::string dir = target.substr(0, target.rfind('/'));
  st = SyncPath(dir.empty() ? "/" : dir, O_RDONLY | O_DIRECTORY);
  struct stat info;
  if (::stat(target.c_str(), &info) == 0) out->bytes = info.st_size;
  return st;
}

}  // namespace

Status ResolveBackupTarget(const std::string& backup_dir, const std::string& file,
                           std::string* out) {
  if (backup_dir.empty()) return Refuse("backups are off: backup_dir is not configured");
  if (file.empty()) return Status(Code::kBadRequest, "file: empty");
  if (file.find('\0') != std::string::npos) return Status(Code::kBadRequest, "file: NUL byte");
  if (file.back() == '/') return Status(Code::kBadRequest, "file: names a directory");
  for (size_t start = 0; start <= file.size();) {
    size_t end = file.find('/', start);
    if (end == std::string::npos) end = file.size();
    if (file.compare(start, end - start, "..") == 0) return Refuse("file: must not contain ..");
    start = end + 1;
  }
  std::string dir;
  if (!RealPath(backup_dir, &dir)) {
    return Status(Code::kInternal, "backup_dir " + backup_dir + ": " + std::strerror(errno));
  }
  std::string joined = file.front() == '/' ? file : backup_dir + "/" + file;
  size_t slash = joined.rfind('/');
  std::string name = joined.substr(slash + 1);
  if (name.empty() || name == ".") return Status(Code::kBadRequest, "file: names a directory");
  // The parent must exist and, followed through any symlink, be backup_dir
  // or below it.
  std::string parent;
  if (!RealPath(slash == 0 ? "/" : joined.substr(0, slash), &parent)) {
    return Refuse("file: " + file + " is not inside backup_dir " + backup_dir);
  }
  if (parent != dir && !Inside(dir, parent)) {
    return Refuse("file: " + file + " is not inside backup_dir " + backup_dir);
  }
  std::string target = (parent == "/" ? "" : parent) + "/" + name;
  struct stat info;
  if (::lstat(target.c_str(), &info) == 0 && !S_ISREG(info.st_mode)) {
    return Refuse("file: " + file + " exists and is not a regular file");
  }
  *out = target;
  return Status();
}

Status RunBackup(WalState* wal, const std::string& target, const std::function<bool()>& cancelled,
                 WalEvents* events, BackupOutcome* out) {
  auto start = Clock::now();
  if (!wal->TryStartBackup(start)) {
    return Status(Code::kBusy, "a backup of " + wal->db() + " is already running");
  }
  log::Info("backup_started").Str("db", wal->db()).Str("file", target);
  Status st = CopyAndLand(wal, target, cancelled, events, out);
  wal->BackupEnded();
  out->seconds = std::chrono::duration<double>(Clock::now() - start).count();
  BackupResult result = st.ok()                            ? BackupResult::kOk
                        : st.code() == Code::kShuttingDown ? BackupResult::kCancelled
                                                           : BackupResult::kError;
  events->BackupProgress(0, 0);
  events->BackupDone(result, out->seconds, out->bytes);
  auto event = st.ok() ? log::Info("backup_done") : log::Warn("backup_failed");
  event.Str("db", wal->db()).Str("file", target).Str("result", BackupResultName(result));
  event.Int("bytes", out->bytes).Int("pages", out->pages);
  event.Int("duration_ms", static_cast<int64_t>(out->seconds * 1000));
  if (!st.ok()) event.Str("error", st.message());
  return st;
}

}  // namespace litepool
