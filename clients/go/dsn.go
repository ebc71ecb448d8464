package litepool

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config says where the daemon is and how this program's leases look. The
// zero value of a duration means the daemon's default for the database.
type Config struct {
	// Socket is the daemon's Unix socket. Empty: $LITEPOOL_SOCKET, else
	// ./litepool.sock (the daemon's default), as the litepool CLI does.
	Socket string
	// Database is the name of a database in the daemon's configuration.
	Database string
	// Tag names this program in the daemon's `leases` list and its leak
	// warnings. Empty: "<program>[<pid>]". At most 128 bytes.
	Tag string
	// LeaseTimeout bounds how long a transaction (or one statement) may hold
	// its handle; past it the daemon revokes the lease and rolls back. It
	// can only lower the database's lease_timeout_ms.
	LeaseTimeout time.Duration
	// WaitTimeout bounds how long a statement or BeginTx waits for a free
	// handle before acquire_timeout. It can only lower acquire_timeout_ms.
	WaitTimeout time.Duration
	// DialTimeout bounds connecting to the socket. Zero: 5 s.
	DialTimeout time.Duration
}

const maxTagBytes = 128

// ParseDSN reads "unix:PATH?db=NAME" with the optional parameters tag,
// lease_ms, wait_ms and dial_timeout_ms; "?db=NAME" alone uses the default
// socket. An unknown parameter is an error, so a typo is not ignored.
func ParseDSN(dsn string) (Config, error) {
	var cfg Config
	bad := func(format string, args ...interface{}) (Config, error) {
		return Config{}, fmt.Errorf("litepool: bad DSN %q: %s", dsn, fmt.Sprintf(format, args...))
	}
	target, query, found := strings.Cut(dsn, "?")
	if !found {
		return bad("want unix:PATH?db=NAME (or ?db=NAME for the default socket)")
	}
	switch {
	case target == "":
	case strings.HasPrefix(target, "unix:"):
		cfg.Socket = strings.TrimPrefix(target, "unix:")
		if strings.HasPrefix(cfg.Socket, "//") { // unix:///run/x.sock
			cfg.Socket = strings.TrimPrefix(cfg.Socket, "//")
		}
		if cfg.Socket == "" {
			return bad("unix: names no socket path")
		}
	default:
		return bad("the address must start with unix:")
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return bad("%v", err)
	}
	for key, vals := range values {
		if len(vals) != 1 {
			return bad("%s is given %d times", key, len(vals))
		}
		v := vals[0]
		switch key {
		case "db":
			cfg.Database = v
		case "tag":
			cfg.Tag = v
		case "lease_ms", "wait_ms", "dial_timeout_ms":
			ms, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ms <= 0 {
				return bad("%s must be a positive integer of milliseconds, got %q", key, v)
			}
			d := time.Duration(ms) * time.Millisecond
			switch key {
			case "lease_ms":
				cfg.LeaseTimeout = d
			case "wait_ms":
				cfg.WaitTimeout = d
			default:
				cfg.DialTimeout = d
			}
		default:
			return bad("unknown parameter %q (known: db, tag, lease_ms, wait_ms, dial_timeout_ms)", key)
		}
	}
	if err := cfg.check(); err != nil {
		return bad("%v", err)
	}
	return cfg, nil
}

// check validates cfg and fills in its defaults.
func (cfg *Config) check() error {
	if cfg.Database == "" {
		return fmt.Errorf("db (the database name) is required")
	}
	if cfg.Socket == "" {
		cfg.Socket = os.Getenv("LITEPOOL_SOCKET")
		if cfg.Socket == "" {
			cfg.Socket = "./litepool.sock"
		}
	}
	if len(cfg.Socket) >= 108 {
		return fmt.Errorf("socket path is longer than a Unix socket address allows (107 bytes)")
	}
	if cfg.Tag == "" {
		cfg.Tag = defaultTag()
	}
	if len(cfg.Tag) > maxTagBytes {
		return fmt.Errorf("tag is longer than %d bytes", maxTagBytes)
	}
	if cfg.LeaseTimeout < 0 || cfg.WaitTimeout < 0 || cfg.DialTimeout < 0 {
		return fmt.Errorf("durations must not be negative")
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	return nil
}

// defaultTag names the program and its pid, so `litepool leases` shows
// which process holds a handle.
func defaultTag() string {
	name := filepath.Base(os.Args[0])
	tag := fmt.Sprintf("%s[%d]", name, os.Getpid())
	if len(tag) > maxTagBytes {
		tag = tag[len(tag)-maxTagBytes:]
	}
	return tag
}
