// Maintenance: the one thread that enforces lease timeouts, leak warnings,
// max lifetime, idle timeout and min_idle. It wakes at the earliest lease
// deadline or leak-warning time (the lease table's index, and a nudge from
// Insert when a new lease falls due earlier), and every reaper_interval_ms
// for the pools' lifetime, idle and file checks. Each pass reads the clock
// once, decides, and hands every close, open and rollback to the workers,
// so that slow SQLite work can never stall it.
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
  uint64_t runs = 0;                 // periodic passes, one per reaper_interval_ms
  uint64_t lease_passes = 0;         // passes woken by a lease deadline or leak warning
  double last_run_unix_seconds = 0;  // when the last pass finished
  double last_duration_seconds = 0;
  double last_lag_seconds = 0;
  uint64_t leases_revoked = 0;
  uint64_t leak_warnings = 0;
  uint64_t handles_closed = 0;
};

// Start()/Stop() from the owning thread; RunOnce() from the reaper thread or
// a test (never both); stats() from any thread; LeaseDueBy() from any thread
// inserting a lease.
class Reaper final : public LeaseWakeup {
 public:
  Reaper(PoolSet* pools, LeaseTable* leases, TaskRunner* workers, const TimeSource* clock,
         Millis interval, ReaperEvents* events);
  ~Reaper() override;

  void Start();
  void Stop();
  void set_interval(Millis interval) { interval_ms_.store(interval.count()); }

  // One full pass (pools and leases) at time `now`. Returns the number of
  // actions it handed off.
  int RunOnce(TimePoint now);

  // From LeaseTable::Insert, with the table's mutex held: wakes the thread
  // if it sleeps past `due` (the clock_'s time).
  void LeaseDueBy(TimePoint due) override EXCLUDES(mu_);

  ReaperStats stats() const;

 private:
  void Loop();
  int ReapPools(TimePoint now);
  // Sets *next_due to when the lease table next needs a pass.
  int SweepLeases(TimePoint now, TimePoint* next_due);

  PoolSet* const pools_;
  LeaseTable* const leases_;
  TaskRunner* const workers_;
  const TimeSource* const clock_;
  ReaperEvents* const events_;
  std::atomic<int64_t> interval_ms_;

  std::thread thread_;
  Mutex mu_;
  CondVar cv_;  // signalled when stop_ is set or lease_due_ is lowered
  bool stop_ GUARDED_BY(mu_) = false;
  // When the lease table next needs a pass (clock_'s time): set by the
  // thread after each pass, lowered by LeaseDueBy.
  TimePoint lease_due_ GUARDED_BY(mu_) = TimePoint::max();

  mutable Mutex stats_mu_;
  ReaperStats stats_ GUARDED_BY(stats_mu_);
};

}  // namespace litepool
