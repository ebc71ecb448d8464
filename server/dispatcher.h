// The op table: what each op of docs/protocol.md does with the pools and
// the lease table. It takes decoded requests and returns Outcomes; the
// order of the steps (I/O thread, worker, wait) is the RequestDriver's, and
// every reply line is formatted by server/reply. Knows nothing of sockets.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "pool/lease_table.h"
#include "pool/pool.h"
#include "server/outcome.h"
#include "server/request.h"
#include "server/services.h"
#include "wire/peer.h"

namespace litepool::server {

// The client connection a request came on.
struct ClientContext {
  ClientId id = 0;
  wire::PeerCredentials peer;
};

// Where a step of a request runs. On the I/O thread only what cannot block
// runs: no handle is opened, rolled back or closed there, and statements
// run as a QuickRun (read-only, a short budget, no lock waits). The rest is
// returned as a Handover, to continue on a worker.
enum class Place { kIoThread, kWorker };

// What a lease will be once a handle is granted: its terms without times.
struct LeasePlan {
  Mode mode = Mode::kWrite;
  Millis lease_ms{0};
  Millis leak_warn{0};  // 0: no leak warning
  Millis statement_timeout{0};
};

// Thread-safe: the I/O threads and many workers run requests at once;
// per-connection order is the caller's (one request of a connection at a
// time). `complete` is copied only when an acquire queues.
class Dispatcher {
 public:
  explicit Dispatcher(const Services* services);

  // A connection opened: its leases will be counted and owned.
  void ClientJoined(const ClientContext& client);
  // A connection closed: its leases go back to their pools (rolled back on
  // a worker); a statement still running on one is interrupted.
  void ClientGone(const ClientContext& client);

  // Decodes `line` and runs it as far as it can go at `place`.
  Outcome Run(const ClientContext& client, std::string_view line, Place place,
              const Completion& complete);
  // Runs, on a worker, what a step left.
  Outcome Continue(const ClientContext& client, Continuation rest, const Completion& complete);

 private:
  struct Pending;
  struct Call {
    const ClientContext& client;
    Request& req;
    const Completion& complete;
    Place place;
  };
  // An acquire checked against its pool: where and on what terms.
  struct Leasing {
    std::shared_ptr<Pool> pool;
    LeasePlan plan;
    Millis wait{0};
  };
  // What a statement on a lease produced; `gave_up`: its quick run did not
  // happen or did not finish, and the reply means nothing.
  struct LeaseRun {
    std::string reply;
    bool gave_up = false;
    bool needs_writer = false;  // mode auto: the statement writes; nothing ran
  };

  Outcome RunDecoded(const ClientContext& client, Request& req, Place place,
                     const Completion& complete);
  Outcome Hello(Call&);
  Outcome Ping(Call&);
  Outcome Acquire(Call&);
  // server/one_shot_op.cc: query/exec with `db` instead of a lease.
  Outcome OneShot(Call&);
  Outcome Statement(Call&);
  Outcome Release(Call&);
  Outcome Stats(Call&);
  Outcome Leases(Call&);
  // server/backup_op.cc: the admin `backup` request (docs/protocol.md).
  Outcome Backup(Call&);

  // The checks acquire and the one-shot share: draining, the database,
  // max_leases_per_client (acquire only: a one-shot holds its handle only
  // while its own request runs); and the lease's terms, read without a lock
  // (Pool::lease_limits). allowed_uids is checked by the pool's Acquire.
  Status Check(Call& call, Leasing* out) const;
  // Takes a handle for the request: the handle, or what to return instead
  // (a failure, a wait, a hand-over to open one).
  std::variant<PooledHandle, Outcome> TakeHandle(Call& call, const Leasing& leasing);
  // TakeHandle, then makes the handle a lease: the lease id, or what to
  // return instead.
  std::variant<LeaseId, Outcome> Lease(Call& call, const Leasing& leasing);
  // A one-shot query on the I/O thread, on a handle that is not a lease.
  Outcome QuickOneShot(Call& call, const Leasing& leasing);
  // The one-shot's statement on its new lease, then the release.
  Outcome RunOneShot(Call& call, LeaseId lease);
  // A one-shot in mode auto whose statement writes: from the start, as a
  // write one-shot.
  Outcome ToWriter(Call& call);

  // Turns a handle granted to a queued waiter into a lease of `p`'s client
  // and answers; runs on the thread of whoever freed the handle.
  static std::unique_ptr<Handle> Grant(const std::shared_ptr<Pending>& p,
                                       std::unique_ptr<Handle> handle);
  bool MakeLease(ClientId client, const LeasePlan& plan, std::string_view tag, PooledHandle* handle,
                 LeaseId* id) const;
  // Runs the statement of `req` on a lease the client holds.
  LeaseRun RunOnLease(ClientId client, LeaseId lease, const Request& req, Place place) const;
  // Runs the statement of `req` on `handle` of `pool` and formats its
  // reply; as a QuickRun on the I/O thread.
  LeaseRun RunStatement(Handle& handle, Pool& pool, Millis statement_timeout, const Request& req,
                        Place place) const;
  bool IsAdmin(const ClientContext& client) const;

  const Services* const services_;
};

}  // namespace litepool::server
