// The lock-free histogram.
#include "metrics/atomic_histogram.h"

#include <cassert>
#include <limits>
#include <utility>

namespace litepool::metrics {

AtomicHistogram::AtomicHistogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  for (size_t i = 1; i < bounds_.size(); ++i) assert(bounds_[i - 1] < bounds_[i]);
}

void AtomicHistogram::Observe(double value) {
  // A dozen or so bounds: a linear scan for the first bound >= value, as
  // prometheus::Histogram does (so a NaN passes every bound and lands in
  // +Inf, there as here).
  size_t i = 0;
  while (i < bounds_.size() && !(value <= bounds_[i])) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  // Doubles have no hardware add: C++20's fetch_add for them is this same
  // loop, written out so the cost under contention is in sight.
  double sum = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(sum, sum + value, std::memory_order_relaxed)) {
  }
}

prometheus::ClientMetric AtomicHistogram::Collect() const {
  prometheus::ClientMetric m;
  auto& h = m.histogram;
  h.bucket.reserve(bounds_.size() + 1);
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    prometheus::ClientMetric::Bucket b;
    b.cumulative_count = cumulative;
    b.upper_bound = i < bounds_.size() ? bounds_[i] : std::numeric_limits<double>::infinity();
    h.bucket.push_back(b);
  }
  h.sample_count = cumulative;
  h.sample_sum = sum_.load(std::memory_order_relaxed);
  return m;
}

}  // namespace litepool::metrics
