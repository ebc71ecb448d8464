// Package litepool is a database/sql driver for litepoold, the daemon that
// owns an application's SQLite handles (docs/clients.md, "Go").
//
// It is pure Go (no cgo, no finalizers): the SQLite handles live in the
// daemon, which counts each one, names its holder and takes it back when a
// lease runs out. Switching from a cgo SQLite driver is a change of driver
// name and DSN:
//
//	db, err := sql.Open("litepool", "unix:/run/litepool/litepool.sock?db=main")
//
// A driver.Conn is one connection to the daemon's socket and holds no handle
// while idle. Outside a transaction each statement is a one-shot lease:
// queries start on a read handle and move to the writer if they write
// (the daemon decides, from SQLite's own sqlite3_stmt_readonly); Exec runs
// on the writer. BeginTx takes a lease for the whole transaction, a read
// lease for TxOptions{ReadOnly: true}. A statement whose context ends is
// stopped at once: the driver closes the connection, and the daemon
// interrupts the statement and rolls back.
package litepool
