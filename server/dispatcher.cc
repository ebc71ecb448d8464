// The ops of docs/protocol.md.
#include "server/dispatcher.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "litepool/version.h"
#include "log/log.h"
#include "server/reply.h"
#include "server/wal_reply.h"
#include "wire/lease_id.h"

namespace litepool::server {
namespace {

// Streams a query's rows into the reply line, and stops the query when the
// reply would pass max_result_bytes.
class ResultWriter final : public RowSink {
 public:
  ResultWriter(std::string* out, std::string_view id_json, int64_t max_bytes, bool decltypes)
      : writer_(out, id_json), start_(out->size()), max_bytes_(max_bytes), decltypes_(decltypes) {}

  void Columns(const std::vector<std::string_view>& names) override {
    writer_.Key("columns").BeginArray();
    for (auto n : names) writer_.String(n);
    writer_.EndArray();
    if (!decltypes_) writer_.Key("rows").BeginArray();
  }

  bool WantsDeclTypes() const override { return decltypes_; }
  void DeclTypes(const std::vector<const char*>& types) override {
    writer_.Key("decltypes").BeginArray();
    for (const char* t : types) {
      if (t != nullptr) {
        writer_.String(t);
      } else {
        writer_.Null();
      }
    }
    writer_.EndArray().Key("rows").BeginArray();
  }

  // Memory stays near max_result_bytes however large the result
  // (docs/operations.md, "Memory"): a row that would pass the limit is
  // refused before it is written, and a reply that grows large is given
  // its full size once, so no doubling realloc holds two copies.
  Status Row(const std::vector<ValueView>& cells) override {
    std::string* out = writer_.out();
    int64_t used = static_cast<int64_t>(out->size() - start_);
    int64_t row = 0;
    for (const auto& c : cells) {
      row += 24;  // a number, a null, the punctuation
      if (c.type == ValueType::kText) row += static_cast<int64_t>(c.bytes.size());
      if (c.type == ValueType::kBlob) row += static_cast<int64_t>(c.bytes.size()) * 4 / 3;
    }
    if (used + row > max_bytes_) return TooLarge();
    if (used > kReserveAt && !reserved_) {
      out->reserve(start_ + static_cast<size_t>(max_bytes_) + kSlack);
      reserved_ = true;
    }
    writer_.BeginArray();
    for (const auto& c : cells) writer_.Cell(c);
    writer_.EndArray();
    if (static_cast<int64_t>(out->size() - start_) > max_bytes_) return TooLarge();
    return Status();
  }

  void Finish(const StatementOutcome& outcome) {
    writer_.EndArray();
    writer_.Key("changes").Int(outcome.changes);
    writer_.Key("last_insert_rowid").Int(outcome.last_insert_rowid);
    writer_.Finish();
  }

 private:
  Status TooLarge() const {
    return Status(Code::kResultTooLarge, "the result is larger than max_result_bytes (" +
                                             std::to_string(max_bytes_) +
                                             "); add a LIMIT or select fewer columns");
  }

