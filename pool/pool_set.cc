// Lookup of pools by database name.
#include "pool/pool_set.h"

namespace litepool {

std::shared_ptr<Pool> PoolSet::Find(std::string_view name) const {
  ReaderLock lock(&mu_);
  auto it = pools_.find(name);
  return it == pools_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Pool>> PoolSet::All() const {
  ReaderLock lock(&mu_);
  std::vector<std::shared_ptr<Pool>> out;
  out.reserve(pools_.size());
  for (const auto& [name, pool] : pools_) out.push_back(pool);
  return out;
}

std::vector<std::string> PoolSet::Names() const {
  ReaderLock lock(&mu_);
  std::vector<std::string> out;
  for (const auto& [name, pool] : pools_) out.push_back(name);
  return out;
}

void PoolSet::Add(std::shared_ptr<Pool> pool) {
  WriterLock lock(&mu_);
  pools_[pool->name()] = std::move(pool);
}

std::shared_ptr<Pool> PoolSet::Remove(const std::string& name) {
  WriterLock lock(&mu_);
  auto it = pools_.find(name);
  if (it == pools_.end()) return nullptr;
  auto pool = std::move(it->second);
  pools_.erase(it);
  return pool;
}

}  // namespace litepool
