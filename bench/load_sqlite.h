// The benchmark database and the in-process floor: the same point select
// run straight on SQLite, no socket, no JSON.
#pragma once

#include <cstdint>
#include <string>

#include "bench/load_histogram.h"

namespace litepool::bench {

// Creates `path` in WAL mode with kv(k INTEGER PRIMARY KEY, v TEXT) holding
// `rows` rows (v is 'value-' and k in 10 digits, so every reply has the same
// size) and an empty w(id INTEGER PRIMARY KEY, v TEXT) for the inserts.
bool CreateBenchDatabase(const std::string& path, int64_t rows, std::string* error);

struct FloorResult {
  std::string error;
  uint64_t queries = 0;
  double seconds = 0;
  LatencyHistogram query_ns;
};

// `threads` threads, each with its own read-only connection and prepared
// statement, run SELECT v FROM kv WHERE k=? on random keys for `seconds`.
FloorResult RunSqliteFloor(const std::string& path, int64_t rows, int threads, double seconds);

}  // namespace litepool::bench
