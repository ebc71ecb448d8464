// The `litepool` command-line client run as a process against the daemon:
// output formats, parameters and exit codes.
#include <sys/stat.h>

#include <string>

#include "litepool/version.h"
#include "tests/integration/protocol_fixture.h"

#ifndef LITEPOOL_CLI_PATH
#error "LITEPOOL_CLI_PATH must be defined (LITEPOOL_TEST_DEFINES in tests/CMakeLists.txt)"
#endif

namespace litepool::testing {
namespace {

class CliTest : public ProtocolTest {
 protected:
  // Runs `litepool --socket <daemon> args...`; stdout is a pipe here.
  ProcessResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {LITEPOOL_CLI_PATH, "--socket", daemon_.socket_path()});
    return RunProcess(args);
  }
};

// The lines of `text`, without their "\n".
std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

TEST_F(CliTest, Ping) {
  ProcessResult result = Cli({"ping"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
}

TEST_F(CliTest, SocketFromEnvironment) {
  ProcessResult result =
      RunProcess({LITEPOOL_CLI_PATH, "ping"}, "", {"LITEPOOL_SOCKET=" + daemon_.socket_path()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST_F(CliTest, Hello) {
  ProcessResult result = Cli({"hello"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  json reply = json::parse(result.out, nullptr, false);
  ASSERT_FALSE(reply.is_discarded()) << result.out;
  EXPECT_EQ(reply["protocol"], 1);
  EXPECT_EQ(reply["databases"], json::array({"main"}));
}

TEST_F(CliTest, ExecThenQueryWithParams) {
  ProcessResult result =
      Cli({"exec", "main", "CREATE TABLE t(a, b, c, d); INSERT INTO t VALUES (0, 0, 0, 0);"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(json::parse(result.out, nullptr, false), json({{"changes", 1}})) << result.out;

  result =
      Cli({"query", "main", "INSERT INTO t VALUES (?, ?, ?, ?)", "42", "2.0", "null", "hello"});
  ASSERT_EQ(result.exit_code, 0) << result.err;

  result =
      Cli({"query", "main", "SELECT a, typeof(a), b, typeof(b), c, d FROM t WHERE a = ?", "42"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::vector<std::string> lines = Lines(result.out);
  ASSERT_EQ(lines.size(), 2u) << result.out;
  EXPECT_EQ(json::parse(lines[0]), json::parse(R"j(["a","typeof(a)","b","typeof(b)","c","d"])j"));
  EXPECT_EQ(json::parse(lines[1]), json::parse(R"([42,"integer",2.0,"real",null,"hello"])"));
}

TEST_F(CliTest, ParameterKinds) {
  ProcessResult result =
      Cli({"query", "main", "SELECT typeof(?), typeof(?), typeof(?), typeof(?), ?", "-7", "1e3",
           "null", "12abc", "-5"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::vector<std::string> lines = Lines(result.out);
  ASSERT_EQ(lines.size(), 2u) << result.out;
  EXPECT_EQ(json::parse(lines[1]), json::parse(R"(["integer","real","null","text",-5])"));
}

TEST_F(CliTest, EmptyResultPrintsColumnsOnly) {
  ProcessResult result = Cli({"query", "main", "SELECT 1 AS x WHERE 0"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "[\"x\"]\n");
}

TEST_F(CliTest, ReadModeRefusesWrites) {
  ASSERT_EQ(Cli({"exec", "main", "CREATE TABLE t(x)"}).exit_code, 0);
  ProcessResult result = Cli({"query", "--read", "main", "INSERT INTO t VALUES (1)"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("litepool: read_only: "), std::string::npos) << result.err;
  result = Cli({"query", "--read", "main", "SELECT count(*) FROM t"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST_F(CliTest, AutoModeWritesThroughAQuery) {
  ProcessResult result = Cli({"exec", "--auto", "main", "CREATE TABLE t(id INTEGER PRIMARY KEY)"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(json::parse(result.out, nullptr, false), json({{"changes", 0}})) << result.out;
  result = Cli({"query", "--auto", "main", "INSERT INTO t VALUES (?) RETURNING id", "5"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "[\"id\"]\n[5]\n");
  result = Cli({"query", "--read", "main", "SELECT count(*) FROM t"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(Lines(result.out).back(), "[1]") << result.out;
  // A shell holds a lease, and a lease has no auto.
  EXPECT_EQ(Cli({"shell", "--auto", "main"}).exit_code, 2);
}

TEST_F(CliTest, DeclTypesOnlyWhenAsked) {
  ASSERT_EQ(Cli({"exec", "main", "CREATE TABLE d(a INTEGER, b DATETIME)"}).exit_code, 0);
  ProcessResult result = Cli({"query", "main", "SELECT a, b, 1 AS c FROM d"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "[\"a\",\"b\",\"c\"]\n");
  result = Cli({"query", "--decltypes", "main", "SELECT a, b, 1 AS c FROM d"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "[\"a\",\"b\",\"c\"]\n[\"INTEGER\",\"DATETIME\",null]\n");
}

TEST_F(CliTest, StatsAndLeasesPrintJson) {
  for (const std::string command : {"stats", "leases"}) {
    ProcessResult result = Cli({command});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    json reply = json::parse(result.out, nullptr, false);
    ASSERT_FALSE(reply.is_discarded()) << result.out;
    EXPECT_EQ(reply["ok"], true);
  }
  json stats = json::parse(Cli({"stats"}).out);
  EXPECT_TRUE(stats.contains("pools")) << stats.dump();
}

class CliBackupTest : public CliTest {
 protected:
  json Overrides() override {
    ::mkdir((daemon_.dir() + "/backups").c_str(), 0755);
    return {{"backup_dir", daemon_.dir() + "/backups"}};
  }
};

TEST_F(CliBackupTest, BackupPrintsWhereTheCopyLanded) {
  ExecOk("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
  ProcessResult result = Cli({"backup", "main", "copy.db"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  json reply = json::parse(result.out, nullptr, false);
  ASSERT_FALSE(reply.is_discarded()) << result.out;
  EXPECT_EQ(reply["db"], "main");
  EXPECT_NE(reply["file"].get<std::string>().find("/backups/copy.db"), std::string::npos);
  EXPECT_GT(reply["bytes"].get<int64_t>(), 0);

  result = Cli({"backup", "main", "../copy.db"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("forbidden"), std::string::npos) << result.err;
  EXPECT_EQ(Cli({"backup", "main"}).exit_code, 2);
}

TEST_F(CliTest, SqlErrorExitsOne) {
  ProcessResult result = Cli({"query", "main", "SELEC 1"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err.rfind("litepool: sql_error: ", 0), 0u) << result.err;
  EXPECT_EQ(result.out, "");
}

TEST_F(CliTest, UnknownDatabaseExitsOne) {
  ProcessResult result = Cli({"exec", "nope", "SELECT 1"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("unknown_database"), std::string::npos) << result.err;
}

TEST_F(CliTest, NoDaemonExitsThree) {
  ProcessResult result =
      RunProcess({LITEPOOL_CLI_PATH, "--socket", daemon_.dir() + "/absent.sock", "ping"});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.err.rfind("litepool: io_error: ", 0), 0u) << result.err;
}

TEST_F(CliTest, DaemonStoppedExitsThree) {
  daemon_.Stop();
  ProcessResult result = Cli({"ping"});
  EXPECT_EQ(result.exit_code, 3) << result.err;
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"frobnicate"},
                                             {"query", "main"},
                                             {"exec", "main"},
                                             {"--bogus", "ping"},
                                             {"ping", "extra"},
                                             {"exec", "--read", "main", "SELECT 1"}}) {
    std::vector<std::string> argv = {LITEPOOL_CLI_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult result = RunProcess(argv);
    EXPECT_EQ(result.exit_code, 2) << ::testing::PrintToString(args) << ": " << result.err;
    EXPECT_NE(result.err.find("litepool: "), std::string::npos);
  }
}

TEST_F(CliTest, VersionAndHelp) {
  ProcessResult version = RunProcess({LITEPOOL_CLI_PATH, "--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out, std::string("litepool ") + kVersion + "\n");
  ProcessResult help = RunProcess({LITEPOOL_CLI_PATH, "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const std::string word :
       {"ping", "hello", "query", "exec", "stats", "leases", "shell", "--json", "--socket",
        "--read", "--auto", "--decltypes", "LITEPOOL_SOCKET", "exit status"}) {
    EXPECT_NE(help.out.find(word), std::string::npos) << word;
  }
}

}  // namespace
}  // namespace litepool::testing
