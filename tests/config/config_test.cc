// Tests of config/: defaults, merging, overrides, and that every refusal
// names the file and the dotted key.
#include "config/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

namespace litepool::config {
namespace {

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/litepool-config-test-XXXXXX";
    const char* made = mkdtemp(pattern);
    if (made != nullptr) path_ = made;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // Writes `text` to `name` inside the directory and returns its full path.
  std::string Write(const std::string& name, const std::string& text) const {
    std::string file = path_ + "/" + name;
    std::ofstream(file, std::ios::binary) << text;
    return file;
  }

 private:
  std::string path_;
};

// A configuration with `top` keys beside a database `main` that has `main`
// keys beside its path.
std::string Doc(const std::string& top, const std::string& main = "") {
  std::string out = "{";
  if (!top.empty()) out += top + ", ";
  out += R"("databases": {"main": {"path": "main.db")";
  if (!main.empty()) out += ", " + main;
  return out + "}}}";
}

// Overrides with the given flags set; nullptr leaves a flag unset.
Overrides Flags(const char* socket, const char* listen, const char* level) {
  Overrides overrides;
  if (socket != nullptr) overrides.socket = socket;
  if (listen != nullptr) overrides.metrics_listen = listen;
  if (level != nullptr) overrides.log_level = level;
  return overrides;
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()) << "mkdtemp failed"; }

  // Writes `text` as config.json and loads it.
  std::optional<Config> Load(const std::string& text) {
    file_ = dir_.Write("config.json", text);
    error_.clear();
    return LoadFile(file_, &error_);
  }

  // Loads `text`, expects a refusal and returns its message.
  std::string Refusal(const std::string& text) {
    std::optional<Config> config = Load(text);
    EXPECT_FALSE(config.has_value()) << "accepted: " << text;
    EXPECT_FALSE(error_.empty());
    EXPECT_EQ(error_.find('\n'), std::string::npos) << "message spans lines: " << error_;
    return error_;
  }

  // Expects "<file>: <key>: ..." containing `what`.
  void ExpectRefused(const std::string& text, const std::string& key, const std::string& what) {
    std::string error = Refusal(text);
    std::string prefix = file_ + ": " + key + ": ";
    EXPECT_EQ(error.rfind(prefix, 0), 0u) << "expected prefix [" << prefix << "] in: " << error;
    EXPECT_NE(error.find(what), std::string::npos) << "expected [" << what << "] in: " << error;
  }

  TempDir dir_;
  std::string file_;
  std::string error_;
};

// --- defaults -------------------------------------------------------------

void ExpectBuiltInLimits(const PoolLimits& limits) {
  EXPECT_EQ(limits.max_writers, 1);
  EXPECT_EQ(limits.max_readers, 4);
  EXPECT_EQ(limits.min_idle, 0);
  EXPECT_EQ(limits.max_waiters, 1024);
  EXPECT_EQ(limits.max_leases_per_client, 8);
  EXPECT_EQ(limits.acquire_timeout_ms, 5000);
  EXPECT_EQ(limits.lease_timeout_ms, 30000);
  EXPECT_EQ(limits.leak_warn_ms, 10000);
  EXPECT_EQ(limits.max_lifetime_ms, 1800000);
  EXPECT_EQ(limits.idle_timeout_ms, 600000);
  EXPECT_EQ(limits.statement_timeout_ms, 0);
  EXPECT_EQ(limits.busy_timeout_ms, 5000);
  EXPECT_EQ(limits.checkpoint_frames, 1000);
  EXPECT_EQ(limits.checkpoint_idle_ms, 1000);
  EXPECT_EQ(limits.wal_truncate_bytes, 16777216);
  EXPECT_TRUE(limits.client_pragmas.empty());
}

void ExpectBuiltInTopLevel(const Config& config) {
  EXPECT_EQ(config.socket, "./litepool.sock");
  EXPECT_EQ(config.socket_mode, 0660u);
  EXPECT_EQ(config.metrics_listen, "127.0.0.1:9433");
  EXPECT_EQ(config.metrics_path, "/metrics");
  EXPECT_EQ(config.reaper_interval_ms, 1000);
  EXPECT_EQ(config.max_clients, 1024);
  EXPECT_EQ(config.io_threads, 0);
  EXPECT_EQ(config.max_request_bytes, 1048576);
  EXPECT_EQ(config.max_result_bytes, 16777216);
  EXPECT_EQ(config.shutdown_grace_ms, 10000);
  EXPECT_TRUE(config.allowed_uids.empty());
  EXPECT_TRUE(config.admin_uids.empty());
  EXPECT_EQ(config.backup_dir, "");
  EXPECT_EQ(config.log_level, LogLevel::kInfo);
  EXPECT_EQ(config.log_format, LogFormat::kJson);
  ExpectBuiltInLimits(config.defaults);
}

TEST_F(ConfigTest, MinimalFileTakesEveryDefault) {
  std::optional<Config> config = Load(Doc(""));
  ASSERT_TRUE(config) << error_;
  ExpectBuiltInTopLevel(*config);
  EXPECT_EQ(config->source, file_);
  ASSERT_EQ(config->databases.size(), 1u);
  const Database& main = config->databases[0];
  EXPECT_EQ(main.name, "main");
  EXPECT_EQ(main.path, "main.db");
  EXPECT_FALSE(main.read_only);
  EXPECT_TRUE(main.pragmas.empty());
  EXPECT_FALSE(main.allowed_uids.has_value());
  ExpectBuiltInLimits(main.limits);
}

TEST_F(ConfigTest, EmbeddedDefault) {
  Config config = EmbeddedDefault();
  ExpectBuiltInTopLevel(config);
  EXPECT_EQ(config.source, "<embedded default>");
  ASSERT_EQ(config.databases.size(), 1u);
  const Database& main = config.databases[0];
  EXPECT_EQ(main.name, "main");
  EXPECT_EQ(main.path, "./litepool-main.db");
  EXPECT_FALSE(main.read_only);
  EXPECT_FALSE(main.allowed_uids.has_value());
  ExpectBuiltInLimits(main.limits);
  std::vector<std::pair<std::string, std::string>> pragmas = {{"journal_mode", "wal"},
                                                              {"synchronous", "normal"}};
  EXPECT_EQ(main.pragmas, pragmas);
}

// --- every key is read into its own field ---------------------------------

