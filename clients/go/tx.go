package litepool

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// tx is a transaction on one lease: a read lease for ReadOnly, else the
// writer's, taken with BEGIN IMMEDIATE so it never fails with busy later.
type tx struct {
	c     *conn
	lease string
}

// BeginTx takes a lease and begins. SQLite's transactions are serializable,
// so every isolation level up to Serializable is met; the others
// (WriteCommitted, Linearizable) are refused rather than ignored.
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.tx != nil {
		return nil, fmt.Errorf("litepool: a transaction is already open on this connection")
	}
	switch sql.IsolationLevel(opts.Isolation) {
	case sql.LevelDefault, sql.LevelReadUncommitted, sql.LevelReadCommitted,
		sql.LevelRepeatableRead, sql.LevelSnapshot, sql.LevelSerializable:
	default:
		return nil, fmt.Errorf("litepool: isolation level %v is not supported (SQLite transactions are serializable)",
			sql.IsolationLevel(opts.Isolation))
	}
	mode, begin := "write", "BEGIN IMMEDIATE"
	if opts.ReadOnly {
		mode, begin = "read", "BEGIN"
	}
	r := newRequest(c.buf, "acquire").str("db", c.cfg.Database).str("mode", mode).str("tag", c.cfg.Tag)
	rep, err := c.roundTrip(ctx, c.limits(r).line())
	if err != nil {
		return nil, err
	}
	t := &tx{c: c, lease: rep.Lease}
	c.tx = t
	if _, err := c.roundTrip(ctx, newRequest(c.buf, "exec").str("lease", t.lease).str("sql", begin).line()); err != nil {
		t.Rollback()
		return nil, err
	}
	return t, nil
}

// Commit commits and releases the lease in one round trip.
func (t *tx) Commit() error {
	c := t.c
	defer func() { c.tx = nil }()
	lines := newRequest(c.buf, "exec").str("lease", t.lease).str("sql", "COMMIT").line()
	lines = append(lines, newRequest(nil, "release").str("lease", t.lease).line()...)
	replies, err := c.pipeline(context.Background(), lines, 2)
	if err != nil {
		return c.inTx(err)
	}
	_, commitErr := replies[0]()
	if _, err := replies[1](); err != nil && commitErr == nil {
		// Committed, yet the lease did not go back: drop the connection so
		// the daemon takes the lease back, rather than report a failure.
		c.kill(err)
	}
	return commitErr
}

// Rollback releases the lease; the daemon rolls back what it holds.
func (t *tx) Rollback() error {
	c := t.c
	defer func() { c.tx = nil }()
	_, err := c.roundTrip(context.Background(), newRequest(c.buf, "release").str("lease", t.lease).line())
	return c.inTx(err)
}
