package litepool

import (
	"database/sql/driver"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
)

// rows is a whole result: the daemon answers a query in one reply line.
type rows struct {
	columns []string
	decl    []string // declared types, upper case, without "(n)"; "" for expressions
	data    [][]driver.Value
	next    int
}

func newRows(rep *reply) *rows {
	r := &rows{columns: rep.Columns, data: rep.Rows, decl: make([]string, len(rep.Columns))}
	for i := range r.decl {
		if i < len(rep.DeclTypes) && rep.DeclTypes[i] != "" {
			t := strings.ToUpper(rep.DeclTypes[i])
			if p := strings.IndexByte(t, '('); p >= 0 {
				t = t[:p]
			}
			r.decl[i] = strings.TrimSpace(t)
		}
	}
	return r
}

func (r *rows) Columns() []string { return r.columns }

func (r *rows) Close() error {
	r.data = nil
	return nil
}

func (r *rows) Next(dest []driver.Value) error {
	if r.next >= len(r.data) {
		return io.EOF
	}
	row := r.data[r.next]
	r.next++
	if len(row) != len(dest) {
		return fmt.Errorf("litepool: a row of %d values for %d columns", len(row), len(dest))
	}
	for i := range dest {
		dest[i] = cellValue(row[i], r.decl[i])
	}
	return nil
}

// ColumnTypeDatabaseTypeName is the column's declared type ("" for an
// expression), as SQLite's sqlite3_column_decltype gives it.
func (r *rows) ColumnTypeDatabaseTypeName(i int) string { return r.decl[i] }

// ColumnTypeNullable: the daemon does not report NOT NULL constraints.
func (r *rows) ColumnTypeNullable(i int) (nullable, ok bool) { return true, false }

var (
	typeInt64   = reflect.TypeOf(int64(0))
	typeFloat64 = reflect.TypeOf(float64(0))
	typeString  = reflect.TypeOf("")
	typeBytes   = reflect.TypeOf([]byte(nil))
	typeTime    = reflect.TypeOf(time.Time{})
	typeBool    = reflect.TypeOf(false)
	typeAny     = reflect.TypeOf((*interface{})(nil)).Elem()
)

// ColumnTypeScanType follows SQLite's type affinity rules for the declared
// type, plus the date and boolean types the driver converts.
func (r *rows) ColumnTypeScanType(i int) reflect.Type {
	t := r.decl[i]
	switch {
	case isTimeType(t):
		return typeTime
	case t == "BOOLEAN" || t == "BOOL":
		return typeBool
	case strings.Contains(t, "INT"):
		return typeInt64
	case strings.Contains(t, "CHAR") || strings.Contains(t, "CLOB") || strings.Contains(t, "TEXT"):
		return typeString
	case strings.Contains(t, "BLOB"):
		return typeBytes
	case strings.Contains(t, "REAL") || strings.Contains(t, "FLOA") || strings.Contains(t, "DOUB"):
		return typeFloat64
	}
	return typeAny
}

var (
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeNullable         = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
)
