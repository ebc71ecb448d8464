// Every lease in the daemon, keyed by its opaque id, with the client
// connection that owns it. A lease belongs to one client: no other can use
// it, and when the client goes its leases are taken back at once.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/mutex.h"
#include "base/status.h"
#include "pool/clock.h"
#include "pool/handle.h"
#include "pool/pool_events.h"
#include "pool/pooled_handle.h"
#include "pool/timer_heap.h"

namespace litepool {

using ClientId = uint64_t;
using LeaseId = uint64_t;

// What the table keeps of the process holding a client's leases, for
// `leases`, leak warnings and revocations (the server fills it in from the
// connection's peer credentials).
struct LeaseHolder {
  int pid = 0;
  uint32_t uid = 0;
};

// A lease in use by one request, between Begin() and End(): the lease's
// handle, which stays in the table (and stays valid: a lease in use is
// never erased) while the request runs a statement on it.
struct LeaseUse {
  LeaseId id = 0;
  const PooledHandle* lease = nullptr;
  Millis statement_timeout{0};

  Handle& handle() const { return **lease; }
  Pool& pool() const { return lease->pool(); }
};

// What `leases` shows and what a leak warning or revocation logs.
struct LeaseInfo {
  LeaseId id = 0;
  PoolEvents* events = nullptr;  // its database's
  std::string db;
  Mode mode = Mode::kWrite;
  LeaseHolder holder;
  std::string tag;
  int64_t age_ms = 0;
  bool in_transaction = false;
  std::string last_sql;
  // How long its transaction has pinned a WAL snapshot; -1 when it holds
  // none (docs/operations.md, "WAL, checkpoints and backups").
  int64_t snapshot_age_ms = -1;
};

// What one reaper pass found.
struct SweepResult {
  std::vector<PooledHandle> revoked;     // idle leases past their deadline
  std::vector<LeaseInfo> revoked_info;   // one per revocation (idle or busy)
  std::vector<LeaseInfo> leak_warnings;  // leases that just passed leak_warn_ms
  int interrupted = 0;                   // busy revoked leases interrupted (again) by this pass
  int visited = 0;                       // leases the pass looked at: only those due
  // When the next deadline, re-interrupt or leak warning falls due;
  // TimePoint::max() when none.
  TimePoint next_due = TimePoint::max();
};

// Told when a lease is inserted that falls due before the time the table
// last gave the reaper as its next due time (SweepResult::next_due), so
// that the reaper, asleep until then, wakes for it. Called from the
// inserting thread with LeaseTable's mutex held (docs/architecture.md,
// "Locks"): it must only take a lock of its own and signal.
class LeaseWakeup {
 public:
  virtual ~LeaseWakeup() = default;
  virtual void LeaseDueBy(TimePoint due) = 0;
};

struct LeaseTerms {
  Mode mode = Mode::kWrite;
  TimePoint deadline;
  TimePoint leak_warn_at;  // TimePoint::max() when leak warnings are off
  std::string tag;
  Millis statement_timeout{0};  // 0: none
};

// Thread-safe; one mutex, held only for map operations (never across SQLite
// work, except the non-blocking sqlite3_interrupt). Leases are also indexed
// by deadline and by leak-warning time, so a sweep costs O(due + log n).
class LeaseTable {
 public:
  // How often a busy lease past its deadline is interrupted again until its
  // statement ends: an interrupt sent just before the statement started
  // would have been lost (docs/architecture.md, "A handle's life").
  static constexpr Millis kReinterruptEvery{20};

  explicit LeaseTable(const TimeSource* clock);
  ~LeaseTable();

  // The reaper, told of leases due earlier than it sleeps for; nullptr for
  // none. It must stay valid until replaced.
  void SetWakeup(LeaseWakeup* wakeup);

