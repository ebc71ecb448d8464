// Herding handles between the idle lists, the leased count and the waiters.
#include "pool/pool.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>

#include "log/log.h"

namespace litepool {
namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

Pool::Pool(const config::Database& db, const TimeSource* clock, PoolEvents* events,
           TaskRunner* workers)
    : name_(db.name),
      path_(db.path),
      read_only_(db.read_only),
      create_if_missing_(db.create_if_missing),
      clock_(clock),
      events_(events),
      workers_(workers),
      factory_(db, clock),
      faults_(db.name, clock, events),
      limits_(db.limits),
      allowed_uids_(db.allowed_uids) {
  sides_[0].mode = Mode::kWrite;
  sides_[0].max = db.read_only ? 0 : db.limits.max_writers;
  sides_[1].mode = Mode::kRead;
  sides_[1].max = db.limits.max_readers;
  lease_limits_.Store(db.limits);
}

Pool::~Pool() = default;

void Pool::AtomicLeaseLimits::Store(const config::PoolLimits& limits) {
  constexpr auto kRelaxed = std::memory_order_relaxed;  // each value stands alone
  acquire_timeout_ms.store(limits.acquire_timeout_ms, kRelaxed);
  lease_timeout_ms.store(limits.lease_timeout_ms, kRelaxed);
  leak_warn_ms.store(limits.leak_warn_ms, kRelaxed);
  statement_timeout_ms.store(limits.statement_timeout_ms, kRelaxed);
  max_leases_per_client.store(limits.max_leases_per_client, kRelaxed);
  max_readers.store(limits.max_readers, kRelaxed);
}

LeaseLimits Pool::lease_limits() const {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  LeaseLimits out;
  out.acquire_timeout = Millis(lease_limits_.acquire_timeout_ms.load(kRelaxed));
  out.lease_timeout = Millis(lease_limits_.lease_timeout_ms.load(kRelaxed));
  out.leak_warn = Millis(lease_limits_.leak_warn_ms.load(kRelaxed));
  out.statement_timeout = Millis(lease_limits_.statement_timeout_ms.load(kRelaxed));
  out.max_leases_per_client = lease_limits_.max_leases_per_client.load(kRelaxed);
  out.has_readers = lease_limits_.max_readers.load(kRelaxed) > 0;
  return out;
}

Status Pool::Start() {
  Status st = OpenFile();
  std::vector<std::unique_ptr<Handle>> idle;
  bool changed;
  {
    MutexLock lock(&mu_);
    restarting_ = false;
    changed = st.ok() ? MarkUpLocked() : MarkDownLocked(st, clock_->Now(), &idle);
  }
  for (auto& h : idle) Close(std::move(h), CloseReason::kError);
  events()->DatabaseUp(st.ok());
  if (!st.ok()) {
    ReportFault(st, "open");
    if (changed) LogDown(st);
    return st;
  }
  if (changed) log::Info("database_up").Str("db", name_).Str("path", path_);
  ReapedHandles plan;
  Reap(clock_->Now(), &plan);
  for (size_t m = 0; m < kModeCount; ++m) {
    for (int i = 0; i < plan.to_open[m]; ++i) OpenIdle(static_cast<Mode>(m));
  }
  ServeWaiters();  // those that queued while it was down
  return st;
}

bool Pool::TookDownIfMoved(const std::shared_ptr<DatabaseFile>& file, TimePoint now,
                           std::vector<std::unique_ptr<Handle>>* idle) {
  Status moved = file != nullptr ? file->Check() : Status();  // a stat, outside the lock
  if (moved.ok()) return false;
  bool changed = false;
  {
    MutexLock lock(&mu_);
    if (up_) changed = MarkDownLocked(moved, now, idle);
  }
  if (changed) {
    events()->DatabaseUp(false);
    ReportFault(moved, "check");
    LogDown(moved);
  }
  return true;
}

void Pool::TakeIdleLocked(std::vector<std::unique_ptr<Handle>>* out) {
  for (Side& s : sides_) {
    for (auto& h : s.idle) {
      ++s.leased;  // counted as leased until Close() uncounts it
      out->push_back(std::move(h));
    }
    s.idle.clear();
  }
}

std::shared_ptr<DatabaseFile> Pool::CurrentFile() const {
  MutexLock lock(&mu_);
  return files_.empty() ? nullptr : files_.back();
}

void Pool::Recycle() {
  std::vector<std::unique_ptr<Handle>> idle;
  std::shared_ptr<DatabaseFile> file;
  uint64_t generation;
  {
    MutexLock lock(&mu_);
    if (!up_ || shut_down_) return;
    generation = ++generation_;
    if (!files_.empty()) file = files_.back();
    TakeIdleLocked(&idle);
  }
  factory_.SetFile(file, generation);
  for (auto& h : idle) Close(std::move(h), CloseReason::kError);
}

void Pool::AdoptFiles(const Pool& other) {
  std::vector<std::shared_ptr<DatabaseFile>> files;
  {
    MutexLock lock(&other.mu_);
    files = other.files_;
  }
  MutexLock lock(&mu_);
  files_.insert(files_.begin(), files.begin(), files.end());
}

Status Pool::OpenFile() {
  std::shared_ptr<DatabaseFile> file = CurrentFile();
  if (read_only_) {
    if (::access(path_.c_str(), F_OK) != 0 && errno == ENOENT) {
      return Status(Code::kDatabaseUnavailable,
                    path_ + " does not exist (a read_only database is never created)");
    }
  } else if (file == nullptr || !file->Check().ok()) {
    bool created = false;
    Status st = DatabaseFile::Claim(path_, create_if_missing_, &file, &created);
    if (!st.ok()) return st;
    if (created) log::Warn("database_created").Str("db", name_).Str("path", path_);
    MutexLock lock(&mu_);
    files_.push_back(file);
  }
  uint64_t generation;
  {
    MutexLock lock(&mu_);
    generation = generation_;
  }
  factory_.SetFile(file, generation);
  return factory_.Prepare();
}

bool Pool::MarkDownLocked(const Status& cause, TimePoint now,
                          std::vector<std::unique_ptr<Handle>>* idle) {
  bool changed = up_ || !ever_down_ || cause.message() != down_cause_.message();
  retry_delay_ =
      up_ || retry_delay_.count() == 0 ? Millis(1000) : std::min(retry_delay_ * 2, Millis(60000));
  next_retry_ = now + retry_delay_;
  up_ = false;
  ever_down_ = true;
  down_cause_ = cause;
  ++generation_;  // handles out on lease are closed when they come back
  TakeIdleLocked(idle);
  return changed;
}

bool Pool::MarkUpLocked() {
  bool changed = !up_ && ever_down_;
  up_ = true;
  retry_delay_ = Millis(0);
  return changed;
}

void Pool::LogDown(const Status& cause) {
  Millis retry;
  {
    MutexLock lock(&mu_);
    retry = retry_delay_;
  }
  log::Error("database_down")
      .Str("db", name_)
      .Str("path", path_)
      .Code("kind", cause.code())
      .Str("error", cause.message())
      .Int("retry_in_ms", retry.count());
}

Status Pool::OpenCounted(Mode mode, std::unique_ptr<Handle>* out) {
  Status st = factory_.Open(mode, out);
  int64_t cache = 0;
  if (!st.ok()) {
    ReportFault(st, "open");
    if (mode == Mode::kWrite && st.sqlite_code() == SQLITE_READONLY) Recycle();
  } else {
    cache = (*out)->CacheBytes();
  }
  MutexLock lock(&mu_);
  Side& s = side(mode);
  --s.opening;
  if (!st.ok()) return st;
  ++s.leased;
  RecordCacheBytesLocked(out->get(), cache);
  return st;
}

Pool::Acquired Pool::Acquire(Mode mode, uint32_t uid, const std::function<Grant()>& make_grant,
                             bool may_open) {
  TimePoint start = clock_->Now();
  Acquired result;
  // A refusal, counted once the lock is released (pool/pool_events.h).
  std::optional<AcquireResult> refused;
  {
    MutexLock lock(&mu_);
    Side& s = side(mode);
    if (shut_down_) {
      result.status = Status(Code::kShuttingDown, "the daemon is shutting down");
      return result;
    }
    if (!AllowsUidLocked(uid)) {
      result.status =
          Status(Code::kForbidden, "uid " + std::to_string(uid) + " may not use database " + name_);
      return result;  // not an acquire: counted nowhere, logged by the caller
    }
    if (!up_) {
      result.status = Status(
          Code::kDatabaseUnavailable,
          "database " + name_ + " is down: " + down_cause_.message() + " (the daemon retries it)",
          down_cause_.sqlite_code());
      refused = AcquireResult::kError;
    } else if (read_only_ && mode == Mode::kWrite) {
      result.status = Status(Code::kReadOnly, "database " + name_ + " is read_only");
      refused = AcquireResult::kError;
    } else if (s.max == 0) {
      result.status = Status(Code::kPoolExhausted, std::string("database ") + name_ + " has no " +
                                                       ModeName(mode) + " handles");
      refused = AcquireResult::kExhausted;
    } else if (!s.idle.empty()) {
      result.kind = Acquired::kGranted;
      result.handle = std::move(s.idle.back());
      s.idle.pop_back();
      ++s.leased;
    } else if (s.total() < s.max) {
      if (!may_open) {
        result.kind = Acquired::kMustOpen;
        return result;
      }
      ++s.opening;
    } else if (static_cast<int>(s.waiters.size()) >= limits_.max_waiters) {
      result.status =
          Status(Code::kPoolExhausted, std::string("every ") + ModeName(mode) + " handle of " +
                                           name_ + " is leased and max_waiters (" +
                                           std::to_string(limits_.max_waiters) + ") are queued");
      refused = AcquireResult::kExhausted;
    } else {
      result.kind = Acquired::kQueued;
      result.waiter = next_waiter_++;
      s.waiters.push_back(Waiter{result.waiter, make_grant(), start});
      return result;
    }
  }
  if (refused) {
    events()->Acquired(mode, *refused, 0);
    return result;
  }
  if (result.kind != Acquired::kGranted) {
    Status st = OpenCounted(mode, &result.handle);
    if (!st.ok()) {
      result.status = st;
      events()->Acquired(mode, AcquireResult::kError, 0);
      Refill(mode);  // the slot freed may serve someone queued meanwhile
      return result;
    }
    events()->HandleOpened(mode);
    result.kind = Acquired::kGranted;
  }
  TimePoint now = clock_->Now();
  result.handle->set_leased_at(now);
  events()->Acquired(mode, AcquireResult::kOk, Seconds(now - start));
  return result;
}

bool Pool::CancelWaiter(Mode mode, uint64_t waiter, AcquireResult why) {
  TimePoint since;
  {
    MutexLock lock(&mu_);
    auto& q = side(mode).waiters;
    auto it =
        std::find_if(q.begin(), q.end(), [waiter](const Waiter& w) { return w.id == waiter; });
    if (it == q.end()) return false;
    since = it->since;
    q.erase(it);
  }
  events()->Acquired(mode, why, Seconds(clock_->Now() - since));
  return true;
}

void Pool::AccountReturn(Handle* handle, TimePoint now) {
  events()->LeaseEnded(handle->mode(), Seconds(now - handle->leased_at()));
  int64_t cache = handle->CacheBytes();
  MutexLock lock(&mu_);
  RecordCacheBytesLocked(handle, cache);
}

bool Pool::ReturnQuickly(std::unique_ptr<Handle>* handle) {
  Handle* h = handle->get();
  TimePoint now = clock_->Now();
  if (h->broken() || !h->Clean() || now >= h->expires_at()) return false;
  h->Rollback();  // none is open: this only clears the last lease's interruption
  // Measured before the lock (no lock while SQLite runs); everything else
  // in one acquisition of it.
  const Mode mode = h->mode();
  const int64_t cache = h->CacheBytes();
  const double held = Seconds(now - h->leased_at());
  Waiter w;
  std::unique_ptr<Handle> for_waiter;
  {
    MutexLock lock(&mu_);
    const Side& s = side(mode);
    if (shut_down_ || s.total() > s.max || !CurrentLocked(*h)) return false;
    RecordCacheBytesLocked(h, cache);
    h->set_last_used(now);
    for_waiter = OfferLocked(std::move(*handle), &w);
  }
  events()->LeaseEnded(mode, held);
  if (for_waiter) GrantTo(std::move(w), std::move(for_waiter));
  return true;
}

void Pool::Release(std::unique_ptr<Handle> handle) {
  if (ReturnQuickly(&handle)) return;
  std::shared_ptr<Pool> self = weak_from_this().lock();
  bool shut_down;
  {
    MutexLock lock(&mu_);
    shut_down = shut_down_;
  }
  // After Shutdown() the workers may be gone: closing here is the last use.
  if (workers_ == nullptr || self == nullptr || shut_down) {
    Return(std::move(handle));
    return;
  }
  auto task = std::make_shared<std::unique_ptr<Handle>>(std::move(handle));
  workers_->Post([self = std::move(self), task] { self->Return(std::move(*task)); });
}

bool Pool::Return(std::unique_ptr<Handle> handle) {
  if (ReturnQuickly(&handle)) return false;
  TimePoint now = clock_->Now();
  Mode mode = handle->mode();
  bool rolled_back = handle->Rollback();
  AccountReturn(handle.get(), now);
  bool shut_down;
  bool over_max;
  bool current;
  CloseReason shutdown_reason;
  {
    MutexLock lock(&mu_);
    shut_down = shut_down_;
    shutdown_reason = shutdown_reason_;
    over_max = side(mode).total() > side(mode).max;
    current = CurrentLocked(*handle);
  }
  if (!current && !shut_down) {
    Close(std::move(handle), CloseReason::kError);  // the database went down under it
  } else if (handle->broken()) {
    // Never reused: a fresh handle sees the file as it is now.
    bool recover = handle->needs_recovery();
    bool writer_fault = mode == Mode::kWrite;
    Close(std::move(handle), CloseReason::kError);
    std::vector<std::unique_ptr<Handle>> idle;
    if (TookDownIfMoved(CurrentFile(), now, &idle)) {
      for (auto& h : idle) Close(std::move(h), CloseReason::kError);  // reopened by Start()
    } else if (writer_fault) {
      Recycle();
    }
    if (recover) {
      Status st = factory_.Recover();
      log::Warn("database_recovered").Str("db", name_).Str("result", st.ok() ? "ok" : st.message());
    }
  } else if (!handle->Clean()) {
    Close(std::move(handle), CloseReason::kReset);
  } else if (now >= handle->expires_at()) {
    Close(std::move(handle), CloseReason::kMaxLifetime);
  } else if (shut_down) {
    Close(std::move(handle), shutdown_reason);
  } else if (over_max) {
    Close(std::move(handle), CloseReason::kReload);  // the maximum was lowered
  } else {
    handle->set_last_used(now);
    Offer(std::move(handle));
    return rolled_back;
  }
  Refill(mode);
  return rolled_back;
}

void Pool::Offer(std::unique_ptr<Handle> handle) {
  Waiter w;
  {
    MutexLock lock(&mu_);
    handle = OfferLocked(std::move(handle), &w);
  }
  if (handle) GrantTo(std::move(w), std::move(handle));
}

std::unique_ptr<Handle> Pool::OfferLocked(std::unique_ptr<Handle> handle, Waiter* w) {
  Side& s = side(handle->mode());
  if (s.waiters.empty() || shut_down_) {
    --s.leased;
    s.idle.push_back(std::move(handle));
    return nullptr;
  }
  *w = std::move(s.waiters.front());
  s.waiters.pop_front();
  return handle;
}

void Pool::GrantTo(Waiter w, std::unique_ptr<Handle> handle) {
  const Mode mode = handle->mode();
  while (handle) {
    TimePoint now = clock_->Now();
    handle->set_leased_at(now);
    events()->Acquired(mode, AcquireResult::kOk, Seconds(now - w.since));
    handle = w.grant(std::move(handle));
    if (!handle) return;
    MutexLock lock(&mu_);  // its client has gone: the next waiter's, or idle
    handle = OfferLocked(std::move(handle), &w);
  }
}

void Pool::Close(std::unique_ptr<Handle> handle, CloseReason reason) {
  Mode mode = handle->mode();
  int64_t cache = handle->recorded_cache_bytes();
  handle.reset();  // sqlite3_close_v2: may checkpoint the WAL
  {
    MutexLock lock(&mu_);
    --side(mode).leased;
    cache_bytes_ -= cache;
  }
  events()->HandleClosed(mode, reason);
}

void Pool::Refill(Mode mode) {
  {
    MutexLock lock(&mu_);
    Side& s = side(mode);
    if (shut_down_ || s.waiters.empty() || s.total() >= s.max) return;
    ++s.opening;
  }
  std::unique_ptr<Handle> handle;
  if (!OpenCounted(mode, &handle).ok()) return;  // waiters keep waiting: their timers run
  events()->HandleOpened(mode);
  Offer(std::move(handle));
}

void Pool::Reap(TimePoint now, ReapedHandles* out) {
  std::shared_ptr<DatabaseFile> file;
  {
    MutexLock lock(&mu_);
    if (shut_down_) return;
    if (!up_) {
      if (!restarting_ && now >= next_retry_) {
        restarting_ = true;
        out->restart = true;
      }
      return;
    }
    if (!files_.empty()) file = files_.back();
  }
  // A file removed or replaced under the daemon, noticed even if nobody
  // writes.
  std::vector<std::unique_ptr<Handle>> idle;
  if (TookDownIfMoved(file, now, &idle)) {
    for (auto& h : idle) out->to_close.emplace_back(std::move(h), CloseReason::kError);
    return;
  }
  MutexLock lock(&mu_);
  int open = 0;
  for (const Side& s : sides_) open += s.total();
  // Readers first, so that min_idle keeps a writer (the default mode) open.
  for (Side* side_ptr : {&sides_[1], &sides_[0]}) {
    Side& s = *side_ptr;
    // Oldest-used first: the front of the idle list is least recently used.
    auto& idle = s.idle;
    for (auto it = idle.begin(); it != idle.end();) {
      CloseReason reason;
      if (now >= (*it)->expires_at()) {
        reason = CloseReason::kMaxLifetime;
      } else if (now - (*it)->last_used() >= Millis(limits_.idle_timeout_ms) &&
                 open > limits_.min_idle) {
        reason = CloseReason::kIdleTimeout;
      } else {
        ++it;
        continue;
      }
      --open;
      ++s.leased;  // counted as leased until Close() runs on a worker
      out->to_close.emplace_back(std::move(*it), reason);
      it = idle.erase(it);
    }
  }
  // Refill to min_idle, the write side first (it is the default mode).
  int missing = limits_.min_idle - open;
  for (Side& s : sides_) {
    int room = s.max - s.total();
    int n = std::max(0, std::min(missing, room));
    out->to_open[static_cast<size_t>(s.mode)] = n;
    s.opening += n;
    missing -= n;
  }
}

void Pool::CloseReaped(std::unique_ptr<Handle> handle, CloseReason reason) {
  Mode mode = handle->mode();
  Close(std::move(handle), reason);
  Refill(mode);
}

void Pool::OpenIdle(Mode mode) {
  std::unique_ptr<Handle> handle;
  if (!OpenCounted(mode, &handle).ok()) return;
  events()->HandleOpened(mode);
  Offer(std::move(handle));
}

void Pool::Shutdown(CloseReason reason) {
  std::vector<std::unique_ptr<Handle>> idle;
  std::vector<Waiter> waiters;
  {
    MutexLock lock(&mu_);
    shut_down_ = true;
    shutdown_reason_ = reason;
    TakeIdleLocked(&idle);
    for (Side& s : sides_) {
      for (auto& w : s.waiters) waiters.push_back(std::move(w));
      s.waiters.clear();
    }
  }
  for (auto& w : waiters) w.grant(nullptr);
  for (auto& h : idle) Close(std::move(h), reason);
}

PoolSnapshot Pool::Snapshot() const {
  PoolSnapshot snap;
  snap.db = name_;
  MutexLock lock(&mu_);
  for (size_t m = 0; m < kModeCount; ++m) {
    const Side& s = sides_[m];
    SideSnapshot& out = snap.sides[m];
    out.idle = static_cast<int>(s.idle.size());
    out.leased = s.leased;
    out.open = out.idle + out.leased;
    out.max = s.max;
    out.waiters = static_cast<int>(s.waiters.size());
  }
  snap.cache_bytes = cache_bytes_;
  snap.up = up_;
  if (!up_) snap.down_cause = down_cause_.message();
  return snap;
}

config::PoolLimits Pool::limits() const {
  MutexLock lock(&mu_);
  return limits_;
}

std::vector<std::unique_ptr<Handle>> Pool::Reconfigure(const config::Database& db) {
  std::vector<std::unique_ptr<Handle>> excess;
  MutexLock lock(&mu_);
  limits_ = db.limits;
  lease_limits_.Store(db.limits);
  allowed_uids_ = db.allowed_uids;
  sides_[0].max = read_only_ ? 0 : db.limits.max_writers;
  sides_[1].max = db.limits.max_readers;
  for (Side& s : sides_) {
    // Least recently used first: the front of the idle list.
    while (!s.idle.empty() && s.total() > s.max) {
      ++s.leased;  // counted as leased until CloseReaped() runs
      excess.push_back(std::move(s.idle.front()));
      s.idle.erase(s.idle.begin());
    }
  }
  return excess;
}

void Pool::ServeWaiters() {
  for (size_t m = 0; m < kModeCount; ++m) {
    // One Refill serves one waiter; stop when it no longer opens anything.
    for (;;) {
      int before;
      {
        MutexLock lock(&mu_);
        const Side& s = sides_[m];
        if (shut_down_ || s.waiters.empty() || s.total() >= s.max) break;
        before = static_cast<int>(s.waiters.size());
      }
      Refill(static_cast<Mode>(m));
      MutexLock lock(&mu_);
      if (static_cast<int>(sides_[m].waiters.size()) >= before) break;
    }
  }
}

bool Pool::AllowsUidLocked(uint32_t uid) const {
  if (uid == 0 || !allowed_uids_) return true;
  return std::find(allowed_uids_->begin(), allowed_uids_->end(), uid) != allowed_uids_->end();
}

void Pool::RecordCacheBytesLocked(Handle* handle, int64_t cache) {
  cache_bytes_ += cache - handle->recorded_cache_bytes();
  handle->set_recorded_cache_bytes(cache);
}

}  // namespace litepool
