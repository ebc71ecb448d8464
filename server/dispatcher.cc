// The ops of SPEC §4.
#include "server/dispatcher.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "litepool/version.h"
#include "log/log.h"
#include "server/reply.h"

namespace litepool::server {
namespace {

// Streams a query's rows into the reply line, and stops the query when the
// reply would pass max_result_bytes.
class ResultWriter final : public RowSink {
 public:
  ResultWriter(std::string* out, std::string_view id_json, int64_t max_bytes)
      : writer_(out, id_json), start_(out->size()), max_bytes_(max_bytes) {}

  void Columns(const std::vector<std::string_view>& names) override {
    writer_.Key("columns").BeginArray();
    for (auto n : names) writer_.String(n);
    writer_.EndArray().Key("rows").BeginArray();
  }

  Status Row(const std::vector<ValueView>& cells) override {
    writer_.BeginArray();
    for (const auto& c : cells) writer_.Cell(c);
    writer_.EndArray();
    if (static_cast<int64_t>(writer_.out()->size() - start_) > max_bytes_) {
      return Status(Code::kResultTooLarge,
                    "the result is larger than max_result_bytes (" + std::to_string(max_bytes_) +
                        "); add a LIMIT or select fewer columns");
    }
    return Status();
  }

  void Finish(const StatementOutcome& outcome) {
    writer_.EndArray();
    writer_.Key("changes").Int(outcome.changes);
    writer_.Key("last_insert_rowid").Int(outcome.last_insert_rowid);
    writer_.Finish();
  }

