// What running a request produces, as variants of states that each carry
// only their own fields (docs/architecture.md, "The path of a request").
// No sockets, no Asio.
#pragma once

#include <functional>
#include <string>
#include <variant>

#include "pool/lease_table.h"
#include "server/acquire_ticket.h"
#include "server/request.h"

namespace litepool::server {

// The request is answered: its reply line, newline included.
struct Answer {
  std::string line;
};

// The request waits in a pool's queue for a handle, for at most `wait`.
// Whoever frees a handle answers it through the connection's Completion.
struct Queued {
  AcquireTicket ticket;
  Millis wait{0};
};

// What a request started on the I/O thread leaves for a worker, where it
// may block (docs/architecture.md, "Quick runs on the I/O thread"):
// the whole request again, from the start;
struct RunOnWorker {
  Request request;
};
// a one-shot's statement on the lease made for it, then its release;
struct FinishOneShot {
  Request request;
  LeaseId lease = 0;
};
// a release whose handle needs a rollback or a close.
struct FinishRelease {
  std::string id_json;
  PooledHandle handle;
};
using Continuation = std::variant<RunOnWorker, FinishOneShot, FinishRelease>;

// The request goes on on a worker.
struct Handover {
  Continuation rest;
};

// What the Dispatcher's steps return.
using Outcome = std::variant<Answer, Queued, Handover>;
// What a request comes to once no step is left: a reply, or a wait.
using Settled = std::variant<Answer, Queued>;

// Receives what became of a queued acquire, on the thread that granted it:
// a reply; a Handover (a one-shot's statement, to run on a worker); or, for
// a one-shot in mode auto whose statement writes, a new wait in the
// writer's queue.
using Completion = std::function<void(Outcome)>;

}  // namespace litepool::server
