// What a daemon owns for the request path, minus sockets, metrics and the
// reaper's thread: one database (a temp file with a table kv of 100 rows),
// the lease table, two workers, the dispatcher and the request driver. For
// unit tests of server/ that run requests without starting litepoold.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "config/config.h"
#include "pool/lease_table.h"
#include "pool/pool.h"
#include "pool/pool_set.h"
#include "pool/reaper.h"
#include "pool/task_runner.h"
#include "server/dispatcher.h"
#include "server/request_driver.h"
#include "server/services.h"

namespace litepool::testing {

class ServerWorld {
 public:
  // `max_writers`/`max_readers` of the one database, "main".
  explicit ServerWorld(int max_writers = 1, int max_readers = 2) {
    char tmpl[] = "/tmp/litepool-server-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    config::Database db;
    db.name = "main";
    db.path = dir_ + "/main.db";
    db.create_if_missing = true;
    db.pragmas = {{"journal_mode", "wal"}, {"synchronous", "off"}};
    db.limits.max_writers = max_writers;
    db.limits.max_readers = max_readers;
    db.limits.acquire_timeout_ms = 5000;
    pool_ = std::make_shared<Pool>(db, RealTime(), &events_, &workers_);
    Status st = pool_->Start();
    EXPECT_TRUE(st.ok()) << st.message();
    pools_.Add(pool_);
    services_.pools = &pools_;
    services_.leases = &leases_;
    services_.workers = &workers_;
    services_.reaper = &reaper_;
    services_.clock = RealTime();
    services_.max_result_bytes = &max_result_bytes_;
    services_.admin_uids = {static_cast<uint32_t>(::getuid()), 0};
    services_.draining = &draining_;
    services_.clients_connected = [] { return 1; };
    services_.counters = [](const std::string&, Mode) { return PoolCounters{}; };
    services_.wal_events = [](const std::string&) -> WalEvents* { return nullptr; };
    dispatcher_ = std::make_unique<server::Dispatcher>(&services_);
    driver_ = std::make_unique<server::RequestDriver>(dispatcher_.get(), &workers_);
  }

  ~ServerWorld() {
    workers_.Stop();
    pool_->Shutdown(CloseReason::kShutdown);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  server::RequestDriver* driver() { return driver_.get(); }
  // Runs what the workers hold and stops them: before the io_context a
  // test's sessions post to goes, as the daemon stops its workers first.
  void StopWorkers() { workers_.Stop(); }
  Pool& pool() { return *pool_; }
  LeaseTable& leases() { return leases_; }
  std::atomic<int64_t>& max_result_bytes() { return max_result_bytes_; }

  server::ClientContext NextClient() {
    server::ClientContext c;
    c.id = next_client_++;
    c.peer.pid = ::getpid();
    c.peer.uid = static_cast<uint32_t>(::getuid());
    return c;
  }

  // Waits (up to 5 s) until the pool's `mode` side has `leased` handles out.
  bool WaitForLeased(Mode mode, int leased) {
    for (int i = 0; i < 500; ++i) {
      if (pool_->Snapshot().sides[static_cast<size_t>(mode)].leased == leased) return true;
      ::usleep(10000);
    }
    return false;
  }

 private:
  std::string dir_;
  NullPoolEvents events_;
  PoolSet pools_;
  LeaseTable leases_{RealTime()};
  TaskRunner workers_{2, "test-work"};
  Reaper reaper_{&pools_, &leases_, &workers_, RealTime(), Millis(1000), nullptr};  // not started
  std::atomic<int64_t> max_result_bytes_{1 << 20};
  std::atomic<bool> draining_{false};
  server::Services services_;
  std::shared_ptr<Pool> pool_;
  std::unique_ptr<server::Dispatcher> dispatcher_;
  std::unique_ptr<server::RequestDriver> driver_;
  ClientId next_client_ = 1;
};

inline nlohmann::json Parse(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n') << line;
  return nlohmann::json::parse(line);
}

}  // namespace litepool::testing
