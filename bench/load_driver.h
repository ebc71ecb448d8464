// Drives N connections, each a strict request/response loop, against a Unix
// socket for a fixed time (or a fixed number of cycles) and measures them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "bench/load_histogram.h"
#include "bench/load_scenarios.h"

namespace litepool::bench {

struct LoadOptions {
  std::string socket;
  Scenario scenario = Scenario::kPointSelect;
  int connections = 1;
  // Client threads; each runs an epoll loop over its share of the
  // connections (as pgbench does with -j).
  int threads = 1;
  double warmup_seconds = 0.5;  // run, but not counted
  double seconds = 5;           // the measured window
  // Above 0: no time limit; stop after this many completed cycles (the soak)
  // and call `progress` each time the count passes a multiple of
  // `progress_every` (from a client thread).
  uint64_t max_cycles = 0;
  uint64_t progress_every = 0;
  std::function<void(uint64_t cycles)> progress;
  bool echo = false;  // talk to the echo server (see Script)
  int64_t rows = 100000;
  ReplySizes sizes;
  uint64_t seed = 1;
  pid_t server_pid = -1;  // its CPU time over the window is reported
  // "raw": hand-written lines on plain sockets (the default). "lib": one
  // thread per connection through litepool_client (point_select,
  // acquire_release and lease10 only), to see what the client library costs.
  std::string driver = "raw";
};

struct LoadResult {
  std::string setup_error;  // non-empty: nothing was measured
  uint64_t requests = 0;    // round trips completed in the window
  uint64_t cycles = 0;      // scenario cycles completed in the window
  uint64_t errors = 0;      // error replies (any time)
  std::string first_error;
  double seconds = 0;             // length of the window
  LatencyHistogram request_ns;    // per round trip
  LatencyHistogram cycle_ns;      // per cycle (acquire .. release)
  double client_cpu_seconds = 0;  // this process, over the window
  double server_cpu_seconds = 0;  // server_pid, over the window
};

LoadResult RunLoad(const LoadOptions& options);

// The lib driver (load_lib_driver.cc).
LoadResult RunLoadWithClientLibrary(const LoadOptions& options);

}  // namespace litepool::bench
