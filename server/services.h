// What request handling reaches: the daemon's long-lived parts, owned by the
// Daemon and outliving every session and request. No sockets, no Asio.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pool/lease_table.h"
#include "pool/pool_set.h"
#include "pool/reaper.h"
#include "pool/task_runner.h"
#include "pool/wal_events.h"

namespace litepool::server {

struct Services {
  PoolSet* pools = nullptr;
  LeaseTable* leases = nullptr;
  TaskRunner* workers = nullptr;
  Reaper* reaper = nullptr;
  const TimeSource* clock = nullptr;
  std::atomic<int64_t>* max_result_bytes = nullptr;
  std::vector<uint32_t> admin_uids;  // resolved: never empty
  std::atomic<bool>* draining = nullptr;
  std::function<int()> clients_connected;
  std::function<PoolCounters(const std::string& db, Mode mode)> counters;
  std::string backup_dir;  // "": backups refused
  std::function<WalEvents*(const std::string& db)> wal_events;
};

}  // namespace litepool::server
