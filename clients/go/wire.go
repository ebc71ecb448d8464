package litepool

import (
	"bytes"
	"database/sql/driver"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// request builds one request line (docs/protocol.md). Fields are appended
// in order; line() closes the object and adds the newline.
type request struct {
	buf []byte
}

func newRequest(buf []byte, op string) *request {
	r := &request{buf: append(buf[:0], `{"op":`...)}
	r.buf = appendString(r.buf, op)
	return r
}

func (r *request) str(key, value string) *request {
	r.buf = append(r.buf, ',', '"')
	r.buf = append(r.buf, key...)
	r.buf = append(r.buf, '"', ':')
	r.buf = appendString(r.buf, value)
	return r
}

func (r *request) int(key string, value int64) *request {
	r.buf = append(r.buf, ',', '"')
	r.buf = append(r.buf, key...)
	r.buf = append(r.buf, '"', ':')
	r.buf = strconv.AppendInt(r.buf, value, 10)
	return r
}

func (r *request) boolean(key string, value bool) *request {
	r.buf = append(r.buf, ',', '"')
	r.buf = append(r.buf, key...)
	r.buf = append(r.buf, '"', ':')
	r.buf = strconv.AppendBool(r.buf, value)
	return r
}

// params adds the statement's arguments: an array, or an object when they
// are named (sql.Named binds :name, @name and $name).
func (r *request) params(args []driver.NamedValue) error {
	if len(args) == 0 {
		return nil
	}
	named := args[0].Name != ""
	open, close := byte('['), byte(']')
	if named {
		open, close = '{', '}'
	}
	r.buf = append(r.buf, `,"params":`...)
	r.buf = append(r.buf, open)
	for i, a := range args {
		if (a.Name != "") != named {
			return fmt.Errorf("litepool: arguments must be all named or all positional")
		}
		if i > 0 {
			r.buf = append(r.buf, ',')
		}
		if named {
			r.buf = appendString(r.buf, strings.TrimLeft(a.Name, ":@$"))
			r.buf = append(r.buf, ':')
		}
		var err error
		if r.buf, err = appendValue(r.buf, a.Value); err != nil {
			return fmt.Errorf("litepool: argument %s: %w", argName(a), err)
		}
	}
	r.buf = append(r.buf, close)
	return nil
}

func argName(a driver.NamedValue) string {
	if a.Name != "" {
		return a.Name
	}
	return strconv.Itoa(a.Ordinal)
}

func (r *request) line() []byte {
	r.buf = append(r.buf, '}', '\n')
	return r.buf
}

// timeFormat is how a time.Time is written: text SQLite's date functions
// read, with the zone, to the nanosecond.
const timeFormat = "2006-01-02 15:04:05.999999999-07:00"

// appendValue writes one parameter as the protocol's values table says.
func appendValue(buf []byte, v driver.Value) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return buf, fmt.Errorf("%v cannot be stored: JSON has no infinity or NaN", x)
		}
		start := len(buf)
		buf = strconv.AppendFloat(buf, x, 'g', -1, 64)
		// A REAL must look like one ("2.0", never "2"), or it binds as INTEGER.
		if bytes.IndexAny(buf[start:], ".e") < 0 {
			buf = append(buf, '.', '0')
		}
		return buf, nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case string:
		if !utf8.ValidString(x) {
			return buf, fmt.Errorf("string is not valid UTF-8; pass []byte to store bytes as a BLOB")
		}
		return appendString(buf, x), nil
	case []byte:
		buf = append(buf, `{"$blob":"`...)
		n := base64.StdEncoding.EncodedLen(len(x))
		buf = append(buf, make([]byte, n)...)
		base64.StdEncoding.Encode(buf[len(buf)-n:], x)
		return append(buf, '"', '}'), nil
	case time.Time:
		return appendString(buf, x.Format(timeFormat)), nil
	}
	return buf, fmt.Errorf("unsupported type %T", v)
}

// appendString writes s as a JSON string. s is valid UTF-8.
func appendString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// cellValue finishes a cell for database/sql with the column's declared
// type (upper case, "" for an expression): dates and booleans as cgo SQLite
// drivers read them; other values as they came.
func cellValue(v driver.Value, decl string) driver.Value {
	switch x := v.(type) {
	case int64:
		return integerValue(x, decl)
	case string:
		if isTimeType(decl) {
			if t, ok := parseTime(x); ok {
				return t
			}
		}
	}
	return v
}

// integerValue reads an INTEGER the way cgo SQLite drivers do for the
// column types that say what it means: unix time (seconds, or milliseconds
// when too large for seconds) and booleans.
func integerValue(n int64, decl string) driver.Value {
	switch {
	case isTimeType(decl):
		if n > 1e12 || n < -1e12 {
			return time.UnixMilli(n).UTC()
		}
		return time.Unix(n, 0).UTC()
	case decl == "BOOLEAN" || decl == "BOOL":
		return n != 0
	}
	return n
}

func isTimeType(decl string) bool {
	return decl == "DATE" || decl == "DATETIME" || decl == "TIMESTAMP"
}

// timeLayouts are the text forms of a time SQLite and its drivers write,
// the driver's own first.
var timeLayouts = []string{
	timeFormat,
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseTime reads a stored time. A time without a zone is UTC (as SQLite's
// own date functions take it); one whose offset is the local zone's at that
// instant comes back in time.Local, one at offset 0 in UTC, so a time
// written through the driver reads back == to what was written (less its
// monotonic clock reading).
func parseTime(s string) (time.Time, bool) {
	for _, layout := range timeLayouts {
		t, err := time.Parse(layout, s)
		if err != nil {
			continue
		}
		_, offset := t.Zone()
		if _, local := t.In(time.Local).Zone(); offset == local && offset != 0 {
			return t.In(time.Local), true
		}
		if offset == 0 {
			return t.UTC(), true
		}
		return t, true
	}
	return time.Time{}, false
}
