// Where requests run, seen from outside: whether a request finishes on the
// I/O thread or moves to a worker (an overrunning quick run, a write, a
// rollback) must never show in its answer, in reply order or in the pool.
#include <stdlib.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/protocol_fixture.h"

namespace litepool::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Counts to `n`: a read that takes far longer than a quick run's budget.
std::string CountTo(int n) {
  return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < " +
         std::to_string(n) + ") SELECT count(*) FROM c";
}

class ExecutionTest : public ProtocolTest {
 protected:
  void SetUp() override {
    ProtocolTest::SetUp();
    ExecOk(
        "CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT);"
        "INSERT INTO kv VALUES (1, 'one'), (2, 'two')");
  }

  json Overrides() override { return {{"defaults", {{"statement_timeout_ms", 1500}}}}; }

  json Stats() {
    LineClient admin = Connect();
    return admin.Call({{"op", "stats"}});
  }
};

TEST_F(ExecutionTest, OverrunningReadGivesTheWholeAnswer) {
  LineClient client = Connect();
  // Opens a read handle, so that the reads below start as quick runs.
  ASSERT_TRUE(
      IsOk(client.Call({{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", "SELECT 1"}})));
  json one_shot = client.Call(
      {{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", CountTo(300000)}, {"id", 1}});
  ASSERT_TRUE(IsOk(one_shot));
  EXPECT_EQ(one_shot["rows"], json::parse("[[300000]]"));
  EXPECT_EQ(one_shot["id"], 1);

  std::string lease = Acquire(client, "read");
  json on_lease = client.Call({{"op", "query"}, {"lease", lease}, {"sql", CountTo(250000)}});
  ASSERT_TRUE(IsOk(on_lease));
  EXPECT_EQ(on_lease["rows"], json::parse("[[250000]]"));
  ASSERT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));

  json stats = Stats();
  EXPECT_EQ(stats["leases"], 0) << "the one-shot lease was released: " << stats.dump();
  EXPECT_EQ(stats["pools"]["main"]["read"]["leased"], 0) << stats.dump();
}

TEST_F(ExecutionTest, PipelinedMixOfQuickAndSlowRequestsAnswersInOrder) {
  LineClient client = Connect();
  std::string batch;
  const int kRequests = 60;
  for (int i = 0; i < kRequests; ++i) {
    json request;
    switch (i % 4) {
      case 0:
        request = {{"op", "query"},
                   {"db", "main"},
                   {"mode", "read"},
                   {"sql", "SELECT v FROM kv WHERE k = ?"},
                   {"params", {1}}};
        break;
      case 1:
        request = {{"op", "query"},
                   {"db", "main"},
                   {"sql", "INSERT INTO kv(v) VALUES (?)"},
                   {"params", {"row" + std::to_string(i)}}};
        break;
      case 2:
        request = {{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", CountTo(20000)}};
        break;
      default:
        request = {{"op", "ping"}};
    }
    request["id"] = i;
    batch += request.dump() + "\n";
  }
  ASSERT_TRUE(client.SendRaw(batch));
  for (int i = 0; i < kRequests; ++i) {
    auto line = client.ReadLine(milliseconds(10000));
    ASSERT_TRUE(line) << "no reply " << i;
    json reply = json::parse(*line);
    ASSERT_TRUE(IsOk(reply));
    ASSERT_EQ(reply["id"], i) << "out of order";
    if (i % 4 == 0) {
      EXPECT_EQ(reply["rows"], json::parse("[[\"one\"]]"));
    } else if (i % 4 == 1) {
      EXPECT_EQ(reply["changes"], 1);
    } else if (i % 4 == 2) {
      EXPECT_EQ(reply["rows"], json::parse("[[20000]]"));
    }
  }
  json count = client.Call({{"op", "query"}, {"db", "main"}, {"sql", "SELECT count(*) FROM kv"}});
  EXPECT_EQ(count["rows"], json::array({json::array({2 + kRequests / 4})}));
}

TEST_F(ExecutionTest, ReleaseRollsBackAnOpenTransaction) {
  LineClient client = Connect();
  std::string lease = Acquire(client, "write");
  ASSERT_TRUE(IsOk(client.Call({{"op", "exec"}, {"lease", lease}, {"sql", "BEGIN"}})));
  ASSERT_TRUE(IsOk(client.Call(
      {{"op", "query"}, {"lease", lease}, {"sql", "INSERT INTO kv VALUES (3, 'three')"}})));
  // A read inside the transaction sees its own write.
  json inside =
      client.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT count(*) FROM kv"}});
  EXPECT_EQ(inside["rows"], json::parse("[[3]]"));
  json released = client.Call({{"op", "release"}, {"lease", lease}});
  ASSERT_TRUE(IsOk(released));
  EXPECT_EQ(released["rolled_back"], true);

  // The same handle (max_writers 1) serves the next lease, clean.
  std::string next = Acquire(client, "write");
  json after = client.Call({{"op", "query"}, {"lease", next}, {"sql", "SELECT count(*) FROM kv"}});
  EXPECT_EQ(after["rows"], json::parse("[[2]]"));
  json clean = client.Call({{"op", "release"}, {"lease", next}});
  EXPECT_EQ(clean["rolled_back"], false);
}

TEST_F(ExecutionTest, SlowReadDoesNotDelayOtherConnections) {
  LineClient slow = Connect();
  // A read handle idle beforehand, so the slow read starts at once where
  // quick runs start (a handle still to be opened is opened by a worker).
  ASSERT_TRUE(
      IsOk(slow.Call({{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", "SELECT 1"}})));
  // Endless: it ends by statement_timeout_ms (1.5 s), so the reads below
  // certainly overlap it.
  ASSERT_TRUE(slow.Send(json({{"op", "query"},
                              {"db", "main"},
                              {"mode", "read"},
                              {"sql",
                               "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 "
                               "FROM c) SELECT count(*) FROM c"}})
                            .dump()));
  std::this_thread::sleep_for(milliseconds(100));  // let it start
  LineClient fast = Connect();
  auto start = steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    json reply = fast.Call({{"op", "query"},
                            {"db", "main"},
                            {"mode", "read"},
                            {"sql", "SELECT v FROM kv WHERE k = 2"}});
    ASSERT_TRUE(IsOk(reply));
    EXPECT_EQ(reply["rows"], json::parse("[[\"two\"]]"));
  }
  EXPECT_LT(steady_clock::now() - start, milliseconds(700))
      << "point reads waited for the slow statement";
  EXPECT_FALSE(slow.ReadLine(milliseconds(0))) << "the slow statement ended early";
  auto line = slow.ReadLine(milliseconds(10000));
  ASSERT_TRUE(line);
  EXPECT_TRUE(IsError(json::parse(*line), "statement_timeout"));
}

// A client cancels by closing its connection (docs/protocol.md,
// "Cancelling"): the running statement stops at once and its transaction is
// rolled back, instead of running on to statement_timeout_ms for no one.
TEST_F(ExecutionTest, ClosingTheConnectionStopsItsStatement) {
  LineClient client = Connect();
  std::string lease = Acquire(client, "write");
  ASSERT_TRUE(IsOk(client.Call(
      {{"op", "exec"}, {"lease", lease}, {"sql", "BEGIN; INSERT INTO kv VALUES (3, 'three')"}})));
  ASSERT_TRUE(client.Send(json({{"op", "query"},
                                {"lease", lease},
                                {"sql",
                                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 "
                                 "FROM c) SELECT count(*) FROM c"}})
                              .dump()));
  std::this_thread::sleep_for(milliseconds(100));  // let it start
  client.Close();
  auto closed_at = steady_clock::now();
  json write;
  do {
    write = Stats()["pools"]["main"]["write"];
  } while (write["leased"] != 0 && steady_clock::now() - closed_at < milliseconds(1000));
  EXPECT_EQ(write["leased"], 0);
  EXPECT_LT(steady_clock::now() - closed_at, milliseconds(200))
      << "the statement ran on after its client closed";
  LineClient other = Connect();
  json rows = other.Call({{"op", "query"}, {"db", "main"}, {"sql", "SELECT count(*) FROM kv"}});
  EXPECT_EQ(rows["rows"], json::parse("[[2]]")) << "the transaction was not rolled back";
}

// Shutting down only the write side (as socat does) still gets every answer.
TEST_F(ExecutionTest, HalfCloseStillAnswersTheRunningStatement) {
  LineClient client = Connect();
  ASSERT_TRUE(
      client.Send(json({{"op", "query"}, {"db", "main"}, {"sql", CountTo(300000)}}).dump()));
  ASSERT_EQ(shutdown(client.fd(), SHUT_WR), 0);
  auto line = client.ReadLine(milliseconds(10000));
  ASSERT_TRUE(line);
  EXPECT_EQ(json::parse(*line)["rows"], json::parse("[[300000]]"));
}

}  // namespace
}  // namespace litepool::testing
