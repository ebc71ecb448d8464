// WAL, checkpoint and backup metrics.
#include "metrics/wal_metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <array>

#include "metrics/gauge_family.h"

namespace litepool::metrics {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

namespace {

// A passive checkpoint of 1000 frames takes milliseconds; one behind a
// large WAL or a slow disk, seconds.
const Histogram::BucketBoundaries kCheckpointBuckets = {0.0001, 0.0005, 0.001, 0.005, 0.01,
                                                        0.05,   0.1,    0.5,   1,     5};
const Histogram::BucketBoundaries kBackupBuckets = {0.1, 1, 10, 60, 300, 1800, 7200};

}  // namespace

// The families, registered once in the daemon's registry; owned by
// WalMetrics, read-only after construction.
class WalFamilies {
 public:
  explicit WalFamilies(prometheus::Registry& r)
      : checkpoints(prometheus::BuildCounter()
                        .Name("litepool_checkpoints_total")
                        .Help("WAL checkpoints run by the daemon, by mode (passive, truncate) "
                              "and result (done, partial: a reader's snapshot stopped it, "
                              "busy, error).")
                        .Register(r)),
        checkpoint_duration(prometheus::BuildHistogram()
                                .Name("litepool_checkpoint_duration_seconds")
                                .Help("Time one checkpoint took, by mode.")
                                .Register(r)),
        backups(prometheus::BuildCounter()
                    .Name("litepool_backups_total")
                    .Help("Backups by result (ok, error, cancelled).")
                    .Register(r)),
        backup_duration(prometheus::BuildHistogram()
                            .Name("litepool_backup_duration_seconds")
                            .Help("Time a backup took, start to rename.")
                            .Register(r)),
        backup_remaining(prometheus::BuildGauge()
                             .Name("litepool_backup_remaining_pages")
                             .Help("Pages the running backup has still to copy (0: none runs).")
                             .Register(r)),
        backup_total(prometheus::BuildGauge()
                         .Name("litepool_backup_total_pages")
                         .Help("Pages of the database the running backup copies (0: none runs).")
                         .Register(r)),
        backup_last_success(prometheus::BuildGauge()
                                .Name("litepool_backup_last_success_timestamp_seconds")
                                .Help("Unix time the last successful backup landed.")
                                .Register(r)),
        backup_last_bytes(prometheus::BuildGauge()
                              .Name("litepool_backup_last_size_bytes")
                              .Help("Size of the last successful backup.")
                              .Register(r)) {}

  Family<Counter>& checkpoints;
  Family<Histogram>& checkpoint_duration;
  Family<Counter>& backups;
  Family<Histogram>& backup_duration;
  Family<Gauge>& backup_remaining;
  Family<Gauge>& backup_total;
  Family<Gauge>& backup_last_success;
  Family<Gauge>& backup_last_bytes;
};

// The children of one database, bound once. Called from the checkpointer
// thread and from the worker running a backup; prometheus-cpp's counters,
// gauges and histograms are thread-safe.
class DatabaseWalMetrics final : public WalEvents {
 public:
  DatabaseWalMetrics(WalFamilies& f, const std::string& db)
      : backup_duration_(f.backup_duration.Add({{"db", db}}, kBackupBuckets)),
        backup_remaining_(f.backup_remaining.Add({{"db", db}})),
        backup_total_(f.backup_total.Add({{"db", db}})),
        backup_last_success_(f.backup_last_success.Add({{"db", db}})),
        backup_last_bytes_(f.backup_last_bytes.Add({{"db", db}})) {
    for (size_t m = 0; m < kCheckpointModeCount; ++m) {
      const char* mode = CheckpointModeName(static_cast<CheckpointMode>(m));
      for (size_t r = 0; r < kCheckpointResultCount; ++r) {
        checkpoints_[m][r] = &f.checkpoints.Add(
            {{"db", db},
             {"mode", mode},
             {"result", CheckpointResultName(static_cast<CheckpointResult>(r))}});
      }
      durations_[m] = &f.checkpoint_duration.Add({{"db", db}, {"mode", mode}}, kCheckpointBuckets);
    }
    for (size_t r = 0; r < kBackupResultCount; ++r) {
      backups_[r] =
          &f.backups.Add({{"db", db}, {"result", BackupResultName(static_cast<BackupResult>(r))}});
    }
  }

