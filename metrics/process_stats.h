// The standard process_* metrics, read from /proc/self: prometheus-cpp does
// not provide them.
#pragma once

#include <cstdint>

namespace litepool::metrics {

struct ProcessStats {
  double open_fds = 0;
  double max_fds = 0;
  double resident_memory_bytes = 0;
  double cpu_seconds_total = 0;
  double start_time_seconds = 0;
};

// Reads the current values; fields it cannot read stay 0.
ProcessStats ReadProcessStats();

}  // namespace litepool::metrics
