// Building scrape-time families by hand, for the collectors that read their
// values from the daemon's state at each scrape (metrics.cc's StateCollector,
// wal_metrics.cc's WalCollector). Internal to metrics/.
#pragma once

#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>

#include <vector>

namespace litepool::metrics {

// Appends an empty family to *out and returns it.
inline prometheus::MetricFamily& NewFamily(
    std::vector<prometheus::MetricFamily>* out, const char* name, const char* help,
    prometheus::MetricType type = prometheus::MetricType::Gauge) {
  out->emplace_back();
  out->back().name = name;
  out->back().help = help;
  out->back().type = type;
  return out->back();
}

inline void AddGauge(prometheus::MetricFamily* fam,
                     std::vector<prometheus::ClientMetric::Label> labels, double value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  fam->metric.push_back(std::move(m));
}

}  // namespace litepool::metrics
