// Test support for end-to-end tests: a real litepoold child process, a raw
// protocol line client, a minimal HTTP GET, and a client that dies holding
// a lease.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace litepool::testing {

using std::chrono::milliseconds;

// A litepoold started from LITEPOOLD_PATH with a config file in a fresh temp
// dir. Owns the child process, the dir and the thread that drains the
// child's stderr (and stdout) into a buffer. The destructor kills the daemon
// if it still runs and removes the dir.
//
// Use from the test's thread; LogText()/WaitForLog() may be called from any
// thread (the log buffer is guarded by a mutex).
class DaemonProcess {
 public:
  DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;
  ~DaemonProcess();

  // The configuration Start() would write: socket <dir>/litepool.sock,
  // metrics on 127.0.0.1:0, reaper_interval_ms 100, database `main` at
  // <dir>/main.db in WAL mode; with `overrides` merged over it as a JSON
  // merge patch (RFC 7386: objects merge, null deletes a key).
  nlohmann::json Config(const nlohmann::json& overrides = nlohmann::json::object()) const;

  // Writes Config(overrides) to <dir>/litepool.json, starts the daemon with
  // `--config` it plus `extra_args`, and waits up to 10 s for its
  // "listening" log event. Failure carries the daemon's log.
  ::testing::AssertionResult Start(const nlohmann::json& overrides = nlohmann::json::object(),
                                   const std::vector<std::string>& extra_args = {});

  // For the next Start(): run `binary` instead of LITEPOOLD_PATH (e.g. the
  // fault-injecting build), under `prefix` (absolute path first, e.g.
  // {"/usr/bin/prlimit", "--nofile=64"}), with `env` added to the
  // environment ("KEY=value").
  void SetBinary(std::string binary) { binary_ = std::move(binary); }
  void SetPrefix(std::vector<std::string> prefix) { prefix_ = std::move(prefix); }
  void AddEnv(std::string key_value) { env_.push_back(std::move(key_value)); }

  const std::string& dir() const { return dir_; }
  const std::string& config_path() const { return config_path_; }
  // From the "listening" event (falls back to the configured path).
  const std::string& socket_path() const { return socket_path_; }
  // The metrics port from the "listening" event, 0 if none was logged.
  int metrics_port() const { return metrics_port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

  // Sends `signal` to the daemon.
  void Signal(int signal);
  // SIGTERM, then waits up to `timeout` for the exit (SIGKILL after that).
  // Returns the exit code, 128 + N if killed by signal N, -1 if it had to be
  // killed after the timeout or was not running.
  int Stop(milliseconds timeout = milliseconds(10000));
  // SIGKILL and reap.
  void Kill();
  // Waits up to `timeout` for the daemon to exit by itself; the status as
  // for Stop(), or nullopt if it still runs.
  std::optional<int> WaitForExit(milliseconds timeout);

  // Everything the daemon wrote to stderr (and stdout) so far.
  std::string LogText() const;
  // True once the log contains `needle` (waiting up to `timeout`).
  bool WaitForLog(std::string_view needle, milliseconds timeout = milliseconds(5000)) const;

 private:
  void ReadLog(int fd);
  bool ParseListening();

  std::string dir_;
  std::string config_path_;
  std::string binary_;  // LITEPOOLD_PATH unless SetBinary()
  std::vector<std::string> prefix_;
  std::vector<std::string> env_;
  std::string socket_path_;
  int metrics_port_ = 0;
  pid_t pid_ = -1;
  std::thread reader_;

  mutable std::mutex mu_;
  mutable std::condition_variable log_changed_;
  std::string log_;       // guarded by mu_
  bool log_eof_ = false;  // guarded by mu_
};

// A raw client of the wire protocol: writes lines, reads lines, nothing
// more, so that tests see exactly what the daemon sends. Owns one Unix
// socket. Not thread-safe.
class LineClient {
 public:
  explicit LineClient(const std::string& socket_path);
  LineClient(const LineClient&) = delete;
  LineClient& operator=(const LineClient&) = delete;
  LineClient(LineClient&& other) noexcept;
  ~LineClient();

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Closes the socket now (the daemon sees EOF).
  void Close();

  // Writes `line` plus "\n"; false if the write failed.
  bool Send(std::string_view line);
  // Writes `bytes` exactly.
  bool SendRaw(std::string_view bytes);
  // The next line without its "\n"; nullopt on timeout or EOF.
  std::optional<std::string> ReadLine(milliseconds timeout = milliseconds(5000));
  // Sends `request` and parses the next line; records a test failure and
  // returns null if no line came or it is not JSON.
  nlohmann::json Call(const nlohmann::json& request, milliseconds timeout = milliseconds(5000));
  // True if the daemon closes the connection within `timeout` (lines that
  // arrive first are discarded).
  bool Closed(milliseconds timeout = milliseconds(2000));

 private:
  int fd_ = -1;
  std::string buffer_;
};

struct HttpResponse {
  int status = 0;  // 0: no HTTP answer
  std::string body;
  std::string headers;
};

// HTTP/1.0 GET http://127.0.0.1:<port><path>, read to EOF.
HttpResponse HttpGet(int port, const std::string& path);

// A child process that connects to `socket_path`, acquires a write lease on
// `db`, runs each of `statements` through it (e.g. "BEGIN", an INSERT), and
// then waits to be killed. Returns the child's pid once all statements
// succeeded (the child is then blocked), or -1 with a test failure recorded.
// The caller kills and reaps it (KillAndReap).
pid_t ForkHoldingLease(const std::string& socket_path, const std::string& db,
                       const std::vector<std::string>& statements);
void KillAndReap(pid_t pid);

// Polls `condition` every few ms until true or `timeout`; returns the last
// result. For waiting on the daemon without fixed sleeps.
template <class F>
bool Eventually(F condition, milliseconds timeout = milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(5));
  }
}

// Runs `argv` (argv[0] a path) with stdin from `input`; collects stdout,
// stderr and the exit code (128 + N if killed by signal N).
struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& input = "",
                         const std::vector<std::string>& extra_env = {});

}  // namespace litepool::testing
