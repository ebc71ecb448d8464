// The reaper against the real daemon (docs/configuration.md): revocation within its bound,
// the queue behind a revoked lease, interrupted endless queries, the leak
// warning, idle handles and min_idle, and the reaper's own metrics.
#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/protocol_fixture.h"

namespace litepool::testing {
namespace {

using std::chrono::steady_clock;

constexpr const char* kEndless =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c";

int64_t MsSince(steady_clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - t).count();
}

class ReaperTest : public ProtocolTest {
 protected:
  // Reaper every 100 ms (the base config), leases of 400 ms, warnings at 200.
  json Overrides() override {
    return {{"defaults", {{"lease_timeout_ms", 400}, {"leak_warn_ms", 200}}}};
  }
};

TEST_F(ReaperTest, HeldLeaseIsRevokedWithinItsBoundAndTheWaiterGetsTheHandle) {
  LineClient holder = Connect();
  std::string lease = Acquire(holder, "write", {{"tag", "forgetful-worker"}});
  ASSERT_FALSE(lease.empty());
  auto start = steady_clock::now();

  LineClient waiter = Connect();
  json reply = waiter.Call({{"op", "acquire"}, {"db", "main"}, {"wait_ms", 3000}});
  int64_t waited = MsSince(start);
  ASSERT_EQ(reply.value("ok", false), true) << reply.dump();
  // Deadline 400 ms, reaper every 100 ms: no later than 500 ms (+ slack for
  // a loaded machine), and not before the deadline.
  EXPECT_GE(waited, 390);
  EXPECT_LE(waited, 500 + 400);

  json late = holder.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT 1"}});
  EXPECT_TRUE(IsError(late, "lease_expired"));
  EXPECT_TRUE(daemon_.WaitForLog("\"event\":\"lease_revoked\""));
  EXPECT_EQ(Metric("litepool_lease_timeouts_total", {{"db", "main"}}), 1.0);
}

TEST_F(ReaperTest, RevocationRollsBackTheTransaction) {
  ExecOk("CREATE TABLE t(x)");
  LineClient holder = Connect();
  std::string lease = Acquire(holder);
  ASSERT_EQ(
      holder.Call({{"op", "exec"}, {"lease", lease}, {"sql", "BEGIN; INSERT INTO t VALUES (1)"}})
          .value("ok", false),
      true);
  LineClient other = Connect();
  json reply = other.Call(
      {{"op", "query"}, {"db", "main"}, {"sql", "SELECT count(*) FROM t"}, {"wait_ms", 3000}});
  ASSERT_EQ(reply.value("ok", false), true) << reply.dump();
  EXPECT_EQ(reply["rows"][0][0], 0);
}

TEST_F(ReaperTest, LeakWarningIsLoggedOnceWithTheHolder) {
  LineClient holder = Connect();
  std::string lease = Acquire(holder, "read", {{"tag", "report-job-7"}});
  ASSERT_FALSE(lease.empty());
  ASSERT_EQ(
      holder.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT 42"}}).value("ok", false),
      true);
  ASSERT_TRUE(daemon_.WaitForLog("\"event\":\"lease_leak_warning\""));
  ASSERT_TRUE(daemon_.WaitForLog("\"event\":\"lease_revoked\""));
  std::string log = daemon_.LogText();
  size_t first = log.find("\"event\":\"lease_leak_warning\"");
  EXPECT_EQ(log.find("\"event\":\"lease_leak_warning\"", first + 1), std::string::npos)
      << "warned twice:\n"
      << log;
  std::string line = log.substr(first, log.find('\n', first) - first);
  EXPECT_NE(line.find("\"tag\":\"report-job-7\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"last_sql\":\"SELECT 42\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"pid\":" + std::to_string(getpid())), std::string::npos) << line;
  EXPECT_EQ(Metric("litepool_lease_leak_warnings_total", {{"db", "main"}}), 1.0);
}

TEST_F(ReaperTest, EndlessQueryIsInterruptedByTheLeaseTimeout) {
  LineClient holder = Connect();
  std::string lease = Acquire(holder);
  auto start = steady_clock::now();
  json reply =
      holder.Call({{"op", "query"}, {"lease", lease}, {"sql", kEndless}}, milliseconds(5000));
  EXPECT_TRUE(IsError(reply, "lease_expired"));
  EXPECT_LE(MsSince(start), 500 + 400);
  // The handle came back: another client can write.
  LineClient other = Connect();
  EXPECT_EQ(other.Call({{"op", "exec"}, {"db", "main"}, {"sql", "CREATE TABLE ok(x)"}})
                .value("ok", false),
            true);
}

class StatementTimeoutTest : public ProtocolTest {
 protected:
  json Overrides() override { return {{"defaults", {{"statement_timeout_ms", 200}}}}; }
};

TEST_F(StatementTimeoutTest, EndlessQueryIsInterruptedAndTheLeaseStaysUsable) {
  LineClient client = Connect();
  std::string lease = Acquire(client);
  auto start = steady_clock::now();
  json reply = client.Call({{"op", "query"}, {"lease", lease}, {"sql", kEndless}});
  EXPECT_TRUE(IsError(reply, "statement_timeout"));
  EXPECT_GE(MsSince(start), 190);
  EXPECT_LE(MsSince(start), 1500);
  json next = client.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT 1"}});
  EXPECT_EQ(next.value("ok", false), true) << next.dump();
  EXPECT_EQ(Metric("litepool_queries_total", {{"db", "main"}, {"result", "statement_timeout"}}),
            1.0);
}

TEST_F(StatementTimeoutTest, SlowQueryDoesNotStallOtherClients) {
  LineClient slow = Connect();
  ASSERT_TRUE(slow.Send(
      json({{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", kEndless}}).dump()));
  LineClient other = Connect();
  for (int i = 0; i < 20; ++i) {
    auto start = steady_clock::now();
    EXPECT_EQ(other.Call({{"op", "ping"}}).value("ok", false), true);
    EXPECT_LT(MsSince(start), 100);
  }
  EXPECT_TRUE(IsError(json::parse(slow.ReadLine().value_or("null")), "statement_timeout"));
}

class IdleTest : public ProtocolTest {
 protected:
  json Overrides() override {
    return {{"defaults", {{"idle_timeout_ms", 300}, {"min_idle", 1}, {"max_readers", 3}}}};
  }
  double Open(const std::string& mode) {
    return Metric("litepool_handles_open", {{"db", "main"}, {"mode", mode}}).value_or(-1);
  }
};

TEST_F(IdleTest, IdleHandlesCloseDownToMinIdle) {
  // min_idle 1 is met by one write handle at start.
  ASSERT_TRUE(Eventually([&] { return Open("write") == 1; }));
  {
    LineClient a = Connect(), b = Connect(), c = Connect();
    for (LineClient* cl : {&a, &b, &c}) ASSERT_FALSE(Acquire(*cl, "read").empty());
    EXPECT_EQ(Open("read"), 3);
  }  // the three connections close: their read handles go idle
  // Four open, min_idle 1: three close for idle_timeout, one stays open.
  auto idle_closed = [&] {
    return Metric("litepool_handles_closed_total",
                  {{"db", "main"}, {"mode", "read"}, {"reason", "idle_timeout"}})
               .value_or(0) +
           Metric("litepool_handles_closed_total",
                  {{"db", "main"}, {"mode", "write"}, {"reason", "idle_timeout"}})
               .value_or(0);
  };
  ASSERT_TRUE(Eventually([&] { return idle_closed() == 3; }, milliseconds(3000)));
  EXPECT_EQ(Open("read") + Open("write"), 1);
  // And it stays that way: min_idle is respected on later passes.
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(Open("read") + Open("write"), 1);
  EXPECT_EQ(idle_closed(), 3);
}

class MinIdleTest : public ProtocolTest {
 protected:
  json Overrides() override {
    return {{"defaults", {{"max_lifetime_ms", 400}, {"min_idle", 2}, {"max_readers", 2}}}};
  }
};

TEST_F(MinIdleTest, ExpiredHandlesAreReplacedUpToMinIdle) {
  auto opened = [&] {
    return Metric("litepool_handles_opened_total", {{"db", "main"}, {"mode", "write"}})
               .value_or(0) +
           Metric("litepool_handles_opened_total", {{"db", "main"}, {"mode", "read"}}).value_or(0);
  };
  ASSERT_TRUE(Eventually([&] { return opened() >= 2; }));
  // Lifetimes of 400 ms: within a couple of seconds the first two have been
  // closed for max_lifetime and replaced, and two are open again.
  ASSERT_TRUE(Eventually([&] { return opened() >= 4; }, milliseconds(4000)));
  auto closed = Metric("litepool_handles_closed_total",
                       {{"db", "main"}, {"mode", "write"}, {"reason", "max_lifetime"}});
  EXPECT_GE(closed.value_or(0), 1.0);
  EXPECT_TRUE(Eventually([&] {
    return Metric("litepool_handles_open", {{"db", "main"}, {"mode", "write"}}).value_or(0) +
               Metric("litepool_handles_open", {{"db", "main"}, {"mode", "read"}}).value_or(0) ==
           2;
  }));
}

TEST_F(ProtocolTest, ReaperMetricsAdvanceOnEveryScrape) {
  double runs = Metric("litepool_reaper_runs_total", {}).value_or(-1);
  double last = Metric("litepool_reaper_last_run_timestamp_seconds", {}).value_or(-1);
  EXPECT_EQ(Metric("litepool_reaper_up", {}), 1.0);
  ASSERT_TRUE(
      Eventually([&] { return Metric("litepool_reaper_runs_total", {}).value_or(0) > runs + 1; }));
  EXPECT_GT(Metric("litepool_reaper_last_run_timestamp_seconds", {}).value_or(0), last);
  auto lag = Metric("litepool_reaper_lag_seconds", {});
  ASSERT_TRUE(lag.has_value());
  EXPECT_GE(*lag, 0.0);
  EXPECT_LT(*lag, 1.0);
}

}  // namespace
}  // namespace litepool::testing
