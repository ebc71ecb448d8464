// The Prometheus side of the daemon (docs/operations.md, "Metrics"): every family registered once
// at start, label children bound in constructors and kept as references, so
// the hot path never looks anything up by string. Gauges that describe
// current state (handles, waiters, memory, the process) are read at scrape
// time from their sources, so `open == idle + leased` holds in every scrape.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/mutex.h"
#include "metrics/wal_metrics.h"
#include "pool/pool.h"
#include "pool/pool_events.h"
#include "pool/reaper.h"

namespace prometheus {
class Exposer;
class Gauge;
class Counter;
}  // namespace prometheus

namespace litepool::metrics {

class Families;
class MetricsRegistry;
class DatabaseMetrics;
class ReaperMetrics;

// Owns the registry, the HTTP exposer and every metric. Constructed on the
// main thread before anything runs; its event sinks are thread-safe.
class Metrics {
 public:
  using PoolSource = std::function<std::vector<PoolSnapshot>()>;

  Metrics(const std::vector<std::string>& databases, PoolSource pools);
  ~Metrics();

  // The event sink of one database: made for the databases named at start,
  // and on first use for those a reload brings; the same one for a name.
  PoolEvents* AddDatabase(const std::string& db);
  ReaperEvents* reaper();
  // The WAL, checkpoint and backup families.
  WalMetrics& wal() { return *wal_; }
  PoolCounters Counters(const std::string& db, Mode mode) const;

  void ClientConnected();
  void ClientDisconnected();
  void ConfigReloaded(bool ok);

  // Serves the registry at http://listen/path. Returns false with *error set
  // if it cannot bind; *url gets the address actually bound (port 0 picks).
  bool Serve(const std::string& listen, const std::string& path, std::string* url,
             std::string* error);

  // The text a scrape would return, for tests and tools.
  std::string Render() const;

 private:
  std::shared_ptr<MetricsRegistry> registry_;
  std::unique_ptr<Families> families_;
  mutable Mutex mu_;
  std::map<std::string, std::unique_ptr<DatabaseMetrics>> databases_ GUARDED_BY(mu_);
  std::unique_ptr<ReaperMetrics> reaper_;
  std::unique_ptr<WalMetrics> wal_;
  std::shared_ptr<class StateCollector> state_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace litepool::metrics
