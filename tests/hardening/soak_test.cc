// A bounded soak: four connections run tens of thousands of acquire / query
// / release cycles; the daemon's open file descriptors and resident memory,
// read from its own /metrics, must not grow between the end of a warm-up and
// the end of the run. Bounded by time as well as by cycles (about 35 s at
// most), so a slow machine or a sanitizer build runs fewer cycles, not
// longer.
#include <atomic>
#include <string>
#include <thread>

#include "tests/integration/protocol_fixture.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define LITEPOOL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LITEPOOL_SANITIZED 1
#endif
#endif

namespace litepool::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr int kConnections = 4;
constexpr int kRows = 100;
constexpr int kWarmupCycles = 4000;
constexpr int kCycles = 40000;  // after the warm-up, over all connections
constexpr auto kWarmupBudget = seconds(5);
constexpr auto kBudget = seconds(30);
constexpr double kMaxRssGrowthBytes = 2 * 1024 * 1024;

class SoakTest : public ProtocolTest {
 protected:
  // Every handle opens during the warm-up and none closes during the run.
  json Overrides() override {
    return {{"defaults", {{"max_readers", kConnections}, {"leak_warn_ms", 0}}}};
  }

  struct Sample {
    double fds = -1;
    double rss = -1;
  };
  // The lowest of a few scrapes: the daemon may not have closed the socket
  // of the previous scrape yet, while a leaked descriptor stays.
  Sample TakeSample() {
    Sample lowest;
    for (int i = 0; i < 5; ++i) {
      if (i > 0) std::this_thread::sleep_for(milliseconds(10));
      HttpResponse response = HttpGet(daemon_.metrics_port(), "/metrics");
      EXPECT_EQ(response.status, 200);
      ::litepool::testing::Scrape parsed = ParseMetrics(response.body);
      double fds = parsed.Value("process_open_fds").value_or(-1);
      if (lowest.fds < 0 || fds < lowest.fds) lowest.fds = fds;
      lowest.rss = parsed.Value("process_resident_memory_bytes").value_or(-1);
    }
    return lowest;
  }

  // Runs cycles on every connection until `cycles` are done in all or
  // `budget` passes; returns how many were done.
  int Run(std::vector<LineClient>& clients, int cycles, steady_clock::duration budget) {
    std::atomic<int> done{0};
    auto deadline = steady_clock::now() + budget;
    std::vector<std::thread> threads;
    for (int c = 0; c < kConnections; ++c) {
      threads.emplace_back([&, c] {
        LineClient& client = clients[c];
        for (int i = 0; done < cycles && steady_clock::now() < deadline; ++i) {
          // One cycle in eight writes; the others read.
          bool write = (i + c) % 8 == 0;
          json reply =
              client.Call({{"op", "acquire"}, {"db", "main"}, {"mode", write ? "write" : "read"}});
          ASSERT_TRUE(IsOk(reply)) << reply.dump();
          std::string lease = reply["lease"].get<std::string>();
          int row = 1 + (i * 7 + c) % kRows;
          reply = client.Call(write ? json{{"op", "query"},
                                           {"lease", lease},
                                           {"sql", "UPDATE t SET n = n + 1 WHERE id = ?"},
                                           {"params", {row}}}
                                    : json{{"op", "query"},
                                           {"lease", lease},
                                           {"sql", "SELECT id, n, pad FROM t WHERE id = :id"},
                                           {"params", {{"id", row}}}});
          ASSERT_TRUE(IsOk(reply)) << reply.dump();
          reply = client.Call({{"op", "release"}, {"lease", lease}});
          ASSERT_TRUE(IsOk(reply)) << reply.dump();
          ++done;
        }
      });
    }
    for (auto& t : threads) t.join();
    return done.load();
  }
};

TEST_F(SoakTest, FileDescriptorsAndMemoryStayFlat) {
  ExecOk(
      "CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER NOT NULL, pad TEXT NOT NULL);"
      "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < " +
      std::to_string(kRows) + ") INSERT INTO t SELECT i, 0, printf('%.*c', 200, 'p') FROM k");
  std::vector<LineClient> clients;
  for (int c = 0; c < kConnections; ++c) clients.push_back(Connect());

  // Open every handle: all connections hold a read lease at once, and one
  // the writer.
  std::vector<std::string> leases;
  for (auto& client : clients) leases.push_back(Acquire(client, "read"));
  std::string write_lease = Acquire(clients[0], "write");
  for (int c = 0; c < kConnections; ++c) {
    ASSERT_TRUE(IsOk(clients[c].Call({{"op", "release"}, {"lease", leases[c]}})));
  }
  ASSERT_TRUE(IsOk(clients[0].Call({{"op", "release"}, {"lease", write_lease}})));

  auto start = steady_clock::now();
  int warmup = Run(clients, kWarmupCycles, kWarmupBudget);
  ASSERT_FALSE(HasFatalFailure());
  // The set-up connection has gone; only ours remain.
  ASSERT_TRUE(Eventually([&] { return Metric("litepool_clients_connected", {}) == kConnections; }));
  Sample before = TakeSample();
  auto measured = steady_clock::now();
  int cycles = Run(clients, kCycles, kBudget);
  ASSERT_FALSE(HasFatalFailure());
  Sample after = TakeSample();
  double run_seconds = std::chrono::duration<double>(steady_clock::now() - measured).count();
  double total_seconds = std::chrono::duration<double>(steady_clock::now() - start).count();

  std::printf(
      "[ soak ] warm-up %d cycles; run %d cycles in %.1f s (%.0f cycles/s, %d requests), "
      "%.1f s in all\n"
      "[ soak ] process_open_fds %.0f -> %.0f; process_resident_memory_bytes %.0f -> %.0f "
      "(%+.0f KiB)\n",
      warmup, cycles, run_seconds, cycles / run_seconds, cycles * 3, total_seconds, before.fds,
      after.fds, before.rss, after.rss, (after.rss - before.rss) / 1024);

  ASSERT_GT(before.fds, 0);
  ASSERT_GT(before.rss, 0);
  EXPECT_EQ(after.fds, before.fds) << "file descriptors leaked";
#ifdef LITEPOOL_SANITIZED
  // A sanitizer's shadow memory and quarantine dominate the RSS; its own
  // leak check at exit (Stop() == 0 below) stands in for this bound.
  std::printf("[ soak ] sanitizer build: RSS bound not checked\n");
#else
  EXPECT_GE(cycles, 10000) << "too slow to call this a soak";
  EXPECT_LT(after.rss - before.rss, kMaxRssGrowthBytes) << "resident memory grew";
#endif

  // Every cycle was counted once: the sum of the updates.
  json reply = clients[0].Call({{"op", "query"}, {"db", "main"}, {"sql", "SELECT sum(n) FROM t"}});
  ASSERT_TRUE(IsOk(reply));
  EXPECT_GT(reply["rows"][0][0].get<int64_t>(), 0);
  for (auto& client : clients) client.Close();
  EXPECT_EQ(daemon_.Stop(), 0) << daemon_.LogText();
}

}  // namespace
}  // namespace litepool::testing
