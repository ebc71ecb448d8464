// The Prometheus text the daemon serves (docs/operations.md, "Metrics"),
// rendered by metrics/ itself from known pool snapshots and events, without
// a daemon: names, labels, HELP and TYPE lines and values, line for line.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "litepool/version.h"
#include "metrics/metrics.h"

namespace litepool::metrics {
namespace {

// The lines of one family in `text`: its HELP and TYPE lines, then its
// samples (a histogram's _bucket, _sum and _count too) in the order they
// came. prometheus-cpp keeps a registered family's children in a hash map,
// so for those the test compares SortedSamples instead.
std::vector<std::string> FamilyLines(const std::string& text, const std::string& family) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  auto is_sample = [&](const std::string& l) {
    for (const char* suffix : {"", "_bucket", "_sum", "_count"}) {
      std::string name = family + suffix;
      if (l.compare(0, name.size(), name) == 0 && l.size() > name.size() &&
          (l[name.size()] == '{' || l[name.size()] == ' ')) {
        return true;
      }
    }
    return false;
  };
  while (std::getline(in, line)) {
    if (line.compare(0, 8 + family.size(), "# HELP " + family + " ") == 0 ||
        line.compare(0, 8 + family.size(), "# TYPE " + family + " ") == 0 || is_sample(line)) {
      out.push_back(line);
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// HELP and TYPE lines as they came, then the samples sorted.
std::string SortedSamples(const std::string& text, const std::string& family) {
  std::vector<std::string> lines = FamilyLines(text, family);
  auto samples =
      std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return l[0] != '#'; });
  std::sort(samples, lines.end());
  return Join(lines);
}

class MetricsRenderTest : public ::testing::Test {
 protected:
  MetricsRenderTest() : metrics_({"main"}, [this] { return pools_; }) {}

  // Two databases as the pools report them at scrape time.
  void SetUp() override {
    PoolSnapshot main;
    main.db = "main";
    main.sides[0] = SideSnapshot{.open = 3, .idle = 1, .leased = 2, .max = 4, .waiters = 5};
    main.sides[1] = SideSnapshot{.open = 6, .idle = 6, .leased = 0, .max = 8, .waiters = 0};
    main.cache_bytes = 123456;
    main.up = true;
    PoolSnapshot logs;
    logs.db = "logs";
    logs.sides[0] = SideSnapshot{.open = 0, .idle = 0, .leased = 0, .max = 0, .waiters = 0};
    logs.sides[1] = SideSnapshot{.open = 1, .idle = 0, .leased = 1, .max = 2, .waiters = 3};
    logs.cache_bytes = 2048;
    pools_ = {main, logs};
  }

