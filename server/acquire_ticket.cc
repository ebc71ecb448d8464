// Withdrawing a queued acquire.
#include "server/acquire_ticket.h"

#include <utility>

namespace litepool::server {

AcquireTicket::AcquireTicket(std::shared_ptr<Pool> pool, Mode mode, uint64_t waiter,
                             std::string id_json)
    : pool_(std::move(pool)), mode_(mode), waiter_(waiter), id_json_(std::move(id_json)) {}

AcquireTicket::~AcquireTicket() {
  if (pool_) pool_->CancelWaiter(mode_, waiter_, AcquireResult::kError);
}

AcquireTicket::AcquireTicket(AcquireTicket&& other) noexcept
    : pool_(std::move(other.pool_)),
      mode_(other.mode_),
      waiter_(other.waiter_),
      id_json_(std::move(other.id_json_)) {}

AcquireTicket& AcquireTicket::operator=(AcquireTicket&& other) noexcept {
  if (this != &other) {
    if (pool_) pool_->CancelWaiter(mode_, waiter_, AcquireResult::kError);
    pool_ = std::move(other.pool_);
    mode_ = other.mode_;
    waiter_ = other.waiter_;
    id_json_ = std::move(other.id_json_);
  }
  return *this;
}

bool AcquireTicket::Withdraw(AcquireResult why) {
  if (!pool_) return false;
  bool withdrawn = pool_->CancelWaiter(mode_, waiter_, why);
  pool_.reset();
  return withdrawn;
}

}  // namespace litepool::server
