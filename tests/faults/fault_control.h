// The shared page through which a test arms the fault-injecting VFS inside
// litepoold_faults: the test maps a file, writes what to fail, and the
// daemon's VFS reads it on every I/O call. Both sides use the same layout.
#pragma once

#include <atomic>
#include <cstdint>

namespace litepool::faults {

// Which VFS call to fail.
enum class FaultOp : int32_t { kNone = 0, kWrite, kSync, kRead, kShmMap, kTruncate };

struct FaultControl {
  std::atomic<int32_t> op{0};         // a FaultOp
  std::atomic<int32_t> result{0};     // the SQLite result code to return instead
  std::atomic<int32_t> remaining{0};  // faults left; -1: until disarmed
  std::atomic<int32_t> hits{0};       // faults injected so far
  char path_filter[256] = {};         // only files whose path contains this
};
static_assert(sizeof(FaultControl) <= 4096);

// The environment variable that names the control file.
inline constexpr const char* kFaultControlEnv = "LITEPOOL_FAULT_CONTROL";

}  // namespace litepool::faults
