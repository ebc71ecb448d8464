// The processes the load generator measures: litepoold and the echo server,
// started in a scratch directory, and what /proc says about them.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace litepool::bench {

// A directory under $TMPDIR (or /tmp), removed with its contents on
// destruction. Move-only.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  bool ok() const { return !path_.empty(); }

 private:
  std::string path_;
};

// A child process with stdout and stderr sent to a log file. Stop() sends
// SIGTERM and reaps it; the destructor stops it too. Not thread-safe.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (searched in $PATH) with `env` ("NAME=value") added to this environment.
  bool Start(const std::vector<std::string>& argv, const std::vector<std::string>& env,
             const std::string& log_path, std::string* error);
  // SIGTERM, then SIGKILL after 60 s; returns the exit status (-1 if none).
  int Stop();
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

// What /proc/<pid> says now.
struct ProcSample {
  long rss_kib = 0;        // VmRSS
  int fds = 0;             // entries of /proc/<pid>/fd
  double cpu_seconds = 0;  // utime + stime
  long max_fds = 0;        // soft "Max open files"
};
ProcSample SampleProcess(pid_t pid);

// Waits until a Unix socket at `path` accepts a connection.
bool WaitForSocket(const std::string& path, double timeout_seconds);

// Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the new soft
// limit. Children started afterwards inherit it.
long RaiseFdLimit();

// "model name" of /proc/cpuinfo.
std::string CpuModel();

}  // namespace litepool::bench
