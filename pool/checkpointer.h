// The daemon's own checkpoints: one thread that copies WAL frames back into
// each database file off the commit path — passive when enough frames are
// pending, then restart when the writer does not restart the WAL itself,
// truncate when the writer is idle or the WAL file has grown past its
// limit — one checkpoint at a time, and names the lease whose snapshot
// keeps a checkpoint from finishing (docs/architecture.md, "Checkpoints").
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "base/mutex.h"
#include "pool/clock.h"
#include "pool/lease_table.h"
#include "pool/pool_set.h"
#include "pool/wal_events.h"
#include "pool/wal_state.h"

struct sqlite3;

namespace litepool {

struct CheckpointerStats {
  uint64_t checkpoints = 0;
  int max_concurrent = 0;  // never above 1: the tests check it
  // The longest restart or truncate: about the longest the writer lock
  // was held.
  double longest_truncate_seconds = 0;
};

// Start()/Stop() from the owning thread; RunOnce() from the checkpointer
// thread or a test (never both); Wake() and stats() from any thread. The
// per-database checkpoint connections belong to whoever runs RunOnce.
class Checkpointer {
 public:
  using EventsFor = std::function<WalEvents*(const std::string& db)>;

  Checkpointer(PoolSet* pools, LeaseTable* leases, const TimeSource* clock, EventsFor events,
               Millis interval);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  void Start();
  // Joins the thread and closes the checkpoint connections (the last close
  // of a database checkpoints and removes its WAL). No commit may run
  // meanwhile or after (the daemon stops its workers first): a commit's
  // wake-up would reach a Checkpointer that is gone.
  void Stop();
  // Asks for a pass now: a write crossed checkpoint_frames.
  void Wake();

  // One pass over every database at `now`; returns checkpoints run.
  int RunOnce(TimePoint now);

  CheckpointerStats stats() const;

 private:
  struct Entry;

  void Loop();
  int Visit(Pool& pool, Entry& entry, TimePoint now);
  CheckpointResult Run(Entry& entry, CheckpointMode mode);
  // After the checkpoints of one visit: when to try again, who to name.
  void Settle(Entry& entry, CheckpointResult result, const config::PoolLimits& limits,
              TimePoint now);
  bool Open(Entry& entry);
  // A checkpoint stopped short of the WAL's end: whether a lease or a
  // backup holds a snapshot, and with `log` names it, once per lease (or
  // once per blocked stretch when no lease does).
  bool NameHolder(Entry& entry, TimePoint now, bool log);

  // Constant after construction.
  PoolSet* const pools_;
  LeaseTable* const leases_;
  const TimeSource* const clock_;
  const EventsFor events_;
  const Millis interval_;

  // The checkpointer thread's (or the test's) alone.
  std::map<WalState*, std::unique_ptr<Entry>> entries_;

  std::thread thread_;
  Mutex mu_;
  CondVar cv_;  // signalled when stop_ or woken_ is set
  bool stop_ GUARDED_BY(mu_) = false;
  bool woken_ GUARDED_BY(mu_) = false;

  std::atomic<int> in_flight_{0};
  mutable Mutex stats_mu_;
  CheckpointerStats stats_ GUARDED_BY(stats_mu_);
};

}  // namespace litepool
