// Lookup of pools by database name.
#include "pool/pool_set.h"

namespace litepool {
namespace {

std::atomic<uint64_t> g_next_version{1};

// One thread's copy of the directory of the set it looked up in last.
struct DirectoryCopy {
  const void* set = nullptr;
  uint64_t version = 0;
  std::shared_ptr<const void> directory;
};
thread_local DirectoryCopy t_copy;

}  // namespace

PoolSet::PoolSet() {
  WriterLock lock(&mu_);
  PublishLocked();
}

void PoolSet::PublishLocked() {
  auto directory = std::make_shared<Directory>();
  for (const auto& [name, pool] : pools_) directory->emplace(name, pool);
  directory_ = std::move(directory);
  version_.store(g_next_version.fetch_add(1, std::memory_order_relaxed), std::memory_order_release);
}

const PoolSet::Directory& PoolSet::Current() const {
  uint64_t version = version_.load(std::memory_order_acquire);
  if (t_copy.set != this || t_copy.version != version) {
    ReaderLock lock(&mu_);
    t_copy.set = this;
    t_copy.version = version_.load(std::memory_order_relaxed);
    t_copy.directory = directory_;
  }
  return *static_cast<const Directory*>(t_copy.directory.get());
}

std::shared_ptr<Pool> PoolSet::Find(std::string_view name) const {
  const Directory& directory = Current();
  auto it = directory.find(name);
  return it == directory.end() ? nullptr : it->second.lock();
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
  PublishLocked();
}

std::shared_ptr<Pool> PoolSet::Remove(const std::string& name) {
  WriterLock lock(&mu_);
  auto it = pools_.find(name);
  if (it == pools_.end()) return nullptr;
  auto pool = std::move(it->second);
  pools_.erase(it);
  PublishLocked();
  return pool;
}

}  // namespace litepool
