// `litepool shell DB` driven through a pipe: statements on one lease,
// transactions across lines, dot-commands, errors and the exit status.
#include <string>
#include <vector>

#include "tests/integration/protocol_fixture.h"

#ifndef LITEPOOL_CLI_PATH
#error "LITEPOOL_CLI_PATH must be defined (LITEPOOL_TEST_DEFINES in tests/CMakeLists.txt)"
#endif

namespace litepool::testing {
namespace {

class CliShellTest : public ProtocolTest {
 protected:
  // Runs `litepool --socket <daemon> shell [args] main` with `input` on
  // stdin. Both stdin and stdout are pipes: no prompts, JSON output.
  ProcessResult Shell(const std::string& input, std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {LITEPOOL_CLI_PATH, "--socket", daemon_.socket_path(), "shell"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("main");
    return RunProcess(argv, input);
  }

  // The count of rows in `table`, through a connection of the test's own.
  json Count(const std::string& table) {
    LineClient client = Connect();
    json reply = client.Call({{"op", "query"},
                              {"db", "main"},
                              {"mode", "read"},
                              {"sql", "SELECT count(*) FROM " + table}});
    EXPECT_TRUE(IsOk(reply)) << reply.dump();
    return reply["rows"][0][0];
  }
};

// Each stdout line parsed as JSON: the shell prints one per statement.
std::vector<json> JsonLines(const std::string& text) {
  std::vector<json> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(json::parse(text.substr(start, end - start), nullptr, false));
    start = end + 1;
  }
  return lines;
}

TEST_F(CliShellTest, TransactionSpansStatements) {
  ProcessResult result = Shell(
      "CREATE TABLE t(x);\n"
      "BEGIN;\n"
      "INSERT INTO t VALUES (1);\n"
      "INSERT INTO t\n"
      "  VALUES (2);\n"
      "COMMIT;\n"
      "SELECT x FROM t ORDER BY x;\n");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  std::vector<json> lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 6u) << result.out;
  EXPECT_EQ(lines[2]["changes"], 1);
  EXPECT_EQ(lines[5]["columns"], json::array({"x"}));
  EXPECT_EQ(lines[5]["rows"], json::parse("[[1], [2]]"));
  EXPECT_EQ(Count("t"), 2);
}

TEST_F(CliShellTest, SeveralStatementsOnALineAndQuotedSemicolons) {
  ProcessResult result =
      Shell("SELECT 'a;b' AS s; SELECT 2 AS n; -- a comment; with a semicolon\nSELECT x'00ff'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::vector<json> lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 3u) << result.out;
  EXPECT_EQ(lines[0]["rows"], json::parse(R"([["a;b"]])"));
  EXPECT_EQ(lines[1]["rows"], json::parse("[[2]]"));
  // The last statement had no ';': end of input completes it.
  EXPECT_EQ(lines[2]["rows"], json::parse(R"([[{"$blob": "AP8="}]])"));
}

TEST_F(CliShellTest, AnErrorContinuesAndExitsOne) {
  ProcessResult result = Shell("SELEC 1;\nSELECT 42;\n");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.err.rfind("litepool: sql_error: ", 0), 0u) << result.err;
  std::vector<json> lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 2u) << result.out;
  EXPECT_EQ(lines[0]["error"]["code"], "sql_error");
  EXPECT_EQ(lines[0]["error"]["sqlite_code"], 1);
  EXPECT_EQ(lines[1]["rows"], json::parse("[[42]]"));
}

TEST_F(CliShellTest, TablesAndSchema) {
  ProcessResult result = Shell(
      "CREATE TABLE b(y);\nCREATE TABLE a(x);\nCREATE INDEX a_x ON a(x);\n"
      ".tables\n.schema a\n");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::vector<json> lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 5u) << result.out;
  EXPECT_EQ(lines[3]["rows"], json::parse(R"([["a"], ["b"]])"));
  EXPECT_EQ(lines[4]["rows"],
            json::parse(R"j([["CREATE TABLE a(x)"], ["CREATE INDEX a_x ON a(x)"]])j"));
}

TEST_F(CliShellTest, HelpQuitAndUnknownDotCommands) {
  ProcessResult result = Shell(".help\n.bogus\n.quit\nSELECT 1;\n");
  EXPECT_EQ(result.exit_code, 1) << "an unknown dot-command is a failure";
  EXPECT_NE(result.out.find(".tables"), std::string::npos) << result.out;
  EXPECT_NE(result.err.find("litepool: unknown command .bogus"), std::string::npos) << result.err;
  EXPECT_EQ(result.out.find("\"rows\""), std::string::npos) << "ran a statement after .quit";
}

TEST_F(CliShellTest, OpenTransactionAtEndOfInputIsRolledBack) {
  ExecOk("CREATE TABLE t(x)");
  ProcessResult result = Shell("BEGIN;\nINSERT INTO t VALUES (1);\nSELECT count(*) FROM t;\n");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::vector<json> lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 3u) << result.out;
  EXPECT_EQ(lines[2]["rows"], json::parse("[[1]]")) << "inside the transaction";
  EXPECT_NE(result.err.find("rolled back"), std::string::npos) << result.err;
  EXPECT_EQ(Count("t"), 0);
}

TEST_F(CliShellTest, ReadLeaseRefusesWrites) {
  ExecOk("CREATE TABLE t(x)");
  ProcessResult result = Shell("INSERT INTO t VALUES (1);\nSELECT count(*) FROM t;\n", {"--read"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("litepool: read_only: "), std::string::npos) << result.err;
  std::vector<json> lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 2u) << result.out;
  EXPECT_EQ(lines[1]["rows"], json::parse("[[0]]"));
}

TEST_F(CliShellTest, UnknownDatabaseExitsOne) {
  ProcessResult result =
      RunProcess({LITEPOOL_CLI_PATH, "--socket", daemon_.socket_path(), "shell", "nope"}, "");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("litepool: unknown_database: "), std::string::npos) << result.err;
}

TEST_F(CliShellTest, SocketFromEnvironment) {
  ProcessResult result = RunProcess({LITEPOOL_CLI_PATH, "shell", "main"}, "SELECT 7;\n",
                                    {"LITEPOOL_SOCKET=" + daemon_.socket_path()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("[[7]]"), std::string::npos) << result.out;
}

TEST_F(CliShellTest, NoDaemonExitsThree) {
  ProcessResult result = RunProcess(
      {LITEPOOL_CLI_PATH, "--socket", daemon_.dir() + "/absent.sock", "shell", "main"}, "");
  EXPECT_EQ(result.exit_code, 3);
}

class CliShellLeaseTimeoutTest : public CliShellTest {
 protected:
  json Overrides() override { return {{"defaults", {{"lease_timeout_ms", 300}}}}; }
};

// With piped input a revoked lease ends the session: the statements after
// it were written for the transaction the daemon has rolled back.
TEST_F(CliShellLeaseTimeoutTest, RevokedLeaseStopsAScript) {
  ExecOk("CREATE TABLE t(x)");
  ProcessResult result = Shell(
      "BEGIN;\n"
      "INSERT INTO t VALUES (1);\n"
      "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 1000000000)\n"
      "  SELECT count(*) FROM c;\n"
      "INSERT INTO t VALUES (2);\n"
      "COMMIT;\n");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("litepool: lease_expired: "), std::string::npos) << result.err;
  EXPECT_EQ(Count("t"), 0);
}

}  // namespace
}  // namespace litepool::testing