  void AddClient(ClientId client, const LeaseHolder& holder);
  // Marks the client gone and takes its leases. A lease in use by a running
  // statement is interrupted instead; End() then hands it back.
  std::vector<PooledHandle> RemoveClient(ClientId client);
  int LeaseCount(ClientId client) const;
  // Whether the client's connection is still open (a long admin request,
  // such as a backup, stops when it is not).
  bool HasClient(ClientId client) const;
  size_t size() const;

  // Registers a lease on *handle. Returns false, leaving *handle with the
  // caller, if the client has gone meanwhile.
  bool Insert(ClientId client, PooledHandle* handle, LeaseTerms terms, LeaseId* id);

  // Starts a use of `id` by `client` for `sql` (remembered as last_sql).
  // unknown_lease for another client's or a released lease; lease_expired
  // for a revoked one.
  Status Begin(ClientId client, LeaseId id, std::string_view sql, LeaseUse* use);
  // Ends the use. If the lease was revoked meanwhile, or its client left,
  // *taken receives it (to return to the pool) and the result is
  // lease_expired.
  Status End(const LeaseUse& use, PooledHandle* taken);

  // Takes a lease out for release.
  Status Take(ClientId client, LeaseId id, PooledHandle* out);
  // Takes out every lease not running a statement: at exit, so that they
  // go back to their pools while the pools can still close them.
  std::vector<PooledHandle> TakeAll();

  // One reaper pass: revokes leases past their deadline and reports those
  // that just passed leak_warn_ms. Fast: no SQLite work but interrupts, and
  // it looks only at leases that are due. out->next_due tells when to come
  // back; an Insert due earlier than that calls the LeaseWakeup.
  void Sweep(TimePoint now, SweepResult* out);

  std::vector<LeaseInfo> List() const;

 private:
  struct Entry {
    ClientId owner;
    LeaseTerms terms;
    PooledHandle handle;
    TimePoint acquired_at;
    bool busy = false;
    bool revoked = false;
    bool leak_warned = false;
    bool in_transaction = false;
    std::string last_sql;
    TimePoint snapshot_since = TimePoint::max();  // max: no snapshot held
    // Positions in by_deadline_ and by_leak_warn_ (TimerHeap::kNotIn: not
    // there). A busy revoked lease stays in by_deadline_, keyed by its next
    // re-interrupt.
    size_t deadline_slot = TimerHeap::kNotIn;
    size_t leak_warn_slot = TimerHeap::kNotIn;
  };
  struct Client {
    LeaseHolder info;
    int leases = 0;
    std::deque<LeaseId> revoked;  // recent revocations, so they answer lease_expired
  };

  LeaseInfo InfoLocked(LeaseId id, const Entry& e, TimePoint now) const REQUIRES(mu_);
  void Tombstone(ClientId owner, LeaseId id) REQUIRES(mu_);
  // Why `client` cannot use `id`: lease_expired if it was revoked from this
  // client recently, else unknown_lease.
  Status NotHeldLocked(ClientId client, LeaseId id) const REQUIRES(mu_);
  PooledHandle EraseLocked(std::unordered_map<LeaseId, Entry>::iterator it) REQUIRES(mu_);

  const TimeSource* const clock_;
  const uint64_t id_key_;

  // State below is protected by mu_.
  mutable Mutex mu_;
  std::unordered_map<LeaseId, Entry> leases_ GUARDED_BY(mu_);
  std::unordered_map<ClientId, Client> clients_ GUARDED_BY(mu_);
  uint64_t next_ GUARDED_BY(mu_) = 1;
  TimerHeap by_deadline_ GUARDED_BY(mu_);
  TimerHeap by_leak_warn_ GUARDED_BY(mu_);
  // The next_due the last Sweep reported: an Insert due earlier wakes the
  // reaper and lowers it, one that is not costs a comparison.
  TimePoint reaper_due_ GUARDED_BY(mu_) = TimePoint::max();
  LeaseWakeup* wakeup_ GUARDED_BY(mu_) = nullptr;
};

}  // namespace litepool
