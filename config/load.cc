// Reading and validating a configuration file (docs/configuration.md).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include "config/config.h"
#include "config/formats.h"
#include "config/json_parse.h"
#include "config/json_reader.h"
#include "config/limits.h"

namespace litepool::config {
namespace {

using internal::Json;
using internal::ObjectReader;
using internal::Quote;

// A configuration is a few kilobytes; the cap keeps a wrong path such as
// /dev/zero from filling memory.
constexpr size_t kMaxFileBytes = 4 << 20;

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

bool ReadWholeFile(const std::string& path, std::string* text, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "cannot open: " + ErrnoText(errno);
    return false;
  }
  char buf[65536];
  bool ok = true;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = "cannot read: " + ErrnoText(errno);
      ok = false;
      break;
    }
    if (n == 0) break;
    text->append(buf, static_cast<size_t>(n));
    if (text->size() > kMaxFileBytes) {
      *error = "cannot read: larger than " + std::to_string(kMaxFileBytes) + " bytes";
      ok = false;
      break;
    }
  }
  ::close(fd);
  return ok;
}

// Reads a key holding a format-checked string: `check` returns "" or what
// is wrong.
template <typename Check>
void CheckedString(ObjectReader* reader, std::string_view key, Check check, std::string* out) {
  std::string value = *out;
  reader->String(key, &value);
  if (!reader->ok()) return;
  std::string what = check(value);
  if (what.empty()) {
    *out = std::move(value);
  } else {
    reader->Fail(key, what);
  }
}

void ReadSocketMode(ObjectReader* reader, uint32_t* mode) {
  const Json* value = reader->Find("socket_mode");
  if (value == nullptr) return;
  // A JSON number cannot be octal: 660 would silently mean 01224. Only a
  // string of octal digits says what the writer meant.
  if (!value->is_string()) {
    reader->Fail("socket_mode", "expected a string of octal digits such as \"0660\", got " +
                                    internal::TypeName(*value));
    return;
  }
  std::string text = value->get<std::string>();
  std::optional<uint32_t> parsed = internal::ParseSocketMode(text);
  if (!parsed) {
    reader->Fail(
        "socket_mode",
        "expected octal permission bits between \"0000\" and \"0777\", got " + Quote(text));
    return;
  }
  *mode = *parsed;
}

void ReadMetrics(ObjectReader* top, Config* config) {
  const Json* object = top->Object("metrics");
  if (object == nullptr) return;
  ObjectReader reader = top->Nested("metrics", *object);
  reader.RefuseUnknownKeys({"listen", "path"});
  CheckedString(&reader, "listen", internal::CheckListen, &config->metrics_listen);
  CheckedString(&reader, "path", internal::CheckMetricsPath, &config->metrics_path);
}

void ReadLog(ObjectReader* top, Config* config) {
  const Json* object = top->Object("log");
  if (object == nullptr) return;
  ObjectReader reader = top->Nested("log", *object);
  reader.RefuseUnknownKeys({"level", "format"});
  std::string level = log::LevelName(config->log_level);
  reader.String("level", &level);
  if (!reader.ok()) return;
  if (auto parsed = internal::ParseLogLevel(level)) {
    config->log_level = *parsed;
  } else {
    reader.Fail("level", "expected one of debug, info, warn, error, got " + Quote(level));
    return;
  }
  std::string format = config->log_format == LogFormat::kJson ? "json" : "text";
  reader.String("format", &format);
  if (!reader.ok()) return;
  if (auto parsed = internal::ParseLogFormat(format)) {
    config->log_format = *parsed;
  } else {
    reader.Fail("format", "expected one of json, text, got " + Quote(format));
  }
}

