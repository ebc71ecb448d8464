package litepool

import (
	"errors"
	"fmt"
)

// Error is an error the daemon answered (docs/protocol.md, "Errors"), or
// CodeIO from the driver itself. Use errors.As to read it, or errors.Is
// with one of the Err values below to branch on its code.
type Error struct {
	Code       string // the protocol's error code, e.g. "busy"
	Message    string
	SQLiteCode int   // SQLite's extended result code, when SQLite gave one
	cause      error // for CodeIO: the system error
}

// Unwrap gives the system error behind CodeIO (errors.Is(err,
// syscall.ECONNREFUSED) works).
func (e *Error) Unwrap() error { return e.cause }

func (e *Error) Error() string {
	if e.SQLiteCode != 0 {
		return fmt.Sprintf("litepool: %s: %s (sqlite %d)", e.Code, e.Message, e.SQLiteCode)
	}
	return fmt.Sprintf("litepool: %s: %s", e.Code, e.Message)
}

// Is matches the sentinels by code: errors.Is(err, litepool.ErrBusy).
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Message == "" && t.Code == e.Code
}

// CodeIO is the driver's own code, as in the other litepool clients: the
// connection could not be made, or broke after a request was sent (then
// whether it ran is unknown, and an open transaction was rolled back by the
// daemon). The driver never retries a request that reached the daemon.
const CodeIO = "io_error"

// Sentinels for the codes a program branches on. They carry no message:
// compare with errors.Is, never with ==.
var (
	ErrBadRequest       = &Error{Code: "bad_request"}
	ErrUnknownDatabase  = &Error{Code: "unknown_database"}
	ErrForbidden        = &Error{Code: "forbidden"}
	ErrAcquireTimeout   = &Error{Code: "acquire_timeout"}
	ErrPoolExhausted    = &Error{Code: "pool_exhausted"}
	ErrTooManyLeases    = &Error{Code: "too_many_leases"}
	ErrUnknownLease     = &Error{Code: "unknown_lease"}
	ErrLeaseExpired     = &Error{Code: "lease_expired"}
	ErrSQL              = &Error{Code: "sql_error"}
	ErrBusy             = &Error{Code: "busy"}
	ErrStatementTimeout = &Error{Code: "statement_timeout"}
	ErrResultTooLarge   = &Error{Code: "result_too_large"}
	ErrReadOnly         = &Error{Code: "read_only"}
	ErrShuttingDown     = &Error{Code: "shutting_down"}
	ErrTooManyClients   = &Error{Code: "too_many_clients"}
	// Storage faults (docs/protocol.md, "Errors"): what broke under SQLite.
	ErrDiskFull            = &Error{Code: "disk_full"}
	ErrStorage             = &Error{Code: "storage_error"}
	ErrCorrupt             = &Error{Code: "corrupt"}
	ErrFileGone            = &Error{Code: "file_gone"}
	ErrDatabaseUnavailable = &Error{Code: "database_unavailable"}
	ErrInternal            = &Error{Code: "internal"}
	ErrIO                  = &Error{Code: CodeIO}
)

func connectionLost(cause error) error {
	return &Error{Code: CodeIO, cause: cause,
		Message: "the connection to litepoold broke after the request was sent; it may or may not have run: " + cause.Error()}
}
