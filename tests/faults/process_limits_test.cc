// The process's own limits: file descriptors exhausted, stderr on a pipe
// nobody reads, and memory under huge results that are refused.
#include <dirent.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/faults/fault_fixture.h"
#include "wire/unix_socket.h"

namespace litepool::testing {
namespace {

using nlohmann::json;

// A field of /proc/<pid>/status in KiB (VmRSS, VmHWM).
int64_t StatusKiB(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

// Whether a daemon answers a ping on `socket` now; records no failure.
bool Pings(const std::string& socket) {
  int fd = wire::ConnectUnixSocket(socket);
  if (fd < 0) return false;
  bool ok = true;
  const char ping[] = "{\"op\":\"ping\"}\n";
  // MSG_NOSIGNAL: a client the daemon refused may be closed already.
  ok = ok &&
       ::send(fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof(ping) - 1);
  char buf[64] = {};
  ok = ok && ::read(fd, buf, sizeof(buf) - 1) > 0 && std::strstr(buf, "\"ok\":true") != nullptr;
  ::close(fd);
  return ok;
}

class ProcessLimitsTest : public FaultTest {};

// The `fd_limit` log line's max_clients: what the daemon planned for the
// descriptors it was given (-1 when the line is missing).
int PlannedMaxClients(const std::string& log) {
  for (std::istringstream lines(log); !lines.eof();) {
    std::string line;
    std::getline(lines, line);
    if (line.find("\"event\":\"fd_limit\"") == std::string::npos) continue;
    return json::parse(line).value("max_clients", -1);
  }
  return -1;
}

TEST_F(ProcessLimitsTest, OutOfFileDescriptorsRefusesWithAReasonAndKeepsMetrics) {
  // Tight enough that max_clients is lowered below its default, loose
  // enough to leave some: the daemon's own descriptors (one set per I/O
  // thread, the metrics server) grow with the machine's cores.
  daemon_.SetPrefix({"/usr/bin/prlimit", "--nofile=112:112"});
  ASSERT_TRUE(daemon_.Start());
  ASSERT_TRUE(daemon_.WaitForLog("\"event\":\"fd_limit_low\""));
  const int planned = PlannedMaxClients(daemon_.LogText());
  ASSERT_GT(planned, 0) << daemon_.LogText();
  const int extra = 20;
  std::vector<LineClient> clients;
  int admitted = 0, refused = 0, silent = 0;
  for (int i = 0; i < planned + extra; ++i) {
    clients.emplace_back(daemon_.socket_path());
    LineClient& c = clients.back();
    // A refused client may already be closed: the send may fail, and its
    // refusal line is still there to read.
    const char ping[] = "{\"op\":\"ping\"}\n";
    (void)!::send(c.fd(), ping, sizeof(ping) - 1, MSG_NOSIGNAL);
    auto line = c.ReadLine(milliseconds(2000));
    if (!line) {
      ++silent;
    } else if (json::parse(*line).value("ok", false)) {
      ++admitted;
    } else {
      EXPECT_EQ(json::parse(*line)["error"]["code"], "too_many_clients") << *line;
      ++refused;
    }
  }
  EXPECT_EQ(silent, 0) << "clients left hanging with no answer";
  // Exactly the planned number get in; every one past it is told why.
  EXPECT_EQ(admitted, planned);
  EXPECT_EQ(refused, extra);
  // The metrics endpoint still answers with the table full.
  HttpResponse metrics = HttpGet(daemon_.metrics_port(), "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("litepool_clients_connected " + std::to_string(admitted)),
            std::string::npos)
      << "admitted " << admitted;
  // Clients that leave make room again.
  clients.clear();
  // (A raw ping: a connect refused meanwhile is not a failure of the test.)
  EXPECT_TRUE(Eventually([&] { return Pings(daemon_.socket_path()); }));
  std::string log = daemon_.LogText();
  size_t accept_lines = 0;
  for (size_t at = log.find("accept_failed"); at != std::string::npos;
       at = log.find("accept_failed", at + 1)) {
    ++accept_lines;
  }
  EXPECT_LE(accept_lines, 1u) << log;
}

// Descriptors open in process `pid` now.
int OpenFdsOf(pid_t pid) {
  int n = 0;
  if (DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (::readdir(dir) != nullptr) ++n;
    ::closedir(dir);
    n -= 2;  // "." and ".."
  }
  return n;
}

// The limit lowered under a running daemon (as when something else in the
// process eats descriptors): max_clients still allows more, so accept itself
// fails with EMFILE and the reserved descriptor is spent to tell the client
// why instead of leaving it hanging.
TEST_F(ProcessLimitsTest, DescriptorsRunOutBeforeMaxClientsTheReserveRefuses) {
#if defined(__SANITIZE_ADDRESS__)
  // UBSan's vptr check probes memory through a pipe it opens: with no
  // descriptor left it reports the first polymorphic call it has not seen
  // before as a bad object and stops the daemon. Runs in the plain and
  // TSan suites.
  GTEST_SKIP() << "UBSan needs descriptors of its own to check a call";
#endif
  ASSERT_TRUE(daemon_.Start());
  ASSERT_TRUE(Pings(daemon_.socket_path()));
  const int room = 5;
  const std::string limit = std::to_string(OpenFdsOf(daemon_.pid()) + room);
  ASSERT_EQ(RunProcess({"/usr/bin/prlimit", "--pid", std::to_string(daemon_.pid()),
                        "--nofile=" + limit + ":" + limit})
                .exit_code,
            0);
  std::vector<LineClient> clients;
  int admitted = 0, refused = 0, silent = 0;
  for (int i = 0; i < room + 10; ++i) {
    clients.emplace_back(daemon_.socket_path());
    const char ping[] = "{\"op\":\"ping\"}\n";
    (void)!::send(clients.back().fd(), ping, sizeof(ping) - 1, MSG_NOSIGNAL);
    auto line = clients.back().ReadLine(milliseconds(2000));
    if (!line) {
      ++silent;
    } else if (json::parse(*line).value("ok", false)) {
      ++admitted;
    } else {
      json error = json::parse(*line)["error"];
      EXPECT_EQ(error["code"], "too_many_clients") << *line;
      EXPECT_NE(error["message"].get<std::string>().find("RLIMIT_NOFILE"), std::string::npos)
          << *line;
      ++refused;
    }
  }
  EXPECT_EQ(silent, 0) << "clients left hanging with no answer";
  EXPECT_GT(admitted, 0);
  EXPECT_GT(refused, 0);
  EXPECT_TRUE(daemon_.WaitForLog("\"event\":\"accept_failed\""));
  // Clients that leave give their descriptors back, and the daemon accepts
  // again without a restart.
  clients.clear();
  EXPECT_TRUE(Eventually([&] { return Pings(daemon_.socket_path()); }));
}

// With the metrics endpoint off and stderr on a pipe whose reader is gone,
// the next log line must not kill the daemon (SIGPIPE).
TEST_F(ProcessLimitsTest, LogToAClosedPipeDoesNotKillTheDaemon) {
  json config = daemon_.Config({{"metrics", {{"listen", ""}}}});
  std::string path = daemon_.dir() + "/sigpipe.json";
  std::ofstream(path) << config.dump();
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGPIPE, SIG_DFL);  // as a shell would start it
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl(LITEPOOLD_PATH, LITEPOOLD_PATH, "--config", path.c_str(), nullptr);
    ::_exit(127);
  }
  ::close(fds[0]);  // the reader is gone before the first line
  ::close(fds[1]);
  std::string socket = config["socket"].get<std::string>();
  bool answered = Eventually([&] { return Pings(socket); });
  int status = 0;
  EXPECT_TRUE(answered) << (::waitpid(pid, &status, WNOHANG) == pid && WIFSIGNALED(status)
                                ? "killed by signal " + std::to_string(WTERMSIG(status))
                                : "no answer");
  // Log lines meanwhile: a reload, refused requests.
  ::kill(pid, SIGHUP);
  for (int i = 0; i < 5; ++i) LineClient(socket).Call({{"op", "stats"}, {"bad", true}});
  EXPECT_TRUE(IsOk(LineClient(socket).Call({{"op", "ping"}})));
  EXPECT_EQ(::waitpid(pid, &status, WNOHANG), 0) << "the daemon died";
  ::kill(pid, SIGTERM);
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status)) << "signal " << WTERMSIG(status);
}