// Pragma values are spliced into `PRAGMA name=value` SQL when a handle is
// opened (SQLite cannot bind parameters in a PRAGMA), so this is the
// security check that keeps a configuration from smuggling SQL in: names
// are identifiers and values are single words of [A-Za-z0-9_.-].
void ReadPragmas(ObjectReader* db, Database* database) {
  const Json* object = db->Object("pragmas");
  if (object == nullptr) return;
  ObjectReader reader = db->Nested("pragmas", *object);
  for (const auto& [name, value] : object->items()) {
    if (!internal::IsPragmaName(name)) {
      reader.Fail(name, "expected a PRAGMA name ([A-Za-z_][A-Za-z0-9_]*)");
      return;
    }
    std::string text;
    if (value.is_string()) {
      text = value.get<std::string>();
      if (!internal::IsPragmaValue(text)) {
        reader.Fail(name,
                    "expected a value of letters, digits, '_', '.' or '-', got " + Quote(text));
        return;
      }
    } else if (value.is_number_unsigned()) {
      text = std::to_string(value.get<uint64_t>());
    } else if (value.is_number_integer()) {
      text = std::to_string(value.get<int64_t>());
    } else if (value.is_boolean()) {
      text = value.get<bool>() ? "1" : "0";  // what every boolean PRAGMA accepts
    } else {
      reader.Fail(name,
                  "expected a string, an integer or a boolean, got " + internal::TypeName(value));
      return;
    }
    database->pragmas.emplace_back(internal::LowerAscii(name), std::move(text));
  }
}

// "exclusive" unless the database is read_only: a connection opened
// read-only takes SQLite's ordinary shared locks even on unix-excl, so it
// cannot keep others out (docs/configuration.md, "file_lock").
void ReadFileLock(ObjectReader* db, Database* database) {
  database->file_lock = database->read_only ? FileLock::kShared : FileLock::kExclusive;
  if (!db->ok() || db->Find("file_lock") == nullptr) return;
  std::string text;
  db->String("file_lock", &text);
  if (!db->ok()) return;
  if (text == "shared") {
    database->file_lock = FileLock::kShared;
  } else if (text == "exclusive") {
    if (database->read_only) {
      db->Fail("file_lock",
               "a read_only database is opened read-only and cannot hold its file exclusively; "
               "use \"shared\" or leave file_lock out");
      return;
    }
    database->file_lock = FileLock::kExclusive;
  } else {
    db->Fail("file_lock", "expected one of exclusive, shared, got " + Quote(text));
  }
}

void ReadDatabase(ObjectReader* databases, const std::string& name, const Json& value,
                  const PoolLimits& defaults, Database* database) {
  if (!internal::IsDatabaseName(name)) {
    databases->Fail(name, "invalid database name: expected 1 to 64 of [A-Za-z0-9_-]");
    return;
  }
  if (!value.is_object()) {
    databases->Fail(name, "expected an object, got " + internal::TypeName(value));
    return;
  }
  ObjectReader db = databases->Nested(name, value);
  std::vector<std::string_view> known = {"path",      "read_only", "create_if_missing", "file_lock",
                                         "mmap_size", "pragmas",   "allowed_uids"};
  const std::vector<std::string_view>& limit_keys = internal::PoolLimitKeys();
  known.insert(known.end(), limit_keys.begin(), limit_keys.end());
  db.RefuseUnknownKeys(known);

  database->name = name;
  if (db.ok() && db.Find("path") == nullptr) {
    db.Fail("path", "missing: every database needs the path of its SQLite file");
    return;
  }
  db.String("path", &database->path);
  if (db.ok() && database->path.empty()) db.Fail("path", "must not be empty");
  if (db.ok() && database->path.find('\0') != std::string::npos) {
    db.Fail("path", "must not contain a NUL byte");
  }
  db.Bool("read_only", &database->read_only);
  db.Bool("create_if_missing", &database->create_if_missing);
  if (db.ok() && database->read_only && database->create_if_missing) {
    db.Fail("create_if_missing", "a read_only database cannot be created");
  }
  ReadFileLock(&db, database);
  // SQLite lowers a larger value to its compile-time maximum (2 GiB in the
  // usual builds) without a word; the cap here only keeps the arithmetic
  // sane.
  db.Int64("mmap_size", 0, int64_t{1} << 40, &database->mmap_size);
  ReadPragmas(&db, database);
  if (db.Find("allowed_uids") != nullptr) {
    std::vector<uint32_t> uids;
    db.UidList("allowed_uids", &uids);
    if (db.ok()) database->allowed_uids = std::move(uids);
  }
  database->limits = defaults;
  internal::ReadPoolLimits(&db, &database->limits);
  if (db.ok()) internal::CheckPoolShape(&db, database->limits);
  // The file itself is not checked here: a database that cannot open is
  // the daemon's to report and retry, not a reason to refuse the others
  // (docs/operations.md, "Storage faults"); --check-config opens it.
}

