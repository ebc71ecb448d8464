package litepool_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"math"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	litepool "litepool.dev/go"
)

func open(t *testing.T, d *litepool.TestDaemon, params string) *sql.DB {
	t.Helper()
	db, err := sql.Open("litepool", d.DSN(params))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...interface{}) sql.Result {
	t.Helper()
	res, err := db.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}

func TestParseDSN(t *testing.T) {
	t.Setenv("LITEPOOL_SOCKET", "/run/env.sock")
	good := []struct {
		dsn  string
		want litepool.Config
	}{
		{"unix:/run/l.sock?db=main", litepool.Config{Socket: "/run/l.sock", Database: "main"}},
		{"unix:///run/l.sock?db=main", litepool.Config{Socket: "/run/l.sock", Database: "main"}},
		{"unix:rel.sock?db=a&tag=svc&lease_ms=2000&wait_ms=50&dial_timeout_ms=100",
			litepool.Config{Socket: "rel.sock", Database: "a", Tag: "svc", LeaseTimeout: 2 * time.Second,
				WaitTimeout: 50 * time.Millisecond, DialTimeout: 100 * time.Millisecond}},
		{"?db=main", litepool.Config{Socket: "/run/env.sock", Database: "main"}},
	}
	for _, g := range good {
		got, err := litepool.ParseDSN(g.dsn)
		if err != nil {
			t.Errorf("%s: %v", g.dsn, err)
			continue
		}
		if g.want.Tag == "" {
			g.want.Tag = got.Tag // the default names the program and pid
			if !strings.Contains(got.Tag, "[") {
				t.Errorf("%s: default tag %q does not name the pid", g.dsn, got.Tag)
			}
		}
		if g.want.DialTimeout == 0 {
			g.want.DialTimeout = 5 * time.Second
		}
		if got != g.want {
			t.Errorf("%s: got %+v, want %+v", g.dsn, got, g.want)
		}
	}
	t.Setenv("LITEPOOL_SOCKET", "")
	if got, _ := litepool.ParseDSN("?db=main"); got.Socket != "./litepool.sock" {
		t.Errorf("default socket %q", got.Socket)
	}
	bad := map[string]string{
		"/run/l.sock":                                     "want unix:PATH?db=NAME",
		"tcp:1.2.3.4?db=main":                             "must start with unix:",
		"unix:?db=main":                                   "names no socket path",
		"unix:/s?tag=x":                                   "db (the database name) is required",
		"unix:/s?db=main&lease_ms=0":                      "lease_ms must be a positive integer",
		"unix:/s?db=main&wait_ms=soon":                    "wait_ms must be a positive integer",
		"unix:/s?db=main&leas_ms=5":                       `unknown parameter "leas_ms"`,
		"unix:/s?db=a&db=b":                               "db is given 2 times",
		"unix:/s?db=main&tag=" + strings.Repeat("x", 129): "tag is longer than 128 bytes",
	}
	for dsn, want := range bad {
		_, err := litepool.ParseDSN(dsn)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error saying %q", dsn, err, want)
		}
		// sql.Open parses at once (the driver is a DriverContext).
		if _, err := sql.Open("litepool", dsn); err == nil {
			t.Errorf("sql.Open(%q) accepted a bad DSN", dsn)
		}
	}
}

func TestFirstUseNamesWhatIsWrong(t *testing.T) {
	d := litepool.StartTestDaemon(t, nil)
	db, err := sql.Open("litepool", "unix:"+d.Socket+"?db=nosuch")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Ping()
	if !errors.Is(err, litepool.ErrUnknownDatabase) || !strings.Contains(err.Error(), `"main"`) {
		t.Errorf("ping of an unknown database: %v", err)
	}
	db2, _ := sql.Open("litepool", "unix:"+d.Dir+"/absent.sock?db=main")
	defer db2.Close()
	if err := db2.Ping(); !errors.Is(err, litepool.ErrIO) || !errors.Is(err, syscall.ENOENT) ||
		!strings.Contains(err.Error(), "cannot connect to litepoold") {
		t.Errorf("ping of a missing socket: %v", err)
	}
	if err := open(t, d, "").Ping(); err != nil {
		t.Errorf("ping: %v", err)
	}
}

