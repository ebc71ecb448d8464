// The WAL against the real daemon (docs/operations.md, "WAL, checkpoints and
// backups"): a leaked read snapshot under a steady writer grows the WAL, is
// named in the log and the metrics, and once the reaper revokes it the WAL
// is truncated back; commits under load are not held up by checkpoints.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/protocol_fixture.h"

namespace litepool::testing {
namespace {

using std::chrono::steady_clock;

constexpr int64_t kWalTruncateBytes = 1 << 20;
// Sanitizer builds run every step several times slower; the bounds scale.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int64_t kSlowdown = 4;
#else
constexpr int64_t kSlowdown = 1;
#endif

// One client inserting rows of about 1 KB, one commit each, until stopped;
// counts acknowledged inserts and the longest round trip.
class SteadyWriter {
 public:
  explicit SteadyWriter(const std::string& socket)
      : thread_([this, socket] {
          LineClient client(socket);
          while (!stop_) {
            auto start = steady_clock::now();
            json reply = client.Call({{"op", "query"},
                                      {"db", "main"},
                                      {"sql", "INSERT INTO t(pad) VALUES (randomblob(1000))"}});
            if (reply.value("ok", false) != true) {
              failures_++;
              continue;
            }
            auto took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
            longest_ms_ = std::max<int64_t>(longest_ms_, took.count());
            acked_++;
          }
        }) {}
  ~SteadyWriter() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int64_t acked() const { return acked_; }
  int64_t failures() const { return failures_; }
  int64_t longest_ms() const { return longest_ms_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> acked_{0};
  std::atomic<int64_t> failures_{0};
  std::atomic<int64_t> longest_ms_{0};
  std::thread thread_;
};

class WalTest : public ProtocolTest {
 protected:
  json Overrides() override {
    return {{"defaults",
             {{"lease_timeout_ms", 5000},
              {"leak_warn_ms", 0},
              {"checkpoint_frames", 100},
              {"checkpoint_idle_ms", 300},
              {"wal_truncate_bytes", kWalTruncateBytes}}}};
  }
  double M(const std::string& name, const std::map<std::string, std::string>& labels) {
    return Metric(name, labels).value_or(-1);
  }
};

TEST_F(WalTest, LeakedSnapshotIsNamedAndTheWalShrinksOnceItIsRevoked) {
  ExecOk("CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)");
  LineClient holder = Connect();
  std::string lease = Acquire(holder, "read", {{"tag", "nightly-report"}});
  ASSERT_TRUE(IsOk(holder.Call({{"op", "query"}, {"lease", lease}, {"sql", "BEGIN"}})));
  ASSERT_TRUE(
      IsOk(holder.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT count(*) FROM t"}})));
  auto pinned_at = steady_clock::now();

  SteadyWriter writer(daemon_.socket_path());
  // The WAL grows past what the checkpointer would let it reach.
  ASSERT_TRUE(Eventually(
      [&] {
        return M("litepool_wal_bytes", {{"db", "main"}}) > 3 * kWalTruncateBytes;
      },
      milliseconds(4000)))
      << "wal_bytes " << M("litepool_wal_bytes", {{"db", "main"}});
  EXPECT_TRUE(Eventually([&] {
    return M("litepool_checkpoints_total",
             {{"db", "main"}, {"mode", "passive"}, {"result", "partial"}}) >= 1;
  }));
  EXPECT_GT(M("litepool_wal_frames_pending", {{"db", "main"}}), 100);
  EXPECT_GT(M("litepool_oldest_snapshot_age_seconds", {{"db", "main"}}), 0.0);
  // The log names the holder, once.
  ASSERT_TRUE(daemon_.WaitForLog("\"event\":\"checkpoint_blocked\""));
  std::string log = daemon_.LogText();
  size_t at = log.find("\"event\":\"checkpoint_blocked\"");
  std::string line = log.substr(at, log.find('\n', at) - at);
  EXPECT_NE(line.find("\"lease\":\"" + lease + "\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"tag\":\"nightly-report\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"last_sql\":\"SELECT count(*) FROM t\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"pid\":" + std::to_string(::getpid())), std::string::npos) << line;
  EXPECT_NE(line.find("\"snapshot_age_ms\":"), std::string::npos) << line;
  // `leases` shows its snapshot's age.
  LineClient admin = Connect();
  json leases = admin.Call({{"op", "leases"}});
  ASSERT_TRUE(IsOk(leases));
  bool listed = false;
  for (const json& l : leases["leases"]) {
    if (l["lease"] != lease) continue;
    listed = true;
    EXPECT_GT(l["snapshot_age_ms"].get<int64_t>(), 0) << leases.dump();
  }
  EXPECT_TRUE(listed) << leases.dump();
  json stats = admin.Call({{"op", "stats"}});
  EXPECT_GT(stats["wal"]["main"]["wal_bytes"].get<int64_t>(), kWalTruncateBytes) << stats.dump();

  // Revocation ends the snapshot; the next checkpoints copy everything back
  // and truncate the WAL while the writer keeps going.
  ASSERT_TRUE(daemon_.WaitForLog("\"event\":\"lease_revoked\"", milliseconds(8000)));
  int64_t acked_at_revoke = writer.acked();
  ASSERT_TRUE(Eventually(
      [&] {
        return M("litepool_checkpoints_total",
                 {{"db", "main"}, {"mode", "truncate"}, {"result", "done"}}) >= 1 &&
               M("litepool_wal_bytes", {{"db", "main"}}) < kWalTruncateBytes;
      },
      milliseconds(5000)))
      << "wal_bytes " << M("litepool_wal_bytes", {{"db", "main"}}) << "\n"
      << daemon_.LogText();
  EXPECT_EQ(M("litepool_oldest_snapshot_age_seconds", {{"db", "main"}}), 0.0);
  EXPECT_TRUE(Eventually([&] { return writer.acked() > acked_at_revoke + 100; }));
  writer.Stop();
  EXPECT_EQ(writer.failures(), 0);
  EXPECT_GT(std::chrono::duration_cast<milliseconds>(steady_clock::now() - pinned_at).count(),
            4900);
  log = daemon_.LogText();
  int named = 0;
  for (size_t pos = log.find("\"event\":\"checkpoint_blocked\""); pos != std::string::npos;
       pos = log.find("\"event\":\"checkpoint_blocked\"", pos + 1)) {
    named += log.substr(pos, log.find('\n', pos) - pos).find(lease) != std::string::npos;
  }
  EXPECT_EQ(named, 1) << log;
}

TEST_F(WalTest, CommitsUnderLoadAreNotHeldUpByCheckpoints) {
  // Client round trip of one insert, the checkpoints included: the truncate
  // holds the writer lock for at most its 20 ms wait plus a few frames'
  // copy; the rest is slack for a loaded 2-core machine.
  constexpr int64_t kBoundMs = 500 * kSlowdown;
  ExecOk("CREATE TABLE t(id INTEGER PRIMARY KEY, pad BLOB)");
  for (int burst = 0; burst < 3; ++burst) {
    SteadyWriter writer(daemon_.socket_path());
    std::this_thread::sleep_for(milliseconds(1000));
    writer.Stop();
    EXPECT_EQ(writer.failures(), 0);
    EXPECT_LT(writer.longest_ms(), kBoundMs)
        << "burst " << burst << ", " << writer.acked() << " inserts";
    // Idle past checkpoint_idle_ms (and a retry after a busy truncate):
    // the truncate runs between bursts.
    std::this_thread::sleep_for(milliseconds(1500));
  }
  std::map<std::string, std::string> passive = {{"db", "main"}, {"mode", "passive"}};
  passive["result"] = "done";
  EXPECT_GE(M("litepool_checkpoints_total", passive), 1);
  EXPECT_GE(
      M("litepool_checkpoints_total", {{"db", "main"}, {"mode", "truncate"}, {"result", "done"}}),
      2);
  EXPECT_EQ(
      M("litepool_checkpoints_total", {{"db", "main"}, {"mode", "passive"}, {"result", "error"}}),
      0);
  EXPECT_TRUE(Eventually([&] {
    return M("litepool_wal_bytes", {{"db", "main"}}) == 0;
  })) << "an idle writer's WAL is truncated";
}

}  // namespace
}  // namespace litepool::testing
