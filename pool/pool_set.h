// The pools of all configured databases, by name. Pools are shared_ptrs so
// that a reload can remove one while requests still finish on it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "pool/pool.h"

namespace litepool {

// Thread-safe: lookups take a shared lock; Add/Remove an exclusive one.
class PoolSet {
 public:
  std::shared_ptr<Pool> Find(std::string_view name) const;
  std::vector<std::shared_ptr<Pool>> All() const;
  std::vector<std::string> Names() const;
  void Add(std::shared_ptr<Pool> pool);
  std::shared_ptr<Pool> Remove(const std::string& name);

 private:
  mutable SharedMutex mu_;
  std::map<std::string, std::shared_ptr<Pool>, std::less<>> pools_ GUARDED_BY(mu_);
};

}  // namespace litepool
