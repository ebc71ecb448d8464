// The time source of the pool and the reaper, injectable so tests step time
// instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>

namespace litepool {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Millis = std::chrono::milliseconds;

// Thread-safe: Now() may be called from any thread.
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual TimePoint Now() const = 0;
};

class SteadyTimeSource final : public TimeSource {
 public:
  TimePoint Now() const override { return Clock::now(); }
};

// A clock that moves only when told to; for tests.
class ManualTimeSource final : public TimeSource {
 public:
  TimePoint Now() const override { return TimePoint(Clock::duration(now_.load())); }
  void Advance(Clock::duration d) { now_.fetch_add(d.count()); }

 private:
  std::atomic<Clock::rep> now_{Clock::duration(std::chrono::hours(1)).count()};
};

// The process-wide real clock.
const TimeSource* RealTime();

}  // namespace litepool