func TestValuesRoundTrip(t *testing.T) {
	d := litepool.StartTestDaemon(t, nil)
	db := open(t, d, "")
	mustExec(t, db, "CREATE TABLE v(id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB, t DATETIME, d DATE, ts TIMESTAMP, f BOOLEAN, x)")
	zone := time.FixedZone("east", 5*3600+30*60)
	when := time.Date(2026, 12, 6, 4, 5, 6, 123456789, time.UTC)
	cases := []struct {
		name  string
		value interface{}
		col   string
	}{
		{"int64 max", int64(math.MaxInt64), "i"},
		{"int64 min", int64(math.MinInt64), "i"},
		{"int", 42, "x"},
		{"float", 2.5, "r"},
		{"float integral", 2.0, "x"},
		{"float tiny", 5e-324, "r"},
		{"float huge", 1.7976931348623157e308, "r"},
		{"negative zero", math.Copysign(0, -1), "x"},
		{"string", "héllo \"quoted\" \\ \n\t\x01 ✓", "s"},
		{"empty string", "", "s"},
		{"bytes", []byte{0, 1, 2, 0xff, '\n'}, "b"},
		{"empty bytes", []byte{}, "b"},
		{"nil", nil, "x"},
		{"time utc", when, "t"},
		{"time zoned", when.In(zone), "ts"},
		{"time local", when.In(time.Local), "t"},
		{"date", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), "d"},
	}
	for i, c := range cases {
		if _, err := db.Exec("INSERT INTO v(id, "+c.col+") VALUES (?, ?)", i, c.value); err != nil {
			t.Fatalf("%s: insert: %v", c.name, err)
		}
		var got interface{}
		if err := db.QueryRow("SELECT "+c.col+" FROM v WHERE id = ?", i).Scan(&got); err != nil {
			t.Fatalf("%s: select: %v", c.name, err)
		}
		want := c.value
		if n, ok := want.(int); ok {
			want = int64(n)
		}
		switch w := want.(type) {
		case time.Time:
			g, ok := got.(time.Time)
			_, gotOffset := g.Zone()
			_, wantOffset := w.Zone()
			if !ok || !g.Equal(w) || gotOffset != wantOffset {
				t.Errorf("%s: got %#v, want %v", c.name, got, w)
			}
		case float64:
			g, ok := got.(float64)
			if !ok || math.Float64bits(g) != math.Float64bits(w) {
				t.Errorf("%s: got %#v, want %v", c.name, got, w)
			}
		default:
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: got %#v (%T), want %#v (%T)", c.name, got, got, want, want)
			}
		}
	}
	// Scanning into typed destinations.
	var at time.Time
	if err := db.QueryRow("SELECT t FROM v WHERE t IS NOT NULL LIMIT 1").Scan(&at); err != nil || !at.Equal(when) {
		t.Errorf("scan into *time.Time: %v, %v", at, err)
	}
	mustExec(t, db, "INSERT INTO v(id, f, t) VALUES (100, 1, 1765000000)")
	var flag bool
	var unix time.Time
	if err := db.QueryRow("SELECT f, t FROM v WHERE id = 100").Scan(&flag, &unix); err != nil || !flag ||
		!unix.Equal(time.Unix(1765000000, 0)) {
		t.Errorf("boolean and unix-time columns: %v %v %v", flag, unix, err)
	}
	if _, err := db.Exec("INSERT INTO v(x) VALUES (?)", math.Inf(1)); err == nil {
		t.Error("an infinite float was accepted")
	}
	if _, err := db.Exec("INSERT INTO v(x) VALUES (?)", string([]byte{0xff})); err == nil ||
		!strings.Contains(err.Error(), "not valid UTF-8") {
		t.Errorf("invalid UTF-8 string: %v", err)
	}
	if _, err := db.Exec("INSERT INTO v(x) VALUES (?)", uint64(math.MaxUint64)); err == nil {
		t.Error("a uint64 past int64 was accepted")
	}
}

func TestNamedAndPositionalParameters(t *testing.T) {
	d := litepool.StartTestDaemon(t, nil)
	db := open(t, d, "")
	var a, b, c int64
	err := db.QueryRow("SELECT :a, @b, $c", sql.Named("a", 1), sql.Named("b", 2), sql.Named("c", 3)).Scan(&a, &b, &c)
	if err != nil || a != 1 || b != 2 || c != 3 {
		t.Errorf("named: %d %d %d %v", a, b, c, err)
	}
	err = db.QueryRow("SELECT ?2, ?1", "x", "y").Scan(&a, &b)
	var s1, s2 string
	if err = db.QueryRow("SELECT ?2, ?1", "x", "y").Scan(&s1, &s2); err != nil || s1 != "y" || s2 != "x" {
		t.Errorf("numbered: %q %q %v", s1, s2, err)
	}
	if _, err := db.Exec("SELECT ?, :a", 1, sql.Named("a", 2)); err == nil ||
		!strings.Contains(err.Error(), "all named or all positional") {
		t.Errorf("mixed: %v", err)
	}
	if _, err := db.Exec("SELECT ?", 1, 2); !errors.Is(err, litepool.ErrBadRequest) {
		t.Errorf("extra parameter: %v", err)
	}
}

