// The lock-free histograms of metrics/ (atomic_histogram.h, histogram_family.h,
// metrics_registry.h): where values land, what a scrape of them reads, that
// they read as the prometheus-cpp histograms they replace did, and that
// concurrent observers lose nothing (the TSan build runs this too).
#include "metrics/atomic_histogram.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/text_serializer.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "metrics/histogram_family.h"
#include "metrics/metrics_registry.h"

namespace litepool::metrics {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<uint64_t> Cumulative(const prometheus::ClientMetric& m) {
  std::vector<uint64_t> out;
  for (const auto& b : m.histogram.bucket) out.push_back(b.cumulative_count);
  return out;
}

std::vector<double> Bounds(const prometheus::ClientMetric& m) {
  std::vector<double> out;
  for (const auto& b : m.histogram.bucket) out.push_back(b.upper_bound);
  return out;
}

TEST(AtomicHistogramTest, EmptyHasEveryBucketAtZero) {
  AtomicHistogram h({0.5, 1, 2});
  prometheus::ClientMetric m = h.Collect();
  EXPECT_EQ(Bounds(m), (std::vector<double>{0.5, 1, 2, kInf}));
  EXPECT_EQ(Cumulative(m), (std::vector<uint64_t>{0, 0, 0, 0}));
  EXPECT_EQ(m.histogram.sample_count, 0u);
  EXPECT_EQ(m.histogram.sample_sum, 0);
}

TEST(AtomicHistogramTest, BucketsAreCumulativeAndABoundHoldsItsOwnValue) {
  AtomicHistogram h({1, 2, 5});
  // le="1": 0.5 and 1 itself; le="2": + the value just above 1, and 2;
  // le="5": + 3 and 5; +Inf: + 7 and 100.
  for (double v : {0.5, 1.0, std::nextafter(1.0, 2.0), 2.0, 3.0, 5.0, 7.0, 100.0}) h.Observe(v);
  prometheus::ClientMetric m = h.Collect();
  EXPECT_EQ(Bounds(m), (std::vector<double>{1, 2, 5, kInf}));
  EXPECT_EQ(Cumulative(m), (std::vector<uint64_t>{2, 4, 6, 8}));
  EXPECT_EQ(m.histogram.sample_count, 8u);
  EXPECT_DOUBLE_EQ(m.histogram.sample_sum,
                   0.5 + 1 + std::nextafter(1.0, 2.0) + 2 + 3 + 5 + 7 + 100);
}

TEST(AtomicHistogramTest, InfHoldsWhatPassesEveryBound) {
  AtomicHistogram h({1});
  h.Observe(kInf);
  h.Observe(1e300);
  h.Observe(std::nan(""));  // as prometheus::Histogram files a NaN
  prometheus::ClientMetric m = h.Collect();
  EXPECT_EQ(Cumulative(m), (std::vector<uint64_t>{0, 3}));
  EXPECT_EQ(m.histogram.sample_count, 3u);
}

// The same observations give the sample prometheus::Histogram gave, field
// for field: the bucket it picks for each value, its sum, its count.
TEST(AtomicHistogramTest, ReadsAsPrometheusHistogram) {
  const std::vector<double> bounds = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05,
                                      0.1,    0.5,    1,     2.5,   5,    10};
  AtomicHistogram ours(bounds);
  prometheus::Histogram theirs(bounds);
  std::vector<double> values = {0, -1, 0.00005, 0.3, 12, 1e9};
  values.insert(values.end(), bounds.begin(), bounds.end());
  for (double b : bounds) {
    values.push_back(std::nextafter(b, 0.0));
    values.push_back(std::nextafter(b, kInf));
  }
  for (double v : values) {
    ours.Observe(v);
    theirs.Observe(v);
  }
  prometheus::ClientMetric a = ours.Collect();
  prometheus::ClientMetric b = theirs.Collect();
  EXPECT_EQ(Bounds(a), Bounds(b));
  EXPECT_EQ(Cumulative(a), Cumulative(b));
  EXPECT_EQ(a.histogram.sample_count, b.histogram.sample_count);
  EXPECT_EQ(a.histogram.sample_sum, b.histogram.sample_sum);  // same additions, same order
}