TEST_F(ConfigTest, SpecExampleLoads) {
  std::string audit = dir_.Write("audit.db", "");
  std::optional<Config> config = Load(R"({
    "socket": "/run/litepool/litepool.sock",
    "socket_mode": "0660",
    "metrics": { "listen": "127.0.0.1:9433", "path": "/metrics" },
    "reaper_interval_ms": 1000,
    "max_clients": 1024,
    "max_request_bytes": 1048576,
    "max_result_bytes": 16777216,
    "shutdown_grace_ms": 10000,
    "allowed_uids": [],
    "admin_uids": [],
    "log": { "level": "info", "format": "json" },
    "defaults": { "max_readers": 4, "lease_timeout_ms": 30000 },
    "databases": {
      "main": { "path": "/var/lib/app/main.db", "max_readers": 8,
                "pragmas": { "journal_mode": "wal", "synchronous": "normal" } },
      "audit": { "path": ")" + audit + R"(", "read_only": true }
    }
  })");
  ASSERT_TRUE(config) << error_;
  EXPECT_EQ(config->socket, "/run/litepool/litepool.sock");
  ASSERT_EQ(config->databases.size(), 2u);
  EXPECT_EQ(config->databases[0].name, "audit");  // sorted by name
  EXPECT_TRUE(config->databases[0].read_only);
  EXPECT_EQ(config->databases[0].limits.max_readers, 4);
  EXPECT_EQ(config->databases[1].name, "main");
  EXPECT_EQ(config->databases[1].path, "/var/lib/app/main.db");
  EXPECT_EQ(config->databases[1].limits.max_readers, 8);
  EXPECT_EQ(config->databases[1].limits.lease_timeout_ms, 30000);
  std::vector<std::pair<std::string, std::string>> pragmas = {{"journal_mode", "wal"},
                                                              {"synchronous", "normal"}};
  EXPECT_EQ(config->databases[1].pragmas, pragmas);
}

TEST_F(ConfigTest, EveryTopLevelKeyIsRead) {
  std::optional<Config> config = Load(Doc(R"(
    "socket": "/run/x.sock", "socket_mode": "0600",
    "metrics": {"listen": "[::1]:0", "path": "/m"},
    "reaper_interval_ms": 250, "max_clients": 7, "io_threads": 3, "max_request_bytes": 4096,
    "max_result_bytes": 8192, "shutdown_grace_ms": 0,
    "allowed_uids": [0, 1000, 4294967294], "admin_uids": [1001],
    "backup_dir": "/var/backups/litepool",
    "log": {"level": "debug", "format": "text"})"));
  ASSERT_TRUE(config) << error_;
  EXPECT_EQ(config->socket, "/run/x.sock");
  EXPECT_EQ(config->socket_mode, 0600u);
  EXPECT_EQ(config->metrics_listen, "[::1]:0");
  EXPECT_EQ(config->metrics_path, "/m");
  EXPECT_EQ(config->reaper_interval_ms, 250);
  EXPECT_EQ(config->max_clients, 7);
  EXPECT_EQ(config->io_threads, 3);
  EXPECT_EQ(config->max_request_bytes, 4096);
  EXPECT_EQ(config->max_result_bytes, 8192);
  EXPECT_EQ(config->shutdown_grace_ms, 0);
  EXPECT_EQ(config->allowed_uids, (std::vector<uint32_t>{0, 1000, 4294967294u}));
  EXPECT_EQ(config->admin_uids, (std::vector<uint32_t>{1001}));
  EXPECT_EQ(config->backup_dir, "/var/backups/litepool");
  EXPECT_EQ(config->log_level, LogLevel::kDebug);
  EXPECT_EQ(config->log_format, LogFormat::kText);
}

TEST_F(ConfigTest, EmptyListenDisablesMetrics) {
  std::optional<Config> config = Load(Doc(R"("metrics": {"listen": ""})"));
  ASSERT_TRUE(config) << error_;
  EXPECT_EQ(config->metrics_listen, "");
  EXPECT_EQ(config->metrics_path, "/metrics");
}

// Distinct values per key, so a key read into the wrong field shows.
constexpr char kAllLimits[] = R"(
  "max_writers": 2, "max_readers": 3, "min_idle": 4, "max_waiters": 5,
  "max_leases_per_client": 6, "acquire_timeout_ms": 7, "lease_timeout_ms": 8,
  "leak_warn_ms": 9, "max_lifetime_ms": 10, "idle_timeout_ms": 11,
  "statement_timeout_ms": 12, "busy_timeout_ms": 13, "checkpoint_frames": 14,
  "checkpoint_idle_ms": 15, "wal_truncate_bytes": 16,
  "client_pragmas": ["cache_size", "Foreign_Keys"])";

void ExpectAllLimits(const PoolLimits& limits) {
  EXPECT_EQ(limits.max_writers, 2);
  EXPECT_EQ(limits.max_readers, 3);
  EXPECT_EQ(limits.min_idle, 4);
  EXPECT_EQ(limits.max_waiters, 5);
  EXPECT_EQ(limits.max_leases_per_client, 6);
  EXPECT_EQ(limits.acquire_timeout_ms, 7);
  EXPECT_EQ(limits.lease_timeout_ms, 8);
  EXPECT_EQ(limits.leak_warn_ms, 9);
  EXPECT_EQ(limits.max_lifetime_ms, 10);
  EXPECT_EQ(limits.idle_timeout_ms, 11);
  EXPECT_EQ(limits.statement_timeout_ms, 12);
  EXPECT_EQ(limits.busy_timeout_ms, 13);
  EXPECT_EQ(limits.checkpoint_frames, 14);
  EXPECT_EQ(limits.checkpoint_idle_ms, 15);
  EXPECT_EQ(limits.wal_truncate_bytes, 16);
  // Lower-cased: PRAGMA names are case-insensitive.
  EXPECT_EQ(limits.client_pragmas, (std::vector<std::string>{"cache_size", "foreign_keys"}));
}

TEST_F(ConfigTest, EveryLimitKeyIsReadInDefaults) {
  std::optional<Config> config = Load(Doc(std::string(R"("defaults": {)") + kAllLimits + "}"));
  ASSERT_TRUE(config) << error_;
  ExpectAllLimits(config->defaults);
  ExpectAllLimits(config->databases[0].limits);
}

TEST_F(ConfigTest, EveryLimitKeyIsReadInADatabase) {
  std::optional<Config> config = Load(Doc("", kAllLimits));
  ASSERT_TRUE(config) << error_;
  ExpectAllLimits(config->databases[0].limits);
  ExpectBuiltInLimits(config->defaults);
}

