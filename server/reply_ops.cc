// The success replies of the ops (docs/protocol.md, "Operations").
#include "litepool/version.h"
#include "server/reply.h"
#include "wire/lease_id.h"

namespace litepool::server {
namespace {

void WriteWal(const std::vector<WalReport>& wal, ReplyWriter* w) {
  w->Key("wal").BeginObject();
  for (const WalReport& r : wal) {
    w->Key(r.db).BeginObject();
    w->Key("wal_bytes").Int(r.wal_bytes).Key("database_bytes").Int(r.database_bytes);
    w->Key("frames_pending").Int(r.frames_pending);
    w->Key("oldest_snapshot_seconds").Double(r.oldest_snapshot_seconds);
    w->EndObject();
  }
  w->EndObject();
}

void WriteDatabase(const StatsView::Database& db, ReplyWriter* w) {
  const PoolSnapshot& snap = db.snapshot;
  w->Key(snap.db).BeginObject();
  for (size_t m = 0; m < kModeCount; ++m) {
    const SideSnapshot& s = snap.sides[m];
    const PoolCounters& c = db.counters[m];
    w->Key(ModeName(static_cast<Mode>(m))).BeginObject();
    w->Key("open").Int(s.open).Key("idle").Int(s.idle).Key("leased").Int(s.leased);
    w->Key("waiters").Int(s.waiters).Key("max").Int(s.max);
    w->Key("acquires").BeginObject();
    for (size_t r = 0; r < kAcquireResultCount; ++r) {
      w->Key(AcquireResultName(static_cast<AcquireResult>(r)))
          .Int(static_cast<int64_t>(c.acquires[r]));
    }
    w->EndObject();
    w->Key("opened").Int(static_cast<int64_t>(c.opened));
    w->Key("closed").Int(static_cast<int64_t>(c.closed));
    w->EndObject();
    if (m == 0) {
      w->Key("lease_timeouts").Int(static_cast<int64_t>(c.lease_timeouts));
      w->Key("leak_warnings").Int(static_cast<int64_t>(c.leak_warnings));
    }
  }
  w->Key("cache_bytes").Int(snap.cache_bytes);
  w->Key("up").Bool(snap.up);
  if (!snap.up) w->Key("error").String(snap.down_cause);
  w->EndObject();
}

void WriteReaper(const ReaperStats& r, ReplyWriter* w) {
  w->Key("reaper").BeginObject();
  w->Key("up").Bool(r.up).Key("runs").Int(static_cast<int64_t>(r.runs));
  w->Key("last_run_unix_seconds").Double(r.last_run_unix_seconds);
  w->Key("last_duration_seconds").Double(r.last_duration_seconds);
  w->Key("lag_seconds").Double(r.last_lag_seconds);
  w->Key("leases_revoked").Int(static_cast<int64_t>(r.leases_revoked));
  w->Key("leak_warnings").Int(static_cast<int64_t>(r.leak_warnings));
  w->Key("handles_closed").Int(static_cast<int64_t>(r.handles_closed));
  w->EndObject();
}

}  // namespace

std::string OkReply(std::string_view id_json) {
  std::string out;
  ReplyWriter(&out, id_json).Finish();
  return out;
}

std::string HelloReply(std::string_view id_json, const std::vector<std::string>& databases) {
  std::string out;
  ReplyWriter w(&out, id_json);
  w.Key("server").String("litepoold");
  w.Key("version").String(kVersion);
  w.Key("protocol").Int(kProtocolVersion);
  w.Key("databases").BeginArray();
  for (const auto& name : databases) w.String(name);
  w.EndArray();
  w.Finish();
  return out;
}

std::string LeaseReply(std::string_view id_json, LeaseId lease, std::string_view db, Mode mode,
                       Millis lease_ms) {
  std::string out;
  ReplyWriter w(&out, id_json);
  w.Key("lease").String(wire::FormatLeaseId(lease));
  w.Key("db").String(db);
  w.Key("mode").String(ModeName(mode));
  w.Key("lease_ms").Int(lease_ms.count());
  w.Finish();
  return out;
}

std::string ReleaseReply(std::string_view id_json, bool rolled_back) {
  std::string out;
  ReplyWriter w(&out, id_json);
  w.Key("rolled_back").Bool(rolled_back);
  w.Finish();
  return out;
}

void AppendExecReply(std::string* out, std::string_view id_json, const StatementOutcome& outcome) {
  ReplyWriter w(out, id_json);
  w.Key("changes").Int(outcome.changes);
  w.Key("last_insert_rowid").Int(outcome.last_insert_rowid);
  w.Finish();
}

std::string StatsReply(std::string_view id_json, const StatsView& stats) {
  std::string out;
  ReplyWriter w(&out, id_json);
  w.Key("pools").BeginObject();
  for (const auto& db : stats.databases) WriteDatabase(db, &w);
  w.EndObject();
  WriteReaper(stats.reaper, &w);
  w.Key("clients").Int(stats.clients);
  w.Key("leases").Int(stats.leases);
  WriteWal(stats.wal, &w);
  w.Finish();
  return out;
}

std::string LeasesReply(std::string_view id_json, const std::vector<LeaseInfo>& leases) {
  std::string out;
  ReplyWriter w(&out, id_json);
  w.Key("leases").BeginArray();
  for (const LeaseInfo& l : leases) {
    w.BeginObject();
    w.Key("lease").String(wire::FormatLeaseId(l.id));
    w.Key("db").String(l.db).Key("mode").String(ModeName(l.mode));
    w.Key("pid").Int(l.holder.pid).Key("uid").Int(l.holder.uid);
    w.Key("tag").String(l.tag).Key("age_ms").Int(l.age_ms);
    w.Key("in_transaction").Bool(l.in_transaction).Key("last_sql").String(l.last_sql);
    // docs/protocol.md, "leases": null when the lease pins no WAL snapshot.
    w.Key("snapshot_age_ms");
    if (l.snapshot_age_ms < 0) {
      w.Null();
    } else {
      w.Int(l.snapshot_age_ms);
    }
    w.EndObject();
  }
  w.EndArray();
  w.Finish();
  return out;
}

std::string BackupReply(std::string_view id_json, std::string_view db, std::string_view file,
                        const BackupOutcome& done) {
  std::string out;
  ReplyWriter w(&out, id_json);
  w.Key("db").String(db).Key("file").String(file);
  w.Key("bytes").Int(done.bytes).Key("pages").Int(done.pages);
  w.Key("duration_ms").Int(static_cast<int64_t>(done.seconds * 1000));
  w.Finish();
  return out;
}

}  // namespace litepool::server
