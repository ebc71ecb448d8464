// A fixed-size log-linear latency histogram (about 3 % resolution): cheap to
// record on the load generator's hot loop, mergeable across threads.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace litepool::bench {

// Nanosecond values in buckets of 32 per power of two. Not thread-safe: one
// per thread, merged at the end.
class LatencyHistogram {
 public:
  void Record(uint64_t ns) {
    ++buckets_[Index(ns)];
    ++count_;
    sum_ += ns;
  }

  void Merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
    count_ += other.count_;
    sum_ += other.sum_;
  }

  uint64_t count() const { return count_; }
  double MeanNs() const { return count_ ? static_cast<double>(sum_) / count_ : 0; }

  // The value below which a fraction `q` (0..1) of the samples lie, as the
  // midpoint of its bucket; 0 when empty.
  double QuantileNs(double q) const {
    if (count_ == 0) return 0;
    uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(count_ - 1)) + 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen >= rank) return Midpoint(i);
    }
    return Midpoint(buckets_.size() - 1);
  }

 private:
  static constexpr int kSubBits = 5;
  static constexpr uint64_t kSub = 1u << kSubBits;

  static size_t Index(uint64_t v) {
    if (v < kSub) return static_cast<size_t>(v);
    int msb = 63 - std::countl_zero(v);
    int shift = msb - kSubBits;
    return static_cast<size_t>((shift + 1) * kSub + ((v >> shift) & (kSub - 1)));
  }

  static double Midpoint(size_t index) {
    if (index < kSub) return static_cast<double>(index);
    int shift = static_cast<int>(index / kSub) - 1;
    uint64_t low = (kSub + index % kSub) << shift;
    return static_cast<double>(low) + static_cast<double>(uint64_t{1} << shift) / 2;
  }

  std::array<uint64_t, 60 * kSub> buckets_{};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace litepool::bench
