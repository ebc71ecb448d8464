// Metric families, their children, and the scrape-time state collector.
#include "metrics/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <sqlite3.h>

#include <array>

#include "litepool/version.h"
#include "metrics/atomic_histogram.h"
#include "metrics/gauge_family.h"
#include "metrics/histogram_family.h"
#include "metrics/metrics_registry.h"
#include "metrics/process_stats.h"
#include "wire/error_code.h"

namespace litepool::metrics {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;

namespace {

const std::vector<double> kWaitBuckets = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05,
                                          0.1,    0.5,    1,     2.5,   5,    10};
const std::vector<double> kLeaseBuckets = {0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800};
const std::vector<double> kQueryBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                           0.01,    0.05,   0.1,     0.5,    1,     5};
const std::vector<double> kReaperBuckets = {0.00001, 0.00005, 0.0001, 0.0005, 0.001,
                                            0.005,   0.01,    0.1,    1};

}  // namespace

// Every family of docs/operations.md, "Metrics" that is updated by events (the state gauges are
// the StateCollector's). The histograms the request path and the reaper observe are lock-free
// ones (AtomicHistogram), registered in `h`; the rest are prometheus-cpp's, in `r`.
class Families {
 public:
  Families(prometheus::Registry& r, MetricsRegistry& h)
      : acquires(prometheus::BuildCounter()
                     .Name("litepool_acquires_total")
                     .Help("Acquire requests by database, mode and result (ok, timeout, "
                           "exhausted, error).")
                     .Register(r)),
        acquire_wait(h.AddHistogram("litepool_acquire_wait_seconds",
                                    "Time from an acquire request to its lease.")),
        lease_duration(h.AddHistogram("litepool_lease_duration_seconds",
                                      "Time from lease to release or revocation.")),
        lease_timeouts(prometheus::BuildCounter()
                           .Name("litepool_lease_timeouts_total")
                           .Help("Leases revoked by the reaper because they passed their "
                                 "lease timeout.")
                           .Register(r)),
        leak_warnings(prometheus::BuildCounter()
                          .Name("litepool_lease_leak_warnings_total")
                          .Help("Leases held longer than leak_warn_ms (logged once each).")
                          .Register(r)),
        opened(prometheus::BuildCounter()
                   .Name("litepool_handles_opened_total")
                   .Help("SQLite handles opened.")
                   .Register(r)),
        closed(prometheus::BuildCounter()
                   .Name("litepool_handles_closed_total")
                   .Help("SQLite handles closed, by reason (max_lifetime, idle_timeout, reset, "
                         "error, shutdown, reload).")
                   .Register(r)),
        queries(prometheus::BuildCounter()
                    .Name("litepool_queries_total")
                    .Help("Statements run (query and exec), by result: ok or the error code.")
                    .Register(r)),
        query_duration(h.AddHistogram("litepool_query_duration_seconds",
                                      "Time to run a statement and build its reply.")),
        clients(prometheus::BuildGauge()
                    .Name("litepool_clients_connected")
                    .Help("Client connections open.")
                    .Register(r)
                    .Add({})),
        reloads(prometheus::BuildCounter()
                    .Name("litepool_config_reloads_total")
                    .Help("Configuration reloads on SIGHUP, by result (ok, error).")
                    .Register(r)),
        build_info(prometheus::BuildGauge()
                       .Name("litepool_build_info")
                       .Help("Always 1; the version label tells the build.")
                       .Register(r)),
        reaper_up(prometheus::BuildGauge()
                      .Name("litepool_reaper_up")
                      .Help("1 while the reaper thread runs.")
                      .Register(r)
                      .Add({})),
        reaper_last_run(prometheus::BuildGauge()
                            .Name("litepool_reaper_last_run_timestamp_seconds")
                            .Help("Unix time the last reaper pass finished.")
                            .Register(r)
                            .Add({})),
        reaper_duration(h.AddHistogram("litepool_reaper_run_duration_seconds",
                                       "Time the reaper spends on one pass.")
                            .Add({}, kReaperBuckets)),
        reaper_lag(prometheus::BuildGauge()
                       .Name("litepool_reaper_lag_seconds")
                       .Help("How late the last reaper pass started against its schedule.")
                       .Register(r)
                       .Add({})),
        reaper_runs(prometheus::BuildCounter()
                        .Name("litepool_reaper_runs_total")
                        .Help("Reaper passes run.")
                        .Register(r)
                        .Add({})),
        storage_faults(prometheus::BuildCounter()
                           .Name("litepool_storage_faults_total")
                           .Help("Storage faults met by statements and handle opens, by kind "
                                 "(disk_full, storage_error, corrupt, file_gone).")
                           .Register(r)),
        database_up(prometheus::BuildGauge()
                        .Name("litepool_database_up")
                        .Help("1 while the database is open and serving; 0 while it cannot be "
                              "opened (missing, corrupt, not permitted, locked by another "
                              "daemon) and is retried.")
                        .Register(r)),
        reload_ok(reloads.Add({{"result", "ok"}})),
        reload_error(reloads.Add({{"result", "error"}})) {
    build_info.Add({{"version", kVersion}}).Set(1);
  }

