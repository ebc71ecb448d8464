// Giving a handle back to its pool.
#include "pool/pooled_handle.h"

#include <utility>

#include "pool/pool.h"

namespace litepool {

PooledHandle::PooledHandle(std::shared_ptr<Pool> pool, std::unique_ptr<Handle> handle)
    : pool_(std::move(pool)), handle_(std::move(handle)) {}

PooledHandle::~PooledHandle() { GiveBack(); }

PooledHandle& PooledHandle::operator=(PooledHandle&& other) noexcept {
  if (this != &other) {
    GiveBack();
    pool_ = std::move(other.pool_);
    handle_ = std::move(other.handle_);
  }
  return *this;
}

void PooledHandle::GiveBack() {
  if (handle_) pool_->Release(std::move(handle_));
}

bool PooledHandle::Return() && {
  if (!handle_) return false;
  return pool_->Return(std::move(handle_));
}

bool PooledHandle::ReturnQuickly() {
  if (!handle_) return true;
  return pool_->ReturnQuickly(&handle_);
}

std::unique_ptr<Handle> PooledHandle::Detach() && { return std::move(handle_); }

}  // namespace litepool
