// Memory and scale: the daemon's RSS and descriptors idle, with many idle
// client connections, and across a long acquire/query/release soak.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/load_driver.h"
#include "bench/load_process.h"

namespace litepool::bench {

struct IdleResult {
  std::string error;  // why fewer than asked were connected, if so
  int requested = 0;
  int connected = 0;
  long client_fd_limit = 0;
  ProcSample before;            // the daemon with no client
  ProcSample connected_sample;  // after connect (accepted, nothing sent)
  ProcSample after_ping;        // after one ping on each connection, idle again
  ProcSample after_close;       // all closed again
};

// Opens `n` connections to `socket`, then pings each once, sampling the
// daemon `pid` at each stage.
IdleResult MeasureIdleConnections(const std::string& socket, pid_t pid, int n);

struct SoakSample {
  uint64_t cycles = 0;
  double seconds = 0;
  ProcSample proc;
};

struct SoakResult {
  std::string error;
  std::vector<SoakSample> samples;  // at 0 and every `every` cycles
  LoadResult load;
};

// `cycles` lease1 cycles (acquire read, one point select, release) over
// `connections` connections; samples the daemon every `every` cycles and
// hands each sample to `report` as it is taken.
SoakResult RunSoak(const std::string& socket, pid_t pid, int64_t rows, uint64_t cycles,
                   uint64_t every, int connections,
                   const std::function<void(const SoakSample&)>& report);

}  // namespace litepool::bench
