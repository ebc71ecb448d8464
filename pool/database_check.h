// What `litepoold --check-config` says of one database's file: whether the
// daemon could open and serve it now, and why not. Touches nothing: opens
// read-only, creates no file.
#pragma once

#include <string>

#include "base/status.h"
#include "config/config.h"

namespace litepool {

struct DatabaseCheck {
  Status status;     // not ok: the database would be down
  std::string note;  // when ok: what else is worth saying ("will be created")
};

DatabaseCheck CheckDatabaseFile(const config::Database& db);

}  // namespace litepool