  static constexpr int64_t kReserveAt = 256 << 10;
  static constexpr size_t kSlack = 64 << 10;  // the reply's tail; escapes in the last row
  ReplyWriter writer_;
  size_t start_;
  int64_t max_bytes_;
  bool decltypes_;
  bool reserved_ = false;
};

// How long a statement may run on the I/O thread before it is handed to a
// worker: long enough for point queries and short scans, short enough that
// other connections barely notice.
constexpr auto kQuickBudget = std::chrono::microseconds(500);

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string Simple(std::string_view id_json) {
  std::string out;
  ReplyWriter(&out, id_json).Finish();
  return out;
}

Outcome Done(std::string reply) {
  Outcome o;
  o.reply = std::move(reply);
  return o;
}

Outcome Fail(const Request& req, const Status& st) { return Done(ErrorReply(req.id_json, st)); }

// Hands the rest of `req` to a worker, from `stage`.
Outcome Later(Continuation::Stage stage, Request& req) {
  Outcome o;
  o.rest = std::make_unique<Continuation>();
  o.rest->stage = stage;
  o.rest->request = std::move(req);
  return o;
}

Outcome ReleaseReply(std::string_view id_json, bool rolled_back) {
  std::string out;
  ReplyWriter w(&out, id_json);
  w.Key("rolled_back").Bool(rolled_back);
  w.Finish();
  return Done(std::move(out));
}

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

Outcome Dispatcher::Run(const ClientContext& client, std::string_view line,
                        const Completion& complete, Place place) {
  static constexpr OpFn kTable[] = {
      &Dispatcher::Hello,     &Dispatcher::Ping,    &Dispatcher::Acquire, &Dispatcher::Statement,
      &Dispatcher::Statement, &Dispatcher::Release, &Dispatcher::Stats,   &Dispatcher::Leases,
      &Dispatcher::Backup,
  };
  Request req;
  Status st = DecodeRequest(line, &req);
  if (!st.ok()) return Fail(req, st);
  Call call{client, req, complete, place};
  return (this->*kTable[static_cast<size_t>(req.op)])(call);
}

Outcome Dispatcher::Continue(const ClientContext& client, Continuation rest,
                             const Completion& complete) {
  Request& req = rest.request;
  switch (rest.stage) {
    case Continuation::Stage::kRequest: {
      Call call{client, req, complete, Place::kWorker};
      if (req.op == Op::kAcquire) return Acquire(call);
      if (req.op == Op::kRelease) return Release(call);
      if (req.op == Op::kBackup) return Backup(call);
      return Statement(call);
    }
    case Continuation::Stage::kOneShot: {
      LeaseRun run = RunOneShot(client.id, rest.lease, req, Place::kWorker);
      if (!run.needs_writer) return Done(std::move(run.reply));
      Call call{client, req, complete, Place::kWorker};
      return ToWriter(call);
    }
    case Continuation::Stage::kRelease:
      return ReleaseReply(req.id_json, rest.taken.pool->Return(std::move(rest.taken.handle)));
  }
  return Done(ErrorReply(req.id_json, Status(Code::kInternal, "unreachable")));
}

Outcome Dispatcher::Hello(Call& call) {
  std::string out;
  ReplyWriter w(&out, call.req.id_json);
  w.Key("server").String("litepoold");
  w.Key("version").String(kVersion);
  w.Key("protocol").Int(kProtocolVersion);
  w.Key("databases").BeginArray();
  for (const auto& name : services_->pools->Names()) w.String(name);
  w.EndArray();
  w.Finish();
  return Done(std::move(out));
}

Outcome Dispatcher::Ping(Call& call) { return Done(Simple(call.req.id_json)); }

bool Dispatcher::MakeLease(ClientId client, Pool* pool, const LeasePlan& plan,
                           std::string_view tag, std::unique_ptr<Handle>* handle,
                           LeaseId* id) const {
  TimePoint now = (*handle)->leased_at();
  LeaseTerms terms;
  terms.pool = pool;
  terms.mode = plan.mode;
  terms.db = pool->name();
  terms.deadline = now + plan.lease_ms;
  terms.leak_warn_at = plan.leak_warn.count() > 0 ? now + plan.leak_warn : TimePoint::max();
  terms.tag = tag;
  terms.statement_timeout = plan.statement_timeout;
  return services_->leases->Insert(client, handle, std::move(terms), id);
}

namespace {

// A lease's reply to acquire.
std::string LeaseReply(std::string_view id_json, LeaseId id, const Pool& pool, Mode mode,
                       Millis lease_ms) {
  std::string out;
  ReplyWriter w(&out, id_json);
  w.Key("lease").String(wire::FormatLeaseId(id));
  w.Key("db").String(pool.name());
  w.Key("mode").String(ModeName(mode));
  w.Key("lease_ms").Int(lease_ms.count());
  w.Finish();
  return out;
}

}  // namespace

std::unique_ptr<Handle> Dispatcher::Grant(const std::shared_ptr<Pending>& p,
                                          std::unique_ptr<Handle> handle) {
  const Request& req = p->request;
  if (!handle) {
    p->complete(Fail(req, Status(Code::kShuttingDown, "the daemon is shutting down")));
    return nullptr;
  }
  LeaseId id;
  if (!p->dispatcher->MakeLease(p->client.id, p->pool.get(), p->plan, req.tag, &handle, &id)) {
    return handle;  // the client has gone
  }
  if (req.op != Op::kAcquire) {
    // Run as a task of its own, so grants never nest inside each other.
    p->dispatcher->services_->workers->Post([p, id] {
      LeaseRun run = p->dispatcher->RunOneShot(p->client.id, id, p->request, Place::kWorker);
      if (!run.needs_writer) {
        p->complete(Done(std::move(run.reply)));
        return;
      }
      Call call{p->client, p->request, p->complete, Place::kWorker};
      p->complete(p->dispatcher->ToWriter(call));
    });
    return nullptr;
  }
  p->complete(Done(LeaseReply(req.id_json, id, *p->pool, p->plan.mode, p->plan.lease_ms)));
  return nullptr;
}

Outcome Dispatcher::ToWriter(Call& call) {
  call.req.mode = Mode::kWrite;
  call.req.auto_mode = false;
  return Acquire(call);
}

Outcome Dispatcher::Acquire(Call& call) {
  Request& req = call.req;
  if (services_->draining->load()) {
    return Fail(req, Status(Code::kShuttingDown, "the daemon is shutting down"));
  }
  auto pool = services_->pools->Find(req.db);
  if (!pool) return Fail(req, Status(Code::kUnknownDatabase, "no database named " + req.db));
  const ClientContext& client = call.client;
  if (!pool->AllowsUid(client.peer.uid)) {
    log::Warn("access_denied").Str("db", req.db).Int("pid", client.peer.pid).Int("uid", client.peer.uid);
    return Fail(req, Status(Code::kForbidden, "uid " + std::to_string(client.peer.uid) +
                                                  " may not use database " + req.db));
  }
  config::PoolLimits limits = pool->limits();
  if (req.auto_mode && limits.max_readers == 0) req.mode = Mode::kWrite;  // no detour
  if (services_->leases->LeaseCount(client.id) >= limits.max_leases_per_client) {
    return Fail(req, Status(Code::kTooManyLeases,
                            "this connection holds max_leases_per_client (" +
                                std::to_string(limits.max_leases_per_client) + ") leases"));
  }
  LeasePlan plan;
  plan.mode = req.mode;
  plan.lease_ms =
      Millis(std::min(req.lease_ms.value_or(limits.lease_timeout_ms), limits.lease_timeout_ms));
  plan.leak_warn = Millis(limits.leak_warn_ms);
  plan.statement_timeout = Millis(limits.statement_timeout_ms);
  Millis wait(std::min(req.wait_ms.value_or(limits.acquire_timeout_ms), limits.acquire_timeout_ms));

  std::shared_ptr<Pending> queued;
  auto make_grant = [&]() -> Pool::Grant {
    queued = std::make_shared<Pending>(
        Pending{this, client, pool, plan, std::move(req), call.complete});
    return [p = queued](std::unique_ptr<Handle> handle) { return Grant(p, std::move(handle)); };
  };
  Pool::Acquired got = pool->Acquire(req.mode, make_grant, call.place == Place::kWorker);
  switch (got.kind) {
    case Pool::Acquired::kFailed:
      return Fail(req, got.status);
    case Pool::Acquired::kMustOpen:
      return Later(Continuation::Stage::kRequest, req);
    case Pool::Acquired::kQueued: {
      Outcome o;
      o.queued = true;
      o.pool = pool;
      o.mode = plan.mode;
      o.waiter = got.waiter;
      o.wait = wait;
      o.id_json = queued->request.id_json;
      return o;
    }
    case Pool::Acquired::kGranted:
      break;
  }
  LeaseId id;
  if (!MakeLease(client.id, pool.get(), plan, req.tag, &got.handle, &id)) {  // the client left
    GiveBack(pool.get(), std::move(got.handle), call.place);
    return Fail(req, Status(Code::kInternal, "client gone"));
  }
  if (req.op == Op::kAcquire) {
    return Done(LeaseReply(req.id_json, id, *pool, plan.mode, plan.lease_ms));
  }
  LeaseRun run = RunOneShot(client.id, id, req, call.place);
  if (run.needs_writer) return ToWriter(call);
  if (!run.gave_up) return Done(std::move(run.reply));
  Outcome o = Later(Continuation::Stage::kOneShot, req);
  o.rest->lease = id;
  return o;
}

Dispatcher::LeaseRun Dispatcher::RunOnLease(ClientId client, LeaseId lease, const Request& req,
                                            Place place) const {
  LeaseRun run;
  if (place == Place::kIoThread && req.op == Op::kExec) {  // several statements: never quick
    run.gave_up = true;
    return run;
  }
  LeaseUse use;
  Status st = services_->leases->Begin(client, lease, req.sql, &use);
  if (!st.ok()) {
    run.reply = ErrorReply(req.id_json, st);
    return run;
  }
  auto start = Clock::now();
  QuickRun quick{start + kQuickBudget};
  QuickRun* quick_ptr = place == Place::kIoThread ? &quick : nullptr;
  std::string& reply = run.reply;
  reply.reserve(256);  // one allocation for the typical small result
  StatementOutcome outcome;
  if (req.op == Op::kQuery) {
    ResultWriter sink(&reply, req.id_json, services_->max_result_bytes->load(), req.decltypes);
    st = use.handle->Query(req.sql, req.params, use.statement_timeout, &sink, &outcome, quick_ptr,
                           req.auto_mode ? WriteOnRead::kRedirect : WriteOnRead::kFail);
    if (st.ok() && !quick.gave_up && !outcome.needs_writer) sink.Finish(outcome);
  } else {
    st = use.handle->Exec(req.sql, use.statement_timeout, &outcome);
    if (st.ok()) {
      ReplyWriter w(&reply, req.id_json);
      w.Key("changes").Int(outcome.changes);
      w.Key("last_insert_rowid").Int(outcome.last_insert_rowid);
      w.Finish();
    }
  }
  if (!quick.gave_up && !outcome.needs_writer) {
    use.pool->events()->QueryDone(st.code(), SecondsSince(start));
    use.pool->ReportFault(st, "statement");
  }
  TakenLease taken;
  Status end = services_->leases->End(use, &taken);
  if (!end.ok()) {
    if (taken.handle) GiveBack(taken.pool, std::move(taken.handle), place);
    run.reply = ErrorReply(req.id_json, end);
    return run;
  }
  run.gave_up = quick.gave_up;
  run.needs_writer = outcome.needs_writer;
  if (!st.ok() && !run.gave_up) run.reply = ErrorReply(req.id_json, st);
  return run;
}

Dispatcher::LeaseRun Dispatcher::RunOneShot(ClientId client, LeaseId lease, const Request& req,
                                            Place place) const {
  LeaseRun run = RunOnLease(client, lease, req, place);
  if (run.gave_up) return run;  // the lease stays, for the worker to run it again
  TakenLease taken;
  if (services_->leases->Take(client, lease, &taken).ok()) {
    GiveBack(taken.pool, std::move(taken.handle), place);
  }
  return run;
}

void Dispatcher::GiveBack(Pool* pool, std::unique_ptr<Handle> handle, Place place) const {
  if (place == Place::kWorker) {
    pool->Return(std::move(handle));
  } else if (!pool->ReturnQuickly(&handle)) {
    // Pool outlives the task: pools are retired, never destroyed, while
    // the daemon runs, and workers stop before they go.
    auto shared = std::make_shared<std::unique_ptr<Handle>>(std::move(handle));
    services_->workers->Post([pool, shared] { pool->Return(std::move(*shared)); });
  }
}

Outcome Dispatcher::Statement(Call& call) {
  Request& req = call.req;
  if (!req.has_lease) return Acquire(call);  // one-shot with `db`
  if (!req.lease_well_formed) {
    return Fail(req, Status(Code::kUnknownLease, "no such lease on this connection"));
  }
  LeaseRun run = RunOnLease(call.client.id, req.lease, req, call.place);
  if (!run.gave_up) return Done(std::move(run.reply));
  return Later(Continuation::Stage::kRequest, req);
}

Outcome Dispatcher::Release(Call& call) {
  Request& req = call.req;
  if (!req.lease_well_formed) {
    return Fail(req, Status(Code::kUnknownLease, "no such lease on this connection"));
  }
  TakenLease taken;
  Status st = services_->leases->Take(call.client.id, req.lease, &taken);
  if (!st.ok()) return Fail(req, st);
  if (call.place == Place::kIoThread && !taken.pool->ReturnQuickly(&taken.handle)) {
    Outcome o = Later(Continuation::Stage::kRelease, req);
    o.rest->taken = std::move(taken);
    return o;
  }
  bool rolled_back = taken.handle ? taken.pool->Return(std::move(taken.handle)) : false;
  return ReleaseReply(req.id_json, rolled_back);
}

bool Dispatcher::IsAdmin(const ClientContext& client) const {
  const auto& admins = services_->admin_uids;
  return std::find(admins.begin(), admins.end(), client.peer.uid) != admins.end();
}

Outcome Dispatcher::Stats(Call& call) {
  const ClientContext& client = call.client;
  Request& req = call.req;
  if (!IsAdmin(client)) return Fail(req, Status(Code::kForbidden, "stats is for admin_uids"));
  std::string out;
  ReplyWriter w(&out, req.id_json);
  w.Key("pools").BeginObject();
  for (const auto& pool : services_->pools->All()) {
    PoolSnapshot snap = pool->Snapshot();
    w.Key(snap.db).BeginObject();
    for (size_t m = 0; m < kModeCount; ++m) {
      const SideSnapshot& s = snap.sides[m];
      PoolCounters c = services_->counters(snap.db, static_cast<Mode>(m));
      w.Key(ModeName(static_cast<Mode>(m))).BeginObject();
      w.Key("open").Int(s.open).Key("idle").Int(s.idle).Key("leased").Int(s.leased);
      w.Key("waiters").Int(s.waiters).Key("max").Int(s.max);
      w.Key("acquires").BeginObject();
      for (size_t r = 0; r < kAcquireResultCount; ++r) {
        w.Key(AcquireResultName(static_cast<AcquireResult>(r)))
            .Int(static_cast<int64_t>(c.acquires[r]));
      }
      w.EndObject();
      w.Key("opened").Int(static_cast<int64_t>(c.opened));
      w.Key("closed").Int(static_cast<int64_t>(c.closed));
      w.EndObject();
      if (m == 0) {
        w.Key("lease_timeouts").Int(static_cast<int64_t>(c.lease_timeouts));
        w.Key("leak_warnings").Int(static_cast<int64_t>(c.leak_warnings));
      }
    }
    w.Key("cache_bytes").Int(snap.cache_bytes);
    w.Key("up").Bool(snap.up);
    if (!snap.up) w.Key("error").String(snap.down_cause);
    w.EndObject();
  }
  w.EndObject();
  ReaperStats r = services_->reaper->stats();
  w.Key("reaper").BeginObject();
  w.Key("up").Bool(r.up).Key("runs").Int(static_cast<int64_t>(r.runs));
  w.Key("last_run_unix_seconds").Double(r.last_run_unix_seconds);
  w.Key("last_duration_seconds").Double(r.last_duration_seconds);
  w.Key("lag_seconds").Double(r.last_lag_seconds);
  w.Key("leases_revoked").Int(static_cast<int64_t>(r.leases_revoked));
  w.Key("leak_warnings").Int(static_cast<int64_t>(r.leak_warnings));
  w.Key("handles_closed").Int(static_cast<int64_t>(r.handles_closed));
  w.EndObject();
  w.Key("clients").Int(services_->clients_connected());
  w.Key("leases").Int(static_cast<int64_t>(services_->leases->size()));
  WriteWalStats(*services_, &w);
  w.Finish();
  return Done(std::move(out));
}

Outcome Dispatcher::Leases(Call& call) {
  const ClientContext& client = call.client;
  Request& req = call.req;
  if (!IsAdmin(client)) return Fail(req, Status(Code::kForbidden, "leases is for admin_uids"));
  auto leases = services_->leases->List();
  std::sort(leases.begin(), leases.end(),
            [](const LeaseInfo& a, const LeaseInfo& b) { return a.age_ms > b.age_ms; });
  std::string out;
  ReplyWriter w(&out, req.id_json);
  w.Key("leases").BeginArray();
  for (const LeaseInfo& l : leases) {
    w.BeginObject();
    w.Key("lease").String(wire::FormatLeaseId(l.id));
    w.Key("db").String(l.db).Key("mode").String(ModeName(l.mode));
    w.Key("pid").Int(l.holder.pid).Key("uid").Int(l.holder.uid);
    w.Key("tag").String(l.tag).Key("age_ms").Int(l.age_ms);
    w.Key("in_transaction").Bool(l.in_transaction).Key("last_sql").String(l.last_sql);
    WriteSnapshotAge(l, &w);
    w.EndObject();
  }
  w.EndArray();
  w.Finish();
  return Done(std::move(out));
}

}  // namespace litepool::server