TEST_F(ConfigTest, DefaultsMergeUnderEachDatabase) {
  std::optional<Config> config = Load(R"({
    "defaults": {"max_readers": 2, "lease_timeout_ms": 1000, "min_idle": 1,
                 "client_pragmas": ["cache_size"]},
    "databases": {
      "b": {"path": "b.db"},
      "a": {"path": "a.db", "max_readers": 6, "leak_warn_ms": 0},
      "c": {"path": "c.db", "client_pragmas": [], "allowed_uids": [7]}
    }})");
  ASSERT_TRUE(config) << error_;
  EXPECT_EQ(config->defaults.max_readers, 2);
  EXPECT_EQ(config->defaults.lease_timeout_ms, 1000);
  EXPECT_EQ(config->defaults.max_writers, 1);  // built-in under `defaults`
  ASSERT_EQ(config->databases.size(), 3u);
  const Database& a = config->databases[0];
  const Database& b = config->databases[1];
  const Database& c = config->databases[2];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.limits.max_readers, 6);          // its own
  EXPECT_EQ(a.limits.leak_warn_ms, 0);         // its own
  EXPECT_EQ(a.limits.lease_timeout_ms, 1000);  // from defaults
  EXPECT_EQ(a.limits.min_idle, 1);             // from defaults
  EXPECT_EQ(a.limits.busy_timeout_ms, 5000);   // built in
  EXPECT_EQ(b.limits.max_readers, 2);
  EXPECT_EQ(b.limits.leak_warn_ms, 10000);
  EXPECT_EQ(b.limits.client_pragmas, (std::vector<std::string>{"cache_size"}));
  EXPECT_TRUE(c.limits.client_pragmas.empty());  // an empty list overrides too
  EXPECT_EQ(c.allowed_uids, (std::vector<uint32_t>{7}));
  EXPECT_FALSE(b.allowed_uids.has_value());
}

TEST_F(ConfigTest, DatabasesAreSortedByName) {
  std::optional<Config> config = Load(R"({"databases": {
    "zeta": {"path": "z.db"}, "alpha": {"path": "a.db"}, "Main": {"path": "M.db"},
    "m-1": {"path": "m.db"}, "a_2": {"path": "a2.db"}}})");
  ASSERT_TRUE(config) << error_;
  std::vector<std::string> names;
  for (const Database& db : config->databases) names.push_back(db.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Main", "a_2", "alpha", "m-1", "zeta"}));
}

TEST_F(ConfigTest, PragmasKeepFileOrderAndBecomeStrings) {
  std::optional<Config> config = Load(Doc("", R"("pragmas": {
    "synchronous": "NORMAL", "Journal_Mode": "wal", "cache_size": -2000,
    "foreign_keys": true, "recursive_triggers": false, "mmap_size": 268435456,
    "wal_autocheckpoint": "1000"})"));
  ASSERT_TRUE(config) << error_;
  std::vector<std::pair<std::string, std::string>> expected = {
      {"synchronous", "NORMAL"},     {"journal_mode", "wal"},     {"cache_size", "-2000"},
      {"foreign_keys", "1"},         {"recursive_triggers", "0"}, {"mmap_size", "268435456"},
      {"wal_autocheckpoint", "1000"}};
  EXPECT_EQ(config->databases[0].pragmas, expected);
}

TEST_F(ConfigTest, MinIdleMayEqualThePoolSize) {
  std::optional<Config> config = Load(Doc("", R"("max_writers": 0, "max_readers": 3,
                                                  "min_idle": 3)"));
  ASSERT_TRUE(config) << error_;
  EXPECT_EQ(config->databases[0].limits.min_idle, 3);
}

TEST_F(ConfigTest, LimitsAcceptTheirBounds) {
  std::optional<Config> config = Load(Doc(
      R"("reaper_interval_ms": 10, "max_clients": 1, "max_request_bytes": 64,
         "max_result_bytes": 1024)",
      R"("max_writers": 0, "max_readers": 1, "max_waiters": 0, "max_leases_per_client": 1,
         "acquire_timeout_ms": 0, "lease_timeout_ms": 1, "leak_warn_ms": 0,
         "max_lifetime_ms": 1, "idle_timeout_ms": 1, "statement_timeout_ms": 0,
         "busy_timeout_ms": 2147483647)"));
  ASSERT_TRUE(config) << error_;
  EXPECT_EQ(config->reaper_interval_ms, 10);
  EXPECT_EQ(config->databases[0].limits.busy_timeout_ms, 2147483647);
  config = Load(Doc(R"("reaper_interval_ms": 60000)", R"("lease_timeout_ms": 31536000000)"));
  ASSERT_TRUE(config) << error_;
  EXPECT_EQ(config->databases[0].limits.lease_timeout_ms, 31536000000);
}

TEST_F(ConfigTest, SocketPathLengthLimit) {
  std::string longest = "/" + std::string(106, 's');  // 107 bytes + NUL fill sun_path
  std::optional<Config> config = Load(Doc(R"("socket": ")" + longest + "\""));
  ASSERT_TRUE(config) << error_;
  EXPECT_EQ(config->socket, longest);
  ExpectRefused(Doc(R"("socket": ")" + longest + "s\""), "socket", "shorter than 108 bytes");
}

TEST_F(ConfigTest, DatabaseNameLengthLimit) {
  std::string name(64, 'n');
  std::optional<Config> config = Load(R"({"databases": {")" + name + R"(": {"path": "x"}}})");
  ASSERT_TRUE(config) << error_;
  EXPECT_EQ(config->databases[0].name, name);
  ExpectRefused(R"({"databases": {")" + name + R"(n": {"path": "x"}}})", "databases." + name + "n",
                "invalid database name");
}

// --- read_only databases ---------------------------------------------------

TEST_F(ConfigTest, ReadOnlyDatabaseWithExistingFileIsAccepted) {
  std::string audit = dir_.Write("audit.db", "");
  std::optional<Config> config =
      Load(R"({"databases": {"audit": {"path": ")" + audit + R"(", "read_only": true}}})");
  ASSERT_TRUE(config) << error_;
  EXPECT_TRUE(config->databases[0].read_only);
  EXPECT_EQ(config->databases[0].path, audit);
}

// A database file that is missing or unusable is not a configuration
// error: the daemon serves the others and retries it (--check-config opens
// the files and reports it).
TEST_F(ConfigTest, ReadOnlyDatabaseWithMissingFileLoads) {
  std::string missing = dir_.path() + "/missing.db";
  std::optional<Config> config =
      Load(R"({"databases": {"audit": {"path": ")" + missing + R"(", "read_only": true}}})");
  ASSERT_TRUE(config) << error_;
  EXPECT_TRUE(config->databases[0].read_only);
  EXPECT_FALSE(config->databases[0].create_if_missing);
}

TEST_F(ConfigTest, CreateIfMissingIsOffByDefaultAndNotForReadOnly) {
  std::optional<Config> config = Load(R"({"databases": {"a": {"path": "a.db"},
      "b": {"path": "b.db", "create_if_missing": true}}})");
  ASSERT_TRUE(config) << error_;
  EXPECT_FALSE(config->databases[0].create_if_missing);
  EXPECT_TRUE(config->databases[1].create_if_missing);
  EXPECT_TRUE(EmbeddedDefault().databases[0].create_if_missing);
  ExpectRefused(R"({"databases": {"a": {"path": "a.db", "create_if_missing": 1}}})",
                "databases.a.create_if_missing", "expected a boolean");
  ExpectRefused(
      R"({"databases": {"a": {"path": "a.db", "read_only": true, "create_if_missing": true}}})",
      "databases.a.create_if_missing", "a read_only database cannot be created");
}

