package litepool

import (
	"bufio"
	"bytes"
	"database/sql/driver"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	"net"
	"os"
	"strings"
	"testing"
)

// The grammar's vectors (tests/vectors/request_lines.json, docs/protocol.md
// "Request lines"): for every accepted one-shot query, the line this
// driver's own encoder writes for the same fields must be accepted by the
// daemon too, and a "SELECT ?, ..." must read back its parameters.
func TestRequestLineVectorsEncoded(t *testing.T) {
	raw, err := os.ReadFile("../../tests/vectors/request_lines.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []struct {
		Name   string
		Expect struct {
			Request *struct {
				Op, DB, Mode, SQL string
				AutoMode          bool `json:"auto_mode"`
				Params            json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	d := StartTestDaemon(t, nil)
	c, err := net.Dial("unix", d.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	checked := 0
	for _, v := range vectors {
		q := v.Expect.Request
		if q == nil || q.Op != "query" || q.DB == "" {
			continue
		}
		args, err := vectorArgs(q.Params)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		mode := q.Mode
		if q.AutoMode {
			mode = "auto"
		} else if mode == "" {
			mode = "write"
		}
		req := newRequest(nil, "query").str("db", q.DB).str("mode", mode).str("sql", q.SQL)
		if err := req.params(args); err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		line := req.line()
		c.Write(line)
		reply, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("%s: no reply: %v", v.Name, err)
		}
		rep, err := decodeReply(reply)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && (e.Code == "bad_request" || e.Code == "unknown_op") {
				t.Errorf("%s: %s refused: %v", v.Name, line, err)
			}
			continue
		}
		checked++
		if !strings.HasPrefix(q.SQL, "SELECT ?") {
			continue
		}
		for i, a := range args {
			if !sameArg(rep.Rows[0][i], a.Value) {
				t.Errorf("%s: column %d = %#v, want %#v", v.Name, i, rep.Rows[0][i], a.Value)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d vectors checked", checked)
	}
}

// vectorArgs: a vector's decoded params as database/sql arguments.
func vectorArgs(raw json.RawMessage) ([]driver.NamedValue, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	convert := func(x interface{}) (driver.Value, error) {
		switch y := x.(type) {
		case json.Number:
			if !strings.ContainsAny(y.String(), ".eE") {
				return y.Int64()
			}
			return y.Float64()
		case map[string]interface{}:
			return base64.StdEncoding.DecodeString(y["$blob"].(string))
		}
		return x, nil
	}
	var generic interface{}
	if err := decodeNumbers(raw, &generic); err != nil {
		return nil, err
	}
	var args []driver.NamedValue
	switch p := generic.(type) {
	case []interface{}:
		for i, x := range p {
			v, err := convert(x)
			if err != nil {
				return nil, err
			}
			args = append(args, driver.NamedValue{Ordinal: i + 1, Value: v})
		}
	case map[string]interface{}:
		for name, x := range p {
			v, err := convert(x)
			if err != nil {
				return nil, err
			}
			args = append(args, driver.NamedValue{Name: name, Ordinal: len(args) + 1, Value: v})
		}
	}
	return args, nil
}

func sameArg(got driver.Value, want driver.Value) bool {
	switch w := want.(type) {
	case bool:
		n := int64(0)
		if w {
			n = 1
		}
		return got == n
	case float64:
		g, ok := got.(float64)
		return ok && (g == w || math.IsNaN(g) && math.IsNaN(w))
	case []byte:
		g, ok := got.([]byte)
		return ok && bytes.Equal(g, w)
	}
	return got == want
}
