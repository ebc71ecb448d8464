// Waiting for a request's reply in the calling thread.
#include "server/in_process_connection.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>

#include "base/mutex.h"
#include "server/reply.h"

namespace litepool::server {

// What settled on other threads, in the order it did: the results of
// hand-overs and the grants of queued acquires, kept apart because a grant
// may arrive before the report that its request queued.
class InProcessConnection::Mailbox {
 public:
  void Put(Settled settled, bool grant) {
    MutexLock lock(&mu_);
    (grant ? granted_ : finished_).push_back(std::move(settled));
    cv_.SignalAll();
  }
  // The next result of a hand-over, waiting as long as it takes.
  Settled TakeFinished() {
    MutexLock lock(&mu_);
    while (finished_.empty()) cv_.Wait(&mu_);
    return Pop(&finished_);
  }
  // The next grant, which is on its way.
  Settled TakeGrant() {
    MutexLock lock(&mu_);
    while (granted_.empty()) cv_.Wait(&mu_);
    return Pop(&granted_);
  }
  // The next grant, waiting until `deadline`; nothing if none came.
  std::optional<Settled> TakeGrant(std::chrono::steady_clock::time_point deadline) {
    MutexLock lock(&mu_);
    while (granted_.empty()) {
      if (!cv_.WaitUntil(&mu_, deadline) && granted_.empty()) return std::nullopt;
    }
    return Pop(&granted_);
  }

 private:
  static Settled Pop(std::deque<Settled>* q) {
    Settled s = std::move(q->front());
    q->pop_front();
    return s;
  }

  Mutex mu_;
  CondVar cv_;
  std::deque<Settled> finished_ GUARDED_BY(mu_);
  std::deque<Settled> granted_ GUARDED_BY(mu_);
};

InProcessConnection::InProcessConnection(RequestDriver* driver, const ClientContext& client,
                                         Millis max_wait)
    : driver_(driver), max_wait_(max_wait), mailbox_(std::make_shared<Mailbox>()) {
  std::weak_ptr<Mailbox> weak = mailbox_;
  connection_ = driver_->Connect(
      client,
      [weak](Settled s) {
        if (auto box = weak.lock()) box->Put(std::move(s), /*grant=*/false);
      },
      [weak](Settled s) {
        if (auto box = weak.lock()) box->Put(std::move(s), /*grant=*/true);
      });
}

InProcessConnection::~InProcessConnection() { driver_->Disconnect(*connection_); }

std::string InProcessConnection::Run(std::string_view line) {
  std::optional<Settled> started = driver_->Start(connection_, line);
  Settled settled = started ? std::move(*started) : mailbox_->TakeFinished();
  while (std::holds_alternative<Queued>(settled)) {
    Queued queued = std::move(std::get<Queued>(settled));
    auto deadline = std::chrono::steady_clock::now() + std::min(queued.wait, max_wait_);
    std::optional<Settled> grant = mailbox_->TakeGrant(deadline);
    if (!grant) {
      if (queued.ticket.Withdraw(AcquireResult::kTimeout)) {
        return ErrorReply(queued.ticket.id_json(),
                          Status(Code::kAcquireTimeout, "no handle became free in time"));
      }
      grant = mailbox_->TakeGrant();  // granted meanwhile
    } else {
      queued.ticket.Granted();
    }
    settled = std::move(*grant);
  }
  return std::move(std::get<Answer>(settled).line);
}

}  // namespace litepool::server
