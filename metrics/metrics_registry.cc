// The daemon's registry.
#include "metrics/metrics_registry.h"

#include <algorithm>
#include <iterator>
#include <utility>

namespace litepool::metrics {

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

HistogramFamily& MetricsRegistry::AddHistogram(std::string name, std::string help) {
  MutexLock lock(&mu_);
  histograms_.push_back(std::make_unique<HistogramFamily>(std::move(name), std::move(help)));
  return *histograms_.back();
}

std::vector<prometheus::MetricFamily> MetricsRegistry::Collect() const {
  std::vector<prometheus::MetricFamily> ours;
  {
    MutexLock lock(&mu_);
    for (const auto& family : histograms_) family->Collect(&ours);
  }
  // prometheus::Registry lists its counters, then gauges, then histograms,
  // each kind in the order registered. When it held the daemon's histograms
  // too, Metrics registered ours before WalMetrics its two, so ours go first
  // among the histograms and a scrape reads as it did.
  std::vector<prometheus::MetricFamily> out = base_.Collect();
  auto at = std::find_if(out.begin(), out.end(), [](const prometheus::MetricFamily& f) {
    return f.type == prometheus::MetricType::Histogram;
  });
  out.insert(at, std::make_move_iterator(ours.begin()), std::make_move_iterator(ours.end()));
  return out;
}

}  // namespace litepool::metrics
