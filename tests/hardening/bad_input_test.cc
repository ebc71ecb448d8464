// Every error code of docs/protocol.md provoked from outside by a table of bad
// requests. After each row the same connection still answers `ping`, and a
// bystander connection that holds a read lease still queries through it: a
// bad request never closes the connection nor disturbs another client.
//
// `internal` has no row: it means a bug or an I/O failure of the daemon
// (e.g. a handle that cannot be opened, a client gone while its handle was
// being opened), which no request can produce on a healthy daemon; the
// fuzz target (fuzz/request_fuzzer.cc) is what looks for it.
#include <signal.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "tests/hardening/child.h"
#include "tests/integration/protocol_fixture.h"

namespace litepool::testing {
namespace {

using std::chrono::milliseconds;

// What a row may use: the connection under test, the bystander's lease (a
// lease of another connection), and the daemon.
struct Env {
  LineClient* client;
  std::string bystander_lease;
  const DaemonProcess* daemon;

  LineClient Connect() const { return LineClient(daemon->socket_path()); }

  std::optional<double> Metric(const std::string& name,
                               const std::map<std::string, std::string>& labels) const {
    HttpResponse response = HttpGet(daemon->metrics_port(), "/metrics");
    if (response.status != 200) return std::nullopt;
    return ParseMetrics(response.body).Value(name, labels);
  }
};

// One bad request: `run` provokes it (setting up and tearing down what it
// needs) and returns the reply that must carry `code`; `check` looks closer.
struct Row {
  std::string name;
  std::string code;
  std::function<json(Env&)> run;
  std::function<void(const json&)> check = nullptr;
};

// The reply to one raw line on the connection under test; null if none.
json ReplyTo(LineClient& client, const std::string& line) {
  if (!client.Send(line)) {
    ADD_FAILURE() << "cannot send";
    return nullptr;
  }
  std::optional<std::string> reply = client.ReadLine();
  if (!reply) {
    ADD_FAILURE() << "no reply";
    return nullptr;
  }
  json parsed = json::parse(*reply, nullptr, false);
  if (parsed.is_discarded()) ADD_FAILURE() << "reply is not JSON: " << *reply;
  return parsed;
}

std::function<json(Env&)> Line(std::string line) {
  return [line = std::move(line)](Env& env) { return ReplyTo(*env.client, line); };
}

std::function<json(Env&)> Request(json request) {
  return [request = std::move(request)](Env& env) { return ReplyTo(*env.client, request.dump()); };
}

// The lease of a successful acquire, "" (and a failure) otherwise.
std::string LeaseOf(LineClient& client, const std::string& db, const std::string& mode) {
  json reply = client.Call({{"op", "acquire"}, {"db", db}, {"mode", mode}});
  if (!IsOk(reply) || !reply.contains("lease")) {
    ADD_FAILURE() << "acquire " << db << "/" << mode << ": " << reply.dump();
    return "";
  }
  return reply["lease"].get<std::string>();
}

void Release(LineClient& client, const std::string& lease) {
  EXPECT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));
}

json Query(const std::string& lease, const std::string& sql) {
  return {{"op", "query"}, {"lease", lease}, {"sql", sql}};
}

// An endless statement, for statement_timeout.
constexpr const char* kEndless =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