 private:
  ReplyWriter writer_;
  size_t start_;
  int64_t max_bytes_;
};

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

}  // namespace

// An acquire (or one-shot statement) in flight: what is needed to turn a
// granted handle into a lease and to answer, possibly on another thread.
struct Dispatcher::Pending {
  const Dispatcher* dispatcher;
  ClientId client;
  std::shared_ptr<Pool> pool;
  Mode mode;
  Millis lease_ms;
  Millis leak_warn;
  Millis statement_timeout;
  Request request;
  bool one_shot;
  Completion complete;
};

Dispatcher::Dispatcher(const Services* services) : services_(services) {}

Outcome Dispatcher::Run(const ClientContext& client, std::string_view line, Completion complete) {
  static constexpr OpFn kTable[] = {
      &Dispatcher::Hello,     &Dispatcher::Ping,    &Dispatcher::Acquire, &Dispatcher::Statement,
      &Dispatcher::Statement, &Dispatcher::Release, &Dispatcher::Stats,   &Dispatcher::Leases,
  };
  Request req;
  Status st = DecodeRequest(line, &req);
  if (!st.ok()) return Fail(req, st);
  return (this->*kTable[static_cast<size_t>(req.op)])(client, req, complete);
}

Outcome Dispatcher::Hello(const ClientContext&, Request& req, Completion&) {
  std::string out;
  ReplyWriter w(&out, req.id_json);
  w.Key("server").String("litepoold");
  w.Key("version").String(kVersion);
  w.Key("protocol").Int(kProtocolVersion);
  w.Key("databases").BeginArray();
  for (const auto& name : services_->pools->Names()) w.String(name);
  w.EndArray();
  w.Finish();
  return Done(std::move(out));
}

Outcome Dispatcher::Ping(const ClientContext&, Request& req, Completion&) {
  return Done(Simple(req.id_json));
}

bool Dispatcher::MakeLease(const Pending& p, std::unique_ptr<Handle>* handle, LeaseId* id) {
  TimePoint now = (*handle)->leased_at();
  LeaseTerms terms;
  terms.pool = p.pool.get();
  terms.mode = p.mode;
  terms.db = p.pool->name();
  terms.deadline = now + p.lease_ms;
  terms.leak_warn_at = p.leak_warn.count() > 0 ? now + p.leak_warn : TimePoint::max();
  terms.tag = p.request.tag;
  terms.statement_timeout = p.statement_timeout;
  return p.dispatcher->services_->leases->Insert(p.client, handle, std::move(terms), id);
}

std::unique_ptr<Handle> Dispatcher::Grant(const std::shared_ptr<Pending>& p,
                                          std::unique_ptr<Handle> handle, bool on_grantor) {
  if (!handle) {
    p->complete(ErrorReply(p->request.id_json,
                           Status(Code::kShuttingDown, "the daemon is shutting down")));
    return nullptr;
  }
  LeaseId id;
  if (!MakeLease(*p, &handle, &id)) return handle;  // the client has gone
  if (p->one_shot) {
    if (on_grantor) {
      // Run as a task of its own, so grants never nest inside each other.
      p->dispatcher->services_->workers->Post([p, id] {
        p->complete(p->dispatcher->RunOneShot(p->client, id, p->request));
      });
    } else {
      p->complete(p->dispatcher->RunOneShot(p->client, id, p->request));
    }
    return nullptr;
  }
  std::string out;
  ReplyWriter w(&out, p->request.id_json);
  w.Key("lease").String(LeaseTable::FormatId(id));
  w.Key("db").String(p->pool->name());
  w.Key("mode").String(ModeName(p->mode));
  w.Key("lease_ms").Int(p->lease_ms.count());
  w.Finish();
  p->complete(std::move(out));
  return nullptr;
}

Outcome Dispatcher::Acquire(const ClientContext& client, Request& req, Completion& complete) {
  if (services_->draining->load()) {
    return Fail(req, Status(Code::kShuttingDown, "the daemon is shutting down"));
  }
  auto pool = services_->pools->Find(req.db);
  if (!pool) return Fail(req, Status(Code::kUnknownDatabase, "no database named " + req.db));
  if (!pool->AllowsUid(client.peer.uid)) {
    log::Warn("access_denied").Str("db", req.db).Int("pid", client.peer.pid).Int("uid", client.peer.uid);
    return Fail(req, Status(Code::kForbidden, "uid " + std::to_string(client.peer.uid) +
                                                  " may not use database " + req.db));
  }
  config::PoolLimits limits = pool->limits();
  if (services_->leases->LeaseCount(client.id) >= limits.max_leases_per_client) {
    return Fail(req, Status(Code::kTooManyLeases,
                            "this connection holds max_leases_per_client (" +
                                std::to_string(limits.max_leases_per_client) + ") leases"));
  }
  auto p = std::make_shared<Pending>();
  p->dispatcher = this;
  p->client = client.id;
  p->pool = pool;
  p->mode = req.mode;
  p->lease_ms = Millis(std::min(req.lease_ms.value_or(limits.lease_timeout_ms),
                                limits.lease_timeout_ms));
  p->leak_warn = Millis(limits.leak_warn_ms);
  p->statement_timeout = Millis(limits.statement_timeout_ms);
  p->one_shot = req.op != Op::kAcquire;
  Millis wait(std::min(req.wait_ms.value_or(limits.acquire_timeout_ms), limits.acquire_timeout_ms));
  std::string id_json = req.id_json;
  p->request = std::move(req);

  p->complete = complete;
  auto grant = [p](std::unique_ptr<Handle> handle) {
    return Grant(p, std::move(handle), /*on_grantor=*/true);
  };

  Pool::Acquired got = pool->Acquire(p->mode, grant);
  switch (got.kind) {
    case Pool::Acquired::kFailed:
      return Done(ErrorReply(id_json, got.status));
    case Pool::Acquired::kGranted: {
      std::string reply;
      p->complete = [&reply](std::string r) { reply = std::move(r); };
      auto back = Grant(p, std::move(got.handle), /*on_grantor=*/false);
      if (back) {  // the client left while we opened the handle
        pool->Return(std::move(back));
        return Done(ErrorReply(id_json, Status(Code::kInternal, "client gone")));
      }
      return Done(std::move(reply));
    }
    case Pool::Acquired::kQueued: {
      Outcome o;
      o.queued = true;
      o.pool = pool;
      o.mode = p->mode;
      o.waiter = got.waiter;
      o.wait = wait;
      o.id_json = id_json;
      return o;
    }
  }
  return Done(ErrorReply(id_json, Status(Code::kInternal, "unreachable")));
}

std::string Dispatcher::RunOnLease(ClientId client, LeaseId lease, const Request& req) const {
  LeaseUse use;
  Status st = services_->leases->Begin(client, lease, req.sql, &use);
  if (!st.ok()) return ErrorReply(req.id_json, st);
  auto start = Clock::now();
  std::string reply;
  if (req.op == Op::kQuery) {
    ResultWriter sink(&reply, req.id_json, services_->max_result_bytes->load());
    StatementOutcome outcome;
    st = use.handle->Query(req.sql, req.params, use.statement_timeout, &sink, &outcome);
    if (st.ok()) sink.Finish(outcome);
  } else {
    int64_t changes = 0;
    st = use.handle->Exec(req.sql, use.statement_timeout, &changes);
    if (st.ok()) {
      ReplyWriter w(&reply, req.id_json);
      w.Key("changes").Int(changes);
      w.Finish();
    }
  }
  use.pool->events()->QueryDone(st.code(), SecondsSince(start));
  TakenLease taken;
  Status end = services_->leases->End(use, &taken);
  if (!end.ok()) {
    if (taken.handle) taken.pool->Return(std::move(taken.handle));
    return ErrorReply(req.id_json, end);
  }
  if (!st.ok()) return ErrorReply(req.id_json, st);
  return reply;
}

std::string Dispatcher::RunOneShot(ClientId client, LeaseId lease, const Request& req) const {
  std::string reply = RunOnLease(client, lease, req);
  TakenLease taken;
  if (services_->leases->Take(client, lease, &taken).ok()) {
    taken.pool->Return(std::move(taken.handle));
  }
  return reply;
}

Outcome Dispatcher::Statement(const ClientContext& client, Request& req, Completion& complete) {
  if (!req.has_lease) return Acquire(client, req, complete);  // one-shot with `db`
  if (!req.lease_well_formed) {
    return Fail(req, Status(Code::kUnknownLease, "no such lease on this connection"));
  }
  return Done(RunOnLease(client.id, req.lease, req));
}

Outcome Dispatcher::Release(const ClientContext& client, Request& req, Completion&) {
  if (!req.lease_well_formed) {
    return Fail(req, Status(Code::kUnknownLease, "no such lease on this connection"));
  }
  TakenLease taken;
  Status st = services_->leases->Take(client.id, req.lease, &taken);
  if (!st.ok()) return Fail(req, st);
  bool rolled_back = taken.pool->Return(std::move(taken.handle));
  std::string out;
  ReplyWriter w(&out, req.id_json);
  w.Key("rolled_back").Bool(rolled_back);
  w.Finish();
  return Done(std::move(out));
}

bool Dispatcher::IsAdmin(const ClientContext& client) const {
  const auto& admins = services_->admin_uids;
  return std::find(admins.begin(), admins.end(), client.peer.uid) != admins.end();
}

Outcome Dispatcher::Stats(const ClientContext& client, Request& req, Completion&) {
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
  w.Finish();
  return Done(std::move(out));
}

Outcome Dispatcher::Leases(const ClientContext& client, Request& req, Completion&) {
  if (!IsAdmin(client)) return Fail(req, Status(Code::kForbidden, "leases is for admin_uids"));
  auto leases = services_->leases->List();
  std::sort(leases.begin(), leases.end(),
            [](const LeaseInfo& a, const LeaseInfo& b) { return a.age_ms > b.age_ms; });
  std::string out;
  ReplyWriter w(&out, req.id_json);
  w.Key("leases").BeginArray();
  for (const LeaseInfo& l : leases) {
    w.BeginObject();
    w.Key("lease").String(LeaseTable::FormatId(l.id));
    w.Key("db").String(l.db).Key("mode").String(ModeName(l.mode));
    w.Key("pid").Int(l.holder.pid).Key("uid").Int(l.holder.uid);
    w.Key("tag").String(l.tag).Key("age_ms").Int(l.age_ms);
    w.Key("in_transaction").Bool(l.in_transaction).Key("last_sql").String(l.last_sql);
    w.EndObject();
  }
  w.EndArray();
  w.Finish();
  return Done(std::move(out));
}

}  // namespace litepool::server