func TestResultsAndColumnTypes(t *testing.T) {
	d := litepool.StartTestDaemon(t, nil)
	db := open(t, d, "")
	// Exec without arguments may run a script.
	mustExec(t, db, `CREATE TABLE p(id INTEGER PRIMARY KEY, name VARCHAR(20), at DATETIME, w REAL, raw BLOB);
	                 CREATE TABLE c(id INTEGER PRIMARY KEY, p INTEGER)`)
	res := mustExec(t, db, "INSERT INTO p(name) VALUES (?), (?)", "a", "b")
	if id, _ := res.LastInsertId(); id != 2 {
		t.Errorf("LastInsertId = %d, want 2", id)
	}
	if n, _ := res.RowsAffected(); n != 2 {
		t.Errorf("RowsAffected = %d, want 2", n)
	}
	res = mustExec(t, db, "UPDATE p SET name = 'z'")
	if id, _ := res.LastInsertId(); id != 0 {
		t.Errorf("LastInsertId of an update = %d, want 0 (not an earlier insert's)", id)
	}
	res = mustExec(t, db, "INSERT INTO c(p) VALUES (1); INSERT INTO c(p) VALUES (2)")
	if id, _ := res.LastInsertId(); id != 2 {
		t.Errorf("LastInsertId of a script = %d, want 2", id)
	}
	// INSERT … RETURNING through Query: a write in a query moves to the writer.
	var id int64
	if err := db.QueryRow("INSERT INTO p(name) VALUES ('r') RETURNING id").Scan(&id); err != nil || id != 3 {
		t.Errorf("insert returning: %d %v", id, err)
	}
	rows, err := db.Query("SELECT id, name, at, w, raw, id + 1 AS e FROM p")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, db string
		scan     reflect.Type
	}{
		{"id", "INTEGER", reflect.TypeOf(int64(0))},
		{"name", "VARCHAR", reflect.TypeOf("")},
		{"at", "DATETIME", reflect.TypeOf(time.Time{})},
		{"w", "REAL", reflect.TypeOf(float64(0))},
		{"raw", "BLOB", reflect.TypeOf([]byte(nil))},
		{"e", "", reflect.TypeOf((*interface{})(nil)).Elem()},
	}
	for i, w := range want {
		ct := types[i]
		if ct.Name() != w.name || ct.DatabaseTypeName() != w.db || ct.ScanType() != w.scan {
			t.Errorf("column %d: %s %q %v, want %s %q %v", i, ct.Name(), ct.DatabaseTypeName(), ct.ScanType(), w.name, w.db, w.scan)
		}
	}
	n := 0
	for rows.Next() {
		n++
	}
	if n != 3 || rows.Err() != nil {
		t.Errorf("%d rows, %v", n, rows.Err())
	}
}

func TestErrorsCarryTheirCodes(t *testing.T) {
	d := litepool.StartTestDaemon(t, nil)
	db := open(t, d, "")
	mustExec(t, db, "CREATE TABLE u(k TEXT PRIMARY KEY)")
	mustExec(t, db, "INSERT INTO u VALUES ('a')")
	_, err := db.Exec("INSERT INTO u VALUES ('a')")
	var le *litepool.Error
	if !errors.As(err, &le) || le.Code != "sql_error" || le.SQLiteCode != 1555 || !errors.Is(err, litepool.ErrSQL) {
		t.Errorf("duplicate key: %#v", err)
	}
	if errors.Is(err, litepool.ErrBusy) {
		t.Error("a sql_error matched ErrBusy")
	}
	if _, err := db.Query("SELEC 1"); !errors.Is(err, litepool.ErrSQL) {
		t.Errorf("syntax error: %v", err)
	}
	if _, err := db.Exec("ATTACH 'x.db' AS x"); !errors.Is(err, litepool.ErrForbidden) {
		t.Errorf("attach: %v", err)
	}
	if _, err := db.Exec("SELECT 1; SELECT ?", 1); !errors.Is(err, litepool.ErrBadRequest) {
		t.Errorf("two statements with arguments: %v", err)
	}
}

