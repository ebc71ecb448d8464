package litepool

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
)

// DriverName is the name the driver registers with database/sql.
const DriverName = "litepool"

func init() { sql.Register(DriverName, &Driver{}) }

// Driver is the database/sql driver. sql.Open("litepool", dsn) parses the
// DSN at once (ParseDSN), so a bad one is an error from sql.Open.
type Driver struct{}

func (d *Driver) Open(dsn string) (driver.Conn, error) {
	k, err := d.OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	return k.Connect(context.Background())
}

func (d *Driver) OpenConnector(dsn string) (driver.Connector, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	return &Connector{cfg: cfg}, nil
}

// Connector opens connections to one daemon and database; for sql.OpenDB.
type Connector struct {
	cfg Config
}

// NewConnector checks cfg and fills in its defaults (see Config).
func NewConnector(cfg Config) (*Connector, error) {
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("litepool: bad Config: %w", err)
	}
	return &Connector{cfg: cfg}, nil
}

// Config is the configuration in force, defaults filled in.
func (k *Connector) Config() Config { return k.cfg }

func (k *Connector) Connect(ctx context.Context) (driver.Conn, error) { return dial(ctx, &k.cfg) }

func (k *Connector) Driver() driver.Driver { return &Driver{} }

var (
	_ driver.DriverContext = (*Driver)(nil)
	_ driver.Connector     = (*Connector)(nil)
)
