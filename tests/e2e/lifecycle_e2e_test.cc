// The daemon's lifecycle against the real process (docs/configuration.md): drain on
// SIGTERM, reload on SIGHUP, the socket file, the lock, and the exit codes of
// the command line.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/integration/protocol_fixture.h"

namespace litepool::testing {
namespace {

using std::chrono::steady_clock;

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

class DrainTest : public ProtocolTest {
 protected:
  json Overrides() override { return {{"shutdown_grace_ms", 1500}}; }
};

class LongDrainTest : public ProtocolTest {
 protected:
  json Overrides() override { return {{"shutdown_grace_ms", 8000}}; }
};

TEST_F(LongDrainTest, SigtermWaitsForLeasesThenExitsCleanly) {
  ExecOk("CREATE TABLE t(x)");
  LineClient holder = Connect();
  std::string lease = Acquire(holder);
  ASSERT_EQ(holder.Call({{"op", "exec"}, {"lease", lease}, {"sql", "INSERT INTO t VALUES (1)"}})
                .value("ok", false),
            true);
  LineClient other = Connect();
  ASSERT_EQ(other.Call({{"op", "ping"}}).value("ok", false), true);
  daemon_.Signal(SIGTERM);
  ASSERT_TRUE(daemon_.WaitForLog("\"event\":\"draining\""));
  // New connections are refused while draining (one shutting_down line,
  // then closed); the held lease still works.
  LineClient late = Connect();
  std::optional<std::string> refused = late.ReadLine();
  ASSERT_TRUE(refused.has_value());
  EXPECT_TRUE(IsError(json::parse(*refused), "shutting_down")) << *refused;
  EXPECT_TRUE(late.Closed());
  // An acquire on a connection opened before the drain is refused too.
  json refused_acquire = other.Call({{"op", "acquire"}, {"db", "main"}, {"mode", "read"}});
  EXPECT_TRUE(IsError(refused_acquire, "shutting_down")) << refused_acquire.dump();
  EXPECT_EQ(
      holder.Call(
          {{"op", "query"}, {"lease", lease}, {"sql", "SELECT count(*) FROM t"}})["rows"][0][0],
      1);
  auto start = steady_clock::now();
  EXPECT_EQ(holder.Call({{"op", "release"}, {"lease", lease}}).value("ok", false), true);
  std::optional<int> code = daemon_.WaitForExit(milliseconds(7000));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << daemon_.LogText();
  // Well before the 8 s grace: the drain ends with the last lease (the
  // metrics server's shutdown takes up to a couple of seconds).
  EXPECT_LT(std::chrono::duration_cast<milliseconds>(steady_clock::now() - start).count(), 5000);
  struct stat st;
  EXPECT_NE(::stat(daemon_.socket_path().c_str(), &st), 0) << "socket file left behind";
}

TEST_F(DrainTest, LeasesPastTheGraceAreRevokedAndRolledBack) {
  ExecOk("CREATE TABLE t(x)");
  LineClient holder = Connect();
  std::string lease = Acquire(holder);
  ASSERT_EQ(
      holder.Call({{"op", "exec"}, {"lease", lease}, {"sql", "BEGIN; INSERT INTO t VALUES (1)"}})
          .value("ok", false),
      true);
  auto start = steady_clock::now();
  daemon_.Signal(SIGTERM);
  std::optional<int> code = daemon_.WaitForExit(milliseconds(5000));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << daemon_.LogText();
  auto took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start).count();
  EXPECT_GE(took, 1400);
  EXPECT_TRUE(holder.Closed());
  // The uncommitted row is gone: restart on the same files and look.
  ASSERT_TRUE(daemon_.Start());
  LineClient check = Connect();
  json reply = check.Call({{"op", "query"}, {"db", "main"}, {"sql", "SELECT count(*) FROM t"}});
  EXPECT_EQ(reply["rows"][0][0], 0) << reply.dump();
}

TEST_F(ProtocolTest, StaleSocketFileIsReplacedAndALiveOneRefused) {
  // A second daemon on the same socket is refused while the first lives.
  ProcessResult second = RunProcess({LITEPOOLD_PATH, "--config", daemon_.config_path()});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("another daemon"), std::string::npos) << second.err;
  EXPECT_EQ(Connect().Call({{"op", "ping"}}).value("ok", false), true);

