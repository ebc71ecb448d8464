// A family of lock-free histograms.
#include "metrics/histogram_family.h"

#include <utility>

namespace litepool::metrics {

HistogramFamily::HistogramFamily(std::string name, std::string help)
    : name_(std::move(name)), help_(std::move(help)) {}

AtomicHistogram& HistogramFamily::Add(const prometheus::Labels& labels,
                                      const std::vector<double>& bounds) {
  MutexLock lock(&mu_);
  auto& child = children_[labels];
  if (!child) child = std::make_unique<AtomicHistogram>(bounds);
  return *child;
}

void HistogramFamily::Collect(std::vector<prometheus::MetricFamily>* out) const {
  MutexLock lock(&mu_);
  if (children_.empty()) return;
  prometheus::MetricFamily family;
  family.name = name_;
  family.help = help_;
  family.type = prometheus::MetricType::Histogram;
  family.metric.reserve(children_.size());
  for (const auto& [labels, histogram] : children_) {
    prometheus::ClientMetric m = histogram->Collect();
    for (const auto& [name, value] : labels) m.label.push_back({name, value});
    family.metric.push_back(std::move(m));
  }
  out->push_back(std::move(family));
}

}  // namespace litepool::metrics
