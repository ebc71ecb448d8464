package litepool

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestDecodeReplyValues(t *testing.T) {
	line := `{"id":{"x":[1,{"y":null}]},"ok":true,"columns":["a","b\u00e9"],"decltypes":["INTEGER",null],` +
		`"rows":[[9223372036854775807,-9223372036854775808],[1.5,-0.0],[2.0,1e300],["t\"\\\/\b\f\n\r\t\u0001",{"$blob":"AP8="}],` +
		`[null,"\ud83d\ude00 \ud800x \u00e9"]],"changes":3,"last_insert_rowid":-1}` + "\n"
	r, err := decodeReply([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]driver.Value{
		{int64(math.MaxInt64), int64(math.MinInt64)},
		{1.5, math.Copysign(0, -1)},
		{2.0, 1e300},
		{"t\"\\/\b\f\n\r\t\x01", []byte{0, 0xff}},
		{nil, "😀 \ufffdx é"},
	}
	if !reflect.DeepEqual(r.Rows, want) {
		t.Errorf("rows %#v\nwant %#v", r.Rows, want)
	}
	if math.Signbit(r.Rows[1][1].(float64)) != true {
		t.Error("-0.0 lost its sign")
	}
	if !reflect.DeepEqual(r.Columns, []string{"a", "bé"}) || !reflect.DeepEqual(r.DeclTypes, []string{"INTEGER", ""}) ||
		r.Changes != 3 || r.LastInsertRowid != -1 || !r.OK {
		t.Errorf("reply %+v", r)
	}
}

func TestDecodeReplyError(t *testing.T) {
	_, err := decodeReply([]byte(`{"ok":false,"error":{"code":"sql_error","message":"no such table: x","sqlite_code":1,"more":[1]}}`))
	var e *Error
	if !errors.As(err, &e) || e.Code != "sql_error" || e.Message != "no such table: x" || e.SQLiteCode != 1 {
		t.Errorf("got %#v", err)
	}
	if !errors.Is(err, ErrSQL) {
		t.Error("not ErrSQL")
	}
}

func TestDecodeReplyRefusesMalformedLines(t *testing.T) {
	for _, line := range []string{
		``, `{`, `{"ok":true`, `{"ok":true}x`, `{"ok":tru}`, `{"ok":true,}`, `[1]`,
		`{"ok":true,"rows":[[1,]]}`, `{"ok":true,"rows":[["a]]}`, `{"ok":true,"rows":[[{"$blob":"!!"}]]}`,
		`{"ok":true,"rows":[[{"$blob":"AA==","x":1}]]}`, `{"ok":true,"rows":[[{}]]}`,
		`{"ok":true,"changes":1.5}`, `{"ok":true,"changes":9223372036854775808}`, `{"ok":true,"rows":[[-]]}`,
		`{"ok":true,"lease":"a\qb"}`, `{"ok":true,"lease":"a\u12"}`, "{\"ok\":true,\"lease\":\"a\x01\"}",
		`{"ok":false}`,
	} {
		if r, err := decodeReply([]byte(line)); err == nil {
			t.Errorf("%q decoded as %+v", line, r)
		}
	}
}

// Whatever the bytes, the reader returns (never panics), and it never
// accepts a line that is not JSON.
func FuzzDecodeReply(f *testing.F) {
	f.Add([]byte(`{"ok":true,"columns":["v"],"decltypes":["TEXT"],"rows":[["x",1,2.5,null,{"$blob":"AQ=="}]],"changes":0,"last_insert_rowid":0}`))
	f.Add([]byte(`{"ok":false,"error":{"code":"busy","message":"m","sqlite_code":5}}`))
	f.Add([]byte(`{"id":[{"a":"\ud83d\ude00"}],"ok":true,"lease":"00ff00ff00ff00ff"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		if _, err := decodeReply(line); err == nil && !json.Valid(line) {
			t.Errorf("accepted invalid JSON %q", line)
		}
	})
}