  void CheckpointDone(CheckpointMode mode, CheckpointResult result, double seconds) override {
    auto m = static_cast<size_t>(mode);
    checkpoints_[m][static_cast<size_t>(result)]->Increment();
    durations_[m]->Observe(seconds);
  }
  void BackupProgress(int64_t remaining, int64_t total) override {
    backup_remaining_.Set(static_cast<double>(remaining));
    backup_total_.Set(static_cast<double>(total));
  }
  void BackupDone(BackupResult result, double seconds, int64_t bytes) override {
    backups_[static_cast<size_t>(result)]->Increment();
    if (result != BackupResult::kOk) return;
    backup_duration_.Observe(seconds);
    backup_last_success_.SetToCurrentTime();
    backup_last_bytes_.Set(static_cast<double>(bytes));
  }

 private:
  std::array<std::array<Counter*, kCheckpointResultCount>, kCheckpointModeCount> checkpoints_{};
  std::array<Histogram*, kCheckpointModeCount> durations_{};
  std::array<Counter*, kBackupResultCount> backups_{};
  Histogram& backup_duration_;
  Gauge& backup_remaining_;
  Gauge& backup_total_;
  Gauge& backup_last_success_;
  Gauge& backup_last_bytes_;
};

// Sizes, pending frames and snapshot ages, read at each scrape (the
// exposer's thread); the source is set once on the main thread, under mu_.
class WalCollector final : public prometheus::Collectable {
 public:
  void SetSource(WalMetrics::Source source) {
    MutexLock lock(&mu_);
    source_ = std::move(source);
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    WalMetrics::Source source;
    {
      MutexLock lock(&mu_);
      source = source_;
    }
    std::vector<WalReport> reports;
    if (source) reports = source();
    std::vector<prometheus::MetricFamily> out;
    auto family = [&](const char* name, const char* help, auto field) {
      prometheus::MetricFamily& fam = NewFamily(&out, name, help);
      for (const WalReport& r : reports) {
        AddGauge(&fam, {{"db", r.db}}, static_cast<double>(r.*field));
      }
    };
    family("litepool_wal_bytes", "Size of the database's -wal file.", &WalReport::wal_bytes);
    family("litepool_database_bytes", "Size of the database file.", &WalReport::database_bytes);
    family("litepool_wal_frames_pending",
           "WAL frames written and not yet copied back into the database file.",
           &WalReport::frames_pending);
    family("litepool_oldest_snapshot_age_seconds",
           "Age of the oldest open read snapshot (a lease's transaction or a backup); 0 when "
           "none is open. No checkpoint gets past it.",
           &WalReport::oldest_snapshot_seconds);
    return out;
  }

 private:
  mutable Mutex mu_;
  WalMetrics::Source source_ GUARDED_BY(mu_);
};

WalMetrics::WalMetrics(prometheus::Registry& registry)
    : families_(std::make_unique<WalFamilies>(registry)),
      collector_(std::make_shared<WalCollector>()) {}

WalMetrics::~WalMetrics() = default;

WalEvents* WalMetrics::ForDatabase(const std::string& db) {
  MutexLock lock(&mu_);
  auto& slot = databases_[db];
  if (!slot) slot = std::make_unique<DatabaseWalMetrics>(*families_, db);
  return slot.get();
}

void WalMetrics::SetSource(Source source) { collector_->SetSource(std::move(source)); }

std::shared_ptr<prometheus::Collectable> WalMetrics::collectable() const { return collector_; }

}  // namespace litepool::metrics
