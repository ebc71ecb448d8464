// Counting and rate-limited logging of storage faults.
#include "pool/fault_report.h"

#include "log/log.h"

namespace litepool {

FaultReport::FaultReport(std::string db, const TimeSource* clock, PoolEvents* events)
    : db_(std::move(db)), clock_(clock), events_(events) {}

bool FaultReport::Report(const Status& st, const char* what) {
  int index = StorageFaultIndex(st.code());
  if (index < 0) return false;
  events_->StorageFault(st.code());
  int64_t suppressed;
  {
    MutexLock lock(&mu_);
    Kind& k = kinds_[index];
    TimePoint now = clock_->Now();
    if (k.last_logged != TimePoint::min() && now - k.last_logged < kLogEvery) {
      ++k.suppressed;
      return true;
    }
    k.last_logged = now;
    suppressed = k.suppressed;
    k.suppressed = 0;
  }
  auto event = log::Error("storage_fault");
  event.Str("db", db_).Code("kind", st.code()).Str("during", what);
  if (st.sqlite_code() != 0) event.Int("sqlite_code", st.sqlite_code());
  event.Str("error", st.message());
  if (suppressed > 0) event.Int("suppressed", suppressed);
  return true;
}

}  // namespace litepool
