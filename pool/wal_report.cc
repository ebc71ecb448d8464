// Scrape-time WAL figures.
#include "pool/wal_report.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "pool/pool.h"

namespace litepool {

int64_t FileBytes(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

std::vector<WalReport> ReportWal(const PoolSet& pools, const LeaseTable& leases, TimePoint now) {
  std::map<std::string, int64_t, std::less<>> oldest_ms;
  for (const LeaseInfo& l : leases.List()) {
    if (l.snapshot_age_ms < 0) continue;
    int64_t& slot = oldest_ms[l.db];
    slot = std::max(slot, l.snapshot_age_ms);
  }
  std::vector<WalReport> out;
  for (const auto& pool : pools.All()) {
    const WalState& wal = *pool->wal();
    WalCounts counts = wal.counts();
    WalReport r;
    r.db = wal.db();
    r.database_bytes = FileBytes(wal.path());
    r.wal_bytes = FileBytes(wal.path() + "-wal");
    r.frames_pending = counts.pending();
    double oldest = 0;
    if (auto it = oldest_ms.find(r.db); it != oldest_ms.end()) oldest = it->second / 1000.0;
    if (counts.backup_since != TimePoint::max()) {
      oldest = std::max(oldest, std::chrono::duration<double>(now - counts.backup_since).count());
    }
    r.oldest_snapshot_seconds = oldest;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace litepool