  Family<Counter>& acquires;
  HistogramFamily& acquire_wait;
  HistogramFamily& lease_duration;
  Family<Counter>& lease_timeouts;
  Family<Counter>& leak_warnings;
  Family<Counter>& opened;
  Family<Counter>& closed;
  Family<Counter>& queries;
  HistogramFamily& query_duration;
  Gauge& clients;
  Family<Counter>& reloads;
  Family<Gauge>& build_info;
  Gauge& reaper_up;
  Gauge& reaper_last_run;
  AtomicHistogram& reaper_duration;
  Gauge& reaper_lag;
  Counter& reaper_runs;
  Family<Counter>& storage_faults;
  Family<Gauge>& database_up;
  Counter& reload_ok;
  Counter& reload_error;
};

// The children of one database, bound once; the event methods only touch
// references.
class DatabaseMetrics final : public PoolEvents {
 public:
  DatabaseMetrics(Families& f, const std::string& db)
      : lease_timeouts_(f.lease_timeouts.Add({{"db", db}})),
        leak_warnings_(f.leak_warnings.Add({{"db", db}})),
        query_duration_(f.query_duration.Add({{"db", db}}, kQueryBuckets)),
        up_(f.database_up.Add({{"db", db}})) {
    for (size_t k = 0; k < kStorageFaultCount; ++k) {
      faults_[k] = &f.storage_faults.Add({{"db", db}, {"kind", wire::CodeName(kStorageFaults[k])}});
    }
    for (size_t m = 0; m < kModeCount; ++m) {
      std::string mode = ModeName(static_cast<Mode>(m));
      Side& s = sides_[m];
      for (size_t r = 0; r < kAcquireResultCount; ++r) {
        s.acquires[r] =
            &f.acquires.Add({{"db", db},
                             {"mode", mode},
                             {"result", AcquireResultName(static_cast<AcquireResult>(r))}});
      }
      s.wait = &f.acquire_wait.Add({{"db", db}, {"mode", mode}}, kWaitBuckets);
      s.lease = &f.lease_duration.Add({{"db", db}, {"mode", mode}}, kLeaseBuckets);
      s.opened = &f.opened.Add({{"db", db}, {"mode", mode}});
      for (size_t r = 0; r < kCloseReasonCount; ++r) {
        s.closed[r] = &f.closed.Add(
            {{"db", db}, {"mode", mode}, {"reason", CloseReasonName(static_cast<CloseReason>(r))}});
      }
    }
    for (size_t c = 0; c < kCodeCount; ++c) {
      queries_[c] = &f.queries.Add({{"db", db}, {"result", wire::CodeName(static_cast<Code>(c))}});
    }
  }

