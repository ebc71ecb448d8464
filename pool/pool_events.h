// What a pool reports as it works: the closed sets of modes, close reasons
// and acquire results, and the interface the metrics module implements to
// count them. Each set is an enum indexing fixed arrays, so nothing is looked
// up by string on the hot path.
#pragma once

#include <cstddef>

#include "base/status.h"

namespace litepool {

enum class Mode { kWrite = 0, kRead = 1 };
inline constexpr size_t kModeCount = 2;
const char* ModeName(Mode mode);

enum class CloseReason { kMaxLifetime = 0, kIdleTimeout, kReset, kError, kShutdown, kReload };
inline constexpr size_t kCloseReasonCount = 6;
const char* CloseReasonName(CloseReason reason);

enum class AcquireResult { kOk = 0, kTimeout, kExhausted, kError };
inline constexpr size_t kAcquireResultCount = 4;
const char* AcquireResultName(AcquireResult result);

// Number of protocol codes, for per-code counters indexed by Code.
inline constexpr size_t kCodeCount = static_cast<size_t>(Code::kInternal) + 1;

// Counters of one database and mode, as `stats` shows them (read back from
// the metrics, so the two always agree).
struct PoolCounters {
  double acquires[kAcquireResultCount] = {};
  double opened = 0;
  double closed = 0;
  double lease_timeouts = 0;
  double leak_warnings = 0;
};

// One per database. Called from any thread (workers, the reaper), never with
// a pool lock held; implementations must be thread-safe and cheap.
class PoolEvents {
 public:
  virtual ~PoolEvents() = default;
  virtual void HandleOpened(Mode mode) = 0;
  virtual void HandleClosed(Mode mode, CloseReason reason) = 0;
  virtual void Acquired(Mode mode, AcquireResult result, double wait_seconds) = 0;
  virtual void LeaseEnded(Mode mode, double held_seconds) = 0;
  virtual void QueryDone(Code result, double seconds) = 0;
  virtual void LeaseTimedOut() = 0;
  virtual void LeakWarned() = 0;
  // A storage fault (one of kStorageFaults) met by a statement or an open.
  virtual void StorageFault(Code kind) = 0;
  // Whether the database is open and serving (docs/operations.md,
  // "Storage faults").
  virtual void DatabaseUp(bool up) = 0;
};

// For tests and tools that do not count.
class NullPoolEvents final : public PoolEvents {
 public:
  void HandleOpened(Mode) override {}
  void HandleClosed(Mode, CloseReason) override {}
  void Acquired(Mode, AcquireResult, double) override {}
  void LeaseEnded(Mode, double) override {}
  void QueryDone(Code, double) override {}
  void LeaseTimedOut() override {}
  void LeakWarned() override {}
  void StorageFault(Code) override {}
  void DatabaseUp(bool) override {}
};

}  // namespace litepool
