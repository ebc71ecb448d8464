// The error code ↔ name table.
#include "wire/error_code.h"

namespace litepool::wire {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kBadRequest:
      return "bad_request";
    case Code::kRequestTooLarge:
      return "request_too_large";
    case Code::kUnknownOp:
      return "unknown_op";
    case Code::kUnknownDatabase:
      return "unknown_database";
    case Code::kForbidden:
      return "forbidden";
    case Code::kAcquireTimeout:
      return "acquire_timeout";
    case Code::kPoolExhausted:
      return "pool_exhausted";
    case Code::kTooManyLeases:
      return "too_many_leases";
    case Code::kUnknownLease:
      return "unknown_lease";
    case Code::kLeaseExpired:
      return "lease_expired";
    case Code::kSqlError:
      return "sql_error";
    case Code::kBusy:
      return "busy";
    case Code::kStatementTimeout:
      return "statement_timeout";
    case Code::kResultTooLarge:
      return "result_too_large";
    case Code::kReadOnly:
      return "read_only";
    case Code::kShuttingDown:
      return "shutting_down";
    case Code::kTooManyClients:
      return "too_many_clients";
    case Code::kDiskFull:
      return "disk_full";
    case Code::kStorageError:
      return "storage_error";
    case Code::kCorrupt:
      return "corrupt";
    case Code::kFileGone:
      return "file_gone";
    case Code::kDatabaseUnavailable:
      return "database_unavailable";
    case Code::kInternal:
      return "internal";
  }
  return "internal";
}

std::optional<Code> CodeFromName(std::string_view name) {
  // kInternal is the last code (base/status.h), so this visits every one.
  for (int c = 0; c <= static_cast<int>(Code::kInternal); ++c) {
    if (name == CodeName(static_cast<Code>(c))) return static_cast<Code>(c);
  }
  return std::nullopt;
}

}  // namespace litepool::wire