  void HandleOpened(Mode mode) override { side(mode).opened->Increment(); }
  void HandleClosed(Mode mode, CloseReason reason) override {
    side(mode).closed[static_cast<size_t>(reason)]->Increment();
  }
  void Acquired(Mode mode, AcquireResult result, double wait_seconds) override {
    Side& s = side(mode);
    s.acquires[static_cast<size_t>(result)]->Increment();
    if (result == AcquireResult::kOk) s.wait->Observe(wait_seconds);
  }
  void LeaseEnded(Mode mode, double held_seconds) override {
    side(mode).lease->Observe(held_seconds);
  }
  void QueryDone(Code result, double seconds) override {
    queries_[static_cast<size_t>(result)]->Increment();
    query_duration_.Observe(seconds);
  }
  void LeaseTimedOut() override { lease_timeouts_.Increment(); }
  void LeakWarned() override { leak_warnings_.Increment(); }
  void StorageFault(Code kind) override {
    int k = StorageFaultIndex(kind);
    if (k >= 0) faults_[k]->Increment();
  }
  void DatabaseUp(bool up) override { up_.Set(up ? 1 : 0); }

  PoolCounters Counters(Mode mode) const {
    const Side& s = sides_[static_cast<size_t>(mode)];
    PoolCounters c;
    for (size_t r = 0; r < kAcquireResultCount; ++r) c.acquires[r] = s.acquires[r]->Value();
    c.opened = s.opened->Value();
    for (auto* closed : s.closed) c.closed += closed->Value();
    c.lease_timeouts = lease_timeouts_.Value();
    c.leak_warnings = leak_warnings_.Value();
    return c;
  }

 private:
  struct Side {
    std::array<Counter*, kAcquireResultCount> acquires{};
    AtomicHistogram* wait = nullptr;
    AtomicHistogram* lease = nullptr;
    Counter* opened = nullptr;
    std::array<Counter*, kCloseReasonCount> closed{};
  };
  Side& side(Mode mode) { return sides_[static_cast<size_t>(mode)]; }

  std::array<Side, kModeCount> sides_;
  std::array<Counter*, kCodeCount> queries_{};
  Counter& lease_timeouts_;
  Counter& leak_warnings_;
  AtomicHistogram& query_duration_;
  Gauge& up_;
  std::array<Counter*, kStorageFaultCount> faults_{};
};

class ReaperMetrics final : public ReaperEvents {
 public:
  explicit ReaperMetrics(Families& f) : f_(f) {}
  void ReaperUp(bool up) override { f_.reaper_up.Set(up ? 1 : 0); }
  void PassDone(double finished, double duration, double lag) override {
    f_.reaper_last_run.Set(finished);
    f_.reaper_duration.Observe(duration);
    f_.reaper_lag.Set(lag);
    f_.reaper_runs.Increment();
  }

 private:
  Families& f_;
};

