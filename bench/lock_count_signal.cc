// bench/lock_count.h as a preload library for a whole daemon:
//   LD_PRELOAD=liblitepool_lock_count.so litepoold ...
// SIGUSR2 writes "locks=N" (every lock the process has taken so far) to
// stderr, so a driver reads the count before and after N requests
// (bench/daemon_locks.sh). Never linked into the daemon itself.
#include <signal.h>
#include <unistd.h>

#include "bench/lock_count.h"

namespace litepool::bench {
namespace {

// Async-signal-safe: no stdio, no allocation.
void WriteCount(int) {
  char buf[32];
  char* end = buf + sizeof(buf);
  char* p = end;
  *--p = '\n';
  uint64_t n = LocksTaken();
  do {
    *--p = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n > 0);
  const char prefix[] = "locks=";
  (void)!::write(2, prefix, sizeof(prefix) - 1);
  (void)!::write(2, p, end - p);
}

__attribute__((constructor)) void InstallHandler() {
  struct sigaction action {};
  action.sa_handler = WriteCount;
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGUSR2, &action, nullptr);
}

}  // namespace
}  // namespace litepool::bench
