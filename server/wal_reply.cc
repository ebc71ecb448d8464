// WAL figures in admin replies.
#include "server/wal_reply.h"

#include "pool/wal_report.h"

namespace litepool::server {

void WriteWalStats(const Services& services, ReplyWriter* w) {
  w->Key("wal").BeginObject();
  for (const WalReport& r : ReportWal(*services.pools, *services.leases, services.clock->Now())) {
    w->Key(r.db).BeginObject();
    w->Key("wal_bytes").Int(r.wal_bytes).Key("database_bytes").Int(r.database_bytes);
    w->Key("frames_pending").Int(r.frames_pending);
    w->Key("oldest_snapshot_seconds").Double(r.oldest_snapshot_seconds);
    w->EndObject();
  }
  w->EndObject();
}

void WriteSnapshotAge(const LeaseInfo& lease, ReplyWriter* w) {
  w->Key("snapshot_age_ms");
  if (lease.snapshot_age_ms < 0) {
    w->Null();
  } else {
    w->Int(lease.snapshot_age_ms);
  }
}

}  // namespace litepool::server
