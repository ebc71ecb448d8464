// The wire and label names of the WAL enums (docs/operations.md, "WAL,
// checkpoints and backups").
#include "pool/wal_events.h"

namespace litepool {

const char* CheckpointModeName(CheckpointMode mode) {
  switch (mode) {
    case CheckpointMode::kPassive:
      return "passive";
    case CheckpointMode::kRestart:
      return "restart";
    case CheckpointMode::kTruncate:
      return "truncate";
  }
  return "passive";
}

const char* CheckpointResultName(CheckpointResult result) {
  switch (result) {
    case CheckpointResult::kDone:
      return "done";
    case CheckpointResult::kPartial:
      return "partial";
    case CheckpointResult::kBusy:
      return "busy";
    case CheckpointResult::kError:
      return "error";
  }
  return "error";
}

const char* BackupResultName(BackupResult result) {
  switch (result) {
    case BackupResult::kOk:
      return "ok";
    case BackupResult::kError:
      return "error";
    case BackupResult::kCancelled:
      return "cancelled";
  }
  return "error";
}

}  // namespace litepool
