// DaemonProcess: starts the real litepoold in a temp dir and watches its log.
#include "tests/support/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#ifndef LITEPOOLD_PATH
#error "LITEPOOLD_PATH must be defined (LITEPOOL_TEST_DEFINES in tests/CMakeLists.txt)"
#endif

namespace litepool::testing {
namespace {

// 128 + N for death by signal N, as a shell reports it.
int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// The port of "http://127.0.0.1:PORT/metrics"; 0 if there is none.
int PortOfUrl(const std::string& url) {
  size_t host = url.find("://");
  size_t colon = url.find(':', host == std::string::npos ? 0 : host + 3);
  if (colon == std::string::npos) return 0;
  return std::atoi(url.c_str() + colon + 1);
}

}  // namespace

DaemonProcess::DaemonProcess() : binary_(LITEPOOLD_PATH) {
  char tmpl[] = "/tmp/litepool-test-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
  } else {
    dir_ = tmpl;
  }
  config_path_ = dir_ + "/litepool.json";
  socket_path_ = dir_ + "/litepool.sock";
}

DaemonProcess::~DaemonProcess() {
  if (running()) Kill();
  if (reader_.joinable()) reader_.join();
  if (!dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

nlohmann::json DaemonProcess::Config(const nlohmann::json& overrides) const {
  nlohmann::json config = {
      {"socket", dir_ + "/litepool.sock"},
      {"metrics", {{"listen", "127.0.0.1:0"}}},
      {"reaper_interval_ms", 100},
      {"databases",
       {{"main",
         {{"path", dir_ + "/main.db"},
          {"create_if_missing", true},
          {"pragmas", {{"journal_mode", "wal"}}}}}}},
  };
  if (!overrides.is_null()) config.merge_patch(overrides);
  return config;
}

::testing::AssertionResult DaemonProcess::Start(const nlohmann::json& overrides,
                                                const std::vector<std::string>& extra_args) {
  if (running()) return ::testing::AssertionFailure() << "already started";
  // A restart: the previous daemon is gone, so its log reader has seen EOF.
  if (reader_.joinable()) reader_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    log_.clear();
    log_eof_ = false;
  }
  metrics_port_ = 0;
  nlohmann::json config = Config(overrides);
  {
    std::ofstream file(config_path_);
    file << config.dump(2) << '\n';
    if (!file) return ::testing::AssertionFailure() << "cannot write " << config_path_;
  }
  if (config.contains("socket") && config["socket"].is_string()) {
    socket_path_ = config["socket"].get<std::string>();
  }

  // Everything the child needs is built before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> args = prefix_;
  args.insert(args.end(), {binary_, "--config", config_path_});
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings = env_;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0) {
    return ::testing::AssertionFailure() << "pipe2: " << std::strerror(errno);
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
  }
  if (pid == 0) {
    // A test binary that dies must not leave daemons behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::signal(SIGPIPE, SIG_DFL);  // as a shell would start it
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(pipe_fds[1], 1);
    ::dup2(pipe_fds[1], 2);
    ::close_range(3, ~0U, 0);
    ::execve(argv[0], argv.data(), envp.data());
    const char msg[] = "exec litepoold failed\n";
    (void)!::write(2, msg, sizeof(msg) - 1);
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  pid_ = pid;
  reader_ = std::thread(&DaemonProcess::ReadLog, this, pipe_fds[0]);

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    lock.unlock();
    bool listening = ParseListening();
    lock.lock();
    if (listening) return ::testing::AssertionSuccess();
    if (log_eof_ || std::chrono::steady_clock::now() >= deadline) break;
    log_changed_.wait_for(lock, milliseconds(50));
  }
  std::string log = log_;
  lock.unlock();
  std::optional<int> exited = WaitForExit(milliseconds(200));
  if (!exited) Kill();
  return ::testing::AssertionFailure()
         << "litepoold did not log a \"listening\" event within 10 s"
         << (exited ? " (exited with " + std::to_string(*exited) + ")" : std::string())
         << "; config:\n"
         << config.dump(2) << "\nlog:\n"
         << log;
}

bool DaemonProcess::ParseListening() {
  std::string log = LogText();
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("listening") == std::string::npos) continue;
    nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
    if (event.is_discarded() || !event.is_object() || event.value("event", "") != "listening") {
      continue;
    }
    if (event.contains("socket") && event["socket"].is_string()) {
      socket_path_ = event["socket"].get<std::string>();
    }
    if (event.contains("metrics") && event["metrics"].is_string()) {
      metrics_port_ = PortOfUrl(event["metrics"].get<std::string>());
    }
    return true;
  }
  return false;
}

void DaemonProcess::ReadLog(int fd) {
  char chunk[4096];
  while (true) {
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard<std::mutex> lock(mu_);
    if (n <= 0) {
      log_eof_ = true;
      log_changed_.notify_all();
      break;
    }
    log_.append(chunk, static_cast<size_t>(n));
    log_changed_.notify_all();
  }
  ::close(fd);
}

void DaemonProcess::Signal(int signal) {
  if (running()) ::kill(pid_, signal);
}

std::optional<int> DaemonProcess::WaitForExit(milliseconds timeout) {
  if (!running()) return std::nullopt;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_ || (done < 0 && errno == ECHILD)) {
      pid_ = -1;
      return done > 0 ? ExitCode(status) : -1;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(milliseconds(5));
  }
}

int DaemonProcess::Stop(milliseconds timeout) {
  if (!running()) return -1;
  Signal(SIGTERM);
  std::optional<int> code = WaitForExit(timeout);
  if (code) return *code;
  Kill();
  return -1;
}

void DaemonProcess::Kill() {
  if (!running()) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

std::string DaemonProcess::LogText() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

bool DaemonProcess::WaitForLog(std::string_view needle, milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mu_);
  while (log_.find(needle) == std::string::npos) {
    if (log_eof_) return false;
    if (log_changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return log_.find(needle) != std::string::npos;
    }
  }
  return true;
}

}  // namespace litepool::testing
