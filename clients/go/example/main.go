// A program that uses SQLite through litepoold with database/sql: the same
// code a cgo SQLite driver would run, with a different driver name and DSN.
//
//	litepoold &                                  # socket ./litepool.sock, database main
//	go run ./example                             # or: LITEPOOL_DSN='unix:/run/litepool/litepool.sock?db=main'
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	litepool "litepool.dev/go" // registers the "litepool" driver
)

func main() {
	dsn := os.Getenv("LITEPOOL_DSN")
	if dsn == "" {
		dsn = "?db=main&tag=example" // $LITEPOOL_SOCKET, else ./litepool.sock
	}
	db, err := sql.Open("litepool", dsn)
	if err != nil {
		log.Fatal(err) // a malformed DSN
	}
	defer db.Close()
	// Sockets to the daemon, not SQLite handles: the daemon bounds those.
	db.SetMaxOpenConns(8)
	if err := run(db); err != nil {
		log.Fatal(err)
	}
}

func run(db *sql.DB) error {
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS notes(
		id INTEGER PRIMARY KEY, body TEXT NOT NULL, created DATETIME NOT NULL)`); err != nil {
		return err
	}
	res, err := db.ExecContext(ctx, "INSERT INTO notes(body, created) VALUES (?, ?)",
		"hello from Go", time.Now().UTC())
	if err != nil {
		return err
	}
	id, _ := res.LastInsertId()

	// A transaction holds one write lease until Commit or Rollback. If the
	// program forgot both, the daemon would revoke the lease at lease_ms
	// and log a leak warning naming this program's tag.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE notes SET body = body || '!' WHERE id = :id", sql.Named("id", id)); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}

	// Reads run on the daemon's read handles; a deadline stops the query in
	// the daemon, not just in this program.
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var body string
	var created time.Time
	err = db.QueryRowContext(qctx, "SELECT body, created FROM notes WHERE id = ?", id).Scan(&body, &created)
	if err != nil {
		return err
	}
	fmt.Printf("note %d: %q, written %s\n", id, body, created.Format(time.RFC3339))

	// The daemon's error codes are there to branch on.
	_, err = db.ExecContext(ctx, "INSERT INTO notes(id, body, created) VALUES (?, 'dup', ?)", id, time.Now())
	var lerr *litepool.Error
	switch {
	case errors.Is(err, litepool.ErrBusy), errors.Is(err, litepool.ErrAcquireTimeout):
		fmt.Println("busy, try later:", err)
	case errors.As(err, &lerr) && lerr.Code == "sql_error":
		fmt.Printf("refused by SQLite (extended code %d): %s\n", lerr.SQLiteCode, lerr.Message)
	case err != nil:
		return err
	}
	return nil
}
