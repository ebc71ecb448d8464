// The product's error vocabulary (docs/protocol.md, "Errors") as values:
// every failure that can cross a module boundary is a Code plus a message,
// never an exception. The codes' stable names are wire/error_code.h's.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

namespace litepool {

// One-to-one with the protocol's stable error codes.
enum class Code {
  kOk = 0,
  kBadRequest,
  kRequestTooLarge,
  kUnknownOp,
  kUnknownDatabase,
  kForbidden,
  kAcquireTimeout,
  kPoolExhausted,
  kTooManyLeases,
  kUnknownLease,
  kLeaseExpired,
  kSqlError,
  kBusy,
  kStatementTimeout,
  kResultTooLarge,
  kReadOnly,
  kShuttingDown,
  kTooManyClients,
  // Storage faults (docs/protocol.md, "Errors"): what broke under SQLite.
  kDiskFull,
  kStorageError,
  kCorrupt,
  kFileGone,
  kDatabaseUnavailable,
  kInternal,  // last: sizes the per-code arrays
};

// " (errno N: text)", the system's reason appended to a storage message.
std::string ErrnoSuffix(int err);

// The storage faults, which are logged and counted by kind, and the codes
// they are: a full disk, an I/O error, a corrupt file, a file removed or
// replaced while open.
inline constexpr Code kStorageFaults[] = {Code::kDiskFull, Code::kStorageError, Code::kCorrupt,
                                          Code::kFileGone};
inline constexpr size_t kStorageFaultCount = 4;
// Index of `code` in kStorageFaults, or -1 when it is not a storage fault.
int StorageFaultIndex(Code code);

// A code, a human message and, for SQL failures, SQLite's extended result
// code. Cheap to return when ok (no allocation).
class Status {
 public:
  Status() = default;
  Status(Code code, std::string message, int sqlite_code = 0)
      : code_(code), sqlite_code_(sqlite_code), message_(std::move(message)) {}

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  int sqlite_code() const { return sqlite_code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kOk;
  int sqlite_code_ = 0;
  std::string message_;
};

}  // namespace litepool
