// The daemon's configuration: every key of docs/configuration.md with its default, already
// validated. Built once by config::Load (or EmbeddedDefault) and then only
// read; a reload builds a fresh Config rather than mutating a live one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "log/level.h"

namespace litepool::config {

// Per-database pool sizes and time limits (docs/configuration.md). `defaults` holds one,
// and each database gets a copy with its own keys merged over it.
struct PoolLimits {
  int max_writers = 1;
  int max_readers = 4;
  int min_idle = 0;
  int max_waiters = 1024;
  int max_leases_per_client = 8;
  int64_t acquire_timeout_ms = 5000;
  int64_t lease_timeout_ms = 30000;
  int64_t leak_warn_ms = 10000;  // 0: off
  int64_t max_lifetime_ms = 1800000;
  int64_t idle_timeout_ms = 600000;
  int64_t statement_timeout_ms = 0;  // 0: off
  int64_t busy_timeout_ms = 5000;
  // The daemon's checkpointer (docs/configuration.md, "Checkpoints"): a
  // passive checkpoint once this many WAL frames are not yet copied back;
  // a truncate once no commit came for checkpoint_idle_ms, or right after a
  // complete passive one when the WAL file is larger than wal_truncate_bytes.
  int64_t checkpoint_frames = 1000;
  int64_t checkpoint_idle_ms = 1000;
  int64_t wal_truncate_bytes = 16777216;
  // PRAGMA names a client may set through SQL (all others are refused).
  // Lower-case, as are the names in Database::pragmas.
  std::vector<std::string> client_pragmas;
};

// How the daemon holds a database file against other processes
// (docs/configuration.md, "file_lock"; docs/operations.md, "One owner per file").
enum class FileLock {
  // Every connection of the daemon to the file uses SQLite's unix-excl VFS:
  // one exclusive lock for the process, the WAL index in heap memory.
  kExclusive,
  // SQLite's default unix VFS: other processes may read (and write) beside
  // the daemon.
  kShared,
};

// The mmap_size read handles get when a database does not say: off. A
// mapping gains little on point selects end to end and costs twice the
// CPU as soon as the file grows, since SQLite remaps it then (measured:
// bench/RESULTS.md, "mmap_size and a growing file").
constexpr int64_t kDefaultMmapSize = 0;

struct Database {
  std::string name;  // [A-Za-z0-9_-]{1,64}
  // As written; a relative path is relative to the daemon's working
  // directory.
  std::string path;
  bool read_only = false;
  // Create the file when it does not exist. Off by default, so that a
  // restart after the file was lost serves an error instead of an empty
  // database (docs/configuration.md, "Databases").
  bool create_if_missing = false;
  // kShared for a read_only database (it is opened read-only, which cannot
  // hold the file exclusively), kExclusive otherwise unless configured.
  FileLock file_lock = FileLock::kExclusive;
  // PRAGMA mmap_size on every read handle, in bytes; 0: reads go through
  // read(2) into SQLite's page cache.
  int64_t mmap_size = kDefaultMmapSize;
  PoolLimits limits;
  // Applied in order on every handle that is opened (journal_mode only on
  // the write side, since it is a property of the file). Names are
  // lower-case identifiers and values words of [A-Za-z0-9_.-] (booleans
  // become "1"/"0"): checked at load, so they can be spliced into
  // `PRAGMA name=value` without quoting.
  std::vector<std::pair<std::string, std::string>> pragmas;
  // Unset: the daemon-wide allowed_uids apply.
  std::optional<std::vector<uint32_t>> allowed_uids;
};

// The log's own types: the configuration feeds the log, which depends on
// nothing above it.
using LogLevel = log::Level;
using LogFormat = log::Format;

struct Config {
  std::string socket = "./litepool.sock";
  uint32_t socket_mode = 0660;
  // "" disables the metrics endpoint; port 0 picks a free port (tests).
  std::string metrics_listen = "127.0.0.1:9433";
  std::string metrics_path = "/metrics";
  int64_t reaper_interval_ms = 1000;
  int max_clients = 1024;
  // Threads serving client sessions; 0: half the cores, 1 to 4
  // (docs/configuration.md, "io_threads").
  int io_threads = 0;
  int64_t max_request_bytes = 1048576;
  int64_t max_result_bytes = 16777216;
  int64_t shutdown_grace_ms = 10000;
  std::vector<uint32_t> allowed_uids;  // empty: any peer that can open the socket
  std::vector<uint32_t> admin_uids;    // empty: the daemon's own uid and root
  // Where `backup` may write (an absolute directory); "" refuses backups.
  std::string backup_dir;
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kJson;
  PoolLimits defaults;
  std::vector<Database> databases;  // sorted by name, never empty
  // Where this configuration came from: a file path or "<embedded default>".
  std::string source;
};

// The configuration `litepoold` runs on when given no file: socket
// ./litepool.sock, metrics on 127.0.0.1:9433, database `main` at
// ./litepool-main.db in WAL mode.
Config EmbeddedDefault();

// Reads and validates a JSON configuration file. On failure returns nullopt
// and sets *error to a one-line message naming the file and the key, e.g.
// "/etc/litepool.json: databases.main.max_readers: must be >= 0, got -1".
std::optional<Config> LoadFile(const std::string& path, std::string* error);

// Same, from text already read (`source` names it in messages).
std::optional<Config> LoadText(const std::string& text, const std::string& source,
                               std::string* error);

// Command-line overrides (docs/configuration.md): each set field replaces the file's value
// after validation of its own format. Returns false and sets *error when a
// value is malformed (e.g. a listen address without a port).
struct Overrides {
  std::optional<std::string> socket;
  std::optional<std::string> metrics_listen;
  std::optional<std::string> log_level;
};
bool ApplyOverrides(const Overrides& overrides, Config* config, std::string* error);

}  // namespace litepool::config
