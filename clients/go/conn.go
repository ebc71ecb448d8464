package litepool

import (
	"bufio"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// conn is one connection to the daemon's socket: a driver.Conn. Used by one
// goroutine at a time (database/sql's rule); only kill, from the goroutine
// that watches a request's context, runs beside it.
type conn struct {
	cfg *Config
	nc  *net.UnixConn
	r   *bufio.Reader
	buf []byte // the request being written, reused
	tx  *tx    // the open transaction, if any

	mu       sync.Mutex
	broken   error  // why the connection is unusable; nil while it is fine
	inflight uint64 // the request a context may still cancel; 0 between requests
	seq      uint64
}

// dial connects and checks that the daemon speaks protocol 1 and serves
// the database, so a wrong DSN fails at first use with a clear message.
func dial(ctx context.Context, cfg *Config) (*conn, error) {
	d := net.Dialer{Timeout: cfg.DialTimeout}
	nc, err := d.DialContext(ctx, "unix", cfg.Socket)
	if err != nil {
		return nil, &Error{Code: CodeIO, cause: err,
			Message: fmt.Sprintf("cannot connect to litepoold at %s: %v", cfg.Socket, err)}
	}
	c := &conn{cfg: cfg, nc: nc.(*net.UnixConn), r: bufio.NewReaderSize(nc, 16<<10)}
	hello, err := c.roundTrip(ctx, newRequest(c.buf, "hello").line())
	if err != nil {
		c.nc.Close()
		return nil, err
	}
	if hello.Protocol != 1 {
		c.nc.Close()
		return nil, fmt.Errorf("litepool: litepoold at %s speaks protocol %d; this driver speaks 1", cfg.Socket, hello.Protocol)
	}
	for _, name := range hello.Databases {
		if name == cfg.Database {
			return c, nil
		}
	}
	c.nc.Close()
	return nil, &Error{Code: "unknown_database",
		Message: fmt.Sprintf("litepoold at %s has no database %q (it has %q)", cfg.Socket, cfg.Database, hello.Databases)}
}

// kill breaks the connection: the daemon then interrupts whatever runs for
// it, rolls back and releases its leases (docs/protocol.md, "Cancelling").
func (c *conn) kill(why error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.killLocked(why)
}

func (c *conn) killLocked(why error) {
	if c.broken == nil {
		c.broken = why
		c.nc.Close()
	}
}

// cancelOnDone closes the connection if ctx ends while request `seq` is
// still in flight; a context that ends after its request finished (its
// cancel func called at last, as usual) must not break the next request.
// Returns the function that marks the request finished.
func (c *conn) cancelOnDone(ctx context.Context) func() {
	if ctx.Done() == nil {
		return func() {}
	}
	c.mu.Lock()
	c.seq++
	seq := c.seq
	c.inflight = seq
	c.mu.Unlock()
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			c.mu.Lock()
			if c.inflight == seq {
				c.killLocked(ctx.Err())
			}
			c.mu.Unlock()
		case <-done:
		}
	}()
	return func() {
		c.mu.Lock()
		c.inflight = 0
		c.mu.Unlock()
		close(done)
	}
}

func (c *conn) brokenErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.broken
}

// roundTrip sends one request line and reads its reply. A cancelled
// context closes the connection, which stops the request in the daemon.
func (c *conn) roundTrip(ctx context.Context, line []byte) (*reply, error) {
	replies, err := c.pipeline(ctx, line, 1)
	if err != nil {
		return nil, err
	}
	return replies[0]()
}

// pipeline writes `lines` (n requests) at once and returns one decoder per
// reply, in order.
func (c *conn) pipeline(ctx context.Context, lines []byte, n int) ([]func() (*reply, error), error) {
	c.buf = lines[:0]
	if err := c.brokenErr(); err != nil {
		return nil, driver.ErrBadConn
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	defer c.cancelOnDone(ctx)()
	if _, err := c.nc.Write(lines); err != nil {
		// The line did not reach the daemon whole, and a partial line never
		// runs: retrying on another connection is safe.
		c.kill(err)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, driver.ErrBadConn
	}
	raw := make([][]byte, n)
	for i := range raw {
		line, err := c.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			line, err = c.readLong(line)
		}
		if err != nil {
			c.kill(err)
			if ctxErr := ctx.Err(); ctxErr != nil {
				return nil, ctxErr
			}
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, connectionLost(err)
		}
		if i < n-1 {
			// ReadSlice's buffer is reused by the next read; the last reply
			// is decoded before the connection is read again.
			line = append([]byte(nil), line...)
		}
		raw[i] = line
	}
	out := make([]func() (*reply, error), n)
	for i := range out {
		line := raw[i]
		out[i] = func() (*reply, error) { return decodeReply(line) }
	}
	return out, nil
}

