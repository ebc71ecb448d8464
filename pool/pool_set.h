// The pools of all configured databases, by name. Pools are shared_ptrs so
// that a reload can remove one while requests still finish on it.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "pool/pool.h"

namespace litepool {

// Thread-safe. Find, on every request, takes no lock: each thread keeps its
// own copy of the name-to-pool directory and takes the lock only to refresh
// it after an Add or Remove (a reload), which publishes a new version.
// The copies hold weak references, so a removed pool still goes (and lets
// go of its file) as soon as its last request is done, whatever threads
// have not looked anything up since.
class PoolSet {
 public:
  PoolSet();

  std::shared_ptr<Pool> Find(std::string_view name) const;
  std::vector<std::shared_ptr<Pool>> All() const;
  std::vector<std::string> Names() const;
  void Add(std::shared_ptr<Pool> pool);
  std::shared_ptr<Pool> Remove(const std::string& name);

 private:
  using Directory = std::map<std::string, std::weak_ptr<Pool>, std::less<>>;

  // A new Directory for the readers; called with mu_ held.
  void PublishLocked() REQUIRES(mu_);
  // This thread's copy of the directory, refreshed if a newer one exists.
  const Directory& Current() const;

  mutable SharedMutex mu_;
  std::map<std::string, std::shared_ptr<Pool>, std::less<>> pools_ GUARDED_BY(mu_);
  std::shared_ptr<const Directory> directory_ GUARDED_BY(mu_);
  // The version of directory_, unique across every PoolSet of the process
  // (a new set at a dead one's address never matches a thread's copy).
  std::atomic<uint64_t> version_{0};
};

}  // namespace litepool
