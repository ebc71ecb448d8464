// The admin `backup` request (docs/protocol.md, "backup"): checked on the
// I/O thread, copied on a worker, answered when the file has landed.
#include <chrono>

#include "log/log.h"
#include "pool/backup.h"
#include "server/dispatcher.h"
#include "server/reply.h"

namespace litepool::server {

Outcome Dispatcher::Backup(Call& call) {
  Request& req = call.req;
  auto fail = [&req](const Status& st) -> Outcome { return Answer{ErrorReply(req.id_json, st)}; };
  if (!IsAdmin(call.client)) {
    log::Warn("access_denied")
        .Str("op", "backup")
        .Int("pid", call.client.peer.pid)
        .Int("uid", call.client.peer.uid);
    return fail(Status(Code::kForbidden, "backup is for admin_uids"));
  }
  if (services_->draining->load()) {
    return fail(Status(Code::kShuttingDown, "the daemon is shutting down"));
  }
  auto pool = services_->pools->Find(req.db);
  if (!pool) return fail(Status(Code::kUnknownDatabase, "no database named " + req.db));
  std::string target;
  Status st = ResolveBackupTarget(services_->backup_dir, req.file, &target);
  if (!st.ok()) {
    log::Warn("backup_refused").Str("db", req.db).Str("file", req.file).Str("error", st.message());
    return fail(st);
  }
  if (call.place == Place::kIoThread) {
    // The copy takes as long as the database is large: a worker's job.
    return Handover{RunOnWorker{std::move(req)}};
  }
  const ClientId client = call.client.id;
  LeaseTable* leases = services_->leases;
  std::atomic<bool>* draining = services_->draining;
  auto cancelled = [leases, client, draining] {
    return draining->load() || !leases->HasClient(client);
  };
  BackupOutcome done;
  st = RunBackup(pool->wal().get(), target, cancelled, services_->wal_events(pool->name()), &done);
  if (!st.ok()) return fail(st);
  return Answer{BackupReply(req.id_json, pool->name(), target, done)};
}

}  // namespace litepool::server