func TestReadsRunOnReadHandles(t *testing.T) {
	d := litepool.StartTestDaemon(t, nil)
	db := open(t, d, "")
	mustExec(t, db, "CREATE TABLE t(v)")
	mustExec(t, db, "INSERT INTO t VALUES (1)")
	write0, read0 := d.Stats()
	for i := 0; i < 20; i++ {
		var n int
		if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
			t.Fatalf("select: %d %v", n, err)
		}
	}
	write1, read1 := d.Stats()
	if read1.AcquiresOK-read0.AcquiresOK != 20 || write1.AcquiresOK != write0.AcquiresOK {
		t.Errorf("20 one-shot reads: read acquires +%v, write acquires +%v; want +20, +0",
			read1.AcquiresOK-read0.AcquiresOK, write1.AcquiresOK-write0.AcquiresOK)
	}
	// A read-only transaction holds a read lease: a write in it is refused.
	tx, err := db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO t VALUES (2)"); !errors.Is(err, litepool.ErrReadOnly) {
		t.Errorf("write in a read-only transaction: %v", err)
	}
	var n int
	if err := tx.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Errorf("read in a read-only transaction: %d %v", n, err)
	}
	if _, read := d.Stats(); read.Leased != 1 {
		t.Errorf("read handles leased during the transaction: %v", read.Leased)
	}
	if err := tx.Rollback(); err != nil {
		t.Error(err)
	}
	if _, err := db.BeginTx(context.Background(), &sql.TxOptions{Isolation: sql.LevelLinearizable}); err == nil ||
		!strings.Contains(err.Error(), "not supported") {
		t.Errorf("linearizable: %v", err)
	}
	tx, err = db.BeginTx(context.Background(), &sql.TxOptions{Isolation: sql.LevelSerializable})
	if err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
}

func TestTransactionsCommitAndRollBack(t *testing.T) {
	d := litepool.StartTestDaemon(t, nil)
	db := open(t, d, "")
	mustExec(t, db, "CREATE TABLE t(v)")
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	tx.Exec("INSERT INTO t VALUES (1)")
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	tx, _ = db.Begin()
	tx.Exec("INSERT INTO t VALUES (2)")
	var inside int
	tx.QueryRow("SELECT count(*) FROM t").Scan(&inside)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var sum, n int
	db.QueryRow("SELECT count(*), sum(v) FROM t").Scan(&n, &sum)
	if inside != 1 || n != 1 || sum != 2 {
		t.Errorf("inside %d, after: %d rows summing %d; want 1, 1, 2", inside, n, sum)
	}
	if write, read := d.WaitIdle(time.Second); write.Leased+read.Leased != 0 {
		t.Errorf("leased after the transactions: %v %v", write, read)
	}
}

const runaway = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT count(*) FROM c"

func TestCancelStopsTheStatementAndFreesTheHandle(t *testing.T) {
	d := litepool.StartTestDaemon(t, nil)
	db := open(t, d, "")
	mustExec(t, db, "CREATE TABLE t(v)")
	for i := 0; i < 3; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		start := time.Now()
		_, err := db.QueryContext(ctx, runaway)
		took := time.Since(start)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("runaway query: %v", err)
		}
		if took > 150*time.Millisecond {
			t.Errorf("the cancelled query returned after %v; want within 150ms", took)
		}
		if write, read := d.WaitIdle(50 * time.Millisecond); write.Leased+read.Leased != 0 {
			t.Errorf("50ms after the cancel: write %+v read %+v", write, read)
		}
	}
	// Cancelled inside a transaction: the transaction is rolled back.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err = tx.QueryContext(ctx, runaway)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("runaway in a transaction: %v", err)
	}
	if err := tx.Commit(); err == nil {
		t.Error("commit after the connection was cancelled succeeded")
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Errorf("rows after the cancelled transaction: %d %v", n, err)
	}
	if write, _ := d.WaitIdle(100 * time.Millisecond); write.Leased != 0 {
		t.Errorf("writer still leased: %+v", write)
	}
	// The pool goes on: a cancelled connection is replaced, not reused.
	if err := db.Ping(); err != nil {
		t.Error(err)
	}
}

