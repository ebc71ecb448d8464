// The op table: runs one decoded request against the pools and the lease
// table and produces its reply line. Runs on a worker thread; knows nothing
// of sockets. An acquire that must wait finishes later, through a callback.
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

namespace litepool::server {

// The client connection a request came on.
struct ClientContext {
  ClientId id = 0;
  ClientInfo peer;
};

// Receives the reply of a request that finished on another thread.
using Completion = std::function<void(std::string reply)>;

// What Run() produced: a reply now, or an acquire queued in `pool` that
// answers through the Completion later (the caller times it out).
struct Outcome {
  std::string reply;  // set when !queued
  bool queued = false;
  std::shared_ptr<Pool> pool;
  Mode mode = Mode::kWrite;
  uint64_t waiter = 0;
  Millis wait{0};
  std::string id_json;
};

// Thread-safe: many workers run requests at once; per-connection order is
// the caller's (one request of a connection at a time).
class Dispatcher {
 public:
  explicit Dispatcher(const Services* services);

  Outcome Run(const ClientContext& client, std::string_view line, Completion complete);

 private:
  struct Pending;
  using OpFn = Outcome (Dispatcher::*)(const ClientContext&, Request&, Completion&);

  Outcome Hello(const ClientContext&, Request&, Completion&);
  Outcome Ping(const ClientContext&, Request&, Completion&);
  Outcome Acquire(const ClientContext&, Request&, Completion&);
  Outcome Statement(const ClientContext&, Request&, Completion&);
  Outcome Release(const ClientContext&, Request&, Completion&);
  Outcome Stats(const ClientContext&, Request&, Completion&);
  Outcome Leases(const ClientContext&, Request&, Completion&);

  // Turns a granted handle into a lease of `p`'s client and answers.
  // `on_grantor`: we run on the thread of whoever freed the handle.
  static std::unique_ptr<Handle> Grant(const std::shared_ptr<Pending>& p,
                                       std::unique_ptr<Handle> handle, bool on_grantor);
  static bool MakeLease(const Pending& p, std::unique_ptr<Handle>* handle, LeaseId* id);
  // Runs the statement of `req` on a lease the client holds.
  std::string RunOnLease(ClientId client, LeaseId lease, const Request& req) const;
  // A one-shot statement: runs on lease `lease`, then releases it.
  std::string RunOneShot(ClientId client, LeaseId lease, const Request& req) const;
  bool IsAdmin(const ClientContext& client) const;

  const Services* const services_;
};

}  // namespace litepool::server
