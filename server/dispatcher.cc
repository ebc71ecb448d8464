// The ops of docs/protocol.md, "Operations".
#include "server/dispatcher.h"

#include <algorithm>
#include <chrono>

#include "log/log.h"
#include "pool/wal_report.h"
#include "server/reply.h"

namespace litepool::server {
namespace {

// How long a statement may run on the I/O thread before it is handed to a
// worker: long enough for point queries and short scans, short enough that
// other connections barely notice.
constexpr auto kQuickBudget = std::chrono::microseconds(500);

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Outcome Fail(const Request& req, const Status& st) { return Answer{ErrorReply(req.id_json, st)}; }

Outcome OnWorker(Request& req) { return Handover{RunOnWorker{std::move(req)}}; }

}  // namespace

// An acquire (or one-shot statement) queued in a pool: what is needed to
// turn a granted handle into a lease and to answer, on the grantor's thread.
struct Dispatcher::Pending {
  Dispatcher* dispatcher;
  ClientContext client;
  std::shared_ptr<Pool> pool;
  LeasePlan plan;
  Request request;
  Completion complete;
};

Dispatcher::Dispatcher(const Services* services) : services_(services) {}

void Dispatcher::ClientJoined(const ClientContext& client) {
  services_->leases->AddClient(client.id, LeaseHolder{client.peer.pid, client.peer.uid});
}

void Dispatcher::ClientGone(const ClientContext& client) {
  // The leases go back as they drop: rolled back on a worker.
  std::vector<PooledHandle> taken = services_->leases->RemoveClient(client.id);
  if (!taken.empty()) {
    log::Debug("client_leases_released").Int("pid", client.peer.pid).Int("count", taken.size());
  }
}

Outcome Dispatcher::Run(const ClientContext& client, std::string_view line, Place place,
                        const Completion& complete) {
  Request req;
  Status st = DecodeRequest(line, &req);
  if (!st.ok()) return Fail(req, st);
  return RunDecoded(client, req, place, complete);
}

Outcome Dispatcher::RunDecoded(const ClientContext& client, Request& req, Place place,
                               const Completion& complete) {
  Call call{client, req, complete, place};
  switch (req.op) {
    case Op::kHello:
      return Hello(call);
    case Op::kPing:
      return Ping(call);
    case Op::kAcquire:
      return Acquire(call);
    case Op::kQuery:
    case Op::kExec:
      return req.has_lease ? Statement(call) : OneShot(call);
    case Op::kRelease:
      return Release(call);
    case Op::kStats:
      return Stats(call);
    case Op::kLeases:
      return Leases(call);
    case Op::kBackup:
      return Backup(call);
  }
  return Fail(req, Status(Code::kInternal, "unknown op"));
}

Outcome Dispatcher::Continue(const ClientContext& client, Continuation rest,
                             const Completion& complete) {
  if (auto* again = std::get_if<RunOnWorker>(&rest)) {
    return RunDecoded(client, again->request, Place::kWorker, complete);
  }
  if (auto* one_shot = std::get_if<FinishOneShot>(&rest)) {
    Call call{client, one_shot->request, complete, Place::kWorker};
    return RunOneShot(call, one_shot->lease);
  }
  auto& release = std::get<FinishRelease>(rest);
  bool rolled_back = std::move(release.handle).Return();
  return Answer{ReleaseReply(release.id_json, rolled_back)};
}

Outcome Dispatcher::Hello(Call& call) {
  return Answer{HelloReply(call.req.id_json, services_->pools->Names())};
}

Outcome Dispatcher::Ping(Call& call) { return Answer{OkReply(call.req.id_json)}; }

Status Dispatcher::Check(Call& call, Leasing* out) const {
  Request& req = call.req;
  if (services_->draining->load())
    return Status(Code::kShuttingDown, "the daemon is shutting down");
  out->pool = services_->pools->Find(req.db);
  if (!out->pool) return Status(Code::kUnknownDatabase, "no database named " + req.db);
  const LeaseLimits limits = out->pool->lease_limits();
  if (req.auto_mode && !limits.has_readers) req.mode = Mode::kWrite;  // no detour
  if (req.op == Op::kAcquire &&
      services_->leases->LeaseCount(call.client.id) >= limits.max_leases_per_client) {
    return Status(Code::kTooManyLeases, "this connection holds max_leases_per_client (" +
                                            std::to_string(limits.max_leases_per_client) +
                                            ") leases");
  }
  LeasePlan& plan = out->plan;
  plan.mode = req.mode;
  plan.lease_ms =
      std::min(req.lease_ms ? Millis(*req.lease_ms) : limits.lease_timeout, limits.lease_timeout);
  plan.leak_warn = limits.leak_warn;
  plan.statement_timeout = limits.statement_timeout;
  out->wait =
      std::min(req.wait_ms ? Millis(*req.wait_ms) : limits.acquire_timeout, limits.acquire_timeout);
  return Status();
}

std::variant<PooledHandle, Outcome> Dispatcher::TakeHandle(Call& call, const Leasing& leasing) {
  Request& req = call.req;
  const std::shared_ptr<Pool>& pool = leasing.pool;
  std::string id_json;  // for the ticket: the request moves into the waiter
  auto make_grant = [&]() -> Pool::Grant {
    id_json = req.id_json;
    auto queued = std::make_shared<Pending>(
        Pending{this, call.client, pool, leasing.plan, std::move(req), call.complete});
    return [p = std::move(queued)](std::unique_ptr<Handle> handle) {
      return Grant(p, std::move(handle));
    };
  };
  const wire::PeerCredentials& peer = call.client.peer;
  Pool::Acquired got = pool->Acquire(req.mode, peer.uid, make_grant, call.place == Place::kWorker);
  switch (got.kind) {
    case Pool::Acquired::kFailed:
      if (got.status.code() == Code::kForbidden) {
        log::Warn("access_denied").Str("db", req.db).Int("pid", peer.pid).Int("uid", peer.uid);
      }
      return Fail(req, got.status);
    case Pool::Acquired::kMustOpen:
      return OnWorker(req);
    case Pool::Acquired::kQueued:
      return Queued{AcquireTicket(pool, leasing.plan.mode, got.waiter, std::move(id_json)),
                    leasing.wait};
    case Pool::Acquired::kGranted:
      break;
  }
  return PooledHandle(pool, std::move(got.handle));
}

std::variant<LeaseId, Outcome> Dispatcher::Lease(Call& call, const Leasing& leasing) {
  auto taken = TakeHandle(call, leasing);
  if (auto* outcome = std::get_if<Outcome>(&taken)) return std::move(*outcome);
  LeaseId id;
  if (!MakeLease(call.client.id, leasing.plan, call.req.tag, &std::get<PooledHandle>(taken), &id)) {
    return Fail(call.req, Status(Code::kInternal, "client gone"));  // the handle goes back
  }
  return id;
}

Outcome Dispatcher::Acquire(Call& call) {
  Leasing leasing;
  Status st = Check(call, &leasing);
  if (!st.ok()) return Fail(call.req, st);
  auto leased = Lease(call, leasing);
  if (auto* outcome = std::get_if<Outcome>(&leased)) return std::move(*outcome);
  return Answer{LeaseReply(call.req.id_json, std::get<LeaseId>(leased), leasing.pool->name(),
                           leasing.plan.mode, leasing.plan.lease_ms)};
}

bool Dispatcher::MakeLease(ClientId client, const LeasePlan& plan, std::string_view tag,
                           PooledHandle* handle, LeaseId* id) const {
  TimePoint now = (*handle)->leased_at();
  LeaseTerms terms;
  terms.mode = plan.mode;
  terms.deadline = now + plan.lease_ms;
  terms.leak_warn_at = plan.leak_warn.count() > 0 ? now + plan.leak_warn : TimePoint::max();
  terms.tag = tag;
  terms.statement_timeout = plan.statement_timeout;
  return services_->leases->Insert(client, handle, std::move(terms), id);
}

std::unique_ptr<Handle> Dispatcher::Grant(const std::shared_ptr<Pending>& p,
                                          std::unique_ptr<Handle> handle) {
  Request& req = p->request;
  if (!handle) {
    p->complete(Fail(req, Status(Code::kShuttingDown, "the daemon is shutting down")));
    return nullptr;
  }
  LeaseId id;
  PooledHandle leased(p->pool, std::move(handle));
  if (!p->dispatcher->MakeLease(p->client.id, p->plan, req.tag, &leased, &id)) {
    return std::move(leased).Detach();  // the client has gone: the next waiter's
  }
  if (req.op != Op::kAcquire) {
    // The statement runs on a worker, never inside the grant: grants would
    // nest inside each other, and the granting thread may be an I/O thread.
    p->complete(Handover{FinishOneShot{std::move(req), id}});
    return nullptr;
  }
  p->complete(Answer{LeaseReply(req.id_json, id, p->pool->name(), p->plan.mode, p->plan.lease_ms)});
  return nullptr;
}

Dispatcher::LeaseRun Dispatcher::RunOnLease(ClientId client, LeaseId lease, const Request& req,
                                            Place place) const {
  if (place == Place::kIoThread && req.op == Op::kExec) {  // several statements: never quick
    LeaseRun run;
    run.gave_up = true;
    return run;
  }
  LeaseUse use;
  Status st = services_->leases->Begin(client, lease, req.sql, &use);
  if (!st.ok()) return LeaseRun{ErrorReply(req.id_json, st)};
  LeaseRun run = RunStatement(use.handle(), use.pool(), use.statement_timeout, req, place);
  PooledHandle revoked;  // goes back as it drops
  Status end = services_->leases->End(use, &revoked);
  if (!end.ok()) return LeaseRun{ErrorReply(req.id_json, end)};
  return run;
}

Dispatcher::LeaseRun Dispatcher::RunStatement(Handle& handle, Pool& pool, Millis statement_timeout,
                                              const Request& req, Place place) const {
  LeaseRun run;
  auto start = Clock::now();
  QuickRun quick{start + kQuickBudget};
  QuickRun* quick_ptr = place == Place::kIoThread ? &quick : nullptr;
  std::string& reply = run.reply;
  reply.reserve(256);  // one allocation for the typical small result
  StatementOutcome outcome;
  Status st;
  if (req.op == Op::kQuery) {
    ResultWriter sink(&reply, req.id_json, services_->max_result_bytes->load(), req.decltypes);
    st = handle.Query(req.sql, req.params, statement_timeout, &sink, &outcome, quick_ptr,
                      req.auto_mode ? WriteOnRead::kRedirect : WriteOnRead::kFail);
    if (st.ok() && !quick.gave_up && !outcome.needs_writer) sink.Finish(outcome);
  } else {
    st = handle.Exec(req.sql, statement_timeout, &outcome);
    if (st.ok()) AppendExecReply(&reply, req.id_json, outcome);
  }
  if (!quick.gave_up && !outcome.needs_writer) {
    pool.events()->QueryDone(st.code(), SecondsSince(start));
    pool.ReportFault(st, "statement");
  }
  run.gave_up = quick.gave_up;
  run.needs_writer = outcome.needs_writer;
  if (!st.ok() && !run.gave_up) run.reply = ErrorReply(req.id_json, st);
  return run;
}

Outcome Dispatcher::Statement(Call& call) {
  Request& req = call.req;
  if (!req.lease_well_formed) {
    return Fail(req, Status(Code::kUnknownLease, "no such lease on this connection"));
  }
  LeaseRun run = RunOnLease(call.client.id, req.lease, req, call.place);
  if (!run.gave_up) return Answer{std::move(run.reply)};
  return OnWorker(req);
}

Outcome Dispatcher::Release(Call& call) {
  Request& req = call.req;
  if (!req.lease_well_formed) {
    return Fail(req, Status(Code::kUnknownLease, "no such lease on this connection"));
  }
  PooledHandle taken;
  Status st = services_->leases->Take(call.client.id, req.lease, &taken);
  if (!st.ok()) return Fail(req, st);
  if (call.place == Place::kIoThread && !taken.ReturnQuickly()) {
    return Handover{FinishRelease{std::move(req.id_json), std::move(taken)}};
  }
  bool rolled_back = std::move(taken).Return();
  return Answer{ReleaseReply(req.id_json, rolled_back)};
}

bool Dispatcher::IsAdmin(const ClientContext& client) const {
  const auto& admins = services_->admin_uids;
  return std::find(admins.begin(), admins.end(), client.peer.uid) != admins.end();
}

Outcome Dispatcher::Stats(Call& call) {
  if (!IsAdmin(call.client))
    return Fail(call.req, Status(Code::kForbidden, "stats is for admin_uids"));
  StatsView stats;
  for (const auto& pool : services_->pools->All()) {
    StatsView::Database& db = stats.databases.emplace_back();
    db.snapshot = pool->Snapshot();
    for (size_t m = 0; m < kModeCount; ++m) {
      db.counters[m] = services_->counters(db.snapshot.db, static_cast<Mode>(m));
    }
  }
  stats.reaper = services_->reaper->stats();
  stats.clients = services_->clients_connected();
  stats.leases = static_cast<int64_t>(services_->leases->size());
  stats.wal = ReportWal(*services_->pools, *services_->leases, services_->clock->Now());
  return Answer{StatsReply(call.req.id_json, stats)};
}

Outcome Dispatcher::Leases(Call& call) {
  if (!IsAdmin(call.client))
    return Fail(call.req, Status(Code::kForbidden, "leases is for admin_uids"));
  auto leases = services_->leases->List();
  std::sort(leases.begin(), leases.end(),
            [](const LeaseInfo& a, const LeaseInfo& b) { return a.age_ms > b.age_ms; });
  return Answer{LeasesReply(call.req.id_json, leases)};
}

}  // namespace litepool::server
