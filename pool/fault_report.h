// Storage faults of one database, told to the operator: each one counted by
// kind (PoolEvents::StorageFault) and logged at error level, at most one
// line per kind every kLogEvery, the next line saying how many were left out.
// A disk that fills up under load fails every write; the log must say so
// without becoming the next thing to fill it.
#pragma once

#include <string>

#include "base/mutex.h"
#include "base/status.h"
#include "pool/clock.h"
#include "pool/pool_events.h"

namespace litepool {

// Thread-safe: reported from workers, the I/O threads and the reaper.
class FaultReport {
 public:
  static constexpr Millis kLogEvery{10000};

  FaultReport(std::string db, const TimeSource* clock, PoolEvents* events);

  // Counts and (rate-limited) logs `st` if it is a storage fault; returns
  // whether it was one. `what` says what failed ("statement", "open").
  bool Report(const Status& st, const char* what);

 private:
  struct Kind {
    TimePoint last_logged = TimePoint::min();
    int64_t suppressed = 0;
  };

  const std::string db_;
  const TimeSource* const clock_;
  PoolEvents* const events_;
  Mutex mu_;
  Kind kinds_[kStorageFaultCount] GUARDED_BY(mu_);
};

}  // namespace litepool
