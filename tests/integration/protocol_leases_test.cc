// Lease ownership and reclamation end to end: foreign and released leases,
// FIFO waiters, clients that close or die while holding a lease, expiry.
#include <chrono>
#include <string>
#include <vector>

#include "tests/integration/protocol_fixture.h"

namespace litepool::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

TEST_F(ProtocolTest, LeaseBelongsToItsConnection) {
  LineClient a = Connect();
  LineClient b = Connect();
  std::string lease = Acquire(a);
  ASSERT_FALSE(lease.empty());

  EXPECT_TRUE(
      IsError(b.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT 1"}}), "unknown_lease"));
  EXPECT_TRUE(
      IsError(b.Call({{"op", "exec"}, {"lease", lease}, {"sql", "SELECT 1"}}), "unknown_lease"));
  EXPECT_TRUE(IsError(b.Call({{"op", "release"}, {"lease", lease}}), "unknown_lease"));
  // B's attempts changed nothing for A.
  json reply = a.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT 1"}});
  EXPECT_TRUE(IsOk(reply));
  EXPECT_TRUE(IsOk(a.Call({{"op", "release"}, {"lease", lease}})));
}

TEST_F(ProtocolTest, ForeignAndMadeUpLeasesLookAlike) {
  LineClient a = Connect();
  LineClient b = Connect();
  std::string lease = Acquire(a);
  json foreign = b.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT 1"}});
  json made_up = b.Call({{"op", "query"}, {"lease", "no-such-lease"}, {"sql", "SELECT 1"}});
  EXPECT_TRUE(IsError(foreign, "unknown_lease"));
  EXPECT_TRUE(IsError(made_up, "unknown_lease"));
}

TEST_F(ProtocolTest, ReleasedLeaseIsUnknown) {
  LineClient client = Connect();
  std::string lease = Acquire(client);
  ASSERT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));
  EXPECT_TRUE(IsError(client.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT 1"}}),
                      "unknown_lease"));
  EXPECT_TRUE(IsError(client.Call({{"op", "release"}, {"lease", lease}}), "unknown_lease"));
  EXPECT_TRUE(IsOk(client.Call({{"op", "ping"}})));
}

TEST_F(ProtocolTest, WaitersAreServedInArrivalOrder) {
  LineClient holder = Connect();
  std::string held = Acquire(holder);
  ASSERT_FALSE(held.empty());

  std::vector<LineClient> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.push_back(Connect());
    ASSERT_TRUE(waiters.back().Send(
        json{{"op", "acquire"}, {"db", "main"}, {"wait_ms", 5000}, {"id", i}}.dump()));
    // Queue them one after another so that arrival order is defined.
    ASSERT_TRUE(WaitForWaiters(i + 1)) << "waiter " << i << " not queued";
  }
  ASSERT_TRUE(IsOk(holder.Call({{"op", "release"}, {"lease", held}})));

  for (int i = 0; i < 4; ++i) {
    std::optional<std::string> line = waiters[i].ReadLine(milliseconds(3000));
    ASSERT_TRUE(line.has_value()) << "waiter " << i << " was not served";
    json reply = json::parse(*line);
    ASSERT_TRUE(IsOk(reply)) << "waiter " << i;
    EXPECT_EQ(reply["id"], i);
    // Nobody behind it has been served yet.
    for (int j = i + 1; j < 4; ++j) {
      EXPECT_FALSE(waiters[j].ReadLine(milliseconds(i == 0 ? 50 : 5)).has_value())
          << "waiter " << j << " served before waiter " << i;
    }
    ASSERT_TRUE(IsOk(waiters[i].Call({{"op", "release"}, {"lease", reply["lease"]}})));
  }
}

TEST_F(ProtocolTest, ClosingTheConnectionReleasesItsLeases) {
  ExecOk("CREATE TABLE t(x)");
  {
    LineClient a = Connect();
    std::string write = Acquire(a);
    ASSERT_FALSE(Acquire(a, "read").empty());
    ASSERT_TRUE(IsOk(
        a.Call({{"op", "exec"}, {"lease", write}, {"sql", "BEGIN; INSERT INTO t VALUES (1);"}})));
  }  // closed here

  LineClient b = Connect();
  std::string lease = Acquire(b, "write", {{"wait_ms", 1000}});
  ASSERT_FALSE(lease.empty());
  json reply = b.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT count(*) FROM t"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse("[[0]]")) << "the open transaction was not rolled back";
  EXPECT_TRUE(Eventually([&] {
    return Metric("litepool_handles_leased", {{"db", "main"}, {"mode", "read"}}) == 0.0;
  })) << "the read lease of the closed connection is still held";
}

TEST_F(ProtocolTest, ClientKilledWithSigkillLosesItsLease) {
  ExecOk("CREATE TABLE t(x)");
  pid_t child =
      ForkHoldingLease(daemon_.socket_path(), "main", {"BEGIN", "INSERT INTO t VALUES (1)"});
  ASSERT_GT(child, 0);
  LineClient b = Connect();
  // The child holds the only writer.
  EXPECT_TRUE(
      IsError(b.Call({{"op", "acquire"}, {"db", "main"}, {"wait_ms", 50}}), "acquire_timeout"));

  KillAndReap(child);
  auto start = steady_clock::now();
  std::string lease = Acquire(b, "write", {{"wait_ms", 1000}});
  auto waited = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  ASSERT_FALSE(lease.empty()) << "the writer was not reclaimed within 1 s";
  EXPECT_LT(waited.count(), 1000);
  json reply = b.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT count(*) FROM t"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse("[[0]]")) << "the dead client's insert survived";
}

TEST_F(ProtocolTest, ExpiredLeaseIsRevoked) {
  ExecOk("CREATE TABLE t(x)");
  LineClient a = Connect();
  auto start = steady_clock::now();
  std::string lease = Acquire(a, "write", {{"lease_ms", 200}});
  ASSERT_FALSE(lease.empty());
  ASSERT_TRUE(IsOk(
      a.Call({{"op", "exec"}, {"lease", lease}, {"sql", "BEGIN; INSERT INTO t VALUES (1);"}})));

  // Revoked no later than the deadline plus one reaper interval (100 ms):
  // another client gets the writer without asking for a long wait.
  LineClient b = Connect();
  std::string other = Acquire(b, "write", {{"wait_ms", 2000}});
  auto waited = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
  ASSERT_FALSE(other.empty());
  EXPECT_LT(waited.count(), 200 + 100 + 400);  // slack for a loaded machine

  EXPECT_TRUE(
      IsError(a.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT 1"}}), "lease_expired"));
  json reply = b.Call({{"op", "query"}, {"lease", other}, {"sql", "SELECT count(*) FROM t"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_EQ(reply["rows"], json::parse("[[0]]"));
  EXPECT_TRUE(daemon_.WaitForLog("lease_revoked", milliseconds(1000))) << daemon_.LogText();
}

}  // namespace
}  // namespace litepool::testing
