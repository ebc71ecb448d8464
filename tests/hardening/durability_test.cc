// Durability across a daemon killed with SIGKILL mid-write: every write the
// daemon acknowledged is on disk after a restart, a transaction is all or
// nothing, and the file passes PRAGMA integrity_check.
//
// What each setting guarantees:
// - synchronous=full (WAL): every commit is fsynced before it is
//   acknowledged, so an acknowledged write survives a process kill *and* an
//   OS crash or power loss.
// - synchronous=normal (WAL, the embedded default): commits reach the WAL
//   file (the OS page cache) before the acknowledgement but are fsynced only
//   at checkpoints, so they survive a process kill — the kernel still writes
//   the page cache out — while an OS crash may lose the last commits (never
//   corrupting the file).
// A process kill is all this test can do, so both settings must pass it; the
// difference between them shows only on a machine crash.
#include <signal.h>

#include <random>
#include <set>
#include <string>
#include <thread>

#include "tests/integration/protocol_fixture.h"

namespace litepool::testing {
namespace {

using std::chrono::milliseconds;

constexpr int kRounds = 5;

// How a round writes; the rounds cycle through them.
enum class WriteStyle { kOneShot, kLease, kTransaction };

class DurabilityTest : public ProtocolTest, public ::testing::WithParamInterface<const char*> {
 protected:
  json Overrides() override {
    return {{"databases",
             {{"main", {{"pragmas", {{"journal_mode", "wal"}, {"synchronous", GetParam()}}}}}}}};
  }

  // Writes increasing values until the daemon dies under it, recording the
  // acknowledged ones.
  void WriteUntilKilled(WriteStyle style, int64_t* next, std::vector<int64_t>* acked,
                        std::vector<int64_t>* tx_acked, int64_t* last_sent) {
    LineClient client = Connect();
    std::string lease;
    if (style != WriteStyle::kOneShot) lease = Acquire(client);
    while (true) {
      int64_t value = (*next)++;
      json request = {{"op", "exec"}};
      if (lease.empty()) {
        request["db"] = "main";
      } else {
        request["lease"] = lease;
      }
      std::string v = std::to_string(value);
      request["sql"] =
          style == WriteStyle::kTransaction
              ? "BEGIN; INSERT INTO t VALUES (" + v + "); INSERT INTO t VALUES (-" + v + "); COMMIT"
              : "INSERT INTO t VALUES (" + v + ")";
      *last_sent = value;
      if (!client.Send(request.dump())) return;
      std::optional<std::string> line = client.ReadLine(milliseconds(5000));
      if (!line) return;  // the daemon is gone: this write is unacknowledged
      json reply = json::parse(*line, nullptr, false);
      ASSERT_TRUE(IsOk(reply)) << *line;
      (style == WriteStyle::kTransaction ? tx_acked : acked)->push_back(value);
    }
  }

  // Every acknowledged value is present, nothing that was never sent is,
  // transactions are whole, and the file is sound.
  void Verify(const std::vector<int64_t>& acked, const std::vector<int64_t>& tx_acked,
              int64_t last_sent) {
    LineClient client = Connect();
    json reply = client.Call(
        {{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", "PRAGMA integrity_check"}});
    ASSERT_TRUE(IsOk(reply));
    EXPECT_EQ(reply["rows"], json::parse(R"([["ok"]])"));
    reply = client.Call(
        {{"op", "query"}, {"db", "main"}, {"mode", "read"}, {"sql", "SELECT x FROM t ORDER BY x"}});
    ASSERT_TRUE(IsOk(reply));
    std::set<int64_t> present;
    for (const json& row : reply["rows"]) {
      int64_t x = row[0].get<int64_t>();
      EXPECT_TRUE(present.insert(x).second) << "duplicate " << x;
      EXPECT_LE(std::abs(x), last_sent) << "a value that was never sent";
    }
    for (int64_t v : acked) EXPECT_TRUE(present.count(v)) << "acknowledged " << v << " lost";
    for (int64_t v : tx_acked) {
      EXPECT_TRUE(present.count(v) && present.count(-v))
          << "acknowledged transaction " << v << " lost";
    }
    for (int64_t x : present) {
      if (x < 0) {
        EXPECT_TRUE(present.count(-x)) << "half a transaction: " << x;
      }
    }
  }
};

TEST_P(DurabilityTest, AcknowledgedWritesSurviveSigkill) {
  ExecOk("CREATE TABLE t(x INTEGER)");
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(50, 300);
  int64_t next = 1;
  int64_t last_sent = 0;
  std::vector<int64_t> acked;
  std::vector<int64_t> tx_acked;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto style = static_cast<WriteStyle>(round % 3);
    size_t before = acked.size() + tx_acked.size();
    int delay = delay_ms(rng);
    pid_t pid = daemon_.pid();
    std::thread killer([pid, delay] {
      std::this_thread::sleep_for(milliseconds(delay));
      ::kill(pid, SIGKILL);
    });
    WriteUntilKilled(style, &next, &acked, &tx_acked, &last_sent);
    killer.join();
    std::optional<int> code = daemon_.WaitForExit(milliseconds(5000));
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 128 + SIGKILL);
    size_t during = acked.size() + tx_acked.size() - before;
    std::printf("[ round %d ] synchronous=%s killed after %d ms, %zu writes acknowledged\n", round,
                GetParam(), delay, during);
    EXPECT_GT(during, 0u) << "no write was acknowledged before the kill";

    // Same dir, same config: the stale socket is replaced, the WAL recovered.
    ASSERT_TRUE(daemon_.Start(Overrides()));
    Verify(acked, tx_acked, last_sent);
    if (HasFatalFailure()) return;
  }
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
}

INSTANTIATE_TEST_SUITE_P(Synchronous, DurabilityTest, ::testing::Values("full", "normal"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace litepool::testing