// Rows run against the main configuration (BadInputTest::Overrides).
std::vector<Row> MainRows() {
  std::vector<Row> rows = {
      // bad_request: a missing or mistyped field.
      {"not JSON", "bad_request", Line("this is not json")},
      {"truncated JSON", "bad_request", Line(R"({"op": "ping")")},
      {"not an object", "bad_request", Line("[1, 2, 3]")},
      {"a bare string", "bad_request", Line(R"("ping")")},
      {"missing op", "bad_request", Line(R"({"id": 1})")},
      {"op not a string", "bad_request", Line(R"({"op": 7})")},
      {"sql not a string", "bad_request", Line(R"({"op": "query", "db": "main", "sql": 5})")},
      {"no sql", "bad_request", Line(R"({"op": "exec", "db": "main"})")},
      {"lease and db both", "bad_request",
       [](Env& env) {
         return ReplyTo(*env.client, json{{"op", "query"},
                                          {"db", "main"},
                                          {"lease", env.bystander_lease},
                                          {"sql", "SELECT 1"}}
                                         .dump());
       }},
      {"neither lease nor db", "bad_request", Line(R"({"op": "query", "sql": "SELECT 1"})")},
      {"params a string", "bad_request",
       Line(R"({"op": "query", "db": "main", "sql": "SELECT ?", "params": "1"})")},
      {"params a number", "bad_request",
       Line(R"({"op": "query", "db": "main", "sql": "SELECT ?", "params": 1})")},
      {"too few params", "bad_request",
       Line(R"({"op": "query", "db": "main", "sql": "SELECT ?, ?", "params": [1]})")},
      {"too many params", "bad_request",
       Line(R"({"op": "query", "db": "main", "sql": "SELECT ?", "params": [1, 2]})")},
      {"missing named param", "bad_request",
       Line(R"({"op": "query", "db": "main", "sql": "SELECT :a, :b", "params": {"a": 1}})")},
      {"blob not base64", "bad_request",
       Line(R"({"op": "query", "db": "main", "sql": "SELECT ?", "params": [{"$blob": "%%%"}]})")},
      {"blob not a string", "bad_request",
       Line(R"({"op": "query", "db": "main", "sql": "SELECT ?", "params": [{"$blob": 5}]})")},
      {"integer 2^63", "bad_request",
       Line(
           R"({"op": "query", "db": "main", "sql": "SELECT ?", "params": [9223372036854775808]})")},
      {"integer 2^64", "bad_request",
       Line(
           R"({"op": "query", "db": "main", "sql": "SELECT ?", "params": [18446744073709551616]})")},
      {"integer -2^63-1", "bad_request",
       Line(
           R"({"op": "query", "db": "main", "sql": "SELECT ?", "params": [-9223372036854775809]})")},
      {"mode not a mode", "bad_request",
       Line(R"({"op": "acquire", "db": "main", "mode": "sideways"})")},
      {"negative wait_ms", "bad_request",
       Line(R"({"op": "acquire", "db": "main", "wait_ms": -1})")},
      {"two statements in query", "bad_request",
       Line(R"({"op": "query", "db": "main", "sql": "SELECT 1; SELECT 2"})")},

      // request_too_large: the line is answered once and skipped.
      {"a 10 KB line", "request_too_large",
       [](Env& env) {
         json big = {{"op", "ping"}, {"id", "big"}, {"pad", std::string(10 * 1024, 'x')}};
         return ReplyTo(*env.client, big.dump());
       },
       [](const json& reply) { EXPECT_FALSE(reply.contains("id")) << "the line was not read"; }},
      {"a 10 MB line in chunks", "request_too_large",
       [](Env& env) {
         EXPECT_TRUE(env.client->SendRaw(R"({"op": "ping", "pad": ")"));
         std::string chunk(64 * 1024, 'y');
         for (int i = 0; i < 160; ++i) {
           if (!env.client->SendRaw(chunk)) {
             ADD_FAILURE() << "write failed after " << i << " chunks";
             break;
           }
         }
         return ReplyTo(*env.client, "\"}");
       }},

      {"unknown op", "unknown_op", Line(R"({"op": "frobnicate"})")},
      {"op in capitals", "unknown_op", Line(R"({"op": "PING"})")},
      {"acquire on an unknown database", "unknown_database",
       Line(R"({"op": "acquire", "db": "nope"})")},
      {"one-shot query on an unknown database", "unknown_database",
       Line(R"({"op": "query", "db": "nope", "sql": "SELECT 1"})")},

      // forbidden: SQL the sandbox refuses.
      {"ATTACH", "forbidden",
       [](Env& env) {
         std::string sql = "ATTACH DATABASE '" + env.daemon->dir() + "/other.db' AS other";
         return ReplyTo(*env.client, json{{"op", "exec"}, {"db", "main"}, {"sql", sql}}.dump());
       }},
      {"PRAGMA user_version=1 without client_pragmas", "forbidden",
       Request({{"op", "exec"}, {"db", "main"}, {"sql", "PRAGMA user_version=1"}})},
      {"load_extension()", "forbidden",
       Request({{"op", "query"}, {"db", "main"}, {"sql", "SELECT load_extension('x')"}})},

      {"acquire_timeout: the writer is leased", "acquire_timeout",
       [](Env& env) {
         LineClient holder = env.Connect();
         std::string lease = LeaseOf(holder, "main", "write");
         json reply =
             ReplyTo(*env.client, json{{"op", "acquire"}, {"db", "main"}, {"wait_ms", 100}}.dump());
         Release(holder, lease);
         return reply;
       }},
      {"pool_exhausted: max_waiters 0", "pool_exhausted",
       [](Env& env) {
         LineClient holder = env.Connect();
         std::string lease = LeaseOf(holder, "nowait", "write");
         json reply = ReplyTo(*env.client,
                              json{{"op", "acquire"}, {"db", "nowait"}, {"wait_ms", 3000}}.dump());
         Release(holder, lease);
         return reply;
       }},
      {"too_many_leases: max_leases_per_client 1", "too_many_leases",
       [](Env& env) {
         std::string lease = LeaseOf(*env.client, "few", "write");
         json reply =
             ReplyTo(*env.client, json{{"op", "acquire"}, {"db", "few"}, {"mode", "read"}}.dump());
         Release(*env.client, lease);
         return reply;
       }},

      // unknown_lease: never reveals whether the lease exists elsewhere.
      {"malformed lease id", "unknown_lease", Request(Query("not-a-lease", "SELECT 1"))},
      {"malformed lease id on release", "unknown_lease",
       Request({{"op", "release"}, {"lease", "0123456789abcdefg"}})},
      {"made-up lease id", "unknown_lease", Request(Query("0123456789abcdef", "SELECT 1"))},
      {"another connection's lease", "unknown_lease",
       [](Env& env) {
         return ReplyTo(*env.client, Query(env.bystander_lease, "SELECT 1").dump());
       }},
      {"releasing another connection's lease", "unknown_lease",
       [](Env& env) {
         return ReplyTo(*env.client,
                        json{{"op", "release"}, {"lease", env.bystander_lease}}.dump());
       }},
      {"released lease", "unknown_lease",
       [](Env& env) {
         std::string lease = LeaseOf(*env.client, "main", "read");
         Release(*env.client, lease);
         return ReplyTo(*env.client, Query(lease, "SELECT 1").dump());
       }},
      {"lease released twice", "unknown_lease",
       [](Env& env) {
         std::string lease = LeaseOf(*env.client, "main", "read");
         Release(*env.client, lease);
         return ReplyTo(*env.client, json{{"op", "release"}, {"lease", lease}}.dump());
       }},

      {"lease_expired: lease_timeout_ms 300", "lease_expired",
       [](Env& env) {
         std::map<std::string, std::string> labels = {{"db", "short"}};
         double before = env.Metric("litepool_lease_timeouts_total", labels).value_or(-1);
         std::string lease = LeaseOf(*env.client, "short", "write");
         EXPECT_TRUE(Eventually(
             [&] { return env.Metric("litepool_lease_timeouts_total", labels) > before; },
             milliseconds(3000)))
             << "the reaper did not revoke the lease";
         return ReplyTo(*env.client, Query(lease, "SELECT 1").dump());
       }},

      {"sql_error: syntax", "sql_error",
       Request({{"op", "query"}, {"db", "main"}, {"sql", "SELEC 1"}}),
       [](const json& reply) {
         EXPECT_EQ(reply["error"].value("sqlite_code", -1), 1) << "SQLITE_ERROR inside error";
       }},
      {"sql_error: constraint, extended code", "sql_error",
       Request({{"op", "exec"}, {"db", "main"}, {"sql", "INSERT INTO u VALUES (1)"}}),
       [](const json& reply) {
         EXPECT_EQ(reply["error"].value("sqlite_code", -1), 2067) << "SQLITE_CONSTRAINT_UNIQUE";
       }},

      {"busy: another process holds the write lock", "busy",
       [](Env& env) {
         DirectDatabase other(env.daemon->dir() + "/main.db");
         EXPECT_EQ(other.Exec("BEGIN IMMEDIATE"), "");
         json reply = ReplyTo(
             *env.client,
             json{{"op", "exec"}, {"db", "main"}, {"sql", "INSERT INTO t VALUES (1)"}}.dump());
         EXPECT_EQ(other.Exec("ROLLBACK"), "");
         return reply;
       }},

      {"statement_timeout, and the lease stays usable", "statement_timeout",
       [](Env& env) {
         std::string lease = LeaseOf(*env.client, "main", "write");
         json reply = ReplyTo(*env.client, Query(lease, kEndless).dump());
         json after = env.client->Call(Query(lease, "SELECT 1"));
         EXPECT_TRUE(IsOk(after)) << "the lease must survive a statement timeout";
         Release(*env.client, lease);
         return reply;
       }},

      {"result_too_large, and the lease stays usable", "result_too_large",
       [](Env& env) {
         std::string lease = LeaseOf(*env.client, "main", "read");
         json reply =
             ReplyTo(*env.client, Query(lease, "SELECT printf('%.*c', 10240, 'x')").dump());
         json after = env.client->Call(Query(lease, "SELECT 41 + 1"));
         EXPECT_TRUE(IsOk(after));
         EXPECT_EQ(after["rows"], json::parse("[[42]]"));
         Release(*env.client, lease);
         return reply;
       }},

      {"read_only: INSERT through a read lease", "read_only",
       [](Env& env) {
         std::string lease = LeaseOf(*env.client, "main", "read");
         json reply = ReplyTo(*env.client, Query(lease, "INSERT INTO t VALUES (1)").dump());
         Release(*env.client, lease);
         return reply;
       }},
      {"read_only: read-mode INSERT on a read_only database", "read_only",
       Request(
           {{"op", "exec"}, {"db", "ro"}, {"mode", "read"}, {"sql", "INSERT INTO t VALUES (1)"}})},
      // docs/protocol.md: "a write ... on a read_only database" is read_only; a client
      // that simply writes (mode defaults to write) must learn that.
      {"read_only: INSERT on a read_only database", "read_only",
       Request({{"op", "exec"}, {"db", "ro"}, {"sql", "INSERT INTO t VALUES (1)"}})},
  };
  return rows;
}

// The connection under test is one of max_clients 2; a third is refused.
std::vector<Row> TooManyClientsRows() {
  return {
      {"a third connection with max_clients 2", "too_many_clients",
       [](Env& env) {
         RawClient third;
         EXPECT_TRUE(third.Connect(env.daemon->socket_path()));
         std::optional<std::string> line = third.ReadLine(milliseconds(5000));
         EXPECT_TRUE(line.has_value()) << "no line before the close";
         EXPECT_TRUE(third.AtEof(milliseconds(5000))) << "exactly one line, then the close";
         return line ? json::parse(*line, nullptr, false) : json(nullptr);
       }},
  };
}

// Run after SIGTERM while the bystander holds its lease.
std::vector<Row> DrainRows() {
  return {
      {"acquire while draining", "shutting_down", Request({{"op", "acquire"}, {"db", "main"}})},
      {"one-shot query while draining", "shutting_down",
       Request({{"op", "query"}, {"db", "main"}, {"sql", "SELECT 1"}})},
      {"a new connection while draining", "shutting_down",
       [](Env& env) {
         RawClient late;
         EXPECT_TRUE(late.Connect(env.daemon->socket_path()));
         std::optional<std::string> line = late.ReadLine(milliseconds(5000));
         EXPECT_TRUE(line.has_value());
         EXPECT_TRUE(late.AtEof(milliseconds(5000)));
         return line ? json::parse(*line, nullptr, false) : json(nullptr);
       }},
  };
}

// The connection under test is connected first (it also sets up the
// schema), then the bystander, which takes a read lease on `main`.
class BadInputTest : public ProtocolTest {
 protected:
  json Overrides() override {
    const std::string& dir = daemon_.dir();
    return {
        {"max_request_bytes", 4096},
        {"max_result_bytes", 1024},
        {"databases",
         // "shared": the busy row needs another process to take the write
         // lock on main.db, which "exclusive" (the default) keeps out.
         {{"main",
           {{"busy_timeout_ms", 100}, {"statement_timeout_ms", 200}, {"file_lock", "shared"}}},
          {"short",
           {{"path", dir + "/short.db"}, {"create_if_missing", true}, {"lease_timeout_ms", 300}}},
          {"nowait",
           {{"path", dir + "/nowait.db"}, {"create_if_missing", true}, {"max_waiters", 0}}},
          {"few",
           {{"path", dir + "/few.db"}, {"create_if_missing", true}, {"max_leases_per_client", 1}}},
          {"ro", {{"path", dir + "/ro.db"}, {"read_only", true}}}}},
    };
  }

  void SetUp() override {
    {
      // A read_only database must exist before the daemon starts.
      DirectDatabase ro(daemon_.dir() + "/ro.db");
      ASSERT_EQ(ro.Exec("CREATE TABLE t(x)"), "");
    }
    ProtocolTest::SetUp();
    client_.emplace(Connect());
    json setup = client_->Call({{"op", "exec"},
                                {"db", "main"},
                                {"sql",
                                 "CREATE TABLE t(x); CREATE TABLE u(x UNIQUE); "
                                 "INSERT INTO u VALUES (1)"}});
    ASSERT_TRUE(IsOk(setup));
    bystander_.emplace(Connect());
    json reply = bystander_->Call({{"op", "acquire"}, {"db", "main"}, {"mode", "read"}});
    ASSERT_TRUE(IsOk(reply));
    bystander_lease_ = reply["lease"].get<std::string>();
  }

  void ExpectBystanderWorks() {
    json reply = bystander_->Call(Query(bystander_lease_, "SELECT count(*) FROM t"));
    EXPECT_TRUE(IsOk(reply)) << "the bystander was disturbed: " << reply.dump();
  }

  void RunRows(const std::vector<Row>& rows) {
    Env env{&*client_, bystander_lease_, &daemon_};
    int n = 0;
    for (const Row& row : rows) {
      SCOPED_TRACE("row: " + row.name);
      json reply = row.run(env);
      EXPECT_TRUE(IsError(reply, row.code));
      if (row.check && reply.is_object()) row.check(reply);
      json pong = client_->Call({{"op", "ping"}, {"id", ++n}});
      EXPECT_TRUE(IsOk(pong)) << "the connection did not survive";
      EXPECT_EQ(pong["id"], n) << "one bad request, one reply";
      ExpectBystanderWorks();
    }
  }

  void ReleaseAndClose() {
    if (bystander_) {
      json reply = bystander_->Call({{"op", "release"}, {"lease", bystander_lease_}});
      EXPECT_TRUE(IsOk(reply));
    }
    bystander_.reset();
    client_.reset();
  }

  std::optional<LineClient> client_;
  std::optional<LineClient> bystander_;
  std::string bystander_lease_;
};

TEST_F(BadInputTest, EveryRowAnswersItsCodeAndDisturbsNoOne) {
  RunRows(MainRows());
  ReleaseAndClose();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
}

class TooManyClientsTest : public BadInputTest {
 protected:
  json Overrides() override {
    json overrides = BadInputTest::Overrides();
    overrides["max_clients"] = 2;
    return overrides;
  }
};

TEST_F(TooManyClientsTest, ThirdConnectionGetsOneLineAndIsClosed) {
  RunRows(TooManyClientsRows());
  EXPECT_TRUE(daemon_.WaitForLog("\"reason\":\"too_many_clients\""));
  ReleaseAndClose();
  // The two slots come free when their connections close.
  EXPECT_TRUE(Eventually([&] { return Metric("litepool_clients_connected", {}) == 0.0; }));
  LineClient again = Connect();
  EXPECT_TRUE(IsOk(again.Call({{"op", "ping"}})));
  again.Close();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
}

class DrainingTest : public BadInputTest {
 protected:
  json Overrides() override {
    json overrides = BadInputTest::Overrides();
    overrides["shutdown_grace_ms"] = 8000;
    return overrides;
  }
};

TEST_F(DrainingTest, SigtermWhileALeaseIsHeld) {
  daemon_.Signal(SIGTERM);
  ASSERT_TRUE(daemon_.WaitForLog("\"event\":\"draining\""));
  RunRows(DrainRows());
  // The drain ends with the last lease, well before the grace.
  ReleaseAndClose();
  std::optional<int> code = daemon_.WaitForExit(milliseconds(6000));
  ASSERT_TRUE(code.has_value()) << "still draining with no lease left";
  EXPECT_EQ(*code, 0) << daemon_.LogText();
}

TEST(BadInputTableTest, EveryErrorCodeHasARow) {
  std::set<std::string> covered;
  for (const auto& rows : {MainRows(), TooManyClientsRows(), DrainRows()}) {
    for (const Row& row : rows) covered.insert(row.code);
  }
  // docs/protocol.md's list, less `internal` (see the file comment).
  for (const char* code :
       {"bad_request", "request_too_large", "unknown_op", "unknown_database", "forbidden",
        "acquire_timeout", "pool_exhausted", "too_many_leases", "unknown_lease", "lease_expired",
        "sql_error", "busy", "statement_timeout", "result_too_large", "read_only", "shutting_down",
        "too_many_clients"}) {
    EXPECT_TRUE(covered.count(code)) << "no row produces " << code;
  }
}

}  // namespace
}  // namespace litepool::testing
