// Forked clients and direct database access for the hardening tests.
#include "tests/hardening/child.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "tests/support/posix_io.h"
#include "wire/unix_socket.h"

namespace litepool::testing {

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawClient::Connect(const std::string& socket_path) {
  if (fd_ >= 0) ::close(fd_);
  buffer_.clear();
  fd_ = wire::ConnectUnixSocket(socket_path);
  return fd_ >= 0;
}

bool RawClient::Call(const nlohmann::json& request, nlohmann::json* reply,
                     std::chrono::milliseconds timeout) {
  if (fd_ < 0 || !internal::WriteAll(fd_, request.dump() + "\n")) return false;
  std::optional<std::string> line = ReadLine(timeout);
  if (!line) return false;
  *reply = nlohmann::json::parse(*line, nullptr, false);
  return true;
}

std::optional<std::string> RawClient::ReadLine(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return std::nullopt;
  std::string line;
  if (internal::ReadLine(fd_, &buffer_, timeout, &line) != internal::ReadStatus::kLine) {
    return std::nullopt;
  }
  return line;
}

bool RawClient::AtEof(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return true;
  std::string line;
  return internal::ReadLine(fd_, &buffer_, timeout, &line) == internal::ReadStatus::kEof;
}

namespace {

// Reads `fd` to EOF or `deadline`; false on timeout.
bool ReadAll(int fd, std::chrono::steady_clock::time_point deadline, std::string* out) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[4096];
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    out->append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace

std::optional<std::string> RunInChild(const std::function<std::string()>& body, int uid,
                                      std::chrono::milliseconds timeout) {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) < 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return std::nullopt;
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    ::close(report[0]);
    ::close(report[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    // The child of a multi-threaded test process: it touches only its own
    // fresh objects (glibc keeps malloc usable after fork).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::close(report[0]);
    std::string outcome;
    if (uid >= 0 && (::setgroups(0, nullptr) != 0 || ::setgid(static_cast<gid_t>(uid)) != 0 ||
                     ::setuid(static_cast<uid_t>(uid)) != 0)) {
      outcome =
          std::string("cannot drop to uid ") + std::to_string(uid) + ": " + std::strerror(errno);
    } else {
      outcome = body();
    }
    (void)!::write(report[1], outcome.data(), outcome.size());
    ::_exit(0);
  }
  ::close(report[1]);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out;
  bool done = ReadAll(report[0], deadline, &out);
  ::close(report[0]);
  int status = 0;
  if (!done) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ADD_FAILURE() << "child did not report within " << timeout.count() << " ms; so far: " << out;
    return std::nullopt;
  }
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ADD_FAILURE() << "child failed (status " << status << "); report: " << out;
    return std::nullopt;
  }
  return out;
}

pid_t SpawnChild(const std::function<void()>& body) {
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return -1;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    body();
    ::_exit(0);
  }
  return pid;
}

DirectDatabase::DirectDatabase(const std::string& path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    ADD_FAILURE() << "sqlite3_open_v2 " << path << ": "
                  << (db_ ? sqlite3_errmsg(db_) : "out of memory");
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
}

DirectDatabase::~DirectDatabase() { sqlite3_close_v2(db_); }

std::string DirectDatabase::Exec(const std::string& sql) {
  if (db_ == nullptr) return "not open";
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) == SQLITE_OK) return "";
  std::string message = err ? err : "failed";
  sqlite3_free(err);
  return message;
}

}  // namespace litepool::testing
