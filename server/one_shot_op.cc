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
  auto leased = Lease(call, leasing);
  if (auto* outcome = std::get_if<Outcome>(&leased)) return std::move(*outcome);
  return RunOneShot(call, std::get<LeaseId>(leased));
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
