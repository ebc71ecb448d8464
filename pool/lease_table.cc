// Lease bookkeeping: ownership, use, revocation.
#include "pool/lease_table.h"

#include <algorithm>
#include <random>

#include "pool/pool.h"

namespace litepool {
namespace {

constexpr size_t kMaxTombstones = 64;
constexpr size_t kMaxLastSql = 256;

// A bijection on 64-bit integers (the splitmix64 finalizer), so mixed ids
// stay unique while not showing how many leases came before.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Cuts SQL to kMaxLastSql bytes without splitting a UTF-8 sequence.
std::string CutSql(std::string_view sql) {
  if (sql.size() <= kMaxLastSql) return std::string(sql);
  size_t n = kMaxLastSql;
  while (n > 0 && (static_cast<unsigned char>(sql[n]) & 0xC0) == 0x80) --n;
  return std::string(sql.substr(0, n));
}

int64_t AgeMs(TimePoint now, TimePoint since) {
  return std::chrono::duration_cast<Millis>(now - since).count();
}

}  // namespace

LeaseTable::LeaseTable(const TimeSource* clock)
    : clock_(clock), id_key_(std::random_device{}() * 0x100000001ULL ^ std::random_device{}()) {}

LeaseTable::~LeaseTable() = default;

void LeaseTable::AddClient(ClientId client, const LeaseHolder& holder) {
  MutexLock lock(&mu_);
  clients_[client].info = holder;
}

void LeaseTable::SetWakeup(LeaseWakeup* wakeup) {
  MutexLock lock(&mu_);
  wakeup_ = wakeup;
}

PooledHandle LeaseTable::EraseLocked(std::unordered_map<LeaseId, Entry>::iterator it) {
  // Out of the indexes at once, so that they never hold more than the
  // live leases (a lazily deleted heap would grow with every release).
  by_deadline_.Erase(&it->second.deadline_slot);
  by_leak_warn_.Erase(&it->second.leak_warn_slot);
  PooledHandle taken = std::move(it->second.handle);
  auto c = clients_.find(it->second.owner);
  if (c != clients_.end()) --c->second.leases;
  leases_.erase(it);
  return taken;
}

std::vector<PooledHandle> LeaseTable::RemoveClient(ClientId client) {
  std::vector<PooledHandle> taken;
  MutexLock lock(&mu_);
  if (clients_.erase(client) == 0) return taken;
  for (auto it = leases_.begin(); it != leases_.end();) {
    Entry& e = it->second;
    if (e.owner != client) {
      ++it;
    } else if (e.busy) {
      e.revoked = true;  // End() hands it back
      e.handle->Interrupt(InterruptReason::kLeaseRevoked);
      ++it;
    } else {
      auto next = std::next(it);
      taken.push_back(EraseLocked(it));
      it = next;
    }
  }
  return taken;
}

int LeaseTable::LeaseCount(ClientId client) const {
  MutexLock lock(&mu_);
  auto it = clients_.find(client);
  return it == clients_.end() ? 0 : it->second.leases;
}

bool LeaseTable::HasClient(ClientId client) const {
  MutexLock lock(&mu_);
  return clients_.count(client) > 0;
}

size_t LeaseTable::size() const {
  MutexLock lock(&mu_);
  return leases_.size();
}

bool LeaseTable::Insert(ClientId client, PooledHandle* handle, LeaseTerms terms, LeaseId* id) {
  MutexLock lock(&mu_);
  auto c = clients_.find(client);
  if (c == clients_.end()) return false;
  LeaseId lease;
  do {
    lease = Mix(next_++ ^ id_key_);
  } while (lease == 0 || leases_.count(lease));
  Entry& e = leases_[lease];
  e.owner = client;
  e.terms = std::move(terms);
  e.handle = std::move(*handle);
  e.acquired_at = e.handle->leased_at();
  by_deadline_.Push(e.terms.deadline, lease, &e.deadline_slot);
  if (e.terms.leak_warn_at != TimePoint::max()) {
    by_leak_warn_.Push(e.terms.leak_warn_at, lease, &e.leak_warn_slot);
  }
  ++c->second.leases;
  *id = lease;
  // Leases granted with one lease_ms fall due in the order they are
  // inserted, so this is rarely true: the reaper already sleeps until an
  // earlier time.
  TimePoint due = std::min(e.terms.deadline, e.terms.leak_warn_at);
  if (due < reaper_due_) {
    reaper_due_ = due;
    if (wakeup_ != nullptr) wakeup_->LeaseDueBy(due);
  }
  return true;
}

Status LeaseTable::Begin(ClientId client, LeaseId id, std::string_view sql, LeaseUse* use) {
  MutexLock lock(&mu_);
  auto it = leases_.find(id);
  if (it == leases_.end() || it->second.owner != client) return NotHeldLocked(client, id);
  Entry& e = it->second;
  if (e.busy) return Status(Code::kBadRequest, "the lease is already running a statement");
  e.busy = true;
  e.last_sql = CutSql(sql);
  use->id = id;
  use->lease = &e.handle;
  use->statement_timeout = e.terms.statement_timeout;
  return Status();
}

Status LeaseTable::NotHeldLocked(ClientId client, LeaseId id) const {
  auto c = clients_.find(client);
  if (c != clients_.end()) {
    for (LeaseId r : c->second.revoked) {
      if (r == id) return Status(Code::kLeaseExpired, "the lease was revoked: lease timeout");
    }
  }
  // Also for another client's lease: its existence is not revealed.
  return Status(Code::kUnknownLease, "no such lease on this connection");
}

void LeaseTable::Tombstone(ClientId owner, LeaseId id) {
  auto c = clients_.find(owner);
  if (c == clients_.end()) return;
  c->second.revoked.push_back(id);
  if (c->second.revoked.size() > kMaxTombstones) c->second.revoked.pop_front();
}

Status LeaseTable::End(const LeaseUse& use, PooledHandle* taken) {
  // SQLite calls, so before the lock (docs/architecture.md, "Locks"): this
  // thread owns the handle until the use ends, and a busy lease is never
  // erased, so the handle is alive.
  bool in_transaction = use.handle().InTransaction();
  bool holds_snapshot = use.handle().HoldsSnapshot();
  MutexLock lock(&mu_);
  auto it = leases_.find(use.id);
  if (it == leases_.end()) return Status(Code::kInternal, "lease vanished while in use");
  Entry& e = it->second;
  e.busy = false;
  e.in_transaction = in_transaction;
  // The clock is read only when a snapshot starts, not on every statement.
  if (!holds_snapshot) {
    e.snapshot_since = TimePoint::max();
  } else if (e.snapshot_since == TimePoint::max()) {
    e.snapshot_since = clock_->Now();
  }
  if (!e.revoked && clients_.count(e.owner)) return Status();
  Tombstone(e.owner, use.id);
  *taken = EraseLocked(it);
  return Status(Code::kLeaseExpired, "the lease was revoked: lease timeout");
}

Status LeaseTable::Take(ClientId client, LeaseId id, PooledHandle* out) {
  MutexLock lock(&mu_);
  auto it = leases_.find(id);
  if (it == leases_.end() || it->second.owner != client) return NotHeldLocked(client, id);
  if (it->second.busy) return Status(Code::kBadRequest, "the lease is running a statement");
  *out = EraseLocked(it);
  return Status();
}

std::vector<PooledHandle> LeaseTable::TakeAll() {
  std::vector<PooledHandle> taken;
  MutexLock lock(&mu_);
  for (auto it = leases_.begin(); it != leases_.end();) {
    auto next = std::next(it);
    if (!it->second.busy) taken.push_back(EraseLocked(it));
    it = next;
  }
  return taken;
}

LeaseInfo LeaseTable::InfoLocked(LeaseId id, const Entry& e, TimePoint now) const {
  LeaseInfo info;
  info.id = id;
  info.events = e.handle.pool().events();
  info.db = e.handle.pool().name();
  info.mode = e.terms.mode;
  auto c = clients_.find(e.owner);
  if (c != clients_.end()) info.holder = c->second.info;
  info.tag = e.terms.tag;
  info.age_ms = AgeMs(now, e.acquired_at);
  info.in_transaction = e.in_transaction;
  info.last_sql = e.last_sql;
  if (e.snapshot_since != TimePoint::max()) info.snapshot_age_ms = AgeMs(now, e.snapshot_since);
  return info;
}

void LeaseTable::Sweep(TimePoint now, SweepResult* out) {
  MutexLock lock(&mu_);
  // Leak warnings first: a lease that passes both times in one pass is
  // reported as a leak before it is revoked.
  while (by_leak_warn_.top_time() <= now) {
    auto it = leases_.find(by_leak_warn_.top_id());
    by_leak_warn_.Pop();  // a warning is given once
    ++out->visited;
    Entry& e = it->second;
    e.leak_warned = true;
    out->leak_warnings.push_back(InfoLocked(it->first, e, now));
  }
  while (by_deadline_.top_time() <= now) {
    auto it = leases_.find(by_deadline_.top_id());
    ++out->visited;
    Entry& e = it->second;
    if (e.busy) {
      // Interrupted now and again every kReinterruptEvery until End():
      // one sent just before the statement started would have been lost.
      if (!e.revoked) out->revoked_info.push_back(InfoLocked(it->first, e, now));
      e.revoked = true;
      e.handle->Interrupt(InterruptReason::kLeaseRevoked);
      ++out->interrupted;
      by_deadline_.Pop();
      by_deadline_.Push(now + kReinterruptEvery, it->first, &e.deadline_slot);
      continue;
    }
    out->revoked_info.push_back(InfoLocked(it->first, e, now));
    Tombstone(e.owner, it->first);
    out->revoked.push_back(EraseLocked(it));
  }
  out->next_due = std::min(by_deadline_.top_time(), by_leak_warn_.top_time());
  reaper_due_ = out->next_due;
}

std::vector<LeaseInfo> LeaseTable::List() const {
  TimePoint now = clock_->Now();
  std::vector<LeaseInfo> out;
  MutexLock lock(&mu_);
  out.reserve(leases_.size());
  for (const auto& [id, e] : leases_) out.push_back(InfoLocked(id, e, now));
  return out;
}

}  // namespace litepool