// N threads x M observations of small integers: sums of integers that small
// are exact in a double, so a lost or doubled update shows in the sum as in
// the count. A scraper runs beside them and checks what every scrape must
// hold: cumulative buckets, +Inf == count, nothing ever going down.
TEST(AtomicHistogramTest, ConcurrentObserversLoseNothing) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500000;
  AtomicHistogram h({1, 2, 5});
  std::atomic<bool> done{false};
  std::vector<std::string> failures;
  std::thread scraper([&] {
    std::vector<uint64_t> last(4, 0);
    while (!done.load()) {
      std::vector<uint64_t> now = Cumulative(h.Collect());
      for (size_t i = 0; i < now.size(); ++i) {
        if (i > 0 && now[i] < now[i - 1]) failures.push_back("not cumulative");
        if (now[i] < last[i]) failures.push_back("went down");
      }
      last = now;
    }
  });
  // All start together, so that their observations overlap even on a
  // machine that runs a thread to its end before the next one is made.
  std::atomic<int> ready{0};
  std::vector<std::thread> observers;
  for (int t = 0; t < kThreads; ++t) {
    observers.emplace_back([&] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      for (int i = 0; i < kPerThread; ++i) h.Observe(i % 7);  // 0..6
    });
  }
  for (auto& t : observers) t.join();
  done = true;
  scraper.join();
  EXPECT_EQ(failures, std::vector<std::string>{});

  // Of every 7 consecutive values: 0 and 1 <= 1, 2 <= 2, 3..5 <= 5, 6 above.
  uint64_t per_value[7] = {};
  double sum = 0;
  for (int i = 0; i < kPerThread; ++i) {
    per_value[i % 7] += kThreads;
    sum += kThreads * (i % 7);
  }
  prometheus::ClientMetric m = h.Collect();
  uint64_t le1 = per_value[0] + per_value[1];
  uint64_t le2 = le1 + per_value[2];
  uint64_t le5 = le2 + per_value[3] + per_value[4] + per_value[5];
  EXPECT_EQ(Cumulative(m), (std::vector<uint64_t>{le1, le2, le5, uint64_t{kThreads} * kPerThread}));
  EXPECT_EQ(m.histogram.sample_count, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(m.histogram.sample_sum, sum);
}

TEST(HistogramFamilyTest, SameLabelsSameChild) {
  HistogramFamily f("x_seconds", "X.");
  AtomicHistogram& a = f.Add({{"db", "main"}}, {1});
  EXPECT_EQ(&f.Add({{"db", "main"}}, {1}), &a);
  EXPECT_NE(&f.Add({{"db", "logs"}}, {1}), &a);
}

TEST(HistogramFamilyTest, WithoutChildrenNothingIsExposed) {
  HistogramFamily f("x_seconds", "X.");
  std::vector<prometheus::MetricFamily> out;
  f.Collect(&out);
  EXPECT_TRUE(out.empty());
}

// The text a scrape gets, line for line, as prometheus-cpp's serializer
// writes a histogram family: labels in name order, then `le`.
TEST(HistogramFamilyTest, Exposition) {
  HistogramFamily f("litepool_x_seconds", "Time of x.");
  f.Add({{"mode", "write"}, {"db", "main"}}, {0.00005, 0.5}).Observe(0.25);
  std::vector<prometheus::MetricFamily> out;
  f.Collect(&out);
  EXPECT_EQ(prometheus::TextSerializer().Serialize(out),
            "# HELP litepool_x_seconds Time of x.\n"
            "# TYPE litepool_x_seconds histogram\n"
            "litepool_x_seconds_count{db=\"main\",mode=\"write\"} 1\n"
            "litepool_x_seconds_sum{db=\"main\",mode=\"write\"} 0.25\n"
            "litepool_x_seconds_bucket{db=\"main\",mode=\"write\",le=\"5e-05\"} 0\n"
            "litepool_x_seconds_bucket{db=\"main\",mode=\"write\",le=\"0.5\"} 1\n"
            "litepool_x_seconds_bucket{db=\"main\",mode=\"write\",le=\"+Inf\"} 1\n");
}

// prometheus::Registry lists counters, then gauges, then histograms; the
// lock-free families come first among the histograms, where the daemon's
// four were while the Registry held them (registered before the WAL's).
TEST(MetricsRegistryTest, LockFreeHistogramsComeFirstAmongTheHistograms) {
  MetricsRegistry r;
  r.AddHistogram("a_seconds", "A.").Add({}, {1});
  prometheus::BuildCounter().Name("b_total").Help("B.").Register(r.base()).Add({});
  prometheus::BuildHistogram()
      .Name("c_seconds")
      .Help("C.")
      .Register(r.base())
      .Add({}, prometheus::Histogram::BucketBoundaries{1});
  prometheus::BuildGauge().Name("d").Help("D.").Register(r.base()).Add({});
  std::vector<std::string> names;
  for (const auto& f : r.Collect()) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"b_total", "d", "a_seconds", "c_seconds"}));
}

}  // namespace
}  // namespace litepool::metrics