// docs/operations.md, "Memory": a refused result costs at most 1.5x
// max_result_bytes while it runs, and bursts of them leave nothing behind.
TEST_F(ProcessLimitsTest, RefusedHugeResultsStayBoundedAndMemoryComesBack) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "memory figures mean nothing under a sanitizer's allocator (quarantine, "
                  "shadow memory); the plain build measures them";
#endif
  constexpr int64_t kMax = 4 << 20;
  ASSERT_TRUE(daemon_.Start({{"max_result_bytes", kMax}, {"defaults", {{"max_readers", 10}}}}));
  // 100,000 rows of 200 bytes, made by the query: 20 MB, no table pages.
  const std::string huge =
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 100000) "
      "SELECT x, printf('%0200d', x) FROM c";
  json small =
      Connect().Call({{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", "SELECT 1"}});
  ASSERT_TRUE(IsOk(small));
  pid_t pid = daemon_.pid();
  int64_t idle_rss = StatusKiB(pid, "VmRSS");
  int64_t hwm_before = StatusKiB(pid, "VmHWM");
  json refused = Connect().Call({{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", huge}});
  ASSERT_EQ(Code(refused), "result_too_large") << refused.dump();
  int64_t one_peak = StatusKiB(pid, "VmHWM") - hwm_before;
  EXPECT_LE(one_peak * 1024, kMax * 3 / 2) << "one refused result peaked at " << one_peak << " KiB";
  for (int burst = 0; burst < 100; ++burst) {
    std::vector<std::thread> threads;
    for (int i = 0; i < 10; ++i) {
      threads.emplace_back([&] {
        json r = Connect().Call({{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", huge}},
                                milliseconds(20000));
        EXPECT_EQ(Code(r), "result_too_large");
      });
    }
    for (auto& t : threads) t.join();
  }
  int64_t after_rss = StatusKiB(pid, "VmRSS");
  std::cerr << "idle RSS " << idle_rss << " KiB, one refused result's peak +" << one_peak
            << " KiB, RSS after 100 bursts of 10: " << after_rss << " KiB\n";
  EXPECT_LE((after_rss - idle_rss) * 1024, 4 * kMax);
}

}  // namespace
}  // namespace litepool::testing
