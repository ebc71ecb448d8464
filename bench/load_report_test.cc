// The load report's ratios on made-up runs: lease10's CPU per query against
// a one-shot's, per repeat, at the same clients and at max_readers clients.
#include "bench/load_report.h"

#include <gtest/gtest.h>

namespace litepool::bench {
namespace {

RunRecord Measured(const std::string& scenario, int clients, int repeat, double cpu_per_rt,
                   double rt_per_s, double cycles_per_s, const std::string& target = "litepoold") {
  RunRecord r;
  r.scenario = scenario;
  r.clients = clients;
  r.target = target;
  r.repeat = repeat;
  r.server_cpu_us_per_rt = cpu_per_rt;
  r.rt_per_s = rt_per_s;
  r.cycles_per_s = cycles_per_s;
  return r;
}

// One repeat of lease10 (12 round trips per cycle) and of point_select at
// 8 clients, with their CPU per round trip.
void AddRepeat(Report* report, int repeat, double lease_cpu_per_rt, double one_shot_cpu_per_rt) {
  report->Add(Measured("lease10", 8, repeat, lease_cpu_per_rt, 12000, 1000));
  report->Add(Measured("point_select", 8, repeat, one_shot_cpu_per_rt, 50000, 50000));
}

TEST(LoadReportTest, Lease10PerQueryCountsTheCycleOverItsTenQueries) {
  Report report;
  // 12 round trips per cycle at 10 us each: 120 us per cycle, 12 us per
  // query, against a one-shot's 10 us.
  AddRepeat(&report, 0, 10.0, 10.0);
  auto ratio = report.Lease10PerQueryRatio(8, 8, "litepoold");
  ASSERT_TRUE(ratio.has_value());
  EXPECT_DOUBLE_EQ(*ratio, 1.2);
}

TEST(LoadReportTest, Lease10RatiosPairRunsOfTheSameRepeatAndTakeTheMedian) {
  Report report;
  // Repeat 0: 1.2x; repeat 1: 2.4x; repeat 2: 1.5x. Pairing across repeats
  // would give other figures; the median of the per-repeat ratios is 1.5.
  AddRepeat(&report, 0, 10.0, 10.0);
  AddRepeat(&report, 1, 20.0, 10.0);
  AddRepeat(&report, 2, 12.5, 10.0);
  auto ratio = report.Lease10PerQueryRatio(8, 8, "litepoold");
  ASSERT_TRUE(ratio.has_value());
  EXPECT_DOUBLE_EQ(*ratio, 1.5);
}

TEST(LoadReportTest, Lease10IsAlsoComparedWithOneShotsAtMaxReadersClients) {
  Report report;
  report.set_max_readers(4);
  AddRepeat(&report, 0, 14.0, 12.0);
  report.Add(Measured("point_select", 4, 0, 14.0, 70000, 70000));
  report.Add(Measured("lease10", 8, 0, 99.0, 12000, 1000, "echo"));  // not a daemon: no ratio
  nlohmann::ordered_json rows =
      report.RatiosJson({"lease10"}, {8}, {"echo", "litepoold"}, /*pgbench_tps=*/{});
  ASSERT_EQ(rows.size(), 1u);
  const auto& ratios = rows[0]["ratios"];
  EXPECT_DOUBLE_EQ(ratios["litepoold lease10/one-shot cpu per query"].get<double>(), 1.4);
  EXPECT_DOUBLE_EQ(ratios["litepoold lease10/one-shot cpu per query (one-shots @4)"].get<double>(),
                   1.2);
  EXPECT_FALSE(ratios.contains("baseline lease10/one-shot cpu per query"));
}

TEST(LoadReportTest, NoLease10RatioWithoutTheOneShotRunOfThatRepeat) {
  Report report;
  report.Add(Measured("lease10", 8, 0, 10.0, 12000, 1000));
  report.Add(Measured("point_select", 8, 1, 10.0, 50000, 50000));  // another repeat
  EXPECT_FALSE(report.Lease10PerQueryRatio(8, 8, "litepoold").has_value());
}

}  // namespace
}  // namespace litepool::bench