  std::vector<PoolSnapshot> pools_;
  Metrics metrics_;
};

TEST_F(MetricsRenderTest, HandleGaugesComeFromThePoolSnapshots) {
  std::string text = metrics_.Render();
  EXPECT_EQ(Join(FamilyLines(text, "litepool_handles_open")),
            "# HELP litepool_handles_open Open SQLite handles (always idle + leased).\n"
            "# TYPE litepool_handles_open gauge\n"
            "litepool_handles_open{db=\"main\",mode=\"write\"} 3\n"
            "litepool_handles_open{db=\"main\",mode=\"read\"} 6\n"
            "litepool_handles_open{db=\"logs\",mode=\"write\"} 0\n"
            "litepool_handles_open{db=\"logs\",mode=\"read\"} 1\n");
  EXPECT_EQ(Join(FamilyLines(text, "litepool_waiters")),
            "# HELP litepool_waiters Acquires queued for a handle.\n"
            "# TYPE litepool_waiters gauge\n"
            "litepool_waiters{db=\"main\",mode=\"write\"} 5\n"
            "litepool_waiters{db=\"main\",mode=\"read\"} 0\n"
            "litepool_waiters{db=\"logs\",mode=\"write\"} 0\n"
            "litepool_waiters{db=\"logs\",mode=\"read\"} 3\n");
  EXPECT_EQ(Join(FamilyLines(text, "litepool_handles_max")),
            "# HELP litepool_handles_max Configured maximum of handles.\n"
            "# TYPE litepool_handles_max gauge\n"
            "litepool_handles_max{db=\"main\",mode=\"write\"} 4\n"
            "litepool_handles_max{db=\"main\",mode=\"read\"} 8\n"
            "litepool_handles_max{db=\"logs\",mode=\"write\"} 0\n"
            "litepool_handles_max{db=\"logs\",mode=\"read\"} 2\n");
  EXPECT_EQ(Join(FamilyLines(text, "litepool_handle_cache_bytes")),
            "# HELP litepool_handle_cache_bytes Page cache memory of the pool's handles "
            "(SQLITE_DBSTATUS_CACHE_USED).\n"
            "# TYPE litepool_handle_cache_bytes gauge\n"
            "litepool_handle_cache_bytes{db=\"main\"} 123456\n"
            "litepool_handle_cache_bytes{db=\"logs\"} 2048\n");
}

TEST_F(MetricsRenderTest, ScrapeFollowsTheSnapshotOfTheMoment) {
  pools_[0].sides[0] = SideSnapshot{.open = 4, .idle = 0, .leased = 4, .max = 4, .waiters = 9};
  pools_.pop_back();
  std::string text = metrics_.Render();
  EXPECT_EQ(Join(FamilyLines(text, "litepool_handles_leased")),
            "# HELP litepool_handles_leased Handles leased to clients.\n"
            "# TYPE litepool_handles_leased gauge\n"
            "litepool_handles_leased{db=\"main\",mode=\"write\"} 4\n"
            "litepool_handles_leased{db=\"main\",mode=\"read\"} 0\n");
}

TEST_F(MetricsRenderTest, AcquireCountersByModeAndResult) {
  PoolEvents* events = metrics_.AddDatabase("main");
  events->Acquired(Mode::kWrite, AcquireResult::kOk, 0.002);
  events->Acquired(Mode::kWrite, AcquireResult::kOk, 0.3);
  events->Acquired(Mode::kWrite, AcquireResult::kExhausted, 0);
  events->Acquired(Mode::kRead, AcquireResult::kTimeout, 1.5);
  EXPECT_EQ(SortedSamples(metrics_.Render(), "litepool_acquires_total"),
            "# HELP litepool_acquires_total Acquire requests by database, mode and result (ok, "
            "timeout, exhausted, error).\n"
            "# TYPE litepool_acquires_total counter\n"
            "litepool_acquires_total{db=\"main\",mode=\"read\",result=\"error\"} 0\n"
            "litepool_acquires_total{db=\"main\",mode=\"read\",result=\"exhausted\"} 0\n"
            "litepool_acquires_total{db=\"main\",mode=\"read\",result=\"ok\"} 0\n"
            "litepool_acquires_total{db=\"main\",mode=\"read\",result=\"timeout\"} 1\n"
            "litepool_acquires_total{db=\"main\",mode=\"write\",result=\"error\"} 0\n"
            "litepool_acquires_total{db=\"main\",mode=\"write\",result=\"exhausted\"} 1\n"
            "litepool_acquires_total{db=\"main\",mode=\"write\",result=\"ok\"} 2\n"
            "litepool_acquires_total{db=\"main\",mode=\"write\",result=\"timeout\"} 0\n");
  // `stats` reads the same counters back.
  PoolCounters write = metrics_.Counters("main", Mode::kWrite);
  EXPECT_EQ(write.acquires[static_cast<size_t>(AcquireResult::kOk)], 2);
  EXPECT_EQ(write.acquires[static_cast<size_t>(AcquireResult::kExhausted)], 1);
}

TEST_F(MetricsRenderTest, AcquireWaitIsObservedOnlyForGrantedAcquires) {
  PoolEvents* events = metrics_.AddDatabase("main");
  events->Acquired(Mode::kWrite, AcquireResult::kOk, 0.002);
  events->Acquired(Mode::kWrite, AcquireResult::kOk, 0.3);
  events->Acquired(Mode::kWrite, AcquireResult::kTimeout, 7);  // not a wait that ended in a lease
  std::vector<std::string> lines = FamilyLines(metrics_.Render(), "litepool_acquire_wait_seconds");
  std::vector<std::string> write;
  for (const auto& l : lines) {
    if (l[0] == '#' || l.find("mode=\"write\"") != std::string::npos) write.push_back(l);
  }
  EXPECT_EQ(Join(write),
            "# HELP litepool_acquire_wait_seconds Time from an acquire request to its lease.\n"
            "# TYPE litepool_acquire_wait_seconds histogram\n"
            "litepool_acquire_wait_seconds_count{db=\"main\",mode=\"write\"} 2\n"
            "litepool_acquire_wait_seconds_sum{db=\"main\",mode=\"write\"} 0.302\n"
            "litepool_acquire_wait_seconds_bucket{db=\"main\",mode=\"write\",le=\"0.0001\"} 0\n"
            "litepool_acquire_wait_seconds_bucket{db=\"main\",mode=\"write\",le=\"0.0005\"} 0\n"
            "litepool_acquire_wait_seconds_bucket{db=\"main\",mode=\"write\",le=\"0.001\"} 0\n"
            "litepool_acquire_wait_seconds_bucket{db=\"main\",mode=\"write\",le=\"0.005\"} 1\n"
            "litepool_acquire_wait_seconds_bucket{db=\"main\",mode=\"write\",le=\"0.01\"} 1\n"
            "litepool_acquire_wait_seconds_bucket{db=\"main\",mode=\"write\",le=\"0.05\"} 1\n"
            "litepool_acquire_wait_seconds_bucket{db=\"main\",mode=\"write\",le=\"0.1\"} 1\n"
            "litepool_acquire_wait_seconds_bucket{db=\"main\",mode=\"write\",le=\"0.5\"} 2\n"
            "litepool_acquire_wait_seconds_bucket{db=\"main\",mode=\"write\",le=\"1\"} 2\n"
            "litepool_acquire_wait_seconds_bucket{db=\"main\",mode=\"write\",le=\"2.5\"} 2\n"
            "litepool_acquire_wait_seconds_bucket{db=\"main\",mode=\"write\",le=\"5\"} 2\n"
            "litepool_acquire_wait_seconds_bucket{db=\"main\",mode=\"write\",le=\"10\"} 2\n"
            "litepool_acquire_wait_seconds_bucket{db=\"main\",mode=\"write\",le=\"+Inf\"} 2\n");
}

TEST_F(MetricsRenderTest, ReaperFamilies) {
  ReaperEvents* reaper = metrics_.reaper();
  std::string before = metrics_.Render();
  EXPECT_EQ(Join(FamilyLines(before, "litepool_reaper_up")),
            "# HELP litepool_reaper_up 1 while the reaper thread runs.\n"
            "# TYPE litepool_reaper_up gauge\n"
            "litepool_reaper_up 0\n");
  reaper->ReaperUp(true);
  reaper->PassDone(1700000000.5, 0.0003, 0.25);
  reaper->PassDone(1700000001.5, 0.02, 0.125);
  std::string text = metrics_.Render();
  EXPECT_EQ(Join(FamilyLines(text, "litepool_reaper_up")),
            "# HELP litepool_reaper_up 1 while the reaper thread runs.\n"
            "# TYPE litepool_reaper_up gauge\n"
            "litepool_reaper_up 1\n");
  EXPECT_EQ(Join(FamilyLines(text, "litepool_reaper_runs_total")),
            "# HELP litepool_reaper_runs_total Reaper passes run.\n"
            "# TYPE litepool_reaper_runs_total counter\n"
            "litepool_reaper_runs_total 2\n");
  EXPECT_EQ(Join(FamilyLines(text, "litepool_reaper_lag_seconds")),
            "# HELP litepool_reaper_lag_seconds How late the last reaper pass started against "
            "its schedule.\n"
            "# TYPE litepool_reaper_lag_seconds gauge\n"
            "litepool_reaper_lag_seconds 0.125\n");
  EXPECT_EQ(Join(FamilyLines(text, "litepool_reaper_last_run_timestamp_seconds")),
            "# HELP litepool_reaper_last_run_timestamp_seconds Unix time the last reaper pass "
            "finished.\n"
            "# TYPE litepool_reaper_last_run_timestamp_seconds gauge\n"
            "litepool_reaper_last_run_timestamp_seconds 1700000001.5\n");
  EXPECT_EQ(Join(FamilyLines(text, "litepool_reaper_run_duration_seconds")),
            "# HELP litepool_reaper_run_duration_seconds Time the reaper spends on one pass.\n"
            "# TYPE litepool_reaper_run_duration_seconds histogram\n"
            "litepool_reaper_run_duration_seconds_count 2\n"
            "litepool_reaper_run_duration_seconds_sum 0.0203\n"
            "litepool_reaper_run_duration_seconds_bucket{le=\"1e-05\"} 0\n"
            "litepool_reaper_run_duration_seconds_bucket{le=\"5e-05\"} 0\n"
            "litepool_reaper_run_duration_seconds_bucket{le=\"0.0001\"} 0\n"
            "litepool_reaper_run_duration_seconds_bucket{le=\"0.0005\"} 1\n"
            "litepool_reaper_run_duration_seconds_bucket{le=\"0.001\"} 1\n"
            "litepool_reaper_run_duration_seconds_bucket{le=\"0.005\"} 1\n"
            "litepool_reaper_run_duration_seconds_bucket{le=\"0.01\"} 1\n"
            "litepool_reaper_run_duration_seconds_bucket{le=\"0.1\"} 2\n"
            "litepool_reaper_run_duration_seconds_bucket{le=\"1\"} 2\n"
            "litepool_reaper_run_duration_seconds_bucket{le=\"+Inf\"} 2\n");
}

TEST_F(MetricsRenderTest, DatabaseUpAndBuildInfo) {
  metrics_.AddDatabase("main")->DatabaseUp(true);
  metrics_.AddDatabase("logs")->DatabaseUp(false);  // a database a reload brought
  std::string text = metrics_.Render();
  EXPECT_EQ(SortedSamples(text, "litepool_database_up"),
            "# HELP litepool_database_up 1 while the database is open and serving; 0 while it "
            "cannot be opened (missing, corrupt, not permitted, locked by another daemon) and is "
            "retried.\n"
            "# TYPE litepool_database_up gauge\n"
            "litepool_database_up{db=\"logs\"} 0\n"
            "litepool_database_up{db=\"main\"} 1\n");
  EXPECT_EQ(Join(FamilyLines(text, "litepool_build_info")),
            "# HELP litepool_build_info Always 1; the version label tells the build.\n"
            "# TYPE litepool_build_info gauge\n"
            "litepool_build_info{version=\"" +
                std::string(kVersion) + "\"} 1\n");
}

}  // namespace
}  // namespace litepool::metrics
