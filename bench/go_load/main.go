// go_load: point selects (or inserts) through database/sql and the
// litepool Go driver, N goroutines against a running litepoold, so the
// driver's cost can be set beside the C++ load generator's on the same
// daemon in the same run (bench/go_compare.sh).
//
//	go_load -socket S -goroutines 8 -seconds 3 [-scenario point_select|insert] [-daemon-pid P]
//
// Prints one JSON object: round trips per second, latency percentiles, and
// CPU per request of this client and (with -daemon-pid) of the daemon.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "litepool.dev/go"
)

type result struct {
	Scenario        string  `json:"scenario"`
	Goroutines      int     `json:"goroutines"`
	Requests        int     `json:"requests"`
	Seconds         float64 `json:"seconds"`
	PerSecond       float64 `json:"rt_per_s"`
	P50Micros       float64 `json:"p50_us"`
	P99Micros       float64 `json:"p99_us"`
	ClientCPUMicros float64 `json:"client_cpu_us_per_req"`
	DaemonCPUMicros float64 `json:"daemon_cpu_us_per_req,omitempty"`
}

func main() {
	socket := flag.String("socket", "./litepool.sock", "litepoold's socket")
	dbName := flag.String("db", "main", "database (with table kv(k, v) of -rows rows, and w(v))")
	goroutines := flag.Int("goroutines", 8, "concurrent goroutines, and sql.DB's MaxOpenConns")
	seconds := flag.Float64("seconds", 3, "measured seconds")
	warmup := flag.Float64("warmup", 0.5, "unmeasured seconds first")
	rows := flag.Int64("rows", 100000, "keys of kv to pick from")
	scenario := flag.String("scenario", "point_select", "point_select or insert")
	daemonPid := flag.Int("daemon-pid", 0, "litepoold's pid, to report its CPU per request")
	flag.Parse()

	db, err := sql.Open("litepool", fmt.Sprintf("unix:%s?db=%s&tag=go_load", *socket, *dbName))
	if err != nil {
		fail(err)
	}
	db.SetMaxOpenConns(*goroutines)
	db.SetMaxIdleConns(*goroutines)
	run := func(d time.Duration, record bool) ([][]time.Duration, int) {
		var wg sync.WaitGroup
		lat := make([][]time.Duration, *goroutines)
		var mu sync.Mutex
		total := 0
		deadline := time.Now().Add(d)
		for g := 0; g < *goroutines; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				rng := rand.New(rand.NewSource(int64(g) + 1))
				ctx := context.Background()
				n := 0
				for time.Now().Before(deadline) {
					start := time.Now()
					if err := step(ctx, db, *scenario, rng, *rows); err != nil {
						fail(err)
					}
					if record {
						lat[g] = append(lat[g], time.Since(start))
					}
					n++
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}(g)
		}
		wg.Wait()
		return lat, total
	}
	run(time.Duration(*warmup*float64(time.Second)), false)
	cpu0, daemon0 := selfCPU(), procCPU(*daemonPid)
	start := time.Now()
	lat, n := run(time.Duration(*seconds*float64(time.Second)), true)
	elapsed := time.Since(start).Seconds()
	cpu1, daemon1 := selfCPU(), procCPU(*daemonPid)

	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(p*float64(len(all)-1))].Nanoseconds()) / 1000
	}
	r := result{Scenario: *scenario, Goroutines: *goroutines, Requests: n, Seconds: elapsed,
		PerSecond: float64(n) / elapsed, P50Micros: pct(0.50), P99Micros: pct(0.99),
		ClientCPUMicros: (cpu1 - cpu0).Seconds() * 1e6 / float64(n)}
	if *daemonPid != 0 {
		r.DaemonCPUMicros = (daemon1 - daemon0).Seconds() * 1e6 / float64(n)
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

func step(ctx context.Context, db *sql.DB, scenario string, rng *rand.Rand, rows int64) error {
	switch scenario {
	case "point_select":
		var v string
		return db.QueryRowContext(ctx, "SELECT v FROM kv WHERE k=?", rng.Int63n(rows)+1).Scan(&v)
	case "insert":
		_, err := db.ExecContext(ctx, "INSERT INTO w(v) VALUES(?)", "row-go")
		return err
	}
	return fmt.Errorf("unknown scenario %q", scenario)
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is utime + stime of `pid` from /proc (clock ticks of 10 ms on
// Linux with USER_HZ 100).
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		fail(err)
	}
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "go_load:", err)
	os.Exit(1)
}