TEST_F(ConfigTest, FileLockIsExclusiveByDefaultSharedForReadOnly) {
  std::optional<Config> config = Load(R"({"databases": {"a": {"path": "a.db"},
      "b": {"path": "b.db", "file_lock": "shared"},
      "c": {"path": "c.db", "file_lock": "exclusive"},
      "d": {"path": "d.db", "read_only": true},
      "e": {"path": "e.db", "read_only": true, "file_lock": "shared"}}})");
  ASSERT_TRUE(config) << error_;
  EXPECT_EQ(config->databases[0].file_lock, FileLock::kExclusive);
  EXPECT_EQ(config->databases[1].file_lock, FileLock::kShared);
  EXPECT_EQ(config->databases[2].file_lock, FileLock::kExclusive);
  EXPECT_EQ(config->databases[3].file_lock, FileLock::kShared);
  EXPECT_EQ(config->databases[4].file_lock, FileLock::kShared);
  EXPECT_EQ(EmbeddedDefault().databases[0].file_lock, FileLock::kExclusive);
  ExpectRefused(R"({"databases": {"a": {"path": "a.db", "file_lock": "excl"}}})",
                "databases.a.file_lock", "expected one of exclusive, shared, got \"excl\"");
  ExpectRefused(R"({"databases": {"a": {"path": "a.db", "file_lock": true}}})",
                "databases.a.file_lock", "expected a string");
  ExpectRefused(
      R"({"databases": {"a": {"path": "a.db", "read_only": true, "file_lock": "exclusive"}}})",
      "databases.a.file_lock", "a read_only database is opened read-only");
}

TEST_F(ConfigTest, MmapSizeDefaultsAndLimits) {
  std::optional<Config> config = Load(R"({"databases": {"a": {"path": "a.db"},
      "b": {"path": "b.db", "mmap_size": 0}, "c": {"path": "c.db", "mmap_size": 67108864}}})");
  ASSERT_TRUE(config) << error_;
  EXPECT_EQ(config->databases[0].mmap_size, 0);  // off unless set (docs/configuration.md)
  EXPECT_EQ(config->databases[1].mmap_size, 0);
  EXPECT_EQ(config->databases[2].mmap_size, 67108864);
  ExpectRefused(R"({"databases": {"a": {"path": "a.db", "mmap_size": -1}}})",
                "databases.a.mmap_size", "must be >= 0");
  ExpectRefused(R"({"databases": {"a": {"path": "a.db", "mmap_size": "256M"}}})",
                "databases.a.mmap_size", "expected an integer");
}

TEST_F(ConfigTest, WritableDatabaseMayNotExistYet) {
  std::string missing = dir_.path() + "/new.db";
  std::optional<Config> config = Load(R"({"databases": {"new": {"path": ")" + missing + R"("}}})");
  ASSERT_TRUE(config) << error_;
  EXPECT_FALSE(config->databases[0].read_only);
}

// --- files and JSON ---------------------------------------------------------

TEST_F(ConfigTest, MissingFileIsRefusedWithStrerror) {
  std::string missing = dir_.path() + "/nope.json";
  std::string error;
  EXPECT_FALSE(LoadFile(missing, &error));
  EXPECT_EQ(error, missing + ": cannot open: No such file or directory");
}

TEST_F(ConfigTest, DirectoryIsRefusedWithStrerror) {
  std::string error;
  EXPECT_FALSE(LoadFile(dir_.path(), &error));
  EXPECT_EQ(error, dir_.path() + ": cannot read: Is a directory");
}

TEST_F(ConfigTest, InvalidJsonGivesTheBytePosition) {
  //                      byte 15 is the '}' where a value should be
  std::string error = Refusal(R"({"databases": })");
  EXPECT_EQ(error.rfind(file_ + ": invalid JSON at byte 15 (line 1, column 15): ", 0), 0u) << error;
  EXPECT_NE(error.find("syntax error"), std::string::npos) << error;
}

TEST_F(ConfigTest, InvalidJsonGivesTheLine) {
  std::string error = Refusal("{\n  \"databases\": {\n    \"main\": {\"path\": \"x\",}\n  }\n}\n");
  EXPECT_NE(error.find(": invalid JSON at byte "), std::string::npos) << error;
  EXPECT_NE(error.find("(line 3, column "), std::string::npos) << error;
}

struct JsonCase {
  const char* name;
  std::string text;
};
// Names the case in failure output instead of dumping its bytes.
void PrintTo(const JsonCase& c, std::ostream* os) { *os << c.name; }

class InvalidJsonTest : public ConfigTest, public ::testing::WithParamInterface<JsonCase> {};

TEST_P(InvalidJsonTest, IsRefused) {
  std::string error = Refusal(GetParam().text);
  EXPECT_EQ(error.rfind(file_ + ": invalid JSON at byte ", 0), 0u) << error;
}

