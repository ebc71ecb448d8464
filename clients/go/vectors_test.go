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
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The protocol vectors every client runs (docs/clients.md, "Protocol test
// vectors"), sent as written; each reply must match as a recursive subset,
// and the driver's own reply reader must read it to the same values.
func TestProtocolVectors(t *testing.T) {
	raw, err := os.ReadFile("../../tests/vectors/protocol_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vectors []struct {
		Name    string
		Setup   []json.RawMessage
		Request json.RawMessage
		Expect  interface{}
	}
	if err := decodeNumbers(raw, &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors) < 70 {
		t.Fatalf("only %d vectors", len(vectors))
	}
	for _, v := range vectors {
		v := v
		t.Run(v.Name, func(t *testing.T) {
			d := StartTestDaemon(t, nil)
			c, err := net.Dial("unix", d.Socket)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			r := bufio.NewReader(c)
			lease := ""
			send := func(request json.RawMessage) []byte {
				line := bytes.ReplaceAll(request, []byte(`"$lease"`), []byte(`"`+lease+`"`))
				var compact bytes.Buffer
				if json.Valid(line) {
					json.Compact(&compact, line)
					line = compact.Bytes()
				}
				c.Write(append(line, '\n'))
				reply, err := r.ReadBytes('\n')
				if err != nil {
					t.Fatalf("no reply to %s: %v", line, err)
				}
				return reply
			}
			for _, s := range v.Setup {
				reply := send(s)
				rep, err := decodeReply(reply)
				if err != nil {
					t.Fatalf("setup %s: %v", s, err)
				}
				if rep.Lease != "" {
					lease = rep.Lease
				}
			}
			line := send(v.Request)
			var got interface{}
			if err := decodeNumbers(line, &got); err != nil {
				t.Fatalf("reply is not JSON: %s", line)
			}
			if why := subset(v.Expect, got); why != "" {
				t.Errorf("%s\nreply %s", why, line)
			}
			checkReader(t, line, got.(map[string]interface{}))
		})
	}
}

// checkReader compares decodeReply with encoding/json on one reply.
func checkReader(t *testing.T, line []byte, generic map[string]interface{}) {
	rep, err := decodeReply(line)
	if generic["ok"] == false {
		var e *Error
		wantCode := generic["error"].(map[string]interface{})["code"]
		if !errors.As(err, &e) || e.Code != wantCode {
			t.Errorf("reader: %v, want code %v", err, wantCode)
		}
		return
	}
	if err != nil {
		t.Fatalf("reader refused %s: %v", line, err)
	}
	if rows, ok := generic["rows"].([]interface{}); ok {
		if len(rows) != len(rep.Rows) {
			t.Fatalf("reader: %d rows, want %d", len(rep.Rows), len(rows))
		}
		for i, row := range rows {
			for j, cell := range row.([]interface{}) {
				if !sameCell(rep.Rows[i][j], cell) {
					t.Errorf("reader: row %d cell %d = %#v, want %#v", i, j, rep.Rows[i][j], cell)
				}
			}
		}
	}
	if lease, ok := generic["lease"].(string); ok && lease != rep.Lease {
		t.Errorf("reader: lease %q, want %q", rep.Lease, lease)
	}
	if n, ok := generic["changes"].(json.Number); ok && n.String() != strconv.FormatInt(rep.Changes, 10) {
		t.Errorf("reader: changes %d, want %v", rep.Changes, n)
	}
}

// sameCell: the reader's value is the one encoding/json saw (numbers kept
// as json.Number).
func sameCell(got driver.Value, want interface{}) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case string:
		return got == w
	case json.Number:
		if kindOf(w) == "integer" {
			return got == interface{}(mustInt(w))
		}
		f, _ := w.Float64()
		g, ok := got.(float64)
		return ok && math.Float64bits(f) == math.Float64bits(g)
	case map[string]interface{}:
		b, ok := got.([]byte)
		return ok && base64.StdEncoding.EncodeToString(b) == w["$blob"]
	}
	return false
}

func mustInt(n json.Number) int64 {
	v, _ := n.Int64()
	return v
}

// decodeNumbers is json.Unmarshal keeping numbers as json.Number, so that
// 1 and 1.0 stay apart.
func decodeNumbers(data []byte, v interface{}) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

// subset reports how `got` fails to match `want`: listed keys present and
// matching, arrays of the same length, scalars equal and of the same kind,
// {"$type": kind} matching any value of that kind.
func subset(want, got interface{}) string {
	switch w := want.(type) {
	case map[string]interface{}:
		if kind, ok := w["$type"].(string); ok && len(w) == 1 {
			if kindOf(got) == kind || kind == "number" && (kindOf(got) == "integer" || kindOf(got) == "float") {
				return ""
			}
			return "want a " + kind + ", got " + kindOf(got)
		}
		g, ok := got.(map[string]interface{})
		if !ok {
			return "want an object"
		}
		for k, wv := range w {
			gv, present := g[k]
			if !present {
				return "missing key " + k
			}
			if why := subset(wv, gv); why != "" {
				return k + ": " + why
			}
		}
		return ""
	case []interface{}:
		g, ok := got.([]interface{})
		if !ok || len(g) != len(w) {
			return "want an array of the same length"
		}
		for i := range w {
			if why := subset(w[i], g[i]); why != "" {
				return why
			}
		}
		return ""
	}
	if !reflect.DeepEqual(want, got) {
		b1, _ := json.Marshal(want)
		b2, _ := json.Marshal(got)
		return "want " + string(b1) + ", got " + string(b2)
	}
	return ""
}

func kindOf(v interface{}) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []interface{}:
		return "array"
	case map[string]interface{}:
		return "object"
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return "float"
		}
		return "integer"
	}
	return "?"
}
