// Online backup of one database: where the copy may land (inside the
// configured backup_dir, nowhere else), and the copy itself — a consistent
// snapshot taken with SQLite's online backup API in steps, written to a
// temporary name, synced, renamed into place and the directory synced
// (docs/operations.md, "Backups and restore").
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"
#include "pool/wal_events.h"
#include "pool/wal_state.h"

namespace litepool {

// Resolves the client's `file` against `backup_dir`: a relative name is
// taken inside it, an absolute one must already point inside it. Refuses
// (forbidden) anything that would land outside it: a `..` component, a
// parent directory whose real path leaves backup_dir through a symlink,
// a target that is a symlink or a directory. *out gets the target path,
// under backup_dir's real path.
Status ResolveBackupTarget(const std::string& backup_dir, const std::string& file,
                           std::string* out);

struct BackupOutcome {
  int64_t bytes = 0;
  int64_t pages = 0;
  double seconds = 0;
};

// Copies `wal`'s database into `target` (from ResolveBackupTarget). Slow:
// runs on a worker for as long as the copy takes. Writers keep going: the
// copy reads one snapshot, opened when it starts, so it holds every commit
// acknowledged before. `cancelled` is asked between steps; when it says
// yes, or anything fails, no file is left behind (the temporary one is
// removed) and the status says why (shutting_down for a cancel). Progress
// and the result go to the log and to `events`. Only one backup of a
// database runs at a time: another answers busy.
Status RunBackup(WalState* wal, const std::string& target, const std::function<bool()>& cancelled,
                 WalEvents* events, BackupOutcome* out);

}  // namespace litepool
