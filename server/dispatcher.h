// The op table: runs one decoded request against the pools and the lease
// table and produces its reply line. Knows nothing of sockets. A request
// starts on the I/O thread and moves to a worker only if it could block; an
// acquire that must wait finishes later, through a callback.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "pool/lease_table.h"
#include "pool/pool.h"
#include "server/request.h"
#include "server/services.h"
#include "wire/peer.h"

namespace litepool::server {

// The client connection a request came on.
struct ClientContext {
  ClientId id = 0;
  wire::PeerCredentials peer;
};

struct Outcome;
// Receives what became of a queued acquire on another thread: its reply, or
// (a one-shot in mode auto whose statement turned out to write) a new wait
// in the writer's queue.
using Completion = std::function<void(Outcome outcome)>;

// Where a request is being run. On the I/O thread only what cannot block
// runs: no handle is opened, rolled back or closed there, and statements
// run as a QuickRun (read-only, a short budget, no lock waits). The rest is
// handed to a worker as a Continuation.
enum class Place { kIoThread, kWorker };

// What a request started on the I/O thread leaves for a worker.
struct Continuation {
  enum class Stage {
    kRequest,  // run the whole request again
    kOneShot,  // run the one-shot statement on `lease` (already made), then release it
    kRelease,  // give `taken` back to its pool and answer
  };
  Stage stage = Stage::kRequest;
  Request request;
  LeaseId lease = 0;
  TakenLease taken;
};

// What Run() produced: a reply now; or an acquire queued in `pool` that
// answers through the Completion later (the caller times it out); or, with
// `rest` set, work to finish with Continue() on a worker.
struct Outcome {
  std::string reply;  // set when !queued and !rest
  bool queued = false;
  std::shared_ptr<Pool> pool;
  Mode mode = Mode::kWrite;
  uint64_t waiter = 0;
  Millis wait{0};
  std::string id_json;
  std::unique_ptr<Continuation> rest;
};

// What a lease will be once a handle is granted: its terms without times.
struct LeasePlan {
  Mode mode = Mode::kWrite;
  Millis lease_ms{0};
  Millis leak_warn{0};  // 0: no leak warning
  Millis statement_timeout{0};
};

// Thread-safe: the I/O thread and many workers run requests at once;
// per-connection order is the caller's (one request of a connection at a
// time). `complete` is copied only when an acquire queues.
class Dispatcher {
 public:
  explicit Dispatcher(const Services* services);

  Outcome Run(const ClientContext& client, std::string_view line, const Completion& complete,
              Place place = Place::kWorker);
  // Finishes, on a worker, what Run() on the I/O thread left.
  Outcome Continue(const ClientContext& client, Continuation rest, const Completion& complete);

 private:
  struct Pending;
  struct Call {
    const ClientContext& client;
    Request& req;
    const Completion& complete;
    Place place;
  };
  // What a statement on a lease produced; `gave_up`: its quick run did not
  // happen or did not finish, and the reply means nothing.
  struct LeaseRun {
    std::string reply;
    bool gave_up = false;
    bool needs_writer = false;  // mode auto: the statement writes; nothing ran
  };
  using OpFn = Outcome (Dispatcher::*)(Call&);

  Outcome Hello(Call&);
  Outcome Ping(Call&);
  Outcome Acquire(Call&);
  Outcome Statement(Call&);
  Outcome Release(Call&);
  Outcome Stats(Call&);
  Outcome Leases(Call&);
  // server/backup_op.cc: the admin `backup` request (docs/protocol.md).
  Outcome Backup(Call&);
  // A one-shot in mode auto whose statement writes: runs it again from the
  // start as a write one-shot.
  Outcome ToWriter(Call& call);

  // Turns a handle granted to a queued waiter into a lease of `p`'s client
  // and answers; runs on the thread of whoever freed the handle.
  static std::unique_ptr<Handle> Grant(const std::shared_ptr<Pending>& p,
                                       std::unique_ptr<Handle> handle);
  bool MakeLease(ClientId client, Pool* pool, const LeasePlan& plan, std::string_view tag,
                 std::unique_ptr<Handle>* handle, LeaseId* id) const;
  // Runs the statement of `req` on a lease the client holds.
  LeaseRun RunOnLease(ClientId client, LeaseId lease, const Request& req, Place place) const;
  // A one-shot statement: runs on lease `lease`, then releases it.
  LeaseRun RunOneShot(ClientId client, LeaseId lease, const Request& req, Place place) const;
  // Gives a handle back to `pool` without blocking the I/O thread.
  void GiveBack(Pool* pool, std::unique_ptr<Handle> handle, Place place) const;
  bool IsAdmin(const ClientContext& client) const;

  const Services* const services_;
};

}  // namespace litepool::server
