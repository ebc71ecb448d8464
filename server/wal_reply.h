// The WAL parts of the admin replies: the `wal` object of `stats` and a
// lease's `snapshot_age_ms` in `leases` (docs/protocol.md).
#pragma once

#include "pool/lease_table.h"
#include "server/reply.h"
#include "server/services.h"

namespace litepool::server {

// "wal": {db: {wal_bytes, database_bytes, frames_pending,
// oldest_snapshot_seconds}, ...}
void WriteWalStats(const Services& services, ReplyWriter* w);
// "snapshot_age_ms": milliseconds, or null when the lease pins no snapshot.
void WriteSnapshotAge(const LeaseInfo& lease, ReplyWriter* w);

}  // namespace litepool::server