func TestLeakedTransactionIsRevoked(t *testing.T) {
	d := litepool.StartTestDaemon(t, map[string]interface{}{"lease_timeout_ms": 600, "leak_warn_ms": 200})
	db := open(t, d, "tag=leaky-service")
	mustExec(t, db, "CREATE TABLE t(v)")
	leaked := make(chan *sql.Tx)
	go func() { // begins and forgets
		tx, err := db.Begin()
		if err != nil {
			t.Error(err)
		}
		tx.Exec("INSERT INTO t VALUES ('leaked')")
		leaked <- tx
	}()
	tx := <-leaked
	// Readers are not held up by the leak meanwhile.
	for i := 0; i < 10; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		var n int
		err := db.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n)
		cancel()
		if err != nil {
			t.Fatalf("read during the leak: %v", err)
		}
	}
	if line, ok := d.WaitLog(2*time.Second, `"event":"lease_leak_warning"`, `leaky-service`); !ok {
		t.Errorf("no leak warning naming the tag:\n%s", d.LogText())
	} else {
		t.Logf("daemon: %s", line)
	}
	// A writer waits for the leaked writer, and gets it once it is revoked.
	start := time.Now()
	mustExec(t, db, "INSERT INTO t VALUES ('after')")
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("a writer waited %v behind the leak", waited)
	}
	if _, ok := d.WaitLog(time.Second, `"event":"lease_revoked"`, `leaky-service`); !ok {
		t.Errorf("no revocation logged:\n%s", d.LogText())
	}
	if _, err := tx.Exec("INSERT INTO t VALUES ('late')"); !errors.Is(err, litepool.ErrLeaseExpired) {
		t.Errorf("use of the revoked transaction: %v", err)
	}
	if err := tx.Commit(); !errors.Is(err, litepool.ErrLeaseExpired) && !errors.Is(err, litepool.ErrUnknownLease) {
		t.Errorf("commit of the revoked transaction: %v", err)
	}
	var vals []string
	rows, _ := db.Query("SELECT v FROM t")
	for rows.Next() {
		var v string
		rows.Scan(&v)
		vals = append(vals, v)
	}
	if !reflect.DeepEqual(vals, []string{"after"}) {
		t.Errorf("rows: %v; the leaked transaction must be rolled back", vals)
	}
}

func TestManyGoroutinesFewConnections(t *testing.T) {
	d := litepool.StartTestDaemon(t, nil)
	db := open(t, d, "")
	db.SetMaxOpenConns(8)
	mustExec(t, db, "CREATE TABLE t(g INTEGER, i INTEGER)")
	goroutines, each := 64, 1000
	if testing.Short() { // the sanitizer builds' daemons are several times slower
		each = 100
	}
	var wg sync.WaitGroup
	var failures int64
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				ctx := context.Background()
				var err error
				if i%4 == 0 { // a write transaction
					var tx *sql.Tx
					if tx, err = db.BeginTx(ctx, nil); err == nil {
						if _, err = tx.Exec("INSERT INTO t VALUES (?, ?)", g, i); err == nil {
							err = tx.Commit()
						} else {
							tx.Rollback()
						}
					}
				} else { // a read-only one
					var tx *sql.Tx
					if tx, err = db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err == nil {
						var n int
						if err = tx.QueryRow("SELECT count(*) FROM t WHERE g = ?", g).Scan(&n); err == nil {
							err = tx.Commit()
						} else {
							tx.Rollback()
						}
					}
				}
				if err != nil && atomic.AddInt64(&failures, 1) < 5 {
					t.Errorf("goroutine %d, transaction %d: %v", g, i, err)
				}
			}
		}(g)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		t.Fatal("deadlock: the transactions did not finish in 5 minutes")
	}
	var n int
	db.QueryRow("SELECT count(*) FROM t").Scan(&n)
	if n != goroutines*each/4 {
		t.Errorf("%d rows, want %d", n, goroutines*each/4)
	}
	write, read := d.WaitIdle(time.Second)
	if write.Leased+read.Leased+write.Waiters+read.Waiters != 0 {
		t.Errorf("after the run: write %+v read %+v", write, read)
	}
	if open := db.Stats().OpenConnections; open > 8 {
		t.Errorf("%d sockets open, SetMaxOpenConns(8)", open)
	}
}

