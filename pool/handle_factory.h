// Opens the handles of one database: flags, configured PRAGMAs, busy timeout
// and the sandbox settings, so every handle starts in the same known state.
#pragma once

#include <atomic>
#include <memory>

#include "config/config.h"
#include "pool/clock.h"
#include "pool/handle.h"
#include "pool/wal_state.h"

namespace litepool {

// Thread-safe: Open() may run on several workers at once. The database
// configuration is copied at construction.
class HandleFactory {
 public:
  HandleFactory(const config::Database& db, const TimeSource* clock);

  // Opens a handle of `mode` (read handles are opened read-only). Slow: it
  // touches the disk; never call it with a lock held.
  Status Open(Mode mode, std::unique_ptr<Handle>* out);

  // Creates the database file if needed and sets its persistent PRAGMAs
  // (journal_mode). Called once when the pool starts.
  Status Prepare();

  // Lifetime with the random jitter of SPEC §2 (up to 2.5 % shorter).
  static Millis JitteredLifetime(Millis max_lifetime, double unit_random);

  // The database's WAL bookkeeping, fed by every write handle opened here.
  const std::shared_ptr<WalState>& wal() const { return wal_; }

 private:
  Status OpenRaw(Mode mode, bool create, struct sqlite3** out);

  const config::Database db_;
  const TimeSource* const clock_;
  const std::shared_ptr<const SandboxPolicy> sandbox_;
  const std::shared_ptr<WalState> wal_;
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace litepool
