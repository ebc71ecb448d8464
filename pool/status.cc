// Wire names of the error codes; the protocol promises they never change.
#include "pool/status.h"

#include <cstring>

namespace litepool {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kBadRequest: return "bad_request";
    case Code::kRequestTooLarge: return "request_too_large";
    case Code::kUnknownOp: return "unknown_op";
    case Code::kUnknownDatabase: return "unknown_database";
    case Code::kForbidden: return "forbidden";
    case Code::kAcquireTimeout: return "acquire_timeout";
    case Code::kPoolExhausted: return "pool_exhausted";
    case Code::kTooManyLeases: return "too_many_leases";
    case Code::kUnknownLease: return "unknown_lease";
    case Code::kLeaseExpired: return "lease_expired";
    case Code::kSqlError: return "sql_error";
    case Code::kBusy: return "busy";
    case Code::kStatementTimeout: return "statement_timeout";
    case Code::kResultTooLarge: return "result_too_large";
    case Code::kReadOnly: return "read_only";
    case Code::kShuttingDown: return "shutting_down";
    case Code::kTooManyClients: return "too_many_clients";
    case Code::kDiskFull: return "disk_full";
    case Code::kStorageError: return "storage_error";
    case Code::kCorrupt: return "corrupt";
    case Code::kFileGone: return "file_gone";
    case Code::kDatabaseUnavailable: return "database_unavailable";
    case Code::kInternal: return "internal";
  }
  return "internal";
}

std::string ErrnoSuffix(int err) {
  return " (errno " + std::to_string(err) + ": " + std::strerror(err) + ")";
}

int StorageFaultIndex(Code code) {
  for (size_t i = 0; i < kStorageFaultCount; ++i) {
    if (kStorageFaults[i] == code) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace litepool
