// Child processes for tests: a client that dies holding a lease, and running
// a command (the CLI, promtool) with its output captured.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tests/support/daemon.h"
#include "tests/support/posix_io.h"
#include "wire/unix_socket.h"

extern char** environ;

namespace litepool::testing {
namespace {

int ExitCode(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// The child's side of ForkHoldingLease; returns what to report to the
// parent ("ok" or what failed). The child has no gtest to report to.
std::string HoldLease(const std::string& socket_path, const std::string& db,
                      const std::vector<std::string>& statements) {
  std::string connect_error;
  int fd = wire::ConnectUnixSocket(socket_path, &connect_error);
  if (fd < 0) return connect_error;
  std::string buffer;
  auto call = [&](const nlohmann::json& request, nlohmann::json* reply) -> std::string {
    if (!internal::WriteAll(fd, request.dump() + "\n")) return "write failed";
    std::string line;
    if (internal::ReadLine(fd, &buffer, std::chrono::seconds(10), &line) !=
        internal::ReadStatus::kLine) {
      return "no reply to " + request.dump();
    }
    *reply = nlohmann::json::parse(line, nullptr, false);
    if (!reply->is_object() || reply->value("ok", false) != true) {
      return "failed: " + request.dump() + " -> " + line;
    }
    return "";
  };
  nlohmann::json reply;
  std::string error = call({{"op", "acquire"}, {"db", db}, {"mode", "write"}}, &reply);
  if (!error.empty()) return error;
  if (!reply.contains("lease") || !reply["lease"].is_string()) return "no lease in reply";
  std::string lease = reply["lease"].get<std::string>();
  for (const std::string& sql : statements) {
    error = call({{"op", "exec"}, {"lease", lease}, {"sql", sql}}, &reply);
    if (!error.empty()) return error;
  }
  return "ok";  // fd stays open: the lease is held until the process dies
}

}  // namespace

pid_t ForkHoldingLease(const std::string& socket_path, const std::string& db,
                       const std::vector<std::string>& statements) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) < 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return -1;
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return -1;
  }
  if (pid == 0) {
    // The child of a multi-threaded test process: it uses only its own
    // fresh objects (glibc keeps malloc usable after fork).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::close(ready[0]);
    std::string outcome = HoldLease(socket_path, db, statements) + "\n";
    (void)!::write(ready[1], outcome.data(), outcome.size());
    while (true) ::pause();
  }
  ::close(ready[1]);
  std::string buffer;
  std::string line;
  internal::ReadStatus status = internal::ReadStatus::kTimeout;
  // Read with poll/read: ReadLine uses recv, which pipes do not support.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    size_t newline = buffer.find('\n');
    if (newline != std::string::npos) {
      line = buffer.substr(0, newline);
      status = internal::ReadStatus::kLine;
      break;
    }
    pollfd pfd{ready[0], POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) continue;
    char chunk[1024];
    ssize_t n = ::read(ready[0], chunk, sizeof(chunk));
    if (n <= 0) {
      status = internal::ReadStatus::kEof;
      break;
    }
    buffer.append(chunk, static_cast<size_t>(n));
  }
  ::close(ready[0]);
  if (status != internal::ReadStatus::kLine || line != "ok") {
    ADD_FAILURE() << "child holding a lease failed: "
                  << (status == internal::ReadStatus::kLine ? line : "no report");
    KillAndReap(pid);
    return -1;
  }
  return pid;
}

void KillAndReap(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int status;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

ProcessResult RunProcess(const std::vector<std::string>& argv_strings, const std::string& input,
                         const std::vector<std::string>& extra_env) {
  ProcessResult result;
  std::vector<std::string> args = argv_strings;
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  // A child that exits before reading all its input must not kill us.
  ::signal(SIGPIPE, SIG_IGN);
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) < 0 || ::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0) {
    result.err = std::string("pipe2: ") + std::strerror(errno);
    return result;
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    result.err = std::string("fork: ") + std::strerror(errno);
    return result;
  }
  if (pid == 0) {
    ::signal(SIGPIPE, SIG_DFL);  // undo our SIG_IGN, which exec would keep
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::close_range(3, ~0U, 0);
    ::execve(argv[0], argv.data(), envp.data());
    const char msg[] = "exec failed\n";
    (void)!::write(2, msg, sizeof(msg) - 1);
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  // Feed stdin and drain both outputs together so that no pipe fills up.
  ::fcntl(in[1], F_SETFL, O_NONBLOCK);
  size_t written = 0;
  int in_fd = in[1];
  if (input.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  int out_fd = out[0], err_fd = err[0];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((out_fd >= 0 || err_fd >= 0) && std::chrono::steady_clock::now() < deadline) {
    pollfd fds[3] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
    if (::poll(fds, 3, 100) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char chunk[16 * 1024];
      ssize_t n = ::read(fds[i].fd, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fds[i].fd);
        (i == 0 ? out_fd : err_fd) = -1;
      } else {
        (i == 0 ? result.out : result.err).append(chunk, static_cast<size_t>(n));
      }
    }
    if (in_fd >= 0 && fds[2].revents != 0) {
      ssize_t n = ::write(in_fd, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) written = input.size();
      if (written == input.size()) {
        ::close(in_fd);
        in_fd = -1;
      }
    }
  }
  for (int fd : {in_fd, out_fd, err_fd}) {
    if (fd >= 0) ::close(fd);
  }
  int status = 0;
  if (out_fd >= 0 || err_fd >= 0) ::kill(pid, SIGKILL);  // timed out
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = ExitCode(status);
  return result;
}

}  // namespace litepool::testing
