// A queued acquire, held by the connection that waits for it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pool/pool.h"

namespace litepool::server {

// Owns a place in one pool's queue of waiters. Dropping the ticket while it
// still waits withdraws it (counted as an error): a connection that goes
// away cannot leave a waiter behind. Move-only; touched by one thread at a
// time (the connection's), while the grant itself runs wherever a handle is
// freed and reaches the connection through its Completion.
class AcquireTicket {
 public:
  AcquireTicket(std::shared_ptr<Pool> pool, Mode mode, uint64_t waiter, std::string id_json);
  ~AcquireTicket();
  AcquireTicket(AcquireTicket&& other) noexcept;
  AcquireTicket& operator=(AcquireTicket&& other) noexcept;
  AcquireTicket(const AcquireTicket&) = delete;
  AcquireTicket& operator=(const AcquireTicket&) = delete;

  // Leaves the queue, counting `why` as the acquire's result. False if a
  // handle was granted first: its answer is on its way.
  bool Withdraw(AcquireResult why);
  // The grant has answered: nothing left to withdraw.
  void Granted() { pool_.reset(); }
  // The request's id, for the reply of a wait that times out.
  const std::string& id_json() const { return id_json_; }

 private:
  std::shared_ptr<Pool> pool_;  // null once withdrawn or granted
  Mode mode_;
  uint64_t waiter_;
  std::string id_json_;
};

}  // namespace litepool::server
