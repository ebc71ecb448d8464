package litepool

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestDaemon is a real litepoold child on a temp socket and database, as
// the other clients' tests run it. $LITEPOOLD names the binary (ctest sets
// it). Exported for the tests of package litepool_test only: _test files
// are not part of the package.
type TestDaemon struct {
	t      *testing.T
	Dir    string
	Socket string
	config string
	cmd    *exec.Cmd

	mu  sync.Mutex
	log []string
}

func litepooldPath(t *testing.T) string {
	if p := os.Getenv("LITEPOOLD"); p != "" {
		return p
	}
	p, _ := filepath.Abs("../../build/server/litepoold")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("set LITEPOOLD to the litepoold binary (not found at %s)", p)
	}
	return p
}

// StartTestDaemon writes a configuration (`pool` adds keys to database main)
// and starts litepoold on it.
func StartTestDaemon(t *testing.T, pool map[string]interface{}) *TestDaemon {
	dir := t.TempDir()
	db := map[string]interface{}{
		"path":              filepath.Join(dir, "main.db"),
		"create_if_missing": true,
		"pragmas":           map[string]interface{}{"journal_mode": "wal"},
	}
	for k, v := range pool {
		db[k] = v
	}
	cfg := map[string]interface{}{
		"socket":             filepath.Join(dir, "litepool.sock"),
		"metrics":            map[string]interface{}{"listen": ""},
		"reaper_interval_ms": 20,
		"shutdown_grace_ms":  0,
		"databases":          map[string]interface{}{"main": db},
	}
	raw, _ := json.Marshal(cfg)
	d := &TestDaemon{t: t, Dir: dir, Socket: cfg["socket"].(string), config: filepath.Join(dir, "litepool.json")}
	if err := os.WriteFile(d.config, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	d.Start()
	t.Cleanup(d.Stop)
	return d
}

func (d *TestDaemon) Start() {
	d.cmd = exec.Command(litepooldPath(d.t), "--config", d.config)
	stderr, err := d.cmd.StderrPipe()
	if err != nil {
		d.t.Fatal(err)
	}
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		once := sync.Once{}
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			d.mu.Lock()
			d.log = append(d.log, sc.Text())
			d.mu.Unlock()
			if strings.Contains(sc.Text(), `"event":"listening"`) {
				once.Do(func() { close(ready) })
			}
		}
		once.Do(func() { close(ready) })
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		d.t.Fatalf("litepoold did not start:\n%s", d.LogText())
	}
	if d.cmd.ProcessState != nil {
		d.t.Fatalf("litepoold exited:\n%s", d.LogText())
	}
}

func (d *TestDaemon) Stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
	d.cmd = nil
}

// Kill ends the daemon as a crash would.
func (d *TestDaemon) Kill() {
	d.cmd.Process.Kill()
	d.cmd.Wait()
	d.cmd = nil
}

func (d *TestDaemon) LogText() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.log, "\n")
}

// WaitLog waits for a log line holding every one of `parts`.
func (d *TestDaemon) WaitLog(within time.Duration, parts ...string) (string, bool) {
	deadline := time.Now().Add(within)
	for {
		d.mu.Lock()
		for _, line := range d.log {
			all := true
			for _, p := range parts {
				all = all && strings.Contains(line, p)
			}
			if all {
				d.mu.Unlock()
				return line, true
			}
		}
		d.mu.Unlock()
		if time.Now().After(deadline) {
			return "", false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (d *TestDaemon) DSN(params string) string {
	dsn := "unix:" + d.Socket + "?db=main"
	if params != "" {
		dsn += "&" + params
	}
	return dsn
}

// Call sends one raw request (admin ops: the test runs as the daemon's uid)
// and decodes its reply.
func (d *TestDaemon) Call(request string) map[string]interface{} {
	d.t.Helper()
	c, err := net.Dial("unix", d.Socket)
	if err != nil {
		d.t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintln(c, request)
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		d.t.Fatal(err)
	}
	var out map[string]interface{}
	if err := json.Unmarshal(line, &out); err != nil {
		d.t.Fatal(err)
	}
	return out
}

// PoolSide is one mode's figures of database main in `stats`.
type PoolSide struct {
	Open, Idle, Leased, Waiters float64
	AcquiresOK                  float64
}

func (d *TestDaemon) Stats() (write, read PoolSide) {
	d.t.Helper()
	s := d.Call(`{"op":"stats"}`)
	main := s["pools"].(map[string]interface{})["main"].(map[string]interface{})
	get := func(mode string) PoolSide {
		m := main[mode].(map[string]interface{})
		return PoolSide{
			Open: m["open"].(float64), Idle: m["idle"].(float64),
			Leased: m["leased"].(float64), Waiters: m["waiters"].(float64),
			AcquiresOK: m["acquires"].(map[string]interface{})["ok"].(float64),
		}
	}
	return get("write"), get("read")
}

// WaitIdle waits until nothing of database main is leased or waited for.
func (d *TestDaemon) WaitIdle(within time.Duration) (write, read PoolSide) {
	d.t.Helper()
	deadline := time.Now().Add(within)
	for {
		write, read = d.Stats()
		if write.Leased+read.Leased+write.Waiters+read.Waiters == 0 || time.Now().After(deadline) {
			return write, read
		}
		time.Sleep(2 * time.Millisecond)
	}
}
