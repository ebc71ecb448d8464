// Benchmark database creation and the in-process SQLite floor.
#include "bench/load_sqlite.h"

#include <sqlite3.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "bench/load_scenarios.h"

namespace litepool::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

bool Exec(sqlite3* db, const char* sql, std::string* error) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) == SQLITE_OK) return true;
  *error = std::string(sql).substr(0, 60) + ": " + (message ? message : "?");
  sqlite3_free(message);
  return false;
}

}  // namespace

bool CreateBenchDatabase(const std::string& path, int64_t rows, std::string* error) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    *error = path + ": " + sqlite3_errmsg(db);
    sqlite3_close(db);
    return false;
  }
  std::string fill = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " +
                     std::to_string(rows) +
                     ") INSERT INTO kv SELECT x, printf('value-%010d', x) FROM c";
  bool ok = Exec(db, "PRAGMA journal_mode=wal", error) &&
            Exec(db, "PRAGMA synchronous=normal", error) &&
            Exec(db,
                 "CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT NOT NULL);"
                 "CREATE TABLE w(id INTEGER PRIMARY KEY, v TEXT)",
                 error) &&
            Exec(db, "BEGIN", error) && Exec(db, fill.c_str(), error) &&
            Exec(db, "COMMIT", error) && Exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", error);
  sqlite3_close(db);
  return ok;
}

FloorResult RunSqliteFloor(const std::string& path, int64_t rows, int threads, double seconds) {
  FloorResult result;
  std::mutex mu;
  auto deadline_after = [](SteadyClock::time_point from, double s) {
    return from +
           std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
  };
  auto body = [&](int index) {
    sqlite3* db = nullptr;
    sqlite3_stmt* stmt = nullptr;
    std::string error;
    // Read-write (the statement only reads) and a busy timeout: with the
    // file closed since it was built, the first connection recovers the
    // WAL index, and a second one opening meanwhile would otherwise fail
    // with "database is locked" (seen in CI with two threads).
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK ||
        sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
        sqlite3_prepare_v3(db, "SELECT v FROM kv WHERE k=?", -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                           nullptr) != SQLITE_OK) {
      error = sqlite3_errmsg(db);
    }
    LatencyHistogram hist;
    uint64_t queries = 0;
    Rng rng(static_cast<uint64_t>(index) + 77);
    auto start = SteadyClock::now();
    auto end = deadline_after(start, seconds);
    while (error.empty()) {
      auto t0 = SteadyClock::now();
      if (t0 >= end) break;
      sqlite3_bind_int64(stmt, 1, static_cast<int64_t>(rng.Below(static_cast<uint64_t>(rows))) + 1);
      if (sqlite3_step(stmt) == SQLITE_ROW) {
        (void)sqlite3_column_bytes(stmt, 0);
        (void)sqlite3_column_text(stmt, 0);
      } else {
        error = sqlite3_errmsg(db);
      }
      sqlite3_reset(stmt);
      auto t1 = SteadyClock::now();
      hist.Record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
      ++queries;
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    std::lock_guard<std::mutex> lock(mu);
    result.queries += queries;
    result.query_ns.Merge(hist);
    if (!error.empty() && result.error.empty()) result.error = error;
  };
  std::vector<std::thread> running;
  for (int i = 0; i < threads; ++i) running.emplace_back(body, i);
  for (auto& t : running) t.join();
  result.seconds = seconds;
  return result;
}

}  // namespace litepool::bench