// Gauges of current state, read from their sources at each scrape.
class StateCollector final : public prometheus::Collectable {
 public:
  explicit StateCollector(Metrics::PoolSource pools) : pools_(std::move(pools)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    auto pools = pools_();
    auto side_family = [&](const char* name, const char* help, int SideSnapshot::*field) {
      auto& fam = NewFamily(&out, name, help);
      for (const auto& p : pools) {
        for (size_t m = 0; m < kModeCount; ++m) {
          AddGauge(&fam, {{"db", p.db}, {"mode", ModeName(static_cast<Mode>(m))}},
                   p.sides[m].*field);
        }
      }
    };
    side_family("litepool_handles_open", "Open SQLite handles (always idle + leased).",
                &SideSnapshot::open);
    side_family("litepool_handles_idle", "Open handles not leased.", &SideSnapshot::idle);
    side_family("litepool_handles_leased", "Handles leased to clients.", &SideSnapshot::leased);
    side_family("litepool_handles_max", "Configured maximum of handles.", &SideSnapshot::max);
    side_family("litepool_waiters", "Acquires queued for a handle.", &SideSnapshot::waiters);
    auto& cache =
        NewFamily(&out, "litepool_handle_cache_bytes",
                  "Page cache memory of the pool's handles (SQLITE_DBSTATUS_CACHE_USED).");
    for (const auto& p : pools)
      AddGauge(&cache, {{"db", p.db}}, static_cast<double>(p.cache_bytes));

    AddGauge(&NewFamily(&out, "litepool_sqlite_memory_bytes",
                        "sqlite3_memory_used(): memory a language heap profiler cannot see."),
             {}, static_cast<double>(sqlite3_memory_used()));
    AddGauge(&NewFamily(&out, "litepool_sqlite_memory_highwater_bytes",
                        "sqlite3_memory_highwater(): the most SQLite memory used at once."),
             {}, static_cast<double>(sqlite3_memory_highwater(0)));

    ProcessStats ps = ReadProcessStats();
    AddGauge(&NewFamily(&out, "process_open_fds", "Number of open file descriptors."), {},
             ps.open_fds);
    AddGauge(&NewFamily(&out, "process_max_fds", "Maximum number of open file descriptors."), {},
             ps.max_fds);
    AddGauge(&NewFamily(&out, "process_resident_memory_bytes", "Resident memory size in bytes."),
             {}, ps.resident_memory_bytes);
    AddGauge(&NewFamily(&out, "process_start_time_seconds",
                        "Start time of the process since unix epoch in seconds."),
             {}, ps.start_time_seconds);
    auto& cpu = NewFamily(&out, "process_cpu_seconds_total",
                          "Total user and system CPU time spent in seconds.",
                          prometheus::MetricType::Counter);
    prometheus::ClientMetric m;
    m.counter.value = ps.cpu_seconds_total;
    cpu.metric.push_back(std::move(m));
    return out;
  }

 private:
  Metrics::PoolSource pools_;
};

Metrics::Metrics(const std::vector<std::string>& databases, PoolSource pools)
    : registry_(std::make_shared<MetricsRegistry>()),
      // Before WalMetrics: MetricsRegistry::Collect() counts on these histograms being the
      // registry's first.
      families_(std::make_unique<Families>(registry_->base(), *registry_)),
      reaper_(std::make_unique<ReaperMetrics>(*families_)),
      wal_(std::make_unique<WalMetrics>(registry_->base())),
      state_(std::make_shared<StateCollector>(std::move(pools))) {
  for (const auto& db : databases) AddDatabase(db);
}

Metrics::~Metrics() = default;

PoolEvents* Metrics::AddDatabase(const std::string& db) {
  wal_->ForDatabase(db);  // its children show from the first scrape
  MutexLock lock(&mu_);
  auto& slot = databases_[db];
  if (!slot) slot = std::make_unique<DatabaseMetrics>(*families_, db);
  return slot.get();
}

ReaperEvents* Metrics::reaper() { return reaper_.get(); }

PoolCounters Metrics::Counters(const std::string& db, Mode mode) const {
  MutexLock lock(&mu_);
  auto it = databases_.find(db);
  return it == databases_.end() ? PoolCounters{} : it->second->Counters(mode);
}

void Metrics::ClientConnected() { families_->clients.Increment(); }
void Metrics::ClientDisconnected() { families_->clients.Decrement(); }
void Metrics::ConfigReloaded(bool ok) {
  (ok ? families_->reload_ok : families_->reload_error).Increment();
}

bool Metrics::Serve(const std::string& listen, const std::string& path, std::string* url,
                    std::string* error) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(listen, 1);
  } catch (const std::exception& e) {
    *error = "cannot serve metrics on " + listen + ": " + e.what();
    return false;
  }
  exposer_->RegisterCollectable(registry_, path);
  exposer_->RegisterCollectable(state_, path);
  exposer_->RegisterCollectable(wal_->collectable(), path);
  auto ports = exposer_->GetListeningPorts();
  std::string host = listen.substr(0, listen.rfind(':'));
  *url =
      "http://" + host + ":" + (ports.empty() ? std::string("?") : std::to_string(ports[0])) + path;
  return true;
}

std::string Metrics::Render() const {
  auto families = registry_->Collect();
  for (const auto& extra : {state_->Collect(), wal_->collectable()->Collect()}) {
    families.insert(families.end(), extra.begin(), extra.end());
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace litepool::metrics
