// The metrics endpoint end to end (docs/operations.md, "Metrics"): the real HTTP scrape, the
// series every dashboard relies on, and promtool's verdict on the format.
#include <unistd.h>

#include <set>
#include <string>

#include "litepool/version.h"
#include "tests/integration/protocol_fixture.h"

namespace litepool::testing {
namespace {

using Labels = std::map<std::string, std::string>;

class MetricsTest : public ProtocolTest {
 protected:
  Scrape Get() {
    HttpResponse response = HttpGet(daemon_.metrics_port(), "/metrics");
    EXPECT_EQ(response.status, 200) << response.headers;
    last_text_ = response.body;
    Scrape scrape = ParseMetrics(response.body);
    EXPECT_TRUE(scrape.errors.empty()) << "unparsable lines, first: " << scrape.errors[0];
    return scrape;
  }

  std::string last_text_;
};

// The family a sample belongs to (histogram and summary suffixes removed).
std::string FamilyOf(const Scrape& scrape, const std::string& name) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      std::string base = name.substr(0, name.size() - s.size());
      if (scrape.type.count(base)) return base;
    }
  }
  return name;
}

TEST_F(MetricsTest, EndpointAnswers) {
  ASSERT_GT(daemon_.metrics_port(), 0) << "no metrics URL in the listening event";
  HttpResponse response = HttpGet(daemon_.metrics_port(), "/metrics");
  EXPECT_EQ(response.status, 200);
  EXPECT_NE(response.headers.find("text/plain"), std::string::npos) << response.headers;
  EXPECT_FALSE(response.body.empty());
}

TEST_F(MetricsTest, KnownSeriesExistAtZeroFromTheFirstScrape) {
  Scrape scrape = Get();
  for (const std::string mode : {"write", "read"}) {
    Labels labels = {{"db", "main"}, {"mode", mode}};
    for (const std::string name :
         {"litepool_handles_open", "litepool_handles_idle", "litepool_handles_leased",
          "litepool_handles_max", "litepool_waiters", "litepool_handles_opened_total"}) {
      EXPECT_TRUE(scrape.Value(name, labels).has_value()) << name << " " << mode;
    }
    for (const std::string result : {"ok", "timeout", "exhausted", "error"}) {
      Labels with_result = labels;
      with_result["result"] = result;
      EXPECT_EQ(scrape.Value("litepool_acquires_total", with_result), 0.0) << mode << " " << result;
    }
    for (const std::string reason :
         {"max_lifetime", "idle_timeout", "reset", "error", "shutdown", "reload"}) {
      Labels with_reason = labels;
      with_reason["reason"] = reason;
      EXPECT_EQ(scrape.Value("litepool_handles_closed_total", with_reason), 0.0)
          << mode << " " << reason;
    }
    Labels count = labels;
    EXPECT_EQ(scrape.Value("litepool_acquire_wait_seconds_count", count), 0.0) << mode;
  }
  EXPECT_EQ(scrape.Value("litepool_handles_max", {{"db", "main"}, {"mode", "write"}}), 1.0);
  EXPECT_EQ(scrape.Value("litepool_handles_max", {{"db", "main"}, {"mode", "read"}}), 4.0);
  EXPECT_EQ(scrape.Value("litepool_lease_timeouts_total", {{"db", "main"}}), 0.0);
  EXPECT_EQ(scrape.Value("litepool_lease_leak_warnings_total", {{"db", "main"}}), 0.0);
  EXPECT_TRUE(scrape.Value("litepool_handle_cache_bytes", {{"db", "main"}}).has_value());
  EXPECT_TRUE(scrape.Value("litepool_clients_connected").has_value());
  EXPECT_EQ(scrape.Value("litepool_build_info", {{"version", kVersion}}), 1.0);
  for (const std::string name :
       {"litepool_reaper_up", "litepool_reaper_last_run_timestamp_seconds",
        "litepool_reaper_lag_seconds", "litepool_reaper_runs_total", "litepool_sqlite_memory_bytes",
        "litepool_sqlite_memory_highwater_bytes", "process_open_fds", "process_max_fds",
        "process_resident_memory_bytes", "process_cpu_seconds_total", "process_start_time_seconds",
        "litepool_reaper_run_duration_seconds_count"}) {
    EXPECT_TRUE(scrape.Value(name).has_value()) << name;
  }
  EXPECT_EQ(scrape.Value("litepool_reaper_up"), 1.0);
  EXPECT_GT(scrape.Value("process_open_fds").value_or(0), 0);
}