INSTANTIATE_TEST_SUITE_P(Config, InvalidJsonTest,
                         ::testing::Values(JsonCase{"Empty", ""}, JsonCase{"Whitespace", "  \n"},
                                           JsonCase{"TrailingComma", Doc(R"("max_clients": 3,)")},
                                           JsonCase{"TrailingGarbage", Doc("") + " {}"},
                                           JsonCase{"Comment", "// no comments\n" + Doc("")},
                                           JsonCase{"SingleQuotes", "{'databases': {}}"},
                                           JsonCase{"Unterminated",
                                                    R"({"databases": {"main": {"path": "x)"},
                                           JsonCase{"BadEscape", Doc(R"("socket": "\q")")},
                                           JsonCase{"BadUtf8", Doc("\"socket\": \"a\xff\"")},
                                           JsonCase{"NaN", Doc(R"("max_clients": NaN)")}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(ConfigTest, InvalidJsonMessageEscapesRawBytes) {
  std::string error = Refusal(Doc("\"socket\": \"a\xff\""));
  EXPECT_NE(error.find("ill-formed UTF-8"), std::string::npos) << error;
  EXPECT_NE(error.find("\\xff"), std::string::npos) << error;
  EXPECT_EQ(error.find('\xff'), std::string::npos) << error;
}

TEST_F(ConfigTest, TopLevelMustBeAnObject) {
  std::string error = Refusal("[]");
  EXPECT_EQ(error, file_ + ": expected a JSON object at the top level, got array");
  error = Refusal("42");
  EXPECT_EQ(error, file_ + ": expected a JSON object at the top level, got integer");
}

TEST_F(ConfigTest, LoadTextNamesItsSource) {
  std::string error;
  EXPECT_FALSE(LoadText(R"({"max_clients": 0})", "inline.json", &error));
  EXPECT_EQ(error, "inline.json: max_clients: must be >= 1, got 0");
  std::optional<Config> config = LoadText(Doc(""), "inline.json", &error);
  ASSERT_TRUE(config) << error;
  EXPECT_EQ(config->source, "inline.json");
}

TEST_F(ConfigTest, NullErrorPointerIsAllowed) {
  EXPECT_FALSE(LoadText("[]", "x", nullptr));
  EXPECT_FALSE(LoadFile(dir_.path() + "/nope.json", nullptr));
  Config config = EmbeddedDefault();
  EXPECT_FALSE(ApplyOverrides(Flags("", nullptr, nullptr), &config, nullptr));
}

TEST_F(ConfigTest, ControlCharactersInKeysStayOnOneLine) {
  std::string error = Refusal(Doc(R"("bad\nkey": 1)"));
  EXPECT_EQ(error, file_ + ": bad\\x0akey: unknown key");
}

TEST_F(ConfigTest, UnknownKeyIsReportedBeforeRangeErrors) {
  // The misspelling caused the range error (max_readers stayed 4), so the
  // misspelling is what the user needs to see.
  ExpectRefused(Doc("", R"("max_readrs": 8, "min_idle": 6)"), "databases.main.max_readrs",
                "unknown key");
}

TEST_F(ConfigTest, FirstErrorIsDeterministic) {
  std::string text = Doc(R"("max_clients": 0, "shutdown_grace_ms": -1)", R"("max_readers": -1)");
  std::string first = Refusal(text);
  EXPECT_EQ(Refusal(text), first);
  EXPECT_EQ(first, file_ + ": max_clients: must be >= 1, got 0");
}

// --- refusals, table-driven ------------------------------------------------

struct RefusalCase {
  std::string name;
  std::string text;
  std::string key;   // the dotted key the message must start with
  std::string what;  // a fragment the message must contain
};
// Names the case in failure output instead of dumping its bytes.
void PrintTo(const RefusalCase& c, std::ostream* os) { *os << c.name; }

class RefusalTest : public ConfigTest, public ::testing::WithParamInterface<RefusalCase> {};

TEST_P(RefusalTest, NamesFileAndKey) {
  ExpectRefused(GetParam().text, GetParam().key, GetParam().what);
}

std::string CaseName(const ::testing::TestParamInfo<RefusalCase>& info) { return info.param.name; }

// Every pool-limit key one below its minimum, in `defaults` and in a
// database, plus the keys with an upper bound one above it.
std::vector<RefusalCase> LimitRangeCases() {
  struct Limit {
    const char* key;
    int64_t min;
    std::string camel;
  };
  const Limit limits[] = {
      {"max_writers", 0, "MaxWriters"},
      {"max_readers", 0, "MaxReaders"},
      {"min_idle", 0, "MinIdle"},
      {"max_waiters", 0, "MaxWaiters"},
      {"max_leases_per_client", 1, "MaxLeasesPerClient"},
      {"acquire_timeout_ms", 0, "AcquireTimeoutMs"},
      {"lease_timeout_ms", 1, "LeaseTimeoutMs"},
      {"leak_warn_ms", 0, "LeakWarnMs"},
      {"max_lifetime_ms", 1, "MaxLifetimeMs"},
      {"idle_timeout_ms", 1, "IdleTimeoutMs"},
      {"statement_timeout_ms", 0, "StatementTimeoutMs"},
      {"busy_timeout_ms", 0, "BusyTimeoutMs"},
      {"checkpoint_frames", 1, "CheckpointFrames"},
      {"checkpoint_idle_ms", 10, "CheckpointIdleMs"},
      {"wal_truncate_bytes", 0, "WalTruncateBytes"},
  };
  std::vector<RefusalCase> cases;
  for (const Limit& limit : limits) {
    std::string below = std::to_string(limit.min - 1);
    std::string field = "\"" + std::string(limit.key) + "\": " + below;
    std::string what = "must be >= " + std::to_string(limit.min) + ", got " + below;
    cases.push_back({"Defaults" + limit.camel + "BelowMin", Doc(R"("defaults": {)" + field + "}"),
                     "defaults." + std::string(limit.key), what});
    cases.push_back({"Database" + limit.camel + "BelowMin", Doc("", field),
                     "databases.main." + std::string(limit.key), what});
  }
  cases.push_back({"MaxReadersAboveInt", Doc("", R"("max_readers": 2147483648)"),
                   "databases.main.max_readers", "must be <= 2147483647, got 2147483648"});
  cases.push_back({"BusyTimeoutAboveInt", Doc("", R"("busy_timeout_ms": 2147483648)"),
                   "databases.main.busy_timeout_ms", "must be <= 2147483647"});
  cases.push_back({"LeaseTimeoutAboveAYear", Doc("", R"("lease_timeout_ms": 31536000001)"),
                   "databases.main.lease_timeout_ms", "must be <= 31536000000"});
  cases.push_back({"IntegerBeyond64Bits", Doc(R"("max_clients": 99999999999999999999999)"),
                   "max_clients", "must be <= 2147483647, got a number above 2^63"});
  cases.push_back({"NegativeBeyond64Bits", Doc(R"("max_clients": -99999999999999999999999)"),
                   "max_clients", "must be >= 1, got a number below -2^63"});
  cases.push_back({"IntegerBeyondInt64", Doc(R"("max_request_bytes": 18446744073709551615)"),
                   "max_request_bytes", "must be <= 9223372036854775807"});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(LimitRanges, RefusalTest, ::testing::ValuesIn(LimitRangeCases()),
                         CaseName);

INSTANTIATE_TEST_SUITE_P(
    ImpossibleValues, RefusalTest,
    ::testing::Values(
        RefusalCase{"EmptySocket", Doc(R"("socket": "")"), "socket", "must not be empty"},
        RefusalCase{"BackupDirRelative", Doc(R"("backup_dir": "backups")"), "backup_dir",
                    R"(must be an absolute path, got "backups")"},
        RefusalCase{"BackupDirDotDot", Doc(R"("backup_dir": "/var/../etc")"), "backup_dir",
                    "must not contain a \"..\" component"},
        RefusalCase{"BackupDirNotString", Doc(R"("backup_dir": 7)"), "backup_dir",
                    "expected a string"},
        RefusalCase{"CheckpointFramesAboveInt", Doc("", R"("checkpoint_frames": 2147483648)"),
                    "databases.main.checkpoint_frames", "must be <= 2147483647"},
        RefusalCase{"SocketWithNul", Doc(R"("socket": "a\u0000b")"), "socket", "NUL"},
        RefusalCase{"SocketModeNotOctal", Doc(R"("socket_mode": "0990")"), "socket_mode",
                    R"(got "0990")"},
        RefusalCase{"SocketModeSymbolic", Doc(R"("socket_mode": "rw-rw----")"), "socket_mode",
                    "octal"},
        RefusalCase{"SocketModeTooManyDigits", Doc(R"("socket_mode": "00660")"), "socket_mode",
                    "octal"},
        RefusalCase{"SocketModeStickyBit", Doc(R"("socket_mode": "1777")"), "socket_mode",
                    "between \"0000\" and \"0777\""},
        RefusalCase{"SocketModeEmpty", Doc(R"("socket_mode": "")"), "socket_mode", "octal"},
        RefusalCase{"SocketModeHex", Doc(R"("socket_mode": "0x1b0")"), "socket_mode", "octal"},
        RefusalCase{"SocketModeAsNumber", Doc(R"("socket_mode": 660)"), "socket_mode",
                    "expected a string of octal digits such as \"0660\", got integer"},
        RefusalCase{"ListenWithoutPort", Doc(R"("metrics": {"listen": "abc"})"), "metrics.listen",
                    R"(expected HOST:PORT, got "abc")"},
        RefusalCase{"ListenEmptyPort", Doc(R"("metrics": {"listen": "127.0.0.1:"})"),
                    "metrics.listen", "port must be 0-65535"},
        RefusalCase{"ListenPortTooBig", Doc(R"("metrics": {"listen": "127.0.0.1:65536"})"),
                    "metrics.listen", R"(port must be 0-65535, got "65536")"},
        RefusalCase{"ListenPortNamed", Doc(R"("metrics": {"listen": "127.0.0.1:http"})"),
                    "metrics.listen", "port must be 0-65535"},
        RefusalCase{"ListenNoHost", Doc(R"("metrics": {"listen": ":9433"})"), "metrics.listen",
                    "expected HOST:PORT"},
        RefusalCase{"ListenBareIpv6", Doc(R"("metrics": {"listen": "::1:9433"})"), "metrics.listen",
                    "brackets"},
        RefusalCase{"ListenEmptyBrackets", Doc(R"("metrics": {"listen": "[]:9433"})"),
                    "metrics.listen", "expected HOST:PORT"},
        RefusalCase{"ListenSpaceInHost", Doc(R"("metrics": {"listen": "my host:9433"})"),
                    "metrics.listen", "expected HOST:PORT"},
        RefusalCase{"MetricsPathRelative", Doc(R"("metrics": {"path": "metrics"})"), "metrics.path",
                    "must start with \"/\""},
        RefusalCase{"MetricsPathEmpty", Doc(R"("metrics": {"path": ""})"), "metrics.path",
                    "must start with \"/\""},
        RefusalCase{"MetricsPathWithSpace", Doc(R"("metrics": {"path": "/a b"})"), "metrics.path",
                    "spaces"},
        RefusalCase{"ReaperTooFast", Doc(R"("reaper_interval_ms": 9)"), "reaper_interval_ms",
                    "must be >= 10, got 9"},
        RefusalCase{"ReaperTooSlow", Doc(R"("reaper_interval_ms": 60001)"), "reaper_interval_ms",
                    "must be <= 60000, got 60001"},
        RefusalCase{"NoClients", Doc(R"("max_clients": 0)"), "max_clients", "must be >= 1, got 0"},
        RefusalCase{"NegativeIoThreads", Doc(R"("io_threads": -1)"), "io_threads",
                    "must be >= 0, got -1"},
        RefusalCase{"TooManyIoThreads", Doc(R"("io_threads": 65)"), "io_threads",
                    "must be <= 64, got 65"},
        RefusalCase{"TinyRequests", Doc(R"("max_request_bytes": 63)"), "max_request_bytes",
                    "must be >= 64, got 63"},
        RefusalCase{"TinyResults", Doc(R"("max_result_bytes": 1023)"), "max_result_bytes",
                    "must be >= 1024, got 1023"},
        RefusalCase{"NegativeGrace", Doc(R"("shutdown_grace_ms": -1)"), "shutdown_grace_ms",
                    "must be >= 0, got -1"},
        RefusalCase{"NegativeUid", Doc(R"("allowed_uids": [0, -1])"), "allowed_uids[1]",
                    "must be a uid between 0 and 4294967294, got -1"},
        RefusalCase{"NobodysUid", Doc(R"("admin_uids": [4294967295])"), "admin_uids[0]",
                    "got 4294967295"},
        RefusalCase{"LogLevelUnknown", Doc(R"("log": {"level": "verbose"})"), "log.level",
                    R"(expected one of debug, info, warn, error, got "verbose")"},
        RefusalCase{"LogLevelCase", Doc(R"("log": {"level": "INFO"})"), "log.level",
                    "expected one of"},
        RefusalCase{"LogFormatUnknown", Doc(R"("log": {"format": "xml"})"), "log.format",
                    R"(expected one of json, text, got "xml")"},
        RefusalCase{"NoHandles", Doc("", R"("max_writers": 0, "max_readers": 0)"),
                    "databases.main.max_readers", "max_writers + max_readers must be >= 1"},
        RefusalCase{"MinIdleAbovePool", Doc("", R"("min_idle": 6)"), "databases.main.min_idle",
                    "must be <= max_writers + max_readers (5), got 6"},
        RefusalCase{"MinIdleFromDefaultsAboveDatabasePool",
                    Doc(R"("defaults": {"min_idle": 3})", R"("max_readers": 1)"),
                    "databases.main.min_idle", "must be <= max_writers + max_readers (2), got 3"},
        RefusalCase{"NoHandlesFromDefaults",
                    Doc(R"("defaults": {"max_writers": 0, "max_readers": 0})"),
                    "databases.main.max_readers", "max_writers + max_readers must be >= 1"},
        RefusalCase{"ClientPragmaNotAName",
                    Doc(R"("defaults": {"client_pragmas": ["cache_size", "x; DROP"]})"),
                    "defaults.client_pragmas[1]", "expected a PRAGMA name"},
        RefusalCase{"ClientPragmaEmpty", Doc("", R"("client_pragmas": [""])"),
                    "databases.main.client_pragmas[0]", "expected a PRAGMA name"},
        RefusalCase{"NoDatabasesKey", R"({"socket": "/tmp/x.sock"})", "databases",
                    "a configuration file must name its databases"},
        RefusalCase{"NoDatabases", R"({"databases": {}})", "databases", "at least one database"},
        RefusalCase{"DatabaseNameWithDot", R"({"databases": {"a.b": {"path": "x"}}})",
                    "databases.a.b", "invalid database name"},
        RefusalCase{"DatabaseNameWithSlash", R"({"databases": {"../x": {"path": "x"}}})",
                    "databases.../x", "invalid database name"},
        RefusalCase{"DatabaseNameEmpty", R"({"databases": {"": {"path": "x"}}})", "databases.",
                    "invalid database name"},
        RefusalCase{"DatabaseWithoutPath", R"({"databases": {"main": {"read_only": false}}})",
                    "databases.main.path", "missing"},
        RefusalCase{"DatabaseEmptyPath", R"({"databases": {"main": {"path": ""}}})",
                    "databases.main.path", "must not be empty"},
        RefusalCase{"PragmaNameWithSpace", Doc("", R"("pragmas": {"journal mode": "wal"})"),
                    "databases.main.pragmas.journal mode", "expected a PRAGMA name"},
        RefusalCase{"PragmaNameStartsWithDigit", Doc("", R"("pragmas": {"1x": "wal"})"),
                    "databases.main.pragmas.1x", "expected a PRAGMA name"},
        RefusalCase{"PragmaValueInjection",
                    Doc("", R"("pragmas": {"journal_mode": "wal; ATTACH '/etc/x' AS x"})"),
                    "databases.main.pragmas.journal_mode", "expected a value of letters"},
        RefusalCase{"PragmaValueQuote", Doc("", R"("pragmas": {"journal_mode": "'wal'"})"),
                    "databases.main.pragmas.journal_mode", "expected a value of letters"},
        RefusalCase{"PragmaValueEmpty", Doc("", R"("pragmas": {"journal_mode": ""})"),
                    "databases.main.pragmas.journal_mode", "expected a value of letters"},
        RefusalCase{"PragmaValueFloat", Doc("", R"("pragmas": {"cache_size": 1.5})"),
                    "databases.main.pragmas.cache_size",
                    "expected a string, an integer or a boolean, got float"},
        RefusalCase{"PragmaValueNull", Doc("", R"("pragmas": {"cache_size": null})"),
                    "databases.main.pragmas.cache_size", "got null"},
        RefusalCase{"PragmaValueArray", Doc("", R"("pragmas": {"cache_size": [1]})"),
                    "databases.main.pragmas.cache_size", "got array"}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(
    UnknownKeys, RefusalTest,
    ::testing::Values(
        RefusalCase{"TopLevel", Doc(R"("sockett": "/x")"), "sockett", "unknown key"},
        RefusalCase{"Schema", Doc(R"("$schema": "x")"), "$schema", "unknown key"},
        RefusalCase{"Metrics", Doc(R"("metrics": {"port": 9433})"), "metrics.port", "unknown key"},
        RefusalCase{"Log", Doc(R"("log": {"colour": true})"), "log.colour", "unknown key"},
        RefusalCase{"Defaults", Doc(R"("defaults": {"max_readrs": 8})"), "defaults.max_readrs",
                    "unknown key"},
        RefusalCase{"DefaultsDatabaseOnlyKey", Doc(R"("defaults": {"path": "x.db"})"),
                    "defaults.path", "unknown key"},
        RefusalCase{"Database", Doc("", R"("max_readrs": 8)"), "databases.main.max_readrs",
                    "unknown key"},
        RefusalCase{"DatabaseTopLevelKey", Doc("", R"("max_clients": 8)"),
                    "databases.main.max_clients", "unknown key"},
        RefusalCase{"DuplicateTopLevel", Doc(R"("max_clients": 1, "max_clients": 2)"),
                    "max_clients", "duplicate key"},
        RefusalCase{"DuplicateDatabase",
                    R"({"databases": {"main": {"path": "a"}, "main": {"path": "b"}}})",
                    "databases.main", "duplicate key"},
        RefusalCase{"DuplicatePragma",
                    Doc("", R"("pragmas": {"journal_mode": "wal", "journal_mode": "delete"})"),
                    "databases.main.pragmas.journal_mode", "duplicate key"}),
    CaseName);

INSTANTIATE_TEST_SUITE_P(
    WrongTypes, RefusalTest,
    ::testing::Values(
        RefusalCase{"IntegerAsString", Doc(R"("max_clients": "1024")"), "max_clients",
                    "expected an integer, got string"},
        RefusalCase{"IntegerAsBoolean", Doc(R"("max_clients": true)"), "max_clients",
                    "expected an integer, got boolean"},
        RefusalCase{"IntegerAsFloat", Doc(R"("max_clients": 10.5)"), "max_clients",
                    "expected an integer, got float"},
        RefusalCase{"IntegerAsWholeFloat", Doc(R"("max_clients": 1024.0)"), "max_clients",
                    "expected an integer, got float"},
        RefusalCase{"IntegerAsExponent", Doc(R"("max_clients": 1e3)"), "max_clients",
                    "expected an integer, got float"},
        RefusalCase{"IntegerAsNull", Doc(R"("max_clients": null)"), "max_clients",
                    "expected an integer, got null"},
        RefusalCase{"DurationAsString", Doc(R"("defaults": {"lease_timeout_ms": "30s"})"),
                    "defaults.lease_timeout_ms", "expected an integer, got string"},
        RefusalCase{"DatabaseLimitAsBoolean", Doc("", R"("max_readers": false)"),
                    "databases.main.max_readers", "expected an integer, got boolean"},
        RefusalCase{"SocketAsInteger", Doc(R"("socket": 5)"), "socket",
                    "expected a string, got integer"},
        RefusalCase{"MetricsAsString", Doc(R"("metrics": "127.0.0.1:9433")"), "metrics",
                    "expected an object, got string"},
        RefusalCase{"ListenAsInteger", Doc(R"("metrics": {"listen": 9433})"), "metrics.listen",
                    "expected a string, got integer"},
        RefusalCase{"LogAsString", Doc(R"("log": "info")"), "log",
                    "expected an object, got string"},
        RefusalCase{"LogLevelAsInteger", Doc(R"("log": {"level": 1})"), "log.level",
                    "expected a string, got integer"},
        RefusalCase{"DefaultsAsArray", Doc(R"("defaults": [])"), "defaults",
                    "expected an object, got array"},
        RefusalCase{"DatabasesAsArray", R"({"databases": [{"path": "x"}]})", "databases",
                    "expected an object, got array"},
        RefusalCase{"DatabaseAsString", R"({"databases": {"main": "main.db"}})", "databases.main",
                    "expected an object, got string"},
        RefusalCase{"UidsAsInteger", Doc(R"("allowed_uids": 0)"), "allowed_uids",
                    "expected an array of uids, got integer"},
        RefusalCase{"UidAsString", Doc(R"("admin_uids": ["root"])"), "admin_uids[0]",
                    "expected a uid (an integer), got string"},
        RefusalCase{"UidAsFloat", Doc(R"("admin_uids": [0.5])"), "admin_uids[0]", "got float"},
        RefusalCase{"PathAsInteger", R"({"databases": {"main": {"path": 1}}})",
                    "databases.main.path", "expected a string, got integer"},
        RefusalCase{"ReadOnlyAsString", Doc("", R"("read_only": "yes")"),
                    "databases.main.read_only", "expected a boolean, got string"},
        RefusalCase{"ReadOnlyAsInteger", Doc("", R"("read_only": 1)"), "databases.main.read_only",
                    "expected a boolean, got integer"},
        RefusalCase{"PragmasAsArray", Doc("", R"("pragmas": ["journal_mode=wal"])"),
                    "databases.main.pragmas", "expected an object, got array"},
        RefusalCase{"DatabaseUidsAsObject", Doc("", R"("allowed_uids": {})"),
                    "databases.main.allowed_uids", "expected an array of uids, got object"},
        RefusalCase{"DatabaseUidAsBoolean", Doc("", R"("allowed_uids": [true])"),
                    "databases.main.allowed_uids[0]", "got boolean"},
        RefusalCase{"ClientPragmasAsString", Doc(R"("defaults": {"client_pragmas": "x"})"),
                    "defaults.client_pragmas", "expected an array of strings, got string"},
        RefusalCase{"ClientPragmaAsInteger", Doc("", R"("client_pragmas": [1])"),
                    "databases.main.client_pragmas[0]", "expected a string, got integer"}),
    CaseName);

// --- value formats ----------------------------------------------------------

struct ModeCase {
  const char* name;
  const char* text;
  uint32_t mode;
};
// Names the case in failure output instead of dumping its bytes.
void PrintTo(const ModeCase& c, std::ostream* os) { *os << c.name; }

class SocketModeTest : public ConfigTest, public ::testing::WithParamInterface<ModeCase> {};

TEST_P(SocketModeTest, IsParsedAsOctal) {
  std::optional<Config> config =
      Load(Doc(std::string(R"("socket_mode": ")") + GetParam().text + "\""));
  ASSERT_TRUE(config) << error_;
  EXPECT_EQ(config->socket_mode, GetParam().mode);
}

INSTANTIATE_TEST_SUITE_P(Config, SocketModeTest,
                         ::testing::Values(ModeCase{"Group", "0660", 0660},
                                           ModeCase{"NoLeadingZero", "660", 0660},
                                           ModeCase{"Owner", "0600", 0600},
                                           ModeCase{"Everyone", "0777", 0777},
                                           ModeCase{"Nobody", "0000", 0}),
                         [](const auto& info) { return std::string(info.param.name); });

struct ListenCase {
  const char* name;
  const char* listen;
};
// Names the case in failure output instead of dumping its bytes.
void PrintTo(const ListenCase& c, std::ostream* os) { *os << c.name; }

class ValidListenTest : public ConfigTest, public ::testing::WithParamInterface<ListenCase> {};

TEST_P(ValidListenTest, IsAcceptedInFileAndOverride) {
  std::optional<Config> config =
      Load(Doc(std::string(R"("metrics": {"listen": ")") + GetParam().listen + "\"}"));
  ASSERT_TRUE(config) << error_;
  EXPECT_EQ(config->metrics_listen, GetParam().listen);
  Config base = EmbeddedDefault();
  std::string error;
  ASSERT_TRUE(ApplyOverrides(Flags(nullptr, GetParam().listen, nullptr), &base, &error)) << error;
  EXPECT_EQ(base.metrics_listen, GetParam().listen);
}

INSTANTIATE_TEST_SUITE_P(Config, ValidListenTest,
                         ::testing::Values(ListenCase{"Loopback", "127.0.0.1:9433"},
                                           ListenCase{"AnyPort", "127.0.0.1:0"},
                                           ListenCase{"AllInterfaces", "0.0.0.0:65535"},
                                           ListenCase{"HostName", "localhost:9433"},
                                           ListenCase{"DashedName", "metrics-1.local:80"},
                                           ListenCase{"Ipv6Loopback", "[::1]:9433"},
                                           ListenCase{"Ipv6Any", "[::]:9433"},
                                           ListenCase{"Ipv4Mapped", "[::ffff:127.0.0.1]:1"},
                                           ListenCase{"Disabled", ""}),
                         [](const auto& info) { return std::string(info.param.name); });

// --- overrides --------------------------------------------------------------

TEST_F(ConfigTest, OverridesReplaceFileValues) {
  std::optional<Config> config = Load(Doc(R"("socket": "/a.sock", "log": {"level": "warn"})"));
  ASSERT_TRUE(config) << error_;
  Overrides overrides;
  overrides.socket = "/run/b.sock";
  overrides.metrics_listen = "[::1]:9500";
  overrides.log_level = "debug";
  std::string error;
  ASSERT_TRUE(ApplyOverrides(overrides, &*config, &error)) << error;
  EXPECT_EQ(config->socket, "/run/b.sock");
  EXPECT_EQ(config->metrics_listen, "[::1]:9500");
  EXPECT_EQ(config->log_level, LogLevel::kDebug);
  EXPECT_EQ(config->metrics_path, "/metrics");  // untouched
}

TEST_F(ConfigTest, NoOverridesChangeNothing) {
  Config config = EmbeddedDefault();
  std::string error;
  ASSERT_TRUE(ApplyOverrides({}, &config, &error)) << error;
  ExpectBuiltInTopLevel(config);
}

TEST_F(ConfigTest, EmptyListenOverrideDisablesMetrics) {
  Config config = EmbeddedDefault();
  std::string error;
  ASSERT_TRUE(ApplyOverrides(Flags(nullptr, "", nullptr), &config, &error)) << error;
  EXPECT_EQ(config.metrics_listen, "");
}

struct OverrideCase {
  const char* name;
  Overrides overrides;
  std::string error;
};
// Names the case in failure output instead of dumping its bytes.
void PrintTo(const OverrideCase& c, std::ostream* os) { *os << c.name; }

class BadOverrideTest : public ::testing::TestWithParam<OverrideCase> {};

TEST_P(BadOverrideTest, IsRefusedAndChangesNothing) {
  Config config = EmbeddedDefault();
  std::string error;
  EXPECT_FALSE(ApplyOverrides(GetParam().overrides, &config, &error));
  EXPECT_EQ(error, GetParam().error);
  // All or nothing: a valid flag beside the bad one is not applied either.
  ExpectBuiltInTopLevel(config);
}

INSTANTIATE_TEST_SUITE_P(
    Config, BadOverrideTest,
    ::testing::Values(
        OverrideCase{"ListenWithoutPort", Flags(nullptr, "abc", nullptr),
                     R"(--metrics-listen: expected HOST:PORT, got "abc")"},
        OverrideCase{"ListenPortTooBig", Flags("/ok.sock", "127.0.0.1:70000", nullptr),
                     R"(--metrics-listen: port must be 0-65535, got "70000")"},
        OverrideCase{"ListenBareIpv6", Flags(nullptr, "::1:80", nullptr),
                     R"(--metrics-listen: expected HOST:PORT, got "::1:80" (an IPv6 address )"
                     R"(goes in brackets: [::1]:PORT))"},
        OverrideCase{"EmptySocket", Flags("", nullptr, nullptr), "--socket: must not be empty"},
        OverrideCase{"LongSocket", Flags(std::string(108, 's').c_str(), nullptr, "debug"),
                     "--socket: must be shorter than 108 bytes (the size of a Unix socket "
                     "address), got 108"},
        OverrideCase{"UnknownLevel", Flags("/ok.sock", nullptr, "trace"),
                     R"(--log-level: expected one of debug, info, warn, error, got "trace")"},
        OverrideCase{"EmptyLevel", Flags(nullptr, nullptr, ""),
                     R"(--log-level: expected one of debug, info, warn, error, got "")"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace litepool::config
