// Counts the mutex and reader-writer lock acquisitions of the process,
// whoever makes them (our code, SQLite, libstdc++, prometheus-cpp):
// the benchmark executable defines the pthread lock entry points, which
// come before libc's for every caller in the process, counts, and forwards
// to libc's. Linked only into benchmarks, never into the daemon.
#pragma once

#include <cstdint>

namespace litepool::bench {

// Locks taken in this process since it started, by any thread (mutex lock
// and trylock, rwlock read and write lock). A benchmark reads it before and
// after its loop, with nothing else running, for the locks per request
// including those of a worker the request was handed to.
uint64_t LocksTaken();

}  // namespace litepool::bench