TEST_F(MetricsTest, EveryFamilyHasHelpAndType) {
  Scrape scrape = Get();
  ASSERT_FALSE(scrape.samples.empty());
  std::set<std::string> families;
  for (const Sample& sample : scrape.samples) families.insert(FamilyOf(scrape, sample.name));
  for (const std::string& family : families) {
    EXPECT_TRUE(scrape.help.count(family) && !scrape.help.at(family).empty())
        << family << " has no HELP";
    EXPECT_TRUE(scrape.type.count(family)) << family << " has no TYPE";
  }
  EXPECT_EQ(scrape.type["litepool_acquires_total"], "counter");
  EXPECT_EQ(scrape.type["litepool_handles_open"], "gauge");
  EXPECT_EQ(scrape.type["litepool_acquire_wait_seconds"], "histogram");
  EXPECT_EQ(scrape.type["litepool_lease_duration_seconds"], "histogram");
  EXPECT_EQ(scrape.type["litepool_query_duration_seconds"], "histogram");
}

TEST_F(MetricsTest, OpenIsIdlePlusLeased) {
  LineClient client = Connect();
  std::string write = Acquire(client, "write");
  std::string read = Acquire(client, "read");
  ASSERT_FALSE(write.empty());
  ASSERT_FALSE(read.empty());
  Scrape scrape = Get();
  for (const Sample& open : scrape.Find("litepool_handles_open")) {
    auto idle = scrape.Value("litepool_handles_idle", open.labels);
    auto leased = scrape.Value("litepool_handles_leased", open.labels);
    ASSERT_TRUE(idle && leased) << open.labels.at("mode");
    EXPECT_EQ(open.value, *idle + *leased) << open.labels.at("mode");
  }
  for (const std::string mode : {"write", "read"}) {
    Labels labels = {{"db", "main"}, {"mode", mode}};
    EXPECT_EQ(scrape.Value("litepool_handles_leased", labels), 1.0) << mode;
    EXPECT_GE(scrape.Value("litepool_handles_open", labels).value_or(0), 1.0) << mode;
  }
  EXPECT_GE(scrape.Value("litepool_clients_connected").value_or(0), 1.0);
}

TEST_F(MetricsTest, AcquiresAreCounted) {
  Labels ok = {{"db", "main"}, {"mode", "write"}, {"result", "ok"}};
  Labels timeout = {{"db", "main"}, {"mode", "write"}, {"result", "timeout"}};
  double before = Get().Value("litepool_acquires_total", ok).value_or(-1);
  ASSERT_GE(before, 0);

  LineClient client = Connect();
  std::string lease = Acquire(client);
  ASSERT_FALSE(lease.empty());
  LineClient other = Connect();
  EXPECT_TRUE(
      IsError(other.Call({{"op", "acquire"}, {"db", "main"}, {"wait_ms", 20}}), "acquire_timeout"));
  ASSERT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));

  Scrape scrape = Get();
  EXPECT_EQ(scrape.Value("litepool_acquires_total", ok), before + 1);
  EXPECT_EQ(scrape.Value("litepool_acquires_total", timeout), 1.0);
  EXPECT_GE(scrape.Value("litepool_acquire_wait_seconds_count", {{"db", "main"}, {"mode", "write"}})
                .value_or(0),
            1.0);
  EXPECT_GE(
      scrape.Value("litepool_lease_duration_seconds_count", {{"db", "main"}, {"mode", "write"}})
          .value_or(0),
      1.0);
}

TEST_F(MetricsTest, WaitersAreVisible) {
  LineClient holder = Connect();
  ASSERT_FALSE(Acquire(holder).empty());
  LineClient waiter = Connect();
  ASSERT_TRUE(waiter.Send(json{{"op", "acquire"}, {"db", "main"}, {"wait_ms", 5000}}.dump()));
  EXPECT_TRUE(WaitForWaiters(1));
  holder.Close();
  EXPECT_TRUE(waiter.ReadLine().has_value());
  EXPECT_TRUE(WaitForWaiters(0));
}

TEST_F(MetricsTest, UnknownPathIs404) {
  HttpResponse response = HttpGet(daemon_.metrics_port(), "/nope");
  EXPECT_EQ(response.status, 404);
}

TEST_F(MetricsTest, PromtoolAcceptsTheScrape) {
  const std::string promtool = "/usr/bin/promtool";
  if (::access(promtool.c_str(), X_OK) != 0) GTEST_SKIP() << promtool << " not installed";
  // Some traffic first, so histograms and counters have non-zero samples.
  LineClient client = Connect();
  std::string lease = Acquire(client);
  ASSERT_TRUE(IsOk(client.Call({{"op", "query"}, {"lease", lease}, {"sql", "SELECT 1"}})));
  ASSERT_TRUE(IsOk(client.Call({{"op", "release"}, {"lease", lease}})));
  Get();
  ProcessResult result = RunProcess({promtool, "check", "metrics"}, last_text_);
  EXPECT_EQ(result.exit_code, 0) << "promtool check metrics:\n"
                                 << result.out << result.err << "\nscrape:\n"
                                 << last_text_;
}

}  // namespace
}  // namespace litepool::testing