void ReadDatabases(ObjectReader* top, Config* config) {
  if (!top->ok()) return;
  if (top->Find("databases") == nullptr) {
    top->Fail("databases",
              "missing: a configuration file must name its databases (the embedded default "
              "applies only when litepoold runs without a file)");
    return;
  }
  const Json* object = top->Object("databases");
  if (object == nullptr) return;
  if (object->empty()) {
    top->Fail("databases", "must name at least one database");
    return;
  }
  ObjectReader reader = top->Nested("databases", *object);
  for (const auto& [name, value] : object->items()) {
    Database database;
    ReadDatabase(&reader, name, value, config->defaults, &database);
    if (!reader.ok()) return;
    config->databases.push_back(std::move(database));
  }
  std::sort(config->databases.begin(), config->databases.end(),
            [](const Database& a, const Database& b) { return a.name < b.name; });
}

// Reads `root` over the built-in defaults; sets *error to
// "<dotted.key>: <what>" on the first problem.
std::optional<Config> Read(const Json& root, std::string* error) {
  if (!root.is_object()) {
    *error = "expected a JSON object at the top level, got " + internal::TypeName(root);
    return std::nullopt;
  }
  Config config;
  ObjectReader top(root, "", error);
  top.RefuseUnknownKeys({"socket", "socket_mode", "metrics", "reaper_interval_ms", "max_clients",
                         "io_threads", "max_request_bytes", "max_result_bytes", "shutdown_grace_ms",
                         "allowed_uids", "admin_uids", "log", "defaults", "databases",
                         "backup_dir"});
  CheckedString(&top, "socket", internal::CheckSocketPath, &config.socket);
  ReadSocketMode(&top, &config.socket_mode);
  ReadMetrics(&top, &config);
  top.Int("reaper_interval_ms", 10, 60000, &config.reaper_interval_ms);
  top.Int("max_clients", 1, internal::kMaxInt, &config.max_clients);
  top.Int("io_threads", 0, 64, &config.io_threads);
  top.Int("max_request_bytes", 64, internal::kNoLimit, &config.max_request_bytes);
  top.Int("max_result_bytes", 1024, internal::kNoLimit, &config.max_result_bytes);
  top.Int("shutdown_grace_ms", 0, internal::kMaxDurationMs, &config.shutdown_grace_ms);
  top.UidList("allowed_uids", &config.allowed_uids);
  top.UidList("admin_uids", &config.admin_uids);
  CheckedString(&top, "backup_dir", internal::CheckBackupDir, &config.backup_dir);
  ReadLog(&top, &config);
  if (const Json* defaults = top.Object("defaults")) {
    ObjectReader reader = top.Nested("defaults", *defaults);
    reader.RefuseUnknownKeys(internal::PoolLimitKeys());
    internal::ReadPoolLimits(&reader, &config.defaults);
  }
  ReadDatabases(&top, &config);
  if (!top.ok()) return std::nullopt;
  return config;
}

}  // namespace

std::optional<Config> LoadText(const std::string& text, const std::string& source,
                               std::string* error) {
  std::string what;
  std::optional<Config> config;
  if (std::optional<Json> root = internal::ParseStrict(text, &what)) config = Read(*root, &what);
  if (!config) {
    if (error != nullptr) *error = source + ": " + what;
    return std::nullopt;
  }
  config->source = source;
  return config;
}

std::optional<Config> LoadFile(const std::string& path, std::string* error) {
  std::string text, what;
  if (!ReadWholeFile(path, &text, &what)) {
    if (error != nullptr) *error = path + ": " + what;
    return std::nullopt;
  }
  return LoadText(text, path, error);
}

}  // namespace litepool::config