func TestDaemonRestartReconnectsAndNeverRepeatsAWrite(t *testing.T) {
	d := litepool.StartTestDaemon(t, nil)
	db := open(t, d, "")
	db.SetMaxOpenConns(4)
	mustExec(t, db, "CREATE TABLE t(k INTEGER PRIMARY KEY)")
	// Four writers insert unique keys while the daemon is drained and
	// restarted, then killed mid-request and restarted.
	var mu sync.Mutex
	var acked []int
	afterRestart := 0
	errs := map[string]int{}
	var restarted int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := g*1000000 + i
				_, err := db.Exec("INSERT INTO t VALUES (?)", k)
				mu.Lock()
				if err == nil {
					acked = append(acked, k)
					if atomic.LoadInt32(&restarted) == 2 {
						afterRestart++
					}
				} else {
					var le *litepool.Error
					if errors.As(err, &le) {
						errs[le.Code]++
					} else {
						errs["other"]++
					}
					if strings.Contains(err.Error(), "UNIQUE") {
						t.Errorf("insert %d ran twice: %v", k, err)
					}
				}
				mu.Unlock()
			}
		}(g)
	}
	time.Sleep(200 * time.Millisecond)
	d.Stop()
	d.Start()
	atomic.StoreInt32(&restarted, 1)
	time.Sleep(200 * time.Millisecond)
	d.Kill()
	d.Start()
	atomic.StoreInt32(&restarted, 2)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("%d inserts acknowledged, %d after the last restart; errors by code: %v", len(acked), afterRestart, errs)
	if afterRestart == 0 {
		t.Errorf("no insert succeeded after the restart: the driver did not reconnect (%v)", errs)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	for _, k := range acked {
		var got int
		if err := db.QueryRow("SELECT k FROM t WHERE k = ?", k).Scan(&got); err != nil {
			t.Fatalf("acknowledged insert %d is missing: %v", k, err)
		}
	}
	if n < len(acked) {
		t.Errorf("%d rows for %d acknowledged inserts", n, len(acked))
	}
}

func TestConnectorAndConfig(t *testing.T) {
	d := litepool.StartTestDaemon(t, nil)
	k, err := litepool.NewConnector(litepool.Config{Socket: d.Socket, Database: "main", Tag: "connector"})
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(k)
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	leases := d.Call(`{"op":"leases"}`)["leases"].([]interface{})
	if len(leases) != 1 || leases[0].(map[string]interface{})["tag"] != "connector" {
		t.Errorf("leases: %v", leases)
	}
	tx.Rollback()
	if _, err := litepool.NewConnector(litepool.Config{Socket: d.Socket}); err == nil {
		t.Error("a Config without a database was accepted")
	}
	var blob []byte
	if err := db.QueryRow("SELECT x'00ff'").Scan(&blob); err != nil || !bytes.Equal(blob, []byte{0, 0xff}) {
		t.Errorf("blob literal: %v %v", blob, err)
	}
}

// The example a Go developer copies runs as it is.
func TestExampleProgramRuns(t *testing.T) {
	d := litepool.StartTestDaemon(t, nil)
	cmd := exec.Command("go", "run", "./example")
	cmd.Env = append(os.Environ(), "LITEPOOL_DSN="+d.DSN("tag=example"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run ./example: %v\n%s", err, out)
	}
	for _, want := range []string{`note 1: "hello from Go!", written`, "refused by SQLite (extended code 1555)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("example output lacks %q:\n%s", want, out)
		}
	}
}

// A storage fault reaches the program as its own error: here a database
// whose file is missing is down, and says why.
func TestStorageFaultsHaveTheirOwnErrors(t *testing.T) {
	d := litepool.StartTestDaemon(t, map[string]interface{}{
		"path": "/nonexistent/litepool-test.db", "read_only": true, "create_if_missing": false,
	})
	db := open(t, d, "")
	_, err := db.Query("SELECT 1")
	var le *litepool.Error
	if !errors.Is(err, litepool.ErrDatabaseUnavailable) || !errors.As(err, &le) ||
		!strings.Contains(le.Message, "does not exist") {
		t.Errorf("query on a missing database: %v", err)
	}
	if errors.Is(err, litepool.ErrDiskFull) {
		t.Error("database_unavailable matched ErrDiskFull")
	}
}

// A context cancelled after its statement returned (the usual `defer
// cancel()`) must not break the connection under the next statement.
func TestContextEndingAfterItsRequestBreaksNothing(t *testing.T) {
	d := litepool.StartTestDaemon(t, nil)
	db := open(t, d, "")
	db.SetMaxOpenConns(1) // every statement on the same connection
	for i := 0; i < 2000; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var n int
		err := db.QueryRowContext(ctx, "SELECT ?", i).Scan(&n)
		cancel()
		if err != nil || n != i {
			t.Fatalf("statement %d: %d, %v", i, n, err)
		}
	}
}