// readLong finishes a reply longer than the read buffer.
func (c *conn) readLong(first []byte) ([]byte, error) {
	line := append([]byte(nil), first...)
	for {
		more, err := c.r.ReadSlice('\n')
		line = append(line, more...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}

// Prepare keeps the SQL text: the daemon prepares and caches statements on
// each handle itself.
func (c *conn) Prepare(query string) (driver.Stmt, error) { return &stmt{c: c, query: query}, nil }

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Prepare(query)
}

// Close closes the socket; the daemon releases anything still leased.
func (c *conn) Close() error {
	c.kill(errors.New("closed"))
	return nil
}

func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *conn) Ping(ctx context.Context) error {
	_, err := c.roundTrip(ctx, newRequest(c.buf, "ping").line())
	return err
}

// ResetSession runs before database/sql reuses the connection: one that the
// daemon closed meanwhile (a restart, a drain) is reported bad, so the
// request goes to a new connection without having been sent.
func (c *conn) ResetSession(ctx context.Context) error {
	if c.brokenErr() != nil || !c.peerAlive() {
		return driver.ErrBadConn
	}
	return nil
}

// IsValid tells database/sql whether to keep the connection in its pool.
func (c *conn) IsValid() bool { return c.brokenErr() == nil && c.tx == nil }

// peerAlive looks, without blocking or consuming anything, whether the
// daemon has closed its end: between requests nothing may be unread.
func (c *conn) peerAlive() bool {
	if c.r.Buffered() > 0 {
		return false // a reply nobody asked for: the stream is out of step
	}
	raw, err := c.nc.SyscallConn()
	if err != nil {
		return false
	}
	alive := false
	err = raw.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		alive = n < 0 && (err == syscall.EAGAIN || err == syscall.EWOULDBLOCK)
		return true
	})
	return err == nil && alive
}

// CheckNamedValue accepts the types the protocol carries and converts the
// rest as database/sql's default converter does (driver.Valuer, sized
// integers, ...).
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	switch nv.Value.(type) {
	case nil, int64, float64, bool, string, []byte, time.Time:
		return nil
	}
	v, err := driver.DefaultParameterConverter.ConvertValue(nv.Value)
	if err != nil {
		return fmt.Errorf("litepool: argument %s: %w", argName(*nv), err)
	}
	nv.Value = v
	return nil
}

// ExecContext runs on the writer: outside a transaction as a one-shot, in
// one on the transaction's lease. Without arguments it may hold several
// statements (a migration script).
func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	op := "query"
	if len(args) == 0 {
		op = "exec"
	}
	r := c.statement(op, "write")
	if err := r.params(args); err != nil {
		return nil, err
	}
	rep, err := c.roundTrip(ctx, r.str("sql", query).line())
	if err != nil {
		return nil, c.inTx(err)
	}
	return result{lastID: rep.LastInsertRowid, changes: rep.Changes}, nil
}

// QueryContext runs outside a transaction as a one-shot in mode auto: on a
// read handle, or on the writer when the statement writes.
func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	r := c.statement("query", "auto").boolean("decltypes", true)
	if err := r.params(args); err != nil {
		return nil, err
	}
	rep, err := c.roundTrip(ctx, r.str("sql", query).line())
	if err != nil {
		return nil, c.inTx(err)
	}
	return newRows(rep), nil
}

// statement starts a query or exec request on the transaction's lease, or
// as a one-shot on the database in `mode`.
func (c *conn) statement(op, mode string) *request {
	r := newRequest(c.buf, op)
	if c.tx != nil {
		return r.str("lease", c.tx.lease)
	}
	r.str("db", c.cfg.Database).str("mode", mode).str("tag", c.cfg.Tag)
	return c.limits(r)
}

// limits adds the lease and wait bounds the program asked for.
func (c *conn) limits(r *request) *request {
	if c.cfg.WaitTimeout > 0 {
		r.int("wait_ms", c.cfg.WaitTimeout.Milliseconds())
	}
	if c.cfg.LeaseTimeout > 0 {
		r.int("lease_ms", c.cfg.LeaseTimeout.Milliseconds())
	}
	return r
}

// inTx keeps driver.ErrBadConn out of a transaction: database/sql would not
// retry its statement anyway, and the transaction is gone with the
// connection, which the error says.
func (c *conn) inTx(err error) error {
	if c.tx != nil && errors.Is(err, driver.ErrBadConn) {
		return &Error{Code: CodeIO, Message: "the connection to litepoold is closed; the transaction was rolled back"}
	}
	return err
}

type result struct{ lastID, changes int64 }

// LastInsertId is the rowid the statement inserted, 0 when it inserted none.
func (r result) LastInsertId() (int64, error) { return r.lastID, nil }
func (r result) RowsAffected() (int64, error) { return r.changes, nil }

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
)
