// One histogram family of AtomicHistograms: its name, HELP and labelled
// children, exposed as prometheus::Family<Histogram> exposed it, so that a
// scrape reads the same after the switch.
#pragma once

#include <prometheus/detail/utils.h>
#include <prometheus/labels.h>
#include <prometheus/metric_family.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "metrics/atomic_histogram.h"

namespace litepool::metrics {

// Add() is called when a database's metrics are made (at start on the main
// thread, later on the thread that handles a reload); callers keep the
// reference it returns and observe through it, never looking a child up by
// its labels again. Collect() runs on the scrape thread. Children are never
// removed, so the references stay valid for the family's life.
class HistogramFamily {
 public:
  HistogramFamily(std::string name, std::string help);

  HistogramFamily(const HistogramFamily&) = delete;
  HistogramFamily& operator=(const HistogramFamily&) = delete;

  // The child with these labels, made with `bounds` if there is none yet
  // (an existing child keeps its bounds, as prometheus::Family::Add does).
  AtomicHistogram& Add(const prometheus::Labels& labels, const std::vector<double>& bounds)
      EXCLUDES(mu_);

  // Appends the family to *out, or nothing while it has no child: an empty
  // family, like prometheus-cpp's, has no HELP or TYPE line either.
  void Collect(std::vector<prometheus::MetricFamily>* out) const EXCLUDES(mu_);

 private:
  const std::string name_;
  const std::string help_;
  mutable Mutex mu_;
  // The map and hasher prometheus::Family keeps its children in: iterating it
  // lists the children in the order scrapes listed them before.
  std::unordered_map<prometheus::Labels, std::unique_ptr<AtomicHistogram>,
                     prometheus::detail::LabelHasher>
      children_ GUARDED_BY(mu_);
};

}  // namespace litepool::metrics
