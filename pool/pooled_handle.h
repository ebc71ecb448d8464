// A handle out of its pool, for as long as a lease or a request holds it.
#pragma once

#include <memory>

#include "pool/handle.h"

namespace litepool {

class Pool;

// Owns one handle taken from `pool` and gives it back when it goes: at
// once when that needs no SQLite work, else on one of the pool's workers
// (a rollback or a close never runs on the thread that drops it). So a
// handle cannot be forgotten: every path that loses it returns it.
// Move-only; used by one thread at a time, like the handle itself.
class PooledHandle {
 public:
  PooledHandle() = default;
  PooledHandle(std::shared_ptr<Pool> pool, std::unique_ptr<Handle> handle);
  ~PooledHandle();
  PooledHandle(PooledHandle&& other) noexcept = default;
  PooledHandle& operator=(PooledHandle&& other) noexcept;
  PooledHandle(const PooledHandle&) = delete;
  PooledHandle& operator=(const PooledHandle&) = delete;

  explicit operator bool() const { return handle_ != nullptr; }
  Handle* operator->() const { return handle_.get(); }
  Handle& operator*() const { return *handle_; }
  Pool& pool() const { return *pool_; }

  // Gives the handle back now, on this thread: may roll back and close, so
  // only on a worker. Returns whether a transaction was rolled back.
  bool Return() &&;
  // Gives it back if that needs no SQLite work (no transaction, nothing to
  // close); otherwise keeps it and returns false. Never blocks.
  bool ReturnQuickly();
  // Hands the handle to the caller without returning it: for a grant whose
  // client has gone, which offers it to the next waiter.
  std::unique_ptr<Handle> Detach() &&;

 private:
  void GiveBack();

  std::shared_ptr<Pool> pool_;
  std::unique_ptr<Handle> handle_;
};

}  // namespace litepool
