// Periodic maintenance: the one thread that enforces lease timeouts, leak
// warnings, max lifetime, idle timeout and min_idle. It reads the clock once
// per pass, decides, and hands every close, open and rollback to the
// workers, so that slow SQLite work can never stall it.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "base/mutex.h"
#include "pool/clock.h"
#include "pool/lease_table.h"
#include "pool/pool_set.h"
#include "pool/task_runner.h"

namespace litepool {

// The reaper's own health, for /metrics. Called from the reaper thread.
class ReaperEvents {
 public:
  virtual ~ReaperEvents() = default;
  virtual void ReaperUp(bool up) = 0;
  virtual void PassDone(double finished_unix_seconds, double duration_seconds,
                        double lag_seconds) = 0;
};

struct ReaperStats {
  bool up = false;
  uint64_t runs = 0;
  double last_run_unix_seconds = 0;  // when the last pass finished
  double last_duration_seconds = 0;
  double last_lag_seconds = 0;
  uint64_t leases_revoked = 0;
  uint64_t leak_warnings = 0;
  uint64_t handles_closed = 0;
};

// Start()/Stop() from the owning thread; RunOnce() from the reaper thread or
// a test (never both); stats() from any thread.
class Reaper {
 public:
  Reaper(PoolSet* pools, LeaseTable* leases, TaskRunner* workers, const TimeSource* clock,
         Millis interval, ReaperEvents* events);
  ~Reaper();

  void Start();
  void Stop();
  void set_interval(Millis interval) { interval_ms_.store(interval.count()); }

  // One pass at time `now`. Returns the number of actions it handed off.
  int RunOnce(TimePoint now);

  ReaperStats stats() const;

 private:
  void Loop();
  int ReapPools(TimePoint now);
  int SweepLeases(TimePoint now);

  PoolSet* const pools_;
  LeaseTable* const leases_;
  TaskRunner* const workers_;
  const TimeSource* const clock_;
  ReaperEvents* const events_;
  std::atomic<int64_t> interval_ms_;

  std::thread thread_;
  Mutex mu_;
  CondVar cv_;  // signalled when stop_ is set
  bool stop_ GUARDED_BY(mu_) = false;

  mutable Mutex stats_mu_;
  ReaperStats stats_ GUARDED_BY(stats_mu_);
};

}  // namespace litepool
