// The reaper's pass: the chain of rules, each ending in a named reason.
#include "pool/reaper.h"

#include <pthread.h>

#include <chrono>
#include <memory>

#include "log/log.h"
#include "pool/pool.h"

namespace litepool {
namespace {

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void LogLease(log::Event&& event, const LeaseInfo& info) {
  event.Str("db", info.db)
      .Str("mode", ModeName(info.mode))
      .LeaseId("lease", info.id)
      .Int("pid", info.holder.pid)
      .Int("uid", info.holder.uid)
      .Str("tag", info.tag)
      .Int("age_ms", info.age_ms)
      .Bool("in_transaction", info.in_transaction)
      .Str("last_sql", info.last_sql);
}

}  // namespace

Reaper::Reaper(PoolSet* pools, LeaseTable* leases, TaskRunner* workers, const TimeSource* clock,
               Millis interval, ReaperEvents* events)
    : pools_(pools),
      leases_(leases),
      workers_(workers),
      clock_(clock),
      events_(events),
      interval_ms_(interval.count()) {}

Reaper::~Reaper() { Stop(); }

void Reaper::Start() {
  // Up before the thread runs, so a scrape right after start-up (the daemon
  // logs "listening" once Start returns) never sees it down.
  {
    MutexLock lock(&stats_mu_);
    stats_.up = true;
  }
  if (events_) events_->ReaperUp(true);
  leases_->SetWakeup(this);
  thread_ = std::thread([this] { Loop(); });
  pthread_setname_np(thread_.native_handle(), "litepool-reaper");
}

void Reaper::Stop() {
  // Before stop_: no Insert calls into a reaper that is going away.
  leases_->SetWakeup(nullptr);
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void Reaper::LeaseDueBy(TimePoint due) {
  MutexLock lock(&mu_);
  if (due >= lease_due_) return;
  lease_due_ = due;
  cv_.Signal();
}

void Reaper::Loop() {
  // `scheduled` is the next periodic pass, on the steady clock the thread
  // sleeps on; lease_due_ is on clock_, the leases' own (the same clock in
  // the daemon; converted through the current offset otherwise).
  auto scheduled = Clock::now() + Millis(interval_ms_.load());
  {
    MutexLock lock(&mu_);
    lease_due_ = TimePoint::min();  // a first lease pass at once: learns the next due
  }
  for (;;) {
    bool periodic = false;
    {
      MutexLock lock(&mu_);
      for (;;) {
        if (stop_) break;
        auto real_now = Clock::now();
        if (real_now >= scheduled) {
          periodic = true;
          break;
        }
        TimePoint lease_now = clock_->Now();
        if (lease_now >= lease_due_) break;
        auto wake = scheduled;
        if (lease_due_ - lease_now < wake - real_now) wake = real_now + (lease_due_ - lease_now);
        cv_.WaitUntil(&mu_, wake);
      }
      if (stop_) break;
      // Lowered again by any Insert from here on; the pass below sees every
      // lease inserted before it takes the table's mutex.
      lease_due_ = TimePoint::max();
    }
    auto started = Clock::now();
    TimePoint now = clock_->Now();
    TimePoint next_due;
    if (periodic) ReapPools(now);
    SweepLeases(now, &next_due);
    {
      MutexLock lock(&mu_);
      if (next_due < lease_due_) lease_due_ = next_due;
    }
    double duration = std::chrono::duration<double>(Clock::now() - started).count();
    if (!periodic) {
      MutexLock lock(&stats_mu_);
      ++stats_.lease_passes;
      continue;
    }
    // Only the periodic passes feed the run metrics, so that their rate
    // stays 1000 / reaper_interval_ms and the stall and lag alerts keep
    // their meaning (docs/operations.md, "Alerts").
    double lag = std::chrono::duration<double>(started - scheduled).count();
    double finished = UnixNow();
    {
      MutexLock lock(&stats_mu_);
      ++stats_.runs;
      stats_.last_lag_seconds = lag;
      stats_.last_duration_seconds = duration;
      stats_.last_run_unix_seconds = finished;
    }
    if (events_) events_->PassDone(finished, duration, lag);
    // A late pass does not try to catch up with the passes it missed.
    scheduled += Millis(interval_ms_.load());
    if (scheduled < Clock::now()) scheduled = Clock::now() + Millis(interval_ms_.load());
  }
  {
    MutexLock lock(&stats_mu_);
    stats_.up = false;
  }
  if (events_) events_->ReaperUp(false);
}

int Reaper::RunOnce(TimePoint now) {
  TimePoint next_due;
  int actions = ReapPools(now) + SweepLeases(now, &next_due);
  MutexLock lock(&stats_mu_);
  ++stats_.runs;
  return actions;
}

int Reaper::ReapPools(TimePoint now) {
  int actions = 0;
  uint64_t closed = 0;
  for (auto& pool : pools_->All()) {
    auto reaped = std::make_shared<ReapedHandles>();
    pool->Reap(now, reaped.get());
    int opens = reaped->to_open[0] + reaped->to_open[1];
    if (reaped->to_close.empty() && opens == 0 && !reaped->restart) continue;
    closed += reaped->to_close.size();
    actions += static_cast<int>(reaped->to_close.size()) + opens;
    workers_->Post([pool, reaped] {
      for (auto& [handle, reason] : reaped->to_close) {
        log::Info("handle_closed")
            .Str("db", pool->name())
            .Str("mode", ModeName(handle->mode()))
            .Str("reason", CloseReasonName(reason));
        pool->CloseReaped(std::move(handle), reason);
      }
      for (size_t m = 0; m < kModeCount; ++m) {
        for (int i = 0; i < reaped->to_open[m]; ++i) pool->OpenIdle(static_cast<Mode>(m));
      }
      if (reaped->restart) pool->Start();  // a database that is down, tried again
    });
  }
  MutexLock lock(&stats_mu_);
  stats_.handles_closed += closed;
  return actions;
}

int Reaper::SweepLeases(TimePoint now, TimePoint* next_due) {
  SweepResult sweep;
  leases_->Sweep(now, &sweep);
  *next_due = sweep.next_due;
  for (const LeaseInfo& info : sweep.leak_warnings) {
    LogLease(log::Warn("lease_leak_warning"), info);
    info.events->LeakWarned();
  }
  for (const LeaseInfo& info : sweep.revoked_info) {
    LogLease(log::Warn("lease_revoked"), info);
    info.events->LeaseTimedOut();
  }
  if (!sweep.revoked.empty()) {
    // Rolled back on a worker: the reaper never runs SQLite.
    auto revoked = std::make_shared<std::vector<PooledHandle>>(std::move(sweep.revoked));
    workers_->Post([revoked] {
      for (PooledHandle& handle : *revoked) std::move(handle).Return();
    });
  }
  MutexLock lock(&stats_mu_);
  stats_.leases_revoked += sweep.revoked_info.size();
  stats_.leak_warnings += sweep.leak_warnings.size();
  return static_cast<int>(sweep.revoked_info.size() + sweep.leak_warnings.size());
}

ReaperStats Reaper::stats() const {
  MutexLock lock(&stats_mu_);
  return stats_;
}

}  // namespace litepool
