// The WAL, checkpoint and backup families (docs/operations.md, "WAL,
// checkpoints and backups"): counters and histograms fed by the
// checkpointer and backups through WalEvents, and the sizes and snapshot
// ages read at scrape time from their source.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "pool/wal_events.h"
#include "pool/wal_report.h"

namespace prometheus {
class Registry;
class Collectable;
}  // namespace prometheus

namespace litepool::metrics {

class WalFamilies;
class DatabaseWalMetrics;

// Built on the main thread with the registry; ForDatabase() from any
// thread (a reload adds databases); the event sinks are thread-safe.
class WalMetrics {
 public:
  using Source = std::function<std::vector<WalReport>()>;

  explicit WalMetrics(prometheus::Registry& registry);
  ~WalMetrics();

  WalEvents* ForDatabase(const std::string& db);
  // Where the scrape-time gauges come from; set once the pools exist,
  // before the endpoint serves.
  void SetSource(Source source);
  std::shared_ptr<prometheus::Collectable> collectable() const;

 private:
  std::unique_ptr<WalFamilies> families_;
  Mutex mu_;
  std::map<std::string, std::unique_ptr<DatabaseWalMetrics>> databases_ GUARDED_BY(mu_);
  std::shared_ptr<class WalCollector> collector_;
};

}  // namespace litepool::metrics
