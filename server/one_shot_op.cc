// The one-shot: `query` or `exec` with `db` instead of a lease
// (docs/protocol.md, "One-shot statements"). A lease is made, the statement
// runs on it and the lease is released, in one request; in mode auto it
// starts on a read handle and moves to the writer if the statement writes.
#include "server/dispatcher.h"
#include "server/reply.h"

namespace litepool::server {

Outcome Dispatcher::OneShot(Call& call) {
  Leasing leasing;
  Status st = Check(call, &leasing);
  if (!st.ok()) return Answer{ErrorReply(call.req.id_json, st)};
  if (call.place == Place::kIoThread && call.req.op == Op::kQuery) {
    return QuickOneShot(call, leasing);
  }
  auto leased = Lease(call, leasing);
  if (auto* outcome = std::get_if<Outcome>(&leased)) return std::move(*outcome);
  return RunOneShot(call, std::get<LeaseId>(leased));
}

// On the I/O thread the handle is this request's alone from the acquire to
// the return, on one thread and within the quick budget: nothing else can
// use, revoke or interrupt it meanwhile, so it needs no lease, and the
// request takes the pool's lock once to acquire and once to return
// (docs/architecture.md, "The path of a one-shot"). Only a statement that
// does not finish in its quick run becomes a lease, to go on on a worker
// where the reaper can reach it.
Outcome Dispatcher::QuickOneShot(Call& call, const Leasing& leasing) {
  auto taken = TakeHandle(call, leasing);
  if (auto* outcome = std::get_if<Outcome>(&taken)) return std::move(*outcome);
  PooledHandle handle = std::move(std::get<PooledHandle>(taken));
  LeaseRun run =
      RunStatement(*handle, handle.pool(), leasing.plan.statement_timeout, call.req, call.place);
  if (run.gave_up) {
    LeaseId id;
    if (!MakeLease(call.client.id, leasing.plan, call.req.tag, &handle, &id)) {
      return Answer{ErrorReply(call.req.id_json, Status(Code::kInternal, "client gone"))};
    }
    return Handover{FinishOneShot{std::move(call.req), id}};
  }
  handle = PooledHandle();  // back to the pool before a move to the writer
  if (run.needs_writer) return ToWriter(call);
  return Answer{std::move(run.reply)};
}

Outcome Dispatcher::RunOneShot(Call& call, LeaseId lease) {
  const ClientId client = call.client.id;
  LeaseRun run = RunOnLease(client, lease, call.req, call.place);
  if (run.gave_up) {
    // The lease stays, for the worker to run the statement again.
    return Handover{FinishOneShot{std::move(call.req), lease}};
  }
  PooledHandle taken;
  if (services_->leases->Take(client, lease, &taken).ok() && call.place == Place::kWorker) {
    std::move(taken).Return();
  }  // else it goes back as it drops: at once, or on a worker
  if (run.needs_writer) return ToWriter(call);
  return Answer{std::move(run.reply)};
}

Outcome Dispatcher::ToWriter(Call& call) {
  call.req.mode = Mode::kWrite;
  call.req.auto_mode = false;
  return OneShot(call);
}

}  // namespace litepool::server
