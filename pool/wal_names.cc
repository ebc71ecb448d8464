// The wire and label names of the WAL enums (docs/operations.md, "WAL,
// checkpoints and backups").
#include "pool/wal_events.h"

namespace litepool {

const char* CheckpointModeName(CheckpointMode mode) {
  return mode == CheckpointMode::kPassive ? "passive" : "truncate";
}

const char* CheckpointResultName(CheckpointResult result) {
  switch (result) {
    case CheckpointResult::kDone: return "done";
    case CheckpointResult::kPartial: return "partial";
    case CheckpointResult::kBusy: return "busy";
    case CheckpointResult::kError: return "error";
  }
  return "error";
}

const char* BackupResultName(BackupResult result) {
  switch (result) {
    case BackupResult::kOk: return "ok";
    case BackupResult::kError: return "error";
    case BackupResult::kCancelled: return "cancelled";
  }
  return "error";
}

}  // namespace litepool
