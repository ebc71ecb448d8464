// A Prometheus histogram whose Observe() takes no lock, for the families the
// request path observes (metrics.cc: acquire wait, lease and query duration,
// the reaper's pass): prometheus::Histogram::Observe locks a std::mutex on
// every call, and a request may take at most two mutexes on its way.
#pragma once

#include <prometheus/client_metric.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace litepool::metrics {

// Owns its upper bounds (fixed at construction, ascending), one counter per
// bound plus the +Inf one, and the sum of the values observed.
//
// Any thread may Observe() at any time (I/O threads, workers, the reaper):
// one fetch_add on the value's bucket, then a compare-and-swap loop on the
// sum, no lock. Relaxed order is enough: each field is a total of its own
// increments, and no reader relies on seeing one field's update before
// another's (see below).
//
// Collect() runs on the scrape thread beside the observers and reads each
// bucket once and the sum once. The count is the buckets' total, so count,
// +Inf and the cumulative buckets always agree (histogram_quantile() and
// rate(_count) see one consistent set). The sum is read at another moment
// than the buckets, so a scrape concurrent with observations may see a sum
// that already includes a value its buckets do not count yet, or the other
// way round. That is fine: both are counters that only grow, the gap is the
// few observations in flight during the scrape, and the next scrape counts
// them; rate(_sum)/rate(_count) over any real window is off by those few.
// prometheus' Go client accepted the same until 2018, and then added a
// hot/cold swap that makes each scrape wait for the observers in flight;
// here Observe() must stay cheap and the scrape must never wait on it.
class AtomicHistogram {
 public:
  // `bounds` ascending and finite; a value equal to a bound counts in that
  // bound's bucket, as its `le` label says.
  explicit AtomicHistogram(std::vector<double> bounds);

  AtomicHistogram(const AtomicHistogram&) = delete;
  AtomicHistogram& operator=(const AtomicHistogram&) = delete;

  void Observe(double value);

  // The histogram part of a sample, as prometheus::Histogram::Collect()
  // fills it: cumulative buckets ending with +Inf, the count, the sum. The
  // family adds the labels.
  prometheus::ClientMetric Collect() const;

 private:
  static_assert(std::atomic<uint64_t>::is_always_lock_free);
  static_assert(std::atomic<double>::is_always_lock_free);

  const std::vector<double> bounds_;
  // bounds_.size() + 1 counters, not cumulative: the last one is +Inf's.
  const std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

}  // namespace litepool::metrics
