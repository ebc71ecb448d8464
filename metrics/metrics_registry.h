// The daemon's registry: prometheus-cpp's Registry, plus the families of
// lock-free histograms it cannot hold (it only makes its own metric types),
// collected as one, in the order scrapes listed them before.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "metrics/histogram_family.h"

namespace litepool::metrics {

// Built on the main thread; AddHistogram() from any thread, Collect() on the
// scrape thread. Families are never removed.
class MetricsRegistry final : public prometheus::Collectable {
 public:
  MetricsRegistry();
  ~MetricsRegistry() override;

  // Where the counters, gauges and the histograms off the request path are
  // registered, with prometheus-cpp's builders.
  prometheus::Registry& base() { return base_; }

  HistogramFamily& AddHistogram(std::string name, std::string help) EXCLUDES(mu_);

  std::vector<prometheus::MetricFamily> Collect() const override EXCLUDES(mu_);

 private:
  prometheus::Registry base_;
  mutable Mutex mu_;
  std::vector<std::unique_ptr<HistogramFamily>> histograms_ GUARDED_BY(mu_);
};

}  // namespace litepool::metrics