  // A daemon killed outright leaves its socket file; the next one replaces it.
  daemon_.Kill();
  struct stat st;
  ASSERT_EQ(::stat(daemon_.socket_path().c_str(), &st), 0);
  ASSERT_TRUE(daemon_.Start());
  EXPECT_EQ(Connect().Call({{"op", "ping"}}).value("ok", false), true);
}

TEST_F(ProtocolTest, SocketFileHasTheConfiguredMode) {
  struct stat st;
  ASSERT_EQ(::stat(daemon_.socket_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST(CommandLineTest, RefusesToReplaceAFileThatIsNotASocket) {
  DaemonProcess daemon;
  std::string path = daemon.dir() + "/not-a-socket";
  WriteFile(path, "precious");
  EXPECT_FALSE(daemon.Start({{"socket", path}}));
  std::ifstream in(path);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "precious");
}

TEST(CommandLineTest, CheckConfigExitCodes) {
  DaemonProcess daemon;  // for its temp dir
  std::string good = daemon.dir() + "/good.json";
  WriteFile(good, daemon.Config().dump());
  ProcessResult ok = RunProcess({LITEPOOLD_PATH, "--check-config", good});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;

  std::string bad = daemon.dir() + "/bad.json";
  WriteFile(bad, R"({"databases": {"main": {"path": "x.db", "max_readers": -1}}})");
  ProcessResult refused = RunProcess({LITEPOOLD_PATH, "--check-config", bad});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("bad.json"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("max_readers"), std::string::npos) << refused.err;

  ProcessResult start_bad = RunProcess({LITEPOOLD_PATH, "--config", bad});
  EXPECT_EQ(start_bad.exit_code, 2);
  ProcessResult usage = RunProcess({LITEPOOLD_PATH, "--no-such-flag"});
  EXPECT_EQ(usage.exit_code, 2);
  ProcessResult version = RunProcess({LITEPOOLD_PATH, "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("litepoold "), std::string::npos);
}

class ReloadTest : public ProtocolTest {
 protected:
  json Overrides() override { return {{"defaults", {{"max_readers", 1}}}}; }

  void Rewrite(const json& overrides) {
    WriteFile(daemon_.config_path(), daemon_.Config(overrides).dump());
  }
  double Reloads(const std::string& result) {
    return Metric("litepool_config_reloads_total", {{"result", result}}).value_or(-1);
  }
};

TEST_F(ReloadTest, GrowingAPoolServesTheQueueWithoutDroppingLeases) {
  LineClient holder = Connect();
  std::string lease = Acquire(holder, "read");
  LineClient waiter = Connect();
  ASSERT_TRUE(waiter.Send(
      json({{"op", "acquire"}, {"db", "main"}, {"mode", "read"}, {"wait_ms", 5000}}).dump()));
  ASSERT_TRUE(WaitForWaiters(1, "read"));

  Rewrite({{"defaults", {{"max_readers", 2}}}});
  daemon_.Signal(SIGHUP);
  auto granted = waiter.ReadLine();
  ASSERT_TRUE(granted.has_value());
  EXPECT_EQ(json::parse(*granted).value("ok", false), true) << *granted;
  EXPECT_EQ(
      holder.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT 1"}}).value("ok", false),
      true);
  EXPECT_EQ(Metric("litepool_handles_max", {{"db", "main"}, {"mode", "read"}}), 2.0);
  EXPECT_EQ(Reloads("ok"), 1.0);
}

TEST_F(ReloadTest, ShrinkingAPoolClosesTheExtraHandleWhenItComesBack) {
  Rewrite({{"defaults", {{"max_readers", 2}}}});
  daemon_.Signal(SIGHUP);
  ASSERT_TRUE(Eventually([&] { return Reloads("ok") == 1.0; }));
  LineClient a = Connect(), b = Connect();
  std::string la = Acquire(a, "read"), lb = Acquire(b, "read");
  Rewrite({{"defaults", {{"max_readers", 1}}}});
  daemon_.Signal(SIGHUP);
  ASSERT_TRUE(Eventually([&] { return Reloads("ok") == 2.0; }));
  EXPECT_EQ(a.Call({{"op", "query"}, {"lease", la}, {"sql", "SELECT 1"}}).value("ok", false), true);
  EXPECT_EQ(a.Call({{"op", "release"}, {"lease", la}}).value("ok", false), true);
  EXPECT_TRUE(Eventually([&] {
    return Metric("litepool_handles_closed_total",
                  {{"db", "main"}, {"mode", "read"}, {"reason", "reload"}}) == 1.0;
  }));
  EXPECT_EQ(Metric("litepool_handles_open", {{"db", "main"}, {"mode", "read"}}), 1.0);
}

TEST_F(ReloadTest, ABrokenFileIsRefusedAndTheOldConfigurationKeepsServing) {
  WriteFile(daemon_.config_path(), "{ not json");
  daemon_.Signal(SIGHUP);
  ASSERT_TRUE(daemon_.WaitForLog("\"event\":\"config_reload_failed\""));
  EXPECT_EQ(Reloads("error"), 1.0);
  LineClient client = Connect();
  EXPECT_EQ(client.Call({{"op", "query"}, {"db", "main"}, {"sql", "SELECT 1"}}).value("ok", false),
            true);
}

TEST_F(ReloadTest, NewDatabasesOpenAndRemovedOnesGo) {
  Rewrite({{"databases",
            {{"extra", {{"path", daemon_.dir() + "/extra.db"}, {"create_if_missing", true}}}}}});
  daemon_.Signal(SIGHUP);
  ASSERT_TRUE(daemon_.WaitForLog("\"event\":\"config_reloaded\""));
  LineClient client = Connect();
  json hello = client.Call({{"op", "hello"}});
  EXPECT_EQ(hello["databases"], json({"extra", "main"}));
  EXPECT_EQ(client.Call({{"op", "exec"}, {"db", "extra"}, {"sql", "CREATE TABLE e(x)"}})
                .value("ok", false),
            true);

  Rewrite({{"databases",
            {{"main", nullptr},
             {"extra", {{"path", daemon_.dir() + "/extra.db"}, {"create_if_missing", true}}}}}});
  daemon_.Signal(SIGHUP);
  ASSERT_TRUE(Eventually([&] {
    return client.Call({{"op", "hello"}})["databases"] == json({"extra"});
  }));
  EXPECT_TRUE(IsError(client.Call({{"op", "acquire"}, {"db", "main"}}), "unknown_database"));
}

// The session threads the daemon runs, by their names (litepool-io-N).
int IoThreads(pid_t pid) {
  int n = 0;
  std::string dir = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(dir)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind("litepool-io-", 0) == 0) ++n;
  }
  return n;
}

class IoThreadsTest : public ReloadTest {
 protected:
  json Overrides() override { return {{"io_threads", 3}}; }
};

// io_threads sets how many threads serve connections, dealt round-robin;
// a reload cannot move live sessions, so it keeps the number and says so.
TEST_F(IoThreadsTest, ConnectionsAreServedByTheConfiguredThreadsAndAReloadKeepsThem) {
  EXPECT_TRUE(daemon_.WaitForLog("\"io_threads\":3"));
  EXPECT_EQ(IoThreads(daemon_.pid()), 3);
  std::vector<LineClient> clients;
  for (int i = 0; i < 6; ++i) clients.push_back(Connect());
  for (int round = 0; round < 3; ++round) {
    for (LineClient& c : clients) {
      json reply = c.Call({{"op", "query"}, {"db", "main"}, {"sql", "SELECT 1"}});
      ASSERT_TRUE(IsOk(reply)) << reply.dump();
    }
  }
  Rewrite({{"io_threads", 1}});
  daemon_.Signal(SIGHUP);
  ASSERT_TRUE(daemon_.WaitForLog("\"event\":\"config_reload_partial\""));
  ASSERT_TRUE(Eventually([&] { return Reloads("ok") == 1.0; }));
  EXPECT_EQ(IoThreads(daemon_.pid()), 3);
  for (LineClient& c : clients) {
    EXPECT_TRUE(IsOk(c.Call({{"op", "query"}, {"db", "main"}, {"sql", "SELECT 2"}})));
  }
}

}  // namespace
}  // namespace litepool::testing
