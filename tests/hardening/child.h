// Helpers the hardening tests share: forked client processes (that may be
// killed at any moment, or run as another uid), a raw protocol client for
// them that never touches gtest, and a direct SQLite connection to a
// database file for holding locks behind the daemon's back.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

struct sqlite3;

namespace litepool::testing {

// A protocol client for forked children: plain sockets, no gtest (a child
// must not record test results), no exceptions. Owns one Unix socket; not
// thread-safe.
class RawClient {
 public:
  RawClient() = default;
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  ~RawClient();

  // False (errno set) if the connection fails.
  bool Connect(const std::string& socket_path);
  // Sends `request` and parses the next line into *reply (a discarded JSON
  // value if the line is not JSON). False on a write error, EOF or timeout.
  bool Call(const nlohmann::json& request, nlohmann::json* reply,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  // The next line; nullopt on EOF or timeout.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout);
  // True if the next read sees EOF within `timeout` (and no line first).
  bool AtEof(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string buffer_;
};

// Forks a child that runs `body` and writes its return value (a report for
// the parent) to a pipe, then _exits 0. `uid` >= 0 makes the child drop to
// that uid and gid first (setgroups, setgid, setuid). Waits up to `timeout`
// for the report and the exit; returns the report, or nullopt (with a test
// failure recorded) if the child did not report or exit in time. The child
// dies with the test process (PR_SET_PDEATHSIG).
std::optional<std::string> RunInChild(
    const std::function<std::string()>& body, int uid = -1,
    std::chrono::milliseconds timeout = std::chrono::milliseconds(15000));

// Forks a child that runs `body` until it is killed (it _exits 0 if `body`
// returns). Returns its pid, or -1 with a test failure. The caller kills and
// reaps it (KillAndReap in tests/support/daemon.h).
pid_t SpawnChild(const std::function<void()>& body);

// A SQLite connection opened directly on a database file, beside the
// daemon's. Owns the sqlite3*; not thread-safe.
class DirectDatabase {
 public:
  explicit DirectDatabase(const std::string& path);
  ~DirectDatabase();
  DirectDatabase(const DirectDatabase&) = delete;
  DirectDatabase& operator=(const DirectDatabase&) = delete;

  bool ok() const { return db_ != nullptr; }
  // Runs `sql`; "" on success, else SQLite's message.
  std::string Exec(const std::string& sql);

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace litepool::testing
