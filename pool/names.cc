// Stable names of the pool's closed sets; they become metric label values.
#include "pool/clock.h"
#include "pool/pool_events.h"

namespace litepool {

const char* ModeName(Mode mode) { return mode == Mode::kWrite ? "write" : "read"; }

const char* CloseReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kMaxLifetime:
      return "max_lifetime";
    case CloseReason::kIdleTimeout:
      return "idle_timeout";
    case CloseReason::kReset:
      return "reset";
    case CloseReason::kError:
      return "error";
    case CloseReason::kShutdown:
      return "shutdown";
    case CloseReason::kReload:
      return "reload";
  }
  return "error";
}

const char* AcquireResultName(AcquireResult result) {
  switch (result) {
    case AcquireResult::kOk:
      return "ok";
    case AcquireResult::kTimeout:
      return "timeout";
    case AcquireResult::kExhausted:
      return "exhausted";
    case AcquireResult::kError:
      return "error";
  }
  return "error";
}

const TimeSource* RealTime() {
  static const SteadyTimeSource clock;
  return &clock;
}

}  // namespace litepool
