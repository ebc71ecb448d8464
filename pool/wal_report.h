// What `stats` and the scrape show of each database's WAL, read at the
// moment they ask: file sizes, frames not yet copied back, and the oldest
// snapshot still open (a lease's transaction or a running backup).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pool/clock.h"
#include "pool/lease_table.h"
#include "pool/pool_set.h"

namespace litepool {

struct WalReport {
  std::string db;
  int64_t database_bytes = 0;
  int64_t wal_bytes = 0;
  int64_t frames_pending = 0;
  double oldest_snapshot_seconds = 0;  // 0 when no snapshot is open
};

// The size of a file, 0 when it does not exist (a WAL after a clean close).
int64_t FileBytes(const std::string& path);

// Thread-safe (stat() and the thread-safe parts of the pools and leases);
// for a scrape or an admin request, never the hot path. Read-only databases
// are reported too: their readers pin snapshots of a WAL someone else writes.
std::vector<WalReport> ReportWal(const PoolSet& pools, const LeaseTable& leases, TimePoint now);

}  // namespace litepool
