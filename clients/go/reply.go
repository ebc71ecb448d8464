package litepool

import (
	"database/sql/driver"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// reply is every field a reply may carry; each op fills its own.
type reply struct {
	OK              bool
	Err             *Error
	Lease           string
	Columns         []string
	DeclTypes       []string // "" where the daemon sent null (an expression)
	Rows            [][]driver.Value
	Changes         int64
	LastInsertRowid int64
	RolledBack      bool
	Protocol        int64
	Databases       []string
}

var errSyntax = errors.New("malformed JSON")

// decodeReply parses one reply line with a reader made for the daemon's
// replies: cells go straight to driver values, with no reflection and no
// intermediate map, since this is most of the driver's own CPU per query.
func decodeReply(line []byte) (*reply, error) {
	p := replyParser{buf: line}
	r, err := p.parse()
	if err != nil {
		return nil, fmt.Errorf("litepool: unreadable reply from the daemon: %v: %.200q", err, line)
	}
	if !r.OK {
		if r.Err == nil {
			return nil, &Error{Code: "internal", Message: "the daemon answered ok:false without an error"}
		}
		return nil, r.Err
	}
	return r, nil
}

// replyParser reads one JSON object of a reply. Not for general JSON: it
// knows the reply's keys and skips the others (`id`, figures of `stats`).
type replyParser struct {
	buf []byte
	pos int
}

func (p *replyParser) parse() (*reply, error) {
	r := &reply{}
	err := p.object(func(key []byte) error {
		var err error
		switch string(key) { // no allocation: the compiler compares in place
		case "ok":
			r.OK, err = p.boolean()
		case "error":
			r.Err, err = p.errorObject()
		case "lease":
			r.Lease, err = p.str()
		case "columns":
			r.Columns, err = p.strings()
		case "decltypes":
			r.DeclTypes, err = p.strings()
		case "rows":
			r.Rows, err = p.rows()
		case "changes":
			r.Changes, err = p.integer()
		case "last_insert_rowid":
			r.LastInsertRowid, err = p.integer()
		case "rolled_back":
			r.RolledBack, err = p.boolean()
		case "protocol":
			r.Protocol, err = p.integer()
		case "databases":
			r.Databases, err = p.strings()
		default:
			err = p.skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.buf) {
		return nil, errSyntax
	}
	return r, nil
}

func (p *replyParser) space() {
	for p.pos < len(p.buf) {
		switch p.buf[p.pos] {
		case ' ', '\t', '\r', '\n':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (p *replyParser) peek() byte {
	p.space()
	if p.pos < len(p.buf) {
		return p.buf[p.pos]
	}
	return 0
}

func (p *replyParser) expect(c byte) error {
	if p.peek() != c {
		return errSyntax
	}
	p.pos++
	return nil
}

func (p *replyParser) literal(word string) bool {
	p.space()
	if len(p.buf)-p.pos >= len(word) && string(p.buf[p.pos:p.pos+len(word)]) == word {
		p.pos += len(word)
		return true
	}
	return false
}

// object calls member for each key, positioned at its value.
func (p *replyParser) object(member func(key []byte) error) error {
	if err := p.expect('{'); err != nil {
		return err
	}
	if p.peek() == '}' {
		p.pos++
		return nil
	}
	for {
		key, err := p.rawString()
		if err != nil {
			return err
		}
		if err := p.expect(':'); err != nil {
			return err
		}
		if err := member(key); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return nil
		default:
			return errSyntax
		}
	}
}

// array calls elem for each element, positioned at it.
func (p *replyParser) array(elem func() error) error {
	if err := p.expect('['); err != nil {
		return err
	}
	if p.peek() == ']' {
		p.pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return nil
		default:
			return errSyntax
		}
	}
}

func (p *replyParser) boolean() (bool, error) {
	if p.literal("true") {
		return true, nil
	}
	if p.literal("false") {
		return false, nil
	}
	return false, errSyntax
}

func (p *replyParser) integer() (int64, error) {
	v, err := p.number()
	if n, ok := v.(int64); ok && err == nil {
		return n, nil
	}
	return 0, errSyntax
}

// number reads an integer as int64 and anything with a fraction or an
// exponent as float64, as the protocol writes REALs (docs/protocol.md,
// "Values").
func (p *replyParser) number() (driver.Value, error) {
	p.space()
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.buf) && p.buf[p.pos] >= '0' && p.buf[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	at := func(c byte) bool {
		if p.pos < len(p.buf) && p.buf[p.pos] == c {
			p.pos++
			return true
		}
		return false
	}
	at('-')
	if at('0') {
		if p.pos < len(p.buf) && p.buf[p.pos] >= '0' && p.buf[p.pos] <= '9' {
			return nil, errSyntax // no leading zeros
		}
	} else if digits() == 0 {
		return nil, errSyntax
	}
	isFloat := false
	if at('.') {
		isFloat = true
		if digits() == 0 {
			return nil, errSyntax
		}
	}
	if at('e') || at('E') {
		isFloat = true
		if !at('+') {
			at('-')
		}
		if digits() == 0 {
			return nil, errSyntax
		}
	}
	text := p.buf[start:p.pos]
	if isFloat {
		return strconv.ParseFloat(string(text), 64)
	}
	return parseInt(text)
}

// parseInt is strconv.ParseInt without the string conversion.
func parseInt(text []byte) (int64, error) {
	neg := text[0] == '-'
	if neg {
		text = text[1:]
	}
	if len(text) == 0 {
		return 0, errSyntax
	}
	var u uint64
	for _, c := range text {
		if c < '0' || c > '9' {
			return 0, errSyntax
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, errSyntax
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, errSyntax
		}
		return -int64(u), nil
	}
	if u > math.MaxInt64 {
		return 0, errSyntax
	}
	return int64(u), nil
}

func (p *replyParser) str() (string, error) {
	raw, err := p.rawString()
	return string(raw), err
}

// rawString reads a string; the result aliases the line unless it had
// escapes.
func (p *replyParser) rawString() ([]byte, error) {
	if err := p.expect('"'); err != nil {
		return nil, err
	}
	start := p.pos
	for p.pos < len(p.buf) {
		switch c := p.buf[p.pos]; {
		case c == '"':
			p.pos++
			return p.buf[start : p.pos-1], nil
		case c == '\\':
			return p.escapedString(start)
		case c < 0x20:
			return nil, errSyntax
		}
		p.pos++
	}
	return nil, errSyntax
}

func (p *replyParser) escapedString(start int) ([]byte, error) {
	out := append([]byte(nil), p.buf[start:p.pos]...)
	for p.pos < len(p.buf) {
		c := p.buf[p.pos]
		p.pos++
		switch {
		case c == '"':
			return out, nil
		case c < 0x20:
			return nil, errSyntax
		case c != '\\':
			out = append(out, c)
			continue
		}
		if p.pos >= len(p.buf) {
			return nil, errSyntax
		}
		e := p.buf[p.pos]
		p.pos++
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return nil, errSyntax
			}
			if r >= 0xd800 && r < 0xdc00 && p.pos+6 <= len(p.buf) && p.buf[p.pos] == '\\' && p.buf[p.pos+1] == 'u' {
				save := p.pos
				p.pos += 2
				if lo, ok := p.hex4(); ok && lo >= 0xdc00 && lo < 0xe000 {
					r = utf16.DecodeRune(r, lo)
				} else {
					p.pos = save // a lone high surrogate; the next escape stands alone
				}
			}
			if utf16.IsSurrogate(r) {
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, errSyntax
		}
	}
	return nil, errSyntax
}

func (p *replyParser) hex4() (rune, bool) {
	if p.pos+4 > len(p.buf) {
		return 0, false
	}
	var r rune
	for _, c := range p.buf[p.pos : p.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	p.pos += 4
	return r, true
}

// strings reads an array of strings; a null element becomes "".
func (p *replyParser) strings() ([]string, error) {
	out := []string{}
	err := p.array(func() error {
		if p.literal("null") {
			out = append(out, "")
			return nil
		}
		s, err := p.str()
		out = append(out, s)
		return err
	})
	return out, err
}

func (p *replyParser) rows() ([][]driver.Value, error) {
	var out [][]driver.Value
	err := p.array(func() error {
		var row []driver.Value
		if len(out) > 0 {
			row = make([]driver.Value, 0, len(out[0]))
		}
		err := p.array(func() error {
			v, err := p.cell()
			row = append(row, v)
			return err
		})
		out = append(out, row)
		return err
	})
	return out, err
}

// cell reads one value: null, an integer, a real, text, or {"$blob": …}.
func (p *replyParser) cell() (driver.Value, error) {
	switch p.peek() {
	case 'n':
		if p.literal("null") {
			return nil, nil
		}
		return nil, errSyntax
	case '"':
		return p.str()
	case '{':
		var blob []byte
		seen := false
		err := p.object(func(key []byte) error {
			if string(key) != "$blob" || seen {
				return errSyntax
			}
			seen = true
			raw, err := p.rawString()
			if err != nil {
				return err
			}
			blob = make([]byte, base64.StdEncoding.DecodedLen(len(raw)))
			n, err := base64.StdEncoding.Decode(blob, raw)
			blob = blob[:n]
			return err
		})
		if err == nil && !seen {
			err = errSyntax
		}
		return blob, err
	}
	return p.number()
}

func (p *replyParser) errorObject() (*Error, error) {
	e := &Error{}
	err := p.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "code":
			e.Code, err = p.str()
		case "message":
			e.Message, err = p.str()
		case "sqlite_code":
			var n int64
			n, err = p.integer()
			e.SQLiteCode = int(n)
		default:
			err = p.skip()
		}
		return err
	})
	return e, err
}

// skip passes over any value.
func (p *replyParser) skip() error {
	switch p.peek() {
	case '{':
		return p.object(func([]byte) error { return p.skip() })
	case '[':
		return p.array(p.skip)
	case '"':
		_, err := p.rawString()
		return err
	case 't', 'f':
		_, err := p.boolean()
		return err
	case 'n':
		if p.literal("null") {
			return nil
		}
		return errSyntax
	}
	_, err := p.number()
	return err
}
